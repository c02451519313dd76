//! Wire shapes shared by the admin API and the command line's `--json` output (SPEC
//! section 8 names the fields). Domain types do not derive `Serialize`; these do.

use std::collections::BTreeMap;

use registration_core::{
    AuditEntry, AuditImage, Banner, ClientSecret, Disposition, NoticeKind, NoticeLogEntry,
    NotificationTemplate, Site, SiteZone, Snapshot, SubscriptionRow,
};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// An instant as RFC 3339 text.
pub fn rfc3339(instant: OffsetDateTime) -> String {
    instant
        .format(&Rfc3339)
        .unwrap_or_else(|_| unreachable!("instants in years 0..=9999 format as RFC 3339"))
}

/// A site.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SiteJson {
    slug: String,
    name: String,
    /// IANA time zone; expiration dates are calendar dates in it.
    time_zone: &'static str,
}

impl SiteJson {
    /// The wire form of `site`.
    pub fn new(site: &Site) -> Self {
        Self {
            slug: site.slug.to_string(),
            name: site.name.as_str().to_owned(),
            time_zone: site.zone.name(),
        }
    }
}

/// A registration as SPEC section 8 names its fields.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegistrationJson {
    site: String,
    name: String,
    client_id: String,
    /// Present only in the create response.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    expiration_date: String,
    /// The instant it stops authenticating, with the site's offset.
    expires_at: String,
    time_zone: &'static str,
    enabled: bool,
    registration_date: String,
    last_used: Option<String>,
    expires: String,
    state: &'static str,
    days_left: i64,
    /// The current secret's last four characters.
    secret_hint: String,
    /// When the current secret was issued (created or rotated in).
    secret_created_at: String,
    /// The latest token issued against the current secret.
    secret_last_used: Option<String>,
    rejected_since_expiry: u64,
    last_rejected: Option<String>,
    /// The secret the last rotation replaced, while it is kept; `null` otherwise.
    previous_secret: Option<PreviousSecretJson>,
    /// Present only in a rotation's response: when the previous secret stops authenticating.
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_secret_expires_at: Option<String>,
}

/// The previous secret after a rotation (SPEC 12).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PreviousSecretJson {
    secret_hint: String,
    created_at: String,
    last_used: Option<String>,
    /// When it stops (or stopped) authenticating.
    expires_at: String,
    /// Whether it still authenticates now.
    live: bool,
    /// Token requests that presented it after it stopped: a consumer that was missed.
    rejected_since_expiry: u64,
    last_rejected: Option<String>,
}

impl RegistrationJson {
    /// The response to a rotation: the registration, the new secret (shown this once) and
    /// when the previous one stops authenticating.
    pub fn rotated(snapshot: &Snapshot, secret: &ClientSecret) -> Self {
        let mut json = Self::new(snapshot, Some(secret));
        json.previous_secret_expires_at = json
            .previous_secret
            .as_ref()
            .map(|previous| previous.expires_at.clone());
        json
    }

