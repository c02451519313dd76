//! The App registration aggregate and the commands that change it.

use time::{Date, Duration, OffsetDateTime};

use crate::error::Error;
use crate::schedule::ScheduleSubject;
use crate::secret::{ClientId, ClientSecret, SecretHash, SecretHasher, SecretHint};
use crate::site::{Site, SiteSlug};
use crate::sources::RandomSource;
use crate::status::Status;
use crate::values::{ExpirationDate, RegistrationId, RegistrationName};

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
    /// Refused token requests since the current expiry.
    pub count: u64,
    /// The latest of them, if any.
    pub last: Option<OffsetDateTime>,
}

/// What an administrator submits to create a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRegistration {
    /// 1–100 characters, unique in the site.
    pub name: RegistrationName,
    /// The last day it authenticates, in the site's zone.
    pub expiration_date: ExpirationDate,
    /// Whether it may authenticate at all.
    pub enabled: bool,
}

/// A freshly created registration and its secret, which exists in clear only here.
#[derive(Debug)]
pub struct Created {
    /// The registration as stored.
    pub registration: Registration,
    /// Its Client secret, in clear only here.
    pub client_secret: ClientSecret,
}

/// Every stored fact of a registration, for storage adapters to persist and restore. The
/// derived state is deliberately absent: it is recomputed from these and the clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationRecord {
    /// Internal identity (notices refer to it).
    pub id: RegistrationId,
    /// The site it belongs to.
    pub site: SiteSlug,
    /// The Client ID consumers present.
    pub client_id: ClientId,
    /// The display name.
    pub name: RegistrationName,
    /// The last day it authenticates, in the site's zone.
    pub expiration_date: ExpirationDate,
    /// Whether it may authenticate at all.
    pub enabled: bool,
    /// argon2id hash of the Client secret.
    pub secret_hash: SecretHash,
    /// The secret's last four characters, to tell secrets apart.
    pub secret_hint: SecretHint,
    /// When it was created.
    pub registration_date: OffsetDateTime,
    /// The latest token issued to it, if any.
    pub last_used: Option<OffsetDateTime>,
    /// Token requests refused since the current expiry.
    pub rejections: Rejections,
    /// Bumped by the store on every update; guards against lost updates.
    pub revision: u64,
}

/// An App registration. Changes go through its commands, which enforce SPEC sections 3 and 4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    record: RegistrationRecord,
}

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

    /// Every stored fact.
    pub fn record(&self) -> &RegistrationRecord {
        &self.record
    }

    /// Every stored fact, by value.
    pub fn into_record(self) -> RegistrationRecord {
        self.record
    }

    /// Internal identity.
    pub fn id(&self) -> RegistrationId {
        self.record.id
    }

    /// The site it belongs to.
    pub fn site(&self) -> &SiteSlug {
        &self.record.site
    }

    /// The Client ID.
    pub fn client_id(&self) -> &ClientId {
        &self.record.client_id
    }

    /// The display name.
    pub fn name(&self) -> &RegistrationName {
        &self.record.name
    }

    /// The last day it authenticates.
    pub fn expiration_date(&self) -> ExpirationDate {
        self.record.expiration_date
    }

    /// Whether it may authenticate at all.
    pub fn enabled(&self) -> bool {
        self.record.enabled
    }

    /// argon2id hash of the Client secret.
    pub fn secret_hash(&self) -> &SecretHash {
        &self.record.secret_hash
    }

    /// The stored revision this value was read at.
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

    /// Gives the registration another display name.
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

    /// Lets it authenticate again (while its date allows).
    pub fn enable(&mut self) {
        self.record.enabled = true;
    }

    /// Stops it authenticating at once, whatever its date.
    pub fn disable(&mut self) {
        self.record.enabled = false;
    }
}
