//! Between rows and domain values. Stored text is parsed back through the domain's own
//! constructors, so a row that does not hold a valid value is reported as corrupt, never
//! passed on.

use registration_core::{
    Actor, AdminAccount, AdminName, AuditAction, AuditEntry, AuditImage, BannerSetting, Channel,
    ClaimedDelivery, ClientId, ConsoleSession, Delivery, DeliveryState, DeliveryStatus,
    Disposition, ExpirationDate, InboxItem, NoticeCandidate, NoticeKey, NoticeKind, NoticeLogEntry,
    NotificationTemplate, Registration, RegistrationId, RegistrationName, RegistrationRecord,
    Rejections, ScheduleSubject, SecretHash, SecretHint, SigningKeyRecord, Site, SiteName,
    SitePolicy, SiteSlug, SiteZone, StoreError, Subscription, TokenDigest, WebhookEndpoint,
    WebhookSecret, WebhookUrl,
};
use rusqlite::{ErrorCode, Row};
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// The registrations columns, in the order `parse_registration` reads them.
macro_rules! registration_columns {
    () => {
        "id, site, client_id, name, name_key, expiration_date, enabled, secret_hash, \
         secret_hint, registration_date, last_used, rejected_count, last_rejected, revision"
    };
}
pub(crate) use registration_columns;

pub(crate) const REGISTRATION_COLUMNS: &str = registration_columns!();

/// Instants are stored in UTC with nanoseconds and a fixed width, so text order is time order.
const INSTANT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:9]Z");

pub(crate) fn instant_text(instant: OffsetDateTime) -> String {
    instant
        .to_offset(UtcOffset::UTC)
        .format(INSTANT)
        .unwrap_or_else(|_| unreachable!("every instant in years 0..=9999 formats"))
}

fn parse_instant(text: &str) -> Result<OffsetDateTime, StoreError> {
    time::PrimitiveDateTime::parse(text, INSTANT)
        .map(|instant| instant.assume_utc())
        .map_err(|_| corrupt("instant", text))
}

fn corrupt(what: &str, text: &str) -> StoreError {
    StoreError::Corrupt(format!("stored {what} {text:?} is invalid"))
}

/// Counters are `u64` in the domain and `INTEGER` (i64) in SQLite.
pub(crate) fn counter(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Corrupt(format!("counter {value} overflows")))
}

fn parse_counter(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative counter {value}")))
}

/// SQLite's errors, as the port's contract names them.
pub(crate) fn map_error(error: rusqlite::Error) -> StoreError {
    match &error {
        rusqlite::Error::SqliteFailure(failure, _) => match failure.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                StoreError::Busy(error.to_string())
            }
            ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt => {
                StoreError::Corrupt(format!("not a usable appreg database: {error}"))
            }
            _ => StoreError::Unavailable(error.to_string()),
        },
        _ => StoreError::Unavailable(error.to_string()),
    }
}

fn text(row: &Row<'_>, index: usize) -> Result<String, StoreError> {
    row.get(index).map_err(map_error)
}

fn optional_instant(row: &Row<'_>, index: usize) -> Result<Option<OffsetDateTime>, StoreError> {
    row.get::<_, Option<String>>(index)
        .map_err(map_error)?
        .map(|text| parse_instant(&text))
        .transpose()
}

fn registration_id(text: &str) -> Result<RegistrationId, StoreError> {
    uuid::Uuid::parse_str(text)
        .map(RegistrationId::from_uuid)
        .map_err(|_| corrupt("registration id", text))
}

fn client_id(text: &str) -> Result<ClientId, StoreError> {
    ClientId::parse(text).map_err(|_| corrupt("client id", text))
}

fn expiration_date(text: &str) -> Result<ExpirationDate, StoreError> {
    ExpirationDate::parse(text).map_err(|_| corrupt("expiration date", text))
}

fn site_slug(text: &str) -> Result<SiteSlug, StoreError> {
    SiteSlug::parse(text).map_err(|_| corrupt("site slug", text))
}

