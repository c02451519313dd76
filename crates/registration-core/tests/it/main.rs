//! registration-core's integration tests: one binary, one module per concern.

// Test helpers panic on bad fixtures; that is what a failing test should do.
#![allow(clippy::unwrap_used)]

mod delivery;
mod model;
mod overview;
mod rotation;
mod schedule;
mod secrets;
mod status;
mod token;
mod usage;
mod values;
mod zones;

use std::sync::OnceLock;

use registration_core::testkit::SeededRandom;
use registration_core::{
    Created, ExpirationDate, NewRegistration, Registration, RegistrationName, SecretHasher, Site,
    SiteName, SitePolicy, SiteSlug, SiteZone,
};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

/// Zones with DST gaps and overlaps at midnight, half-hour rules, and both extremes of UTC.
pub(crate) const ZONES: &[&str] = &[
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/Santiago",
    "America/Havana",
    "Asia/Beirut",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
];

pub(crate) fn expires(text: &str) -> ExpirationDate {
    ExpirationDate::parse(text).unwrap()
}

pub(crate) fn date(text: &str) -> Date {
    expires(text).date()
}

pub(crate) fn instant(rfc3339: &str) -> OffsetDateTime {
    OffsetDateTime::parse(rfc3339, &Rfc3339).unwrap()
}

pub(crate) fn rfc3339(instant: OffsetDateTime) -> String {
    instant.format(&Rfc3339).unwrap()
}

pub(crate) fn site(zone: &str) -> Site {
    Site {
        slug: SiteSlug::parse("acme").unwrap(),
        name: SiteName::parse("Acme").unwrap(),
        zone: SiteZone::parse(zone).unwrap(),
        policy: SitePolicy::default(),
    }
}

/// One hasher for the whole binary: building one costs a hash.
pub(crate) fn hasher() -> &'static SecretHasher {
    static HASHER: OnceLock<SecretHasher> = OnceLock::new();
    HASHER.get_or_init(|| SecretHasher::recommended().unwrap())
}

/// A registration of `site` created at `now`, enabled, expiring on `expiration_date`.
pub(crate) fn created(site: &Site, expiration_date: &str, now: OffsetDateTime) -> Registration {
    create(site, expiration_date, now).registration
}

/// The whole create result, secret included, at a fixed instant.
pub(crate) fn created_with_secret(site: &Site, expiration_date: &str) -> Created {
    create(site, expiration_date, instant("2026-11-23T09:00:00Z"))
}

fn create(site: &Site, expiration_date: &str, now: OffsetDateTime) -> Created {
    let new = NewRegistration {
        name: RegistrationName::parse("Billing sync").unwrap(),
        expiration_date: expires(expiration_date),
        enabled: true,
    };
    Registration::create(new, site, now, &SeededRandom::new(42), hasher()).unwrap()
}
