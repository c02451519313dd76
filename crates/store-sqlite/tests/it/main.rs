//! store-sqlite's integration tests: the shared port conformance suite, SQLite specifics,
//! and crash safety under SIGKILL.

#![allow(clippy::unwrap_used)]

mod crash;
mod sqlite;

use registration_core::testkit::{SeededRandom, shared_secret_hash};
use registration_core::{
    ClientId, ClientSecret, ExpirationDate, Registration, RegistrationId, RegistrationName,
    RegistrationRecord, Rejections, SiteSlug,
};
use store_sqlite::SqliteStore;
use tempfile::TempDir;

fn fresh_store() -> (TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("appreg.db")).unwrap();
    (dir, store)
}

registration_core::store_conformance_tests!(fresh_store);

/// A registration of site `default` without paying for a hash each time.
pub(crate) fn registration(name: &str, seed: u64) -> Registration {
    let random = SeededRandom::new(seed);
    let secret = ClientSecret::generate(&random).unwrap();
    Registration::from_record(RegistrationRecord {
        id: RegistrationId::generate(&random).unwrap(),
        site: SiteSlug::default_site(),
        client_id: ClientId::generate(&random).unwrap(),
        name: RegistrationName::parse(name).unwrap(),
        expiration_date: ExpirationDate::parse("2027-01-31").unwrap(),
        enabled: true,
        secret_hash: shared_secret_hash(),
        secret_hint: secret.hint(),
        registration_date: time::macros::datetime!(2026-11-23 09:00 UTC),
        last_used: None,
        rejections: Rejections::default(),
        revision: 0,
    })
}