pub(crate) fn parse_registration(row: &Row<'_>) -> Result<Registration, StoreError> {
    let name = text(row, 3)?;
    let secret_hash = text(row, 7)?;
    let secret_hint = text(row, 8)?;
    Ok(Registration::from_record(RegistrationRecord {
        id: registration_id(&text(row, 0)?)?,
        site: site_slug(&text(row, 1)?)?,
        client_id: client_id(&text(row, 2)?)?,
        name: RegistrationName::parse(&name).map_err(|_| corrupt("name", &name))?,
        expiration_date: expiration_date(&text(row, 5)?)?,
        enabled: row.get(6).map_err(map_error)?,
        // Never echo a stored hash into an error message.
        secret_hash: SecretHash::parse(&secret_hash).map_err(|_| corrupt("secret hash", ""))?,
        secret_hint: SecretHint::parse(&secret_hint)
            .map_err(|_| corrupt("secret hint", &secret_hint))?,
        registration_date: parse_instant(&text(row, 9)?)?,
        last_used: optional_instant(row, 10)?,
        rejections: Rejections {
            count: parse_counter(row.get(11).map_err(map_error)?)?,
            last: optional_instant(row, 12)?,
        },
        revision: parse_counter(row.get(13).map_err(map_error)?)?,
    }))
}

/// Columns: slug, name, time_zone, max_years_ahead.
pub(crate) fn parse_site(row: &Row<'_>) -> Result<Site, StoreError> {
    let name = text(row, 1)?;
    let zone = text(row, 2)?;
    Ok(Site {
        slug: site_slug(&text(row, 0)?)?,
        name: SiteName::parse(&name).map_err(|_| corrupt("site name", &name))?,
        zone: SiteZone::parse(&zone).map_err(|_| corrupt("time zone", &zone))?,
        policy: SitePolicy {
            max_years_ahead: row.get(3).map_err(map_error)?,
        },
    })
}

pub(crate) fn disposition_str(disposition: Disposition) -> &'static str {
    match disposition {
        Disposition::Deliver => "deliver",
        Disposition::SkippedSuperseded => "skipped_superseded",
    }
}

fn parse_disposition(text: &str) -> Result<Disposition, StoreError> {
    match text {
        "deliver" => Ok(Disposition::Deliver),
        "skipped_superseded" => Ok(Disposition::SkippedSuperseded),
        other => Err(corrupt("disposition", other)),
    }
}

/// Columns: id, registration_id, expiration_date, kind, site, registration_name, client_id,
/// disposition, subject, due_at, recorded_at, body. Deliveries are filled in by the caller.
pub(crate) fn parse_log_entry(row: &Row<'_>) -> Result<NoticeLogEntry, StoreError> {
    let kind = text(row, 3)?;
    Ok(NoticeLogEntry {
        key: NoticeKey {
            registration_id: registration_id(&text(row, 1)?)?,
            expiration_date: expiration_date(&text(row, 2)?)?,
            kind: NoticeKind::parse(&kind).ok_or_else(|| corrupt("notice kind", &kind))?,
        },
        site: site_slug(&text(row, 4)?)?,
        registration_name: text(row, 5)?,
        client_id: client_id(&text(row, 6)?)?,
        disposition: parse_disposition(&text(row, 7)?)?,
        subject: text(row, 8)?,
        body: text(row, 11)?,
        due_at: parse_instant(&text(row, 9)?)?,
        recorded_at: parse_instant(&text(row, 10)?)?,
        deliveries: Vec::new(),
    })
}

/// Columns: registration_id, expiration_date, kind, site, registration_name, client_id,
/// subject, body, due_at, recorded_at, read_at.
pub(crate) fn parse_inbox_item(row: &Row<'_>) -> Result<InboxItem, StoreError> {
    let kind = text(row, 2)?;
    Ok(InboxItem {
        key: NoticeKey {
            registration_id: registration_id(&text(row, 0)?)?,
            expiration_date: expiration_date(&text(row, 1)?)?,
            kind: NoticeKind::parse(&kind).ok_or_else(|| corrupt("notice kind", &kind))?,
        },
        site: site_slug(&text(row, 3)?)?,
        registration_name: text(row, 4)?,
        client_id: client_id(&text(row, 5)?)?,
        subject: text(row, 6)?,
        body: text(row, 7)?,
        due_at: parse_instant(&text(row, 8)?)?,
        recorded_at: parse_instant(&text(row, 9)?)?,
        read_at: optional_instant(row, 10)?,
    })
}

fn channel(text: &str) -> Result<Channel, StoreError> {
    Channel::parse(text).ok_or_else(|| corrupt("channel", text))
}

