//! The stored forms the SQL stores share (feature `stored`): how values are written as
//! column values, and how a row's columns are parsed back through the domain's own
//! constructors, so a row that does not hold a valid value is reported as corrupt, never
//! passed on. Each store reads its rows through [`StoredRow`]; the column lists below are
//! the same in every store's schema.

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};
use zeroize::Zeroizing;

use crate::{
    Actor, AdminAccount, AdminName, AuditAction, AuditEntry, AuditImage, BannerSetting,
    CalendarFeed, Channel, ClaimedDelivery, ClientId, ConsoleSession, Delivery, DeliveryState,
    DeliveryStatus, Disposition, ExpirationDate, ExpiryEntry, InboxItem, NoticeCandidate,
    NoticeKey, NoticeKind, NoticeLogEntry, NotificationTemplate, PreviousSecret, Registration,
    RegistrationId, RegistrationName, RegistrationRecord, Rejections, ScheduleSubject, SecretHash,
    SecretHint, SigningKeyRecord, Site, SiteName, SitePolicy, SiteSlug, SiteZone, SortKey,
    StoreError, StoredSecret, Subscription, TokenDigest, WebhookEndpoint, WebhookSecret,
    WebhookUrl,
};

/// One result row, as a store's driver reads it. Column indexes start at 0; each method
/// reports a missing column or a value of another type as [`StoreError::Corrupt`] or the
/// driver's own error.
pub trait StoredRow {
    /// A text column.
    fn text(&self, column: usize) -> Result<String, StoreError>;
    /// A text column that may be NULL.
    fn optional_text(&self, column: usize) -> Result<Option<String>, StoreError>;
    /// An integer column, whatever its width.
    fn integer(&self, column: usize) -> Result<i64, StoreError>;
    /// A boolean column (SQLite: an integer 0 or 1).
    fn flag(&self, column: usize) -> Result<bool, StoreError>;
    /// A binary column.
    fn bytes(&self, column: usize) -> Result<Vec<u8>, StoreError>;
}

/// The registrations columns, in the order [`parse_registration`] reads them.
pub const REGISTRATION_COLUMNS: &str = "id, site, client_id, name, name_key, expiration_date, \
    enabled, secret_hash, secret_hint, registration_date, last_used, rejected_count, \
    last_rejected, revision, secret_created_at, secret_last_used, previous_secret_hash, \
    previous_secret_hint, previous_secret_created_at, previous_secret_last_used, \
    previous_secret_expires_at, previous_secret_rejected_count, previous_secret_last_rejected";

/// The registrations column a grid sort key orders by.
pub fn sort_column(sort: SortKey) -> &'static str {
    match sort {
        SortKey::Name => "name_key",
        SortKey::ClientId => "client_id",
        SortKey::RegistrationDate => "registration_date",
        SortKey::Enabled => "enabled",
        SortKey::LastUsed => "last_used",
        SortKey::ExpirationDate => "expiration_date",
    }
}

/// Instants are stored in UTC with nanoseconds and a fixed width, so text order is time order.
const INSTANT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:9]Z");

/// How an instant is stored: UTC, nanoseconds, fixed width.
pub fn instant_text(instant: OffsetDateTime) -> String {
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
pub fn counter(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Corrupt(format!("counter {value} overflows")))
}

fn parse_counter(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative counter {value}")))
}

/// A small stored number (attempts, years) into the domain's narrower type.
fn small<T: TryFrom<i64>>(value: i64, what: &str) -> Result<T, StoreError> {
    T::try_from(value).map_err(|_| StoreError::Corrupt(format!("stored {what} {value} is invalid")))
}

