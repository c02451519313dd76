//! store-sqlite's integration tests: the shared port conformance suite, SQLite specifics,
//! and crash safety under SIGKILL.

#![allow(clippy::unwrap_used)]

mod crash;
mod sqlite;

use registration_core::testkit::conformance::Damage;
use registration_core::testkit::{SeededRandom, shared_secret_hash};
use registration_core::{
    ClientId, ClientSecret, ExpirationDate, Registration, RegistrationId, RegistrationName,
    RegistrationRecord, Rejections, SiteSlug, StoredSecret,
};
use store_sqlite::SqliteStore;
use tempfile::TempDir;

fn fresh_store() -> (TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("appreg.db")).unwrap();
    (dir, store)
}

/// Another process's handle on the same file.
fn second_handle(dir: &TempDir) -> SqliteStore {
    SqliteStore::open(&dir.path().join("appreg.db")).unwrap()
}

/// Makes rows unreadable with a plain connection, behind the store's back: a name no
/// registration may have, a disposition that does not exist, an action that does not exist.
fn damage(dir: &TempDir, damage: Damage<'_>) {
    let connection = rusqlite::Connection::open(dir.path().join("appreg.db")).unwrap();
    let (sql, key) = match damage {
        Damage::Registration(client_id) => (
            "UPDATE registrations SET name = '' WHERE client_id = ?1",
            client_id.to_string(),
        ),
        Damage::NoticesOf(registration_id) => (
            "UPDATE notices SET disposition = 'damaged' WHERE registration_id = ?1",
            registration_id.to_string(),
        ),
        Damage::AuditEntriesAbout(subject) => (
            "UPDATE audit_log SET action = 'damaged' WHERE subject = ?1",
            subject.to_owned(),
        ),
        _ => panic!("a damage this store's tests cannot do yet: {damage:?}"),
    };
    let changed = connection.execute(sql, [key]).unwrap();
    assert!(changed > 0, "{damage:?} matched no row");
}

registration_core::store_conformance_tests! {
    fresh: fresh_store,
    second_handle: second_handle,
    damage: damage,
}

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
        secret: StoredSecret {
            hash: shared_secret_hash(),
            hint: secret.hint(),
            created_at: time::macros::datetime!(2026-11-23 09:00 UTC),
            last_used: None,
        },
        previous_secret: None,
        registration_date: time::macros::datetime!(2026-11-23 09:00 UTC),
        last_used: None,
        rejections: Rejections::default(),
        revision: 0,
    })
}