/// Columns: notice_id, recipient, channel, status, attempts, next_attempt_at, last_error.
pub(crate) fn parse_delivery(row: &Row<'_>) -> Result<DeliveryState, StoreError> {
    let status = text(row, 3)?;
    Ok(DeliveryState {
        recipient: text(row, 1)?,
        channel: channel(&text(row, 2)?)?,
        status: DeliveryStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        attempts: row.get(4).map_err(map_error)?,
        next_attempt_at: optional_instant(row, 5)?,
        last_error: row.get(6).map_err(map_error)?,
    })
}

/// The columns of a claim, in the order `parse_claimed` reads them.
pub(crate) const CLAIM_COLUMNS: &str = "d.recipient, d.channel, d.attempts, n.registration_id, \
    n.expiration_date, n.kind, n.site, n.registration_name, n.client_id, n.due_at, n.subject, \
    n.body, w.secret";

pub(crate) fn parse_claimed(row: &Row<'_>) -> Result<ClaimedDelivery, StoreError> {
    let kind = text(row, 5)?;
    let signing_secret = row
        .get::<_, Option<String>>(12)
        .map_err(map_error)?
        .map(|secret| {
            WebhookSecret::parse(&secret)
                .map_err(|_| StoreError::Corrupt("a stored webhook secret is invalid".into()))
        })
        .transpose()?;
    Ok(ClaimedDelivery {
        delivery: Delivery {
            notice: NoticeKey {
                registration_id: registration_id(&text(row, 3)?)?,
                expiration_date: expiration_date(&text(row, 4)?)?,
                kind: NoticeKind::parse(&kind).ok_or_else(|| corrupt("notice kind", &kind))?,
            },
            site: site_slug(&text(row, 6)?)?,
            registration_name: text(row, 7)?,
            client_id: client_id(&text(row, 8)?)?,
            due_at: parse_instant(&text(row, 9)?)?,
            recipient: text(row, 0)?,
            channel: channel(&text(row, 1)?)?,
            subject: text(row, 10)?,
            body: text(row, 11)?,
            signing_secret,
        },
        attempts_made: row.get(2).map_err(map_error)?,
    })
}

/// Columns: digest, username, created_at, expires_at.
pub(crate) fn parse_session(row: &Row<'_>) -> Result<ConsoleSession, StoreError> {
    let digest: Vec<u8> = row.get(0).map_err(map_error)?;
    let username = text(row, 1)?;
    Ok(ConsoleSession {
        digest: TokenDigest(
            digest
                .try_into()
                .map_err(|_| StoreError::Corrupt("a stored session digest is invalid".into()))?,
        ),
        username: AdminName::parse(&username).map_err(|_| corrupt("admin name", &username))?,
        created_at: parse_instant(&text(row, 2)?)?,
        expires_at: parse_instant(&text(row, 3)?)?,
    })
}

/// Columns: url, secret, created_at.
pub(crate) fn parse_webhook(row: &Row<'_>) -> Result<WebhookEndpoint, StoreError> {
    let url = text(row, 0)?;
    Ok(WebhookEndpoint {
        url: WebhookUrl::parse(&url).map_err(|_| corrupt("webhook URL", &url))?,
        secret: WebhookSecret::parse(&text(row, 1)?)
            .map_err(|_| StoreError::Corrupt(format!("the secret of webhook {url} is invalid")))?,
        created_at: parse_instant(&text(row, 2)?)?,
    })
}

/// Columns: username, password_hash, email, created_at. Sites are filled in by the caller.
pub(crate) fn parse_admin(row: &Row<'_>) -> Result<AdminAccount, StoreError> {
    let username = text(row, 0)?;
    Ok(AdminAccount {
        username: AdminName::parse(&username).map_err(|_| corrupt("admin name", &username))?,
        password_hash: SecretHash::parse(&text(row, 1)?)
            .map_err(|_| corrupt("password hash of", &username))?,
        email: row.get(2).map_err(map_error)?,
        sites: Vec::new(),
        created_at: parse_instant(&text(row, 3)?)?,
    })
}

/// Columns: id, client_id, name, expiration_date, and the recorded kinds as a comma list.
pub(crate) fn parse_candidate(row: &Row<'_>) -> Result<NoticeCandidate, StoreError> {
    let name = text(row, 2)?;
    let recorded = row
        .get::<_, Option<String>>(4)
        .map_err(map_error)?
        .unwrap_or_default()
        .split(',')
        .filter(|kind| !kind.is_empty())
        .map(|kind| NoticeKind::parse(kind).ok_or_else(|| corrupt("notice kind", kind)))
        .collect::<Result<_, _>>()?;
    Ok(NoticeCandidate {
        subject: ScheduleSubject {
            registration_id: registration_id(&text(row, 0)?)?,
            expiration_date: expiration_date(&text(row, 3)?)?,
            enabled: true,
        },
        client_id: client_id(&text(row, 1)?)?,
        name: RegistrationName::parse(&name).map_err(|_| corrupt("name", &name))?,
        recorded,
    })
}