fn optional_instant(
    row: &dyn StoredRow,
    column: usize,
) -> Result<Option<OffsetDateTime>, StoreError> {
    row.optional_text(column)?
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

/// A stored site slug.
pub fn site_slug(text: &str) -> Result<SiteSlug, StoreError> {
    SiteSlug::parse(text).map_err(|_| corrupt("site slug", text))
}

/// Columns: [`REGISTRATION_COLUMNS`].
pub fn parse_registration(row: &dyn StoredRow) -> Result<Registration, StoreError> {
    let name = row.text(3)?;
    let previous_secret = match row.optional_text(16)? {
        Some(hash) => Some(PreviousSecret {
            secret: stored_secret(&hash, &row.text(17)?, &row.text(18)?, row, 19)?,
            expires_at: parse_instant(&row.text(20)?)?,
            rejections: Rejections {
                count: parse_counter(row.integer(21)?)?,
                last: optional_instant(row, 22)?,
            },
        }),
        None => None,
    };
    Ok(Registration::from_record(RegistrationRecord {
        id: registration_id(&row.text(0)?)?,
        site: site_slug(&row.text(1)?)?,
        client_id: client_id(&row.text(2)?)?,
        name: RegistrationName::parse(&name).map_err(|_| corrupt("name", &name))?,
        expiration_date: expiration_date(&row.text(5)?)?,
        enabled: row.flag(6)?,
        secret: stored_secret(&row.text(7)?, &row.text(8)?, &row.text(14)?, row, 15)?,
        previous_secret,
        registration_date: parse_instant(&row.text(9)?)?,
        last_used: optional_instant(row, 10)?,
        rejections: Rejections {
            count: parse_counter(row.integer(11)?)?,
            last: optional_instant(row, 12)?,
        },
        revision: parse_counter(row.integer(13)?)?,
    }))
}

/// One stored secret: its hash, hint, creation instant, and Last used in `last_used_column`.
fn stored_secret(
    hash: &str,
    hint: &str,
    created_at: &str,
    row: &dyn StoredRow,
    last_used_column: usize,
) -> Result<StoredSecret, StoreError> {
    Ok(StoredSecret {
        // Never echo a stored hash into an error message.
        hash: SecretHash::parse(hash).map_err(|_| corrupt("secret hash", ""))?,
        hint: SecretHint::parse(hint).map_err(|_| corrupt("secret hint", hint))?,
        created_at: parse_instant(created_at)?,
        last_used: optional_instant(row, last_used_column)?,
    })
}

/// Columns: slug, name, time_zone, max_years_ahead.
pub fn parse_site(row: &dyn StoredRow) -> Result<Site, StoreError> {
    let name = row.text(1)?;
    let zone = row.text(2)?;
    Ok(Site {
        slug: site_slug(&row.text(0)?)?,
        name: SiteName::parse(&name).map_err(|_| corrupt("site name", &name))?,
        zone: SiteZone::parse(&zone).map_err(|_| corrupt("time zone", &zone))?,
        policy: SitePolicy {
            max_years_ahead: small(row.integer(3)?, "max years ahead")?,
        },
    })
}

/// How a disposition is stored.
pub fn disposition_str(disposition: Disposition) -> &'static str {
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
pub fn parse_log_entry(row: &dyn StoredRow) -> Result<NoticeLogEntry, StoreError> {
    let kind = row.text(3)?;
    Ok(NoticeLogEntry {
        key: NoticeKey {
            registration_id: registration_id(&row.text(1)?)?,
            expiration_date: expiration_date(&row.text(2)?)?,
            kind: NoticeKind::parse(&kind).ok_or_else(|| corrupt("notice kind", &kind))?,
        },
        site: site_slug(&row.text(4)?)?,
        registration_name: row.text(5)?,
        client_id: client_id(&row.text(6)?)?,
        disposition: parse_disposition(&row.text(7)?)?,
        subject: row.text(8)?,
        body: row.text(11)?,
        due_at: parse_instant(&row.text(9)?)?,
        recorded_at: parse_instant(&row.text(10)?)?,
        deliveries: Vec::new(),
    })
}

/// Columns: registration_id, expiration_date, kind, site, registration_name, client_id,
/// subject, body, due_at, recorded_at, read_at.
pub fn parse_inbox_item(row: &dyn StoredRow) -> Result<InboxItem, StoreError> {
    let kind = row.text(2)?;
    Ok(InboxItem {
        key: NoticeKey {
            registration_id: registration_id(&row.text(0)?)?,
            expiration_date: expiration_date(&row.text(1)?)?,
            kind: NoticeKind::parse(&kind).ok_or_else(|| corrupt("notice kind", &kind))?,
        },
        site: site_slug(&row.text(3)?)?,
        registration_name: row.text(4)?,
        client_id: client_id(&row.text(5)?)?,
        subject: row.text(6)?,
        body: row.text(7)?,
        due_at: parse_instant(&row.text(8)?)?,
        recorded_at: parse_instant(&row.text(9)?)?,
        read_at: optional_instant(row, 10)?,
    })
}

fn channel(text: &str) -> Result<Channel, StoreError> {
    Channel::parse(text).ok_or_else(|| corrupt("channel", text))
}

/// Columns: notice_id, recipient, channel, status, attempts, next_attempt_at, last_error.
pub fn parse_delivery(row: &dyn StoredRow) -> Result<DeliveryState, StoreError> {
    let status = row.text(3)?;
    Ok(DeliveryState {
        recipient: row.text(1)?,
        channel: channel(&row.text(2)?)?,
        status: DeliveryStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        attempts: small(row.integer(4)?, "attempts")?,
        next_attempt_at: optional_instant(row, 5)?,
        last_error: row.optional_text(6)?,
    })
}

/// The columns of a claim, in the order `parse_claimed` reads them.
pub const CLAIM_COLUMNS: &str = "d.recipient, d.channel, d.attempts, n.registration_id, \
    n.expiration_date, n.kind, n.site, n.registration_name, n.client_id, n.due_at, n.subject, \
    n.body, w.secret";

/// Columns: [`CLAIM_COLUMNS`].
pub fn parse_claimed(row: &dyn StoredRow) -> Result<ClaimedDelivery, StoreError> {
    let kind = row.text(5)?;
    let signing_secret = row
        .optional_text(12)?
        .map(|secret| {
            WebhookSecret::parse(&secret)
                .map_err(|_| StoreError::Corrupt("a stored webhook secret is invalid".into()))
        })
        .transpose()?;
    Ok(ClaimedDelivery {
        delivery: Delivery {
            notice: NoticeKey {
                registration_id: registration_id(&row.text(3)?)?,
                expiration_date: expiration_date(&row.text(4)?)?,
                kind: NoticeKind::parse(&kind).ok_or_else(|| corrupt("notice kind", &kind))?,
            },
            site: site_slug(&row.text(6)?)?,
            registration_name: row.text(7)?,
            client_id: client_id(&row.text(8)?)?,
            due_at: parse_instant(&row.text(9)?)?,
            recipient: row.text(0)?,
            channel: channel(&row.text(1)?)?,
            subject: row.text(10)?,
            body: row.text(11)?,
            signing_secret,
        },
        attempts_made: small(row.integer(2)?, "attempts")?,
    })
}

/// Columns: client_id, name, expiration_date.
pub fn parse_expiry_entry(row: &dyn StoredRow) -> Result<ExpiryEntry, StoreError> {
    let name = row.text(1)?;
    Ok(ExpiryEntry {
        client_id: client_id(&row.text(0)?)?,
        name: RegistrationName::parse(&name).map_err(|_| corrupt("name", &name))?,
        expiration_date: expiration_date(&row.text(2)?)?,
    })
}

/// Columns: digest, username, site, created_at.
pub fn parse_calendar_feed(row: &dyn StoredRow) -> Result<CalendarFeed, StoreError> {
    let digest = row.bytes(0)?;
    let username = row.text(1)?;
    Ok(CalendarFeed {
        digest: TokenDigest(
            digest
                .try_into()
                .map_err(|_| StoreError::Corrupt("a stored feed digest is invalid".into()))?,
        ),
        username: AdminName::parse(&username).map_err(|_| corrupt("admin name", &username))?,
        site: site_slug(&row.text(2)?)?,
        created_at: parse_instant(&row.text(3)?)?,
    })
}

/// Columns: digest, username, created_at, expires_at.
pub fn parse_session(row: &dyn StoredRow) -> Result<ConsoleSession, StoreError> {
    let digest = row.bytes(0)?;
    let username = row.text(1)?;
    Ok(ConsoleSession {
        digest: TokenDigest(
            digest
                .try_into()
                .map_err(|_| StoreError::Corrupt("a stored session digest is invalid".into()))?,
        ),
        username: AdminName::parse(&username).map_err(|_| corrupt("admin name", &username))?,
        created_at: parse_instant(&row.text(2)?)?,
        expires_at: parse_instant(&row.text(3)?)?,
    })
}

/// Columns: url, secret, created_at.
pub fn parse_webhook(row: &dyn StoredRow) -> Result<WebhookEndpoint, StoreError> {
    let url = row.text(0)?;
    Ok(WebhookEndpoint {
        url: WebhookUrl::parse(&url).map_err(|_| corrupt("webhook URL", &url))?,
        secret: WebhookSecret::parse(&row.text(1)?)
            .map_err(|_| StoreError::Corrupt(format!("the secret of webhook {url} is invalid")))?,
        created_at: parse_instant(&row.text(2)?)?,
    })
}

/// Columns: username, password_hash, email, created_at. Sites are filled in by the caller.
pub fn parse_admin(row: &dyn StoredRow) -> Result<AdminAccount, StoreError> {
    let username = row.text(0)?;
    Ok(AdminAccount {
        username: AdminName::parse(&username).map_err(|_| corrupt("admin name", &username))?,
        password_hash: SecretHash::parse(&row.text(1)?)
            .map_err(|_| corrupt("password hash of", &username))?,
        email: row.optional_text(2)?,
        sites: Vec::new(),
        created_at: parse_instant(&row.text(3)?)?,
    })
}

/// Columns: id, client_id, name, expiration_date, and the recorded kinds as a comma list.
pub fn parse_candidate(row: &dyn StoredRow) -> Result<NoticeCandidate, StoreError> {
    let name = row.text(2)?;
    let recorded = row
        .optional_text(4)?
        .unwrap_or_default()
        .split(',')
        .filter(|kind| !kind.is_empty())
        .map(|kind| NoticeKind::parse(kind).ok_or_else(|| corrupt("notice kind", kind)))
        .collect::<Result<_, _>>()?;
    Ok(NoticeCandidate {
        subject: ScheduleSubject {
            registration_id: registration_id(&row.text(0)?)?,
            expiration_date: expiration_date(&row.text(3)?)?,
            enabled: true,
        },
        client_id: client_id(&row.text(1)?)?,
        name: RegistrationName::parse(&name).map_err(|_| corrupt("name", &name))?,
        recorded,
    })
}

/// Columns: username, kind, channel, enabled.
pub fn parse_subscription(row: &dyn StoredRow) -> Result<Subscription, StoreError> {
    let username = row.text(0)?;
    let kind = row.text(1)?;
    let channel = row.text(2)?;
    Ok(Subscription {
        username: AdminName::parse(&username).map_err(|_| corrupt("admin name", &username))?,
        kind: NoticeKind::parse(&kind).ok_or_else(|| corrupt("notice kind", &kind))?,
        channel: Channel::parse(&channel).ok_or_else(|| corrupt("channel", &channel))?,
        enabled: row.flag(3)?,
    })
}

/// Columns: kind, subject, body, enabled, banner.
pub fn parse_template(row: &dyn StoredRow) -> Result<NotificationTemplate, StoreError> {
    let kind = row.text(0)?;
    let banner = row.text(4)?;
    Ok(NotificationTemplate {
        kind: NoticeKind::parse(&kind).ok_or_else(|| corrupt("notice kind", &kind))?,
        subject: row.text(1)?,
        body: row.text(2)?,
        enabled: row.flag(3)?,
        banner: BannerSetting::parse(&banner).map_err(|_| corrupt("banner setting", &banner))?,
    })
}

/// Columns: kid, private_key, created_at.
pub fn parse_signing_key(row: &dyn StoredRow) -> Result<SigningKeyRecord, StoreError> {
    let kid = row.text(0)?;
    let bytes = Zeroizing::new(row.bytes(1)?);
    let private_key: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| corrupt("signing key of", &kid))?;
    Ok(SigningKeyRecord {
        kid,
        private_key: Zeroizing::new(private_key),
        created_at: parse_instant(&row.text(2)?)?,
    })
}

