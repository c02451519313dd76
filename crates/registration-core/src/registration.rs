//! The App registration aggregate and the commands that change it.

use std::fmt;

use time::{Date, Duration, OffsetDateTime, macros::format_description};
use uuid::Uuid;

use crate::error::Error;
use crate::ports::RandomSource;
use crate::schedule::ScheduleSubject;
use crate::secret::{ClientId, ClientSecret, SecretHash, SecretHasher, SecretHint};
use crate::site::{Site, SiteSlug, parse_display_text};
use crate::status::Status;

/// A random (version 4) UUID from `random`: registration IDs, token IDs (`jti`), key IDs.
pub(crate) fn random_uuid(random: &dyn RandomSource) -> Result<Uuid, Error> {
    let mut bytes = [0u8; 16];
    random.fill_bytes(&mut bytes)?;
    Ok(uuid::Builder::from_random_bytes(bytes).into_uuid())
}

/// Internal, immutable identity of a registration (notices refer to it; survives renames).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegistrationId(Uuid);

impl RegistrationId {
    /// A random (version 4) UUID from `random`.
    pub fn generate(random: &dyn RandomSource) -> Result<Self, Error> {
        random_uuid(random).map(Self)
    }

    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for RegistrationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// 1–100 characters after trimming, no control characters. Unique per site, ignoring case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationName(String);

impl RegistrationName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(text: &str) -> Result<Self, Error> {
        parse_display_text(text, "name", Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key under which names must be unique within a site (case-insensitive).
    pub fn unique_key(&self) -> String {
        self.0.to_lowercase()
    }
}

impl fmt::Display for RegistrationName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The last calendar date, in the site's zone, on which a registration authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExpirationDate(Date);

impl ExpirationDate {
    /// Parses `YYYY-MM-DD` strictly (four-digit year, zero-padded month and day, a real date).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let format = format_description!("[year repr:full base:calendar]-[month]-[day]");
        if text.len() != 10 {
            return Err(Error::MalformedDate);
        }
        Date::parse(text, &format)
            .map(Self)
            .map_err(|_| Error::MalformedDate)
    }

    pub fn from_date(date: Date) -> Self {
        Self(date)
    }

    pub fn date(self) -> Date {
        self.0
    }
}

impl fmt::Display for ExpirationDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Checks the rule for setting an expiration date on create and on renew: not before today
/// and at most `policy.max_years_ahead` calendar years ahead, both in the site's zone.
pub fn check_settable_expiration_date(
    expiration_date: ExpirationDate,
    site: &Site,
    now: OffsetDateTime,
) -> Result<(), Error> {
    let date = expiration_date.date();
    let today = site.today(now);
    if date < today {
        return Err(Error::DateInPast { date, today });
    }
    let years = site.policy.max_years_ahead;
    let latest = add_years(today, years);
    if date > latest {
        return Err(Error::DateTooFarAhead {
            date,
            years,
            latest,
        });
    }
    Ok(())
}

/// Same month and day `years` later; 29 February becomes 28 February in a common year.
fn add_years(date: Date, years: u8) -> Date {
    let year = date.year() + i32::from(years);
    date.replace_year(year)
        .or_else(|_| (date - Duration::days(1)).replace_year(year))
        .unwrap_or(Date::MAX)
}

/// How many token requests were refused because the registration was expired or disabled.
/// Reset when the registration is renewed, so it counts "since expiry" of the current date.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rejections {
    pub count: u64,
    pub last: Option<OffsetDateTime>,
}

/// What an administrator submits to create a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRegistration {
    pub name: RegistrationName,
    pub expiration_date: ExpirationDate,
    pub enabled: bool,
}

/// A freshly created registration and its secret, which exists in clear only here.
#[derive(Debug)]
pub struct Created {
    pub registration: Registration,
    pub client_secret: ClientSecret,
}

/// Every stored fact of a registration, for storage adapters to persist and restore. The
/// derived state is deliberately absent: it is recomputed from these and the clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationRecord {
    pub id: RegistrationId,
    pub site: SiteSlug,
    pub client_id: ClientId,
    pub name: RegistrationName,
    pub expiration_date: ExpirationDate,
    pub enabled: bool,
    pub secret_hash: SecretHash,
    pub secret_hint: SecretHint,
    pub registration_date: OffsetDateTime,
    pub last_used: Option<OffsetDateTime>,
    pub rejections: Rejections,
    /// Bumped by the store on every update; guards against lost updates.
    pub revision: u64,
}