/// Columns: username, kind, channel, enabled.
pub(crate) fn parse_subscription(row: &Row<'_>) -> Result<Subscription, StoreError> {
    let username = text(row, 0)?;
    let kind = text(row, 1)?;
    let channel = text(row, 2)?;
    Ok(Subscription {
        username: AdminName::parse(&username).map_err(|_| corrupt("admin name", &username))?,
        kind: NoticeKind::parse(&kind).ok_or_else(|| corrupt("notice kind", &kind))?,
        channel: Channel::parse(&channel).ok_or_else(|| corrupt("channel", &channel))?,
        enabled: row.get(3).map_err(map_error)?,
    })
}

/// Columns: kind, subject, body, enabled, banner.
pub(crate) fn parse_template(row: &Row<'_>) -> Result<NotificationTemplate, StoreError> {
    let kind = text(row, 0)?;
    let banner = text(row, 4)?;
    Ok(NotificationTemplate {
        kind: NoticeKind::parse(&kind).ok_or_else(|| corrupt("notice kind", &kind))?,
        subject: text(row, 1)?,
        body: text(row, 2)?,
        enabled: row.get(3).map_err(map_error)?,
        banner: BannerSetting::parse(&banner).map_err(|_| corrupt("banner setting", &banner))?,
    })
}

/// Columns: kid, private_key, created_at.
pub(crate) fn parse_signing_key(row: &Row<'_>) -> Result<SigningKeyRecord, StoreError> {
    let kid = text(row, 0)?;
    let bytes = zeroize::Zeroizing::new(row.get::<_, Vec<u8>>(1).map_err(map_error)?);
    let private_key: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| corrupt("signing key of", &kid))?;
    Ok(SigningKeyRecord {
        kid,
        private_key: zeroize::Zeroizing::new(private_key),
        created_at: parse_instant(&text(row, 2)?)?,
    })
}

/// An audit image as stored: a JSON object of text values.
pub(crate) fn image_json(image: Option<&AuditImage>) -> Option<String> {
    image.map(|image| {
        let fields: serde_json::Map<String, serde_json::Value> = image
            .fields()
            .map(|(name, value)| (name.to_owned(), serde_json::Value::from(value)))
            .collect();
        serde_json::Value::Object(fields).to_string()
    })
}

/// Reads an image back. Entries of schema 12 and before held JSON numbers and booleans too:
/// they read as their JSON text.
fn parse_image(text: Option<String>) -> Result<Option<AuditImage>, StoreError> {
    let Some(text) = text else {
        return Ok(None);
    };
    let corrupt = || StoreError::Corrupt(format!("stored audit image {text:?} is invalid"));
    let serde_json::Value::Object(fields) =
        serde_json::from_str::<serde_json::Value>(&text).map_err(|_| corrupt())?
    else {
        return Err(corrupt());
    };
    Ok(Some(AuditImage::from_fields(fields.into_iter().map(
        |(name, value)| match value {
            serde_json::Value::String(text) => (name, text),
            other => (name, other.to_string()),
        },
    ))))
}

/// Columns: at, actor, site, action, subject, before, after.
pub(crate) fn parse_audit_entry(row: &Row<'_>) -> Result<AuditEntry, StoreError> {
    let actor: String = row.get(1).map_err(map_error)?;
    let action: String = row.get(3).map_err(map_error)?;
    Ok(AuditEntry {
        at: parse_instant(&row.get::<_, String>(0).map_err(map_error)?)?,
        actor: Actor::parse(&actor)
            .ok_or_else(|| StoreError::Corrupt(format!("stored actor {actor:?} is invalid")))?,
        site: site_slug(&row.get::<_, String>(2).map_err(map_error)?)?,
        action: AuditAction::parse(&action).ok_or_else(|| {
            StoreError::Corrupt(format!("stored audit action {action:?} is unknown"))
        })?,
        subject: row.get(4).map_err(map_error)?,
        before: parse_image(row.get(5).map_err(map_error)?)?,
        after: parse_image(row.get(6).map_err(map_error)?)?,
    })
}