/// Columns: kind, status, count: how many deliveries of a kind have a status.
pub fn parse_delivery_count(
    row: &dyn StoredRow,
) -> Result<(NoticeKind, DeliveryStatus, u64), StoreError> {
    let kind = row.text(0)?;
    let status = row.text(1)?;
    Ok((
        NoticeKind::parse(&kind).ok_or_else(|| corrupt("notice kind", &kind))?,
        DeliveryStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        parse_counter(row.integer(2)?)?,
    ))
}

/// An audit image as stored: a JSON object of text values.
pub fn image_json(image: Option<&AuditImage>) -> Option<String> {
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
pub fn parse_audit_entry(row: &dyn StoredRow) -> Result<AuditEntry, StoreError> {
    let actor = row.text(1)?;
    let action = row.text(3)?;
    Ok(AuditEntry {
        at: parse_instant(&row.text(0)?)?,
        actor: Actor::parse(&actor)
            .ok_or_else(|| StoreError::Corrupt(format!("stored actor {actor:?} is invalid")))?,
        site: site_slug(&row.text(2)?)?,
        action: AuditAction::parse(&action).ok_or_else(|| {
            StoreError::Corrupt(format!("stored audit action {action:?} is unknown"))
        })?,
        subject: row.text(4)?,
        before: parse_image(row.optional_text(5)?)?,
        after: parse_image(row.optional_text(6)?)?,
    })
}

/// The tables `appreg db copy` moves from one store to another, parents before children.
/// Console sessions and one-time reveal pads are not among them: administrators sign in
/// again on the new store.
pub const COPIED_TABLES: &[&str] = &[
    "sites",
    "admins",
    "admin_sites",
    "admin_tokens",
    "registrations",
    "notices",
    "deliveries",
    "audit_log",
    "signing_keys",
    "notification_templates",
    "subscriptions",
    "webhooks",
    "calendar_feeds",
];

/// One column value as a store holds it, for copying rows between stores unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredValue {
    /// SQL NULL.
    Null,
    /// An integer (booleans are 0 and 1 in SQLite).
    Integer(i64),
    /// Text.
    Text(String),
    /// Bytes (digests, keys, pads).
    Bytes(Vec<u8>),
}

/// What receives a copied table's rows: the column names, then one row's values.
pub type RowSink<'a> = dyn FnMut(&[String], Vec<StoredValue>) -> Result<(), StoreError> + 'a;

/// A store that can hand out its rows, table by table, from one consistent snapshot.
pub trait TableSource {
    /// Calls `each` with the column names and the values of every row of `table`, in
    /// insertion order; returns how many rows there were.
    fn rows(&self, table: &str, each: &mut RowSink<'_>) -> Result<u64, StoreError>;
}
