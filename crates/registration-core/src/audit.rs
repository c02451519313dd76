//! The audit log: who changed what, when, with the object's facts before and after.
//!
//! Entries are built here, by the service, and stored by the ports as they are: what is
//! recorded (and that no secret, hash or token ever is) is decided in this module only.

use std::collections::BTreeMap;
use std::fmt;

use time::OffsetDateTime;

use crate::admin::{AdminAccount, AdminName, Subscription};
use crate::registration::Registration;
use crate::site::{Site, SiteSlug};
use crate::template::NotificationTemplate;
use crate::webhook::WebhookEndpoint;

/// Who makes a change.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A Site Administrator, through the console or the admin API.
    Admin(AdminName),
    /// The command line, named by the operating-system user who ran it.
    Cli(String),
    /// appreg itself, e.g. `system:bootstrap` for the first administrator.
    System(String),
}

impl Actor {
    /// The administrator `admin` acting through the console or the API.
    pub fn admin(admin: &AdminAccount) -> Self {
        Self::Admin(admin.username.clone())
    }

    /// The stored form: `admin:<username>`, `cli:<os user>` or `system:<what>`.
    pub fn label(&self) -> String {
        self.to_string()
    }

    /// Reads the stored form back; `None` for text that [`Actor::label`] cannot have written.
    pub fn parse(label: &str) -> Option<Self> {
        let (kind, name) = label.split_once(':')?;
        match kind {
            "admin" => AdminName::parse(name).ok().map(Self::Admin),
            "cli" => Some(Self::Cli(name.to_owned())),
            "system" => Some(Self::System(name.to_owned())),
            _ => None,
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Admin(name) => write!(f, "admin:{name}"),
            Self::Cli(user) => write!(f, "cli:{user}"),
            Self::System(what) => write!(f, "system:{what}"),
        }
    }
}

/// What a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuditAction {
    /// A site was added.
    SiteAdd,
    /// A site's name or time zone was changed.
    SiteEdit,
    /// A registration was created.
    RegistrationCreate,
    /// A registration was renamed, renewed, enabled or disabled.
    RegistrationUpdate,
    /// A registration was deleted.
    RegistrationDelete,
    /// A registration's secret was rotated (a new one issued, the old one kept for a while).
    SecretRotate,
    /// A registration's previous secret was retired before its overlap ended.
    SecretRetire,
    /// An administrator was added.
    AdminAdd,
    /// An administrator was issued a personal API token.
    AdminToken,
    /// An administrator was issued a calendar feed URL for a site (replacing any earlier).
    CalendarIssue,
    /// An administrator's calendar feed URL for a site was revoked.
    CalendarRevoke,
    /// A subscription was switched on or off.
    SubscriptionSet,
    /// A notification template was saved.
    TemplateSave,
    /// A webhook endpoint was added.
    WebhookAdd,
    /// A webhook endpoint was removed.
    WebhookRemove,
}

impl AuditAction {
    /// Every action, in the order of this enum.
    pub const ALL: [Self; 15] = [
        Self::SiteAdd,
        Self::SiteEdit,
        Self::RegistrationCreate,
        Self::RegistrationUpdate,
        Self::RegistrationDelete,
        Self::SecretRotate,
        Self::SecretRetire,
        Self::AdminAdd,
        Self::AdminToken,
        Self::CalendarIssue,
        Self::CalendarRevoke,
        Self::SubscriptionSet,
        Self::TemplateSave,
        Self::WebhookAdd,
        Self::WebhookRemove,
    ];