    pub fn new(snapshot: &Snapshot, secret: Option<&ClientSecret>) -> Self {
        let record = snapshot.registration.record();
        let zone = snapshot.site.zone;
        let local = |instant| rfc3339(zone.local(instant));
        Self {
            site: record.site.to_string(),
            name: record.name.to_string(),
            client_id: record.client_id.to_string(),
            client_secret: secret.map(|secret| secret.expose_secret().to_owned()),
            expiration_date: record.expiration_date.to_string(),
            expires_at: local(snapshot.status.expires_at),
            time_zone: zone.name(),
            enabled: record.enabled,
            registration_date: local(record.registration_date),
            last_used: record.last_used.map(local),
            expires: snapshot.status.expires.to_string(),
            state: snapshot.status.state.as_str(),
            days_left: snapshot.status.days_left,
            secret_hint: record.secret.hint.to_string(),
            secret_created_at: local(record.secret.created_at),
            secret_last_used: record.secret.last_used.map(local),
            rejected_since_expiry: record.rejections.count,
            last_rejected: record.rejections.last.map(local),
            previous_secret: record
                .previous_secret
                .as_ref()
                .map(|previous| PreviousSecretJson {
                    secret_hint: previous.secret.hint.to_string(),
                    created_at: local(previous.secret.created_at),
                    last_used: previous.secret.last_used.map(local),
                    expires_at: local(previous.expires_at),
                    live: snapshot.previous_secret_live(),
                    rejected_since_expiry: previous.rejections.count,
                    last_rejected: previous.rejections.last.map(local),
                }),
            previous_secret_expires_at: None,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
/// One line of the Administrative notification log.
pub struct NoticeJson {
    recorded_at: String,
    due_at: String,
    kind: &'static str,
    registration: NoticeRegistrationJson,
    expiration_date: String,
    disposition: &'static str,
    subject: String,
    /// The rendered message, as the in-app notification shows it.
    body: String,
    deliveries: Vec<DeliveryJson>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NoticeRegistrationJson {
    name: String,
    client_id: String,
}

impl NoticeRegistrationJson {
    /// A registration as a notice recorded it.
    pub fn new(name: &str, client_id: &registration_core::ClientId) -> Self {
        Self {
            name: name.to_owned(),
            client_id: client_id.to_string(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryJson {
    recipient: String,
    channel: &'static str,
    /// `pending`, `sent`, `retrying`, `dead`, `skipped` or `cancelled`.
    status: &'static str,
    attempts: u32,
    /// When a `retrying` delivery is tried next (site time).
    next_attempt_at: Option<String>,
    /// Why the last attempt failed.
    last_error: Option<String>,
}

pub fn disposition_label(disposition: Disposition) -> &'static str {
    match disposition {
        Disposition::Deliver => "deliver",
        Disposition::SkippedSuperseded => "skipped (superseded)",
    }
}

impl NoticeJson {
    pub fn new(entry: &NoticeLogEntry, zone: SiteZone) -> Self {
        Self {
            recorded_at: rfc3339(zone.local(entry.recorded_at)),
            due_at: rfc3339(zone.local(entry.due_at)),
            kind: entry.key.kind.as_str(),
            registration: NoticeRegistrationJson {
                name: entry.registration_name.clone(),
                client_id: entry.client_id.to_string(),
            },
            expiration_date: entry.key.expiration_date.to_string(),
            disposition: disposition_label(entry.disposition),
            subject: entry.subject.clone(),
            body: entry.body.clone(),
            deliveries: entry
                .deliveries
                .iter()
                .map(|delivery| DeliveryJson {
                    recipient: delivery.recipient.clone(),
                    channel: delivery.channel.as_str(),
                    status: delivery.status.as_str(),
                    attempts: delivery.attempts,
                    next_attempt_at: delivery
                        .next_attempt_at
                        .map(|instant| rfc3339(zone.local(instant))),
                    last_error: delivery.last_error.clone(),
                })
                .collect(),
        }
    }
}

/// A banner the console shows at the top of every page of the site.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BannerJson {
    /// `alert` (red: expired, enabled) or `warning` (amber: expiring, template says so).
    kind: &'static str,
    name: String,
    client_id: String,
    #[schema(format = Date)]
    expiration_date: String,
    /// `expired`, `expiring_7` or `expiring_30`.
    state: &'static str,
    days_left: i64,
    rejected_since_expiry: u64,
    /// Site time, RFC 3339.
    last_rejected: Option<String>,
}

impl BannerJson {
    pub fn new(banner: &Banner, zone: SiteZone) -> Self {
        Self {
            kind: banner.kind.as_str(),
            name: banner.registration_name.clone(),
            client_id: banner.client_id.to_string(),
            expiration_date: banner.expiration_date.to_string(),
            state: banner.state.as_str(),
            days_left: banner.days_left,
            rejected_since_expiry: banner.rejected_since_expiry,
            last_rejected: banner
                .last_rejected
                .map(|instant| rfc3339(zone.local(instant))),
        }
    }
}

/// One administrator's choice in effect for one template and channel.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubscriptionJson {
    username: String,
    /// `expires_in_30_days`, `expires_in_7_days` or `expired`.
    template: &'static str,
    /// `in_app` or `email`.
    channel: &'static str,
    enabled: bool,
    /// Whether the administrator has an e-mail address (e-mail needs one).
    has_email: bool,
}

impl SubscriptionJson {
    pub fn new(row: &SubscriptionRow) -> Self {
        Self {
            username: row.subscription.username.to_string(),
            template: row.subscription.kind.as_str(),
            channel: row.subscription.channel.as_str(),
            enabled: row.subscription.enabled,
            has_email: row.email.is_some(),
        }
    }
}

/// A site's notification template.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TemplateJson {
    /// `expires_in_30_days`, `expires_in_7_days` or `expired`.
    kind: &'static str,
    name: &'static str,
    enabled: bool,
    /// `none` or `warning`; `alert` for `expired`, which always shows the red banner.
    banner: &'static str,
    subject: String,
    body: String,
}

impl TemplateJson {
    pub fn new(template: &NotificationTemplate) -> Self {
        Self {
            kind: template.kind.as_str(),
            name: template.kind.template_name(),
            enabled: template.enabled,
            banner: if template.kind == NoticeKind::Expired {
                "alert"
            } else {
                template.banner.as_str()
            },
            subject: template.subject.clone(),
            body: template.body.clone(),
        }
    }
}

/// One entry of a site's audit log: who changed what, when, with the object's facts before
/// and after (never a secret, a password, a token or a hash of one).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntryJson {
    /// When the change was made (site time).
    at: String,
    /// `admin:<username>`, `cli:<os user>` or `system:<what>`.
    actor: String,
    /// e.g. `registration.update`, `template.save`.
    action: &'static str,
    /// What was changed: a Client ID, a username, a template kind, a URL or a site slug.
    subject: String,
    /// The object's facts before the change; absent for a creation.
    before: Option<BTreeMap<String, String>>,
    /// The object's facts after the change; absent for a deletion.
    after: Option<BTreeMap<String, String>>,
}

impl AuditEntryJson {
    pub fn new(entry: &AuditEntry, zone: SiteZone) -> Self {
        let image = |image: &Option<AuditImage>| {
            image.as_ref().map(|image| {
                image
                    .fields()
                    .map(|(name, value)| (name.to_owned(), value.to_owned()))
                    .collect()
            })
        };
        Self {
            at: rfc3339(zone.local(entry.at)),
            actor: entry.actor.label(),
            action: entry.action.as_str(),
            subject: entry.subject.clone(),
            before: image(&entry.before),
            after: image(&entry.after),
        }
    }
}
