//! The App registration aggregate and the commands that change it.

use time::{Date, Duration, OffsetDateTime};

use crate::error::Error;
use crate::rotation::{
    PreviousSecret, SecretMatch, SecretOverlap, SecretSlot, StoredSecret, slot_for,
};
use crate::schedule::ScheduleSubject;
use crate::secret::{ClientId, ClientSecret, SecretHash, SecretHasher};
use crate::site::{Site, SiteSlug};
use crate::sources::RandomSource;
use crate::status::Status;
use crate::values::{ExpirationDate, RegistrationId, RegistrationName, Rejections};

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

/// `instant` without its fraction of a second (never later than `instant`).
fn whole_second(instant: OffsetDateTime) -> OffsetDateTime {
    instant.replace_nanosecond(0).unwrap_or(instant)
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
    /// The current Client secret (hash and hint).
    pub secret: StoredSecret,
    /// The secret the last rotation replaced, while it is kept (SPEC 12).
    pub previous_secret: Option<PreviousSecret>,
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
            secret: StoredSecret {
                hash: hasher.hash(&client_secret, random)?,
                hint: client_secret.hint(),
                created_at: now,
                last_used: None,
            },
            previous_secret: None,
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

    /// argon2id hash of the current Client secret.
    pub fn secret_hash(&self) -> &SecretHash {
        &self.record.secret.hash
    }

    /// The current secret.
    pub fn secret(&self) -> &StoredSecret {
        &self.record.secret
    }

    /// The secret the last rotation replaced, if it is kept.
    pub fn previous_secret(&self) -> Option<&PreviousSecret> {
        self.record.previous_secret.as_ref()
    }

    /// The one stored secret `presented` can be (see [`SecretSlot`]).
    pub fn secret_slot_for(&self, presented: &ClientSecret) -> SecretSlot {
        slot_for(presented, self.record.previous_secret.as_ref())
    }

    /// The hash of the secret in `slot` (the current one's when there is no previous).
    pub fn slot_hash(&self, slot: SecretSlot) -> &SecretHash {
        match (slot, &self.record.previous_secret) {
            (SecretSlot::Previous, Some(previous)) => &previous.secret.hash,
            _ => &self.record.secret.hash,
        }
    }

    /// What a presented secret that verified against `slot`'s hash is at `now`.
    pub fn matched(&self, slot: SecretSlot, now: OffsetDateTime) -> SecretMatch {
        match (slot, &self.record.previous_secret) {
            (SecretSlot::Previous, Some(previous)) if previous.is_live(now) => {
                SecretMatch::Previous
            }
            (SecretSlot::Previous, Some(_)) => SecretMatch::Retired,
            _ => SecretMatch::Current,
        }
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

    /// Issues a new current secret; the current one becomes the previous secret and keeps
    /// authenticating for `overlap`, never past the registration's expiry instant. Refused
    /// while the previous secret is still live: at most two secrets authenticate.
    /// The expiration date, and with it the notice cycle, does not change.
    pub fn rotate_secret(
        &mut self,
        overlap: SecretOverlap,
        site: &Site,
        now: OffsetDateTime,
        random: &dyn RandomSource,
        hasher: &SecretHasher,
    ) -> Result<ClientSecret, Error> {
        if let Some(previous) = self.record.previous_secret.as_ref()
            && previous.is_live(now)
        {
            return Err(Error::TwoLiveSecrets {
                previous_expires_at: previous.expires_at,
            });
        }
        let client_secret = self.distinct_secret(random)?;
        let expiry = self.status(site, now).expires_at;
        // Whole seconds: the instant is shown to people and compared by consumers' operators.
        let expires_at = whole_second((now + overlap.duration()).min(expiry).max(now));
        let new_secret = StoredSecret {
            hash: hasher.hash(&client_secret, random)?,
            hint: client_secret.hint(),
            created_at: now,
            last_used: None,
        };
        let replaced = std::mem::replace(&mut self.record.secret, new_secret);
        self.record.previous_secret = Some(PreviousSecret {
            secret: replaced,
            expires_at,
            rejections: Rejections::default(),
        });
        Ok(client_secret)
    }

    /// A new secret whose hint differs from both stored ones, so that a presented secret's
    /// hint names the one hash to verify (a repeat is a 1 in 62^4 draw; eight in a row
    /// mean the random source is broken).
    fn distinct_secret(&self, random: &dyn RandomSource) -> Result<ClientSecret, Error> {
        for _ in 0..8 {
            let candidate = ClientSecret::generate(random)?;
            let hint = candidate.hint();
            let taken = hint == self.record.secret.hint
                || self
                    .record
                    .previous_secret
                    .as_ref()
                    .is_some_and(|previous| previous.secret.hint == hint);
            if !taken {
                return Ok(candidate);
            }
        }
        Err(Error::EntropyUnavailable)
    }

    /// Ends the previous secret's overlap now. Refused when there is no live previous
    /// secret: the current secret is the last one and cannot be retired.
    pub fn retire_previous_secret(&mut self, now: OffsetDateTime) -> Result<(), Error> {
        match self.record.previous_secret.as_mut() {
            Some(previous) if previous.is_live(now) => {
                previous.expires_at = whole_second(now);
                Ok(())
            }
            _ => Err(Error::LastSecret),
        }
    }
}