/// An App registration. Changes go through its commands, which enforce SPEC sections 3 and 4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    record: RegistrationRecord,
}

/// Last used is written at most once per this interval per registration.
pub const LAST_USED_RESOLUTION: Duration = Duration::minutes(1);

impl Registration {
    /// Creates a registration in `site` with a new Client ID and secret.
    pub fn create(
        new: NewRegistration,
        site: &Site,
        now: OffsetDateTime,
        random: &dyn RandomSource,
        hasher: &SecretHasher,
    ) -> Result<Created, Error> {
        check_settable_expiration_date(new.expiration_date, site, now)?;
        let client_secret = ClientSecret::generate(random)?;
        let record = RegistrationRecord {
            id: RegistrationId::generate(random)?,
            site: site.slug.clone(),
            client_id: ClientId::generate(random)?,
            name: new.name,
            expiration_date: new.expiration_date,
            enabled: new.enabled,
            secret_hash: hasher.hash(&client_secret, random)?,
            secret_hint: client_secret.hint(),
            registration_date: now,
            last_used: None,
            rejections: Rejections::default(),
            revision: 0,
        };
        Ok(Created {
            registration: Self { record },
            client_secret,
        })
    }

    /// Rebuilds a registration from what a store kept.
    pub fn from_record(record: RegistrationRecord) -> Self {
        Self { record }
    }

    pub fn record(&self) -> &RegistrationRecord {
        &self.record
    }

    pub fn into_record(self) -> RegistrationRecord {
        self.record
    }

    pub fn id(&self) -> RegistrationId {
        self.record.id
    }

    pub fn site(&self) -> &SiteSlug {
        &self.record.site
    }

    pub fn client_id(&self) -> &ClientId {
        &self.record.client_id
    }

    pub fn name(&self) -> &RegistrationName {
        &self.record.name
    }

    pub fn expiration_date(&self) -> ExpirationDate {
        self.record.expiration_date
    }

    pub fn enabled(&self) -> bool {
        self.record.enabled
    }

    pub fn secret_hash(&self) -> &SecretHash {
        &self.record.secret_hash
    }

    pub fn revision(&self) -> u64 {
        self.record.revision
    }

    /// State, days left, label and expiry instant at `now`.
    pub fn status(&self, site: &Site, now: OffsetDateTime) -> Status {
        Status::at(
            self.record.expiration_date,
            self.record.enabled,
            site.zone,
            now,
        )
    }

    /// The facts the notification schedule looks at.
    pub fn schedule_subject(&self) -> ScheduleSubject {
        ScheduleSubject {
            registration_id: self.record.id,
            expiration_date: self.record.expiration_date,
            enabled: self.record.enabled,
        }
    }

    pub fn rename(&mut self, name: RegistrationName) {
        self.record.name = name;
    }

    /// Sets a new expiration date (not before today, site time). Client ID and secret stay;
    /// a new date starts a new notification cycle and a new count of rejected requests.
    pub fn renew(
        &mut self,
        expiration_date: ExpirationDate,
        site: &Site,
        now: OffsetDateTime,
    ) -> Result<(), Error> {
        check_settable_expiration_date(expiration_date, site, now)?;
        if expiration_date != self.record.expiration_date {
            self.record.expiration_date = expiration_date;
            self.record.rejections = Rejections::default();
        }
        Ok(())
    }

    pub fn enable(&mut self) {
        self.record.enabled = true;
    }

    pub fn disable(&mut self) {
        self.record.enabled = false;
    }

    /// Notes a successful token request. Returns whether Last used moved far enough
    /// ([`LAST_USED_RESOLUTION`]) that it is worth writing.
    pub fn record_use(&mut self, now: OffsetDateTime) -> bool {
        let stale = self
            .record
            .last_used
            .is_none_or(|last| now - last >= LAST_USED_RESOLUTION);
        if stale {
            self.record.last_used = Some(now);
        }
        stale
    }

    /// Notes a token request refused because the registration was expired or disabled.
    pub fn record_rejection(&mut self, now: OffsetDateTime) {
        self.record.rejections.count = self.record.rejections.count.saturating_add(1);
        self.record.rejections.last = Some(now);
    }
}