    /// The stored and wire name, e.g. `registration.update`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SiteAdd => "site.add",
            Self::SiteEdit => "site.edit",
            Self::RegistrationCreate => "registration.create",
            Self::RegistrationUpdate => "registration.update",
            Self::RegistrationDelete => "registration.delete",
            Self::SecretRotate => "registration.secret_rotate",
            Self::SecretRetire => "registration.secret_retire",
            Self::AdminAdd => "admin.add",
            Self::AdminToken => "admin.token",
            Self::CalendarIssue => "calendar.issue",
            Self::CalendarRevoke => "calendar.revoke",
            Self::SubscriptionSet => "subscription.set",
            Self::TemplateSave => "template.save",
            Self::WebhookAdd => "webhook.add",
            Self::WebhookRemove => "webhook.remove",
        }
    }

    /// The action named by [`as_str`](Self::as_str), if any.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.as_str() == text)
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The recorded facts of an object at one moment, as named text values (sorted by name, so
/// an image reads back exactly as it was written).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditImage(BTreeMap<String, String>);

impl AuditImage {
    /// An image with the given fields; a repeated name keeps its last value.
    pub fn from_fields<N: Into<String>, V: Into<String>>(
        fields: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        Self(
            fields
                .into_iter()
                .map(|(name, value)| (name.into(), value.into()))
                .collect(),
        )
    }

    /// The fields, sorted by name.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// The value recorded under `name`, if any.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A registration's facts. Never a secret hash: the hints tell secrets apart.
    pub fn registration(registration: &Registration) -> Self {
        let record = registration.record();
        let mut image = Self::from_fields([
            ("client_id", record.client_id.to_string()),
            ("name", record.name.to_string()),
            ("expiration_date", record.expiration_date.to_string()),
            ("enabled", record.enabled.to_string()),
            ("secret_hint", record.secret.hint.as_str().to_owned()),
            ("revision", record.revision.to_string()),
        ]);
        if let Some(previous) = &record.previous_secret {
            image.0.insert(
                "previous_secret_hint".into(),
                previous.secret.hint.as_str().to_owned(),
            );
            image.0.insert(
                "previous_secret_expires_at".into(),
                crate::error::rfc3339(previous.expires_at),
            );
        }
        image
    }

    /// A site's name, zone and policy.
    pub fn site(site: &Site) -> Self {
        Self::from_fields([
            ("name", site.name.as_str().to_owned()),
            ("time_zone", site.zone.name().to_owned()),
            ("max_years_ahead", site.policy.max_years_ahead.to_string()),
        ])
    }

    /// An administrator's facts. Never the password hash.
    pub fn admin(admin: &AdminAccount) -> Self {
        let mut image = Self::from_fields([("username", admin.username.as_str())]);
        if let Some(email) = &admin.email {
            image.0.insert("email".into(), email.clone());
        }
        image
    }

    /// A subscription choice (who, which template, which channel, on or off).
    pub fn subscription(subscription: &Subscription) -> Self {
        Self::from_fields([
            ("template", subscription.kind.as_str().to_owned()),
            ("channel", subscription.channel.as_str().to_owned()),
            ("enabled", subscription.enabled.to_string()),
        ])
    }

    /// A template's subject, body, banner and enabled flag.
    pub fn template(template: &NotificationTemplate) -> Self {
        Self::from_fields([
            ("subject", template.subject.clone()),
            ("body", template.body.clone()),
            ("enabled", template.enabled.to_string()),
            ("banner", template.banner.as_str().to_owned()),
        ])
    }

    /// A webhook endpoint's facts. Never its signing secret.
    pub fn webhook(endpoint: &WebhookEndpoint) -> Self {
        Self::from_fields([("url", endpoint.url.as_str())])
    }
}

/// One entry of a site's audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// When the change was made.
    pub at: OffsetDateTime,
    /// Who made it.
    pub actor: Actor,
    /// The site whose audit log shows it.
    pub site: SiteSlug,
    /// What was done.
    pub action: AuditAction,
    /// What was changed: a Client ID, a username, a template kind, a URL, a site slug.
    pub subject: String,
    /// The object before the change; `None` when it was created.
    pub before: Option<AuditImage>,
    /// The object after the change; `None` when it was deleted.
    pub after: Option<AuditImage>,
}

/// One field of an entry that a change set, altered or removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditChange<'a> {
    /// The name of the changed value.
    pub field: &'a str,
    /// Its value before the change, if it had one.
    pub before: Option<&'a str>,
    /// Its value after the change, if it has one.
    pub after: Option<&'a str>,
}

impl AuditEntry {
    /// The fields whose value differs between before and after (all of them for a creation
    /// or a deletion), sorted by name.
    pub fn changes(&self) -> Vec<AuditChange<'_>> {
        let mut fields: Vec<&str> = self
            .before
            .iter()
            .chain(self.after.iter())
            .flat_map(|image| image.0.keys().map(String::as_str))
            .collect();
        fields.sort_unstable();
        fields.dedup();
        fields
            .into_iter()
            .map(|field| AuditChange {
                field,
                before: self.before.as_ref().and_then(|image| image.get(field)),
                after: self.after.as_ref().and_then(|image| image.get(field)),
            })
            .filter(|change| change.before != change.after)
            .collect()
    }
}

/// A page of a site's audit log, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditQuery {
    /// Entries to skip (newest first).
    pub offset: u64,
    /// Entries to return at most.
    pub limit: u32,
}
