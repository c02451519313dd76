//! What the conformance suite cannot see: files, schema versions, locking, the audit log.

use registration_core::testkit::{SeededRandom, audit_entry, shared_secret_hash};
use registration_core::{
    Actor, AuditAction, AuditEntry, AuditImage, AuditLog, AuditQuery, ClientId, ClientSecret,
    NoticeLog, RegistrationStore, SecretHasher, SiteSlug, StoreError,
};
use rusqlite::Connection;
use store_sqlite::SqliteStore;

use crate::{fresh_store, registration};

fn audit() -> AuditEntry {
    audit_entry(time::macros::datetime!(2026-11-23 09:00 UTC))
}

#[test]
fn a_fresh_file_gets_wal_foreign_keys_and_the_current_schema() {
    let (dir, store) = fresh_store();
    drop(store);
    let connection = Connection::open(dir.path().join("appreg.db")).unwrap();
    let mode: String = connection
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: u32 = connection
        .query_row("SELECT MAX(version) FROM schema_version", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(version, SqliteStore::SCHEMA_VERSION);
    // Reopening applies nothing twice.
    SqliteStore::open(&dir.path().join("appreg.db")).unwrap();
    let rows: u32 = connection
        .query_row("SELECT COUNT(*) FROM schema_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(rows, SqliteStore::SCHEMA_VERSION);
}

#[test]
fn a_database_from_a_newer_appreg_is_refused_untouched() {
    let (dir, store) = fresh_store();
    store.insert(&registration("Keep me", 1), &audit()).unwrap();
    drop(store);
    let path = dir.path().join("appreg.db");
    Connection::open(&path)
        .unwrap()
        .execute("INSERT INTO schema_version (version) VALUES (99)", [])
        .unwrap();
    let error = SqliteStore::open(&path).unwrap_err();
    assert_eq!(
        error,
        StoreError::SchemaTooNew {
            found: 99,
            supported: SqliteStore::SCHEMA_VERSION
        }
    );
    assert_eq!(
        error.to_string(),
        format!(
            "the database was written by a newer appreg (schema 99, this binary knows up to {})",
            SqliteStore::SCHEMA_VERSION
        )
    );
    let kept: u32 = Connection::open(&path)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM registrations", [], |row| row.get(0))
        .unwrap();
    assert_eq!(kept, 1);
}

#[test]
fn a_file_that_is_not_a_database_is_reported_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    let content = "these are my notes, not a database\n".repeat(200);
    std::fs::write(&path, &content).unwrap();
    let error = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(error, StoreError::Corrupt(_)), "{error:?}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), content);

    let missing_dir = dir.path().join("no/such/dir/appreg.db");
    let error = SqliteStore::open(&missing_dir).unwrap_err();
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    assert!(
        error.to_string().contains("no/such/dir/appreg.db"),
        "{error}"
    );
}

#[test]
fn readers_do_not_wait_for_a_long_write() {
    let (dir, store) = fresh_store();
    store
        .insert(&registration("Committed", 1), &audit())
        .unwrap();
    // Another process holds the write lock with an uncommitted insert.
    let other = Connection::open(dir.path().join("appreg.db")).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    other
        .execute(
            "UPDATE registrations SET name = 'Uncommitted', name_key = 'uncommitted'",
            [],
        )
        .unwrap();
    // Reads answer from the last committed snapshot (a blocked read would fail as Busy).
    let names: Vec<String> = store
        .list(&SiteSlug::default_site())
        .unwrap()
        .iter()
        .map(|r| r.name().to_string())
        .collect();
    assert_eq!(names, ["Committed"]);
    other.execute_batch("ROLLBACK").unwrap();
}

#[test]
fn a_write_blocked_past_the_timeout_is_busy_and_changes_nothing() {
    let (dir, store) = fresh_store();
    let other = Connection::open(dir.path().join("appreg.db")).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let error = store
        .insert(&registration("Blocked", 1), &audit())
        .unwrap_err();
    assert!(matches!(error, StoreError::Busy(_)), "{error:?}");
    other.execute_batch("ROLLBACK").unwrap();
    assert!(store.list(&SiteSlug::default_site()).unwrap().is_empty());
}

/// The stored form of an entry: plain columns, images as JSON objects of text; entries
/// written by schema 12 and before (JSON booleans and numbers in the images) still read.
#[test]
fn audit_entries_are_stored_as_text_and_old_entries_still_read() {
    let (dir, store) = fresh_store();
    let entry = AuditEntry {
        at: time::macros::datetime!(2026-11-23 09:00:01.5 UTC),
        actor: Actor::Cli("ops".into()),
        site: SiteSlug::default_site(),
        action: AuditAction::RegistrationUpdate,
        subject: "abcdefghijklmnopqrst".into(),
        before: Some(AuditImage::from_fields([("enabled", "true")])),
        after: Some(AuditImage::from_fields([("enabled", "false")])),
    };
    store.insert(&registration("Billing", 1), &entry).unwrap();

    let connection = Connection::open(dir.path().join("appreg.db")).unwrap();
    let row: (String, String, String, String, String) = connection
        .query_row(
            "SELECT at, actor, action, before, after FROM audit_log",
            [],
            |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                ))
            },
        )
        .unwrap();
    assert_eq!(
        row,
        (
            "2026-11-23T09:00:01.500000000Z".into(),
            "cli:ops".into(),
            "registration.update".into(),
            r#"{"enabled":"true"}"#.into(),
            r#"{"enabled":"false"}"#.into()
        )
    );
    connection
        .execute(
            r#"INSERT INTO audit_log (at, actor, site, action, subject, before, after)
               VALUES ('2026-11-23T09:00:02.000000000Z', 'system:bootstrap', 'default',
                       'admin.add', 'admin', NULL, '{"username":"admin","email":null,"revision":3}')"#,
            [],
        )
        .unwrap();
    let (entries, total) = store
        .audit_page(
            &SiteSlug::default_site(),
            &AuditQuery {
                offset: 0,
                limit: 10,
            },
        )
        .unwrap();
    assert_eq!(total, 2);
    assert_eq!(entries[1], entry);
    assert_eq!(entries[0].actor, Actor::System("bootstrap".into()));
    assert_eq!(
        entries[0].after,
        Some(AuditImage::from_fields([
            ("email", "null"),
            ("revision", "3"),
            ("username", "admin")
        ]))
    );
}

#[test]
fn a_database_of_the_first_schema_with_data_upgrades_and_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("appreg.db");
    let random = SeededRandom::new(0);
    // The secret whose hash `shared_secret_hash` is.
    let secret = ClientSecret::generate(&random).unwrap();
    let client_id = ClientId::generate(&SeededRandom::new(1)).unwrap();
    {
        let old = Connection::open(&path).unwrap();
        old.execute_batch(include_str!("fixtures/schema-v1.sql"))
            .unwrap();
        old.execute(
            "INSERT INTO registrations (id, site, client_id, name, name_key, expiration_date,
                 enabled, secret_hash, secret_hint, registration_date, last_used,
                 rejected_count, last_rejected, revision)
             VALUES ('7bbb63d9-eb3c-4585-b16d-a1b9c39aebcd', 'default', ?1, 'Billing sync',
                 'billing sync', '2026-11-30', 1, ?2, ?3, '2026-11-01T08:00:00.000000000Z',
                 '2026-11-20T10:00:00.000000000Z', 0, NULL, 3)",
            rusqlite::params![
                client_id.as_str(),
                shared_secret_hash().as_phc(),
                secret.hint().to_string()
            ],
        )
        .unwrap();
        old.execute(
            "INSERT INTO notices (id, registration_id, expiration_date, kind, site,
                 registration_name, client_id, disposition, subject, due_at, recorded_at)
             VALUES (1, '7bbb63d9-eb3c-4585-b16d-a1b9c39aebcd', '2026-11-30',
                 'expires_in_7_days', 'default', 'Billing sync', ?1, 'deliver',
                 'Billing sync expires in 7 days', '2026-11-23T00:00:00.000000000Z',
                 '2026-11-23T00:00:05.000000000Z')",
            [client_id.as_str()],
        )
        .unwrap();
        old.execute(
            "INSERT INTO deliveries (notice_id, position, recipient, channel, status, attempts)
             VALUES (1, 0, 'alice', 'in_app', 'sent', 1)",
            [],
        )
        .unwrap();
    }

    let store = SqliteStore::open(&path).unwrap();
    let version: u32 = Connection::open(&path)
        .unwrap()
        .query_row("SELECT MAX(version) FROM schema_version", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(version, SqliteStore::SCHEMA_VERSION);
    let site = SiteSlug::default_site();
    let kept = store.get(&site, &client_id).unwrap();
    assert_eq!(kept.name().as_str(), "Billing sync");
    assert_eq!(kept.expiration_date().to_string(), "2026-11-30");
    assert_eq!(kept.revision(), 3);
    assert!(
        SecretHasher::recommended()
            .unwrap()
            .verify(&secret, kept.secret_hash()),
        "the secret still authenticates"
    );
    let log = store.log(&site).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].subject, "Billing sync expires in 7 days");
    assert_eq!(log[0].deliveries.len(), 1);
    // And the upgraded file takes writes of every later migration's tables.
    store
        .insert(&registration("Ledger export", 2), &audit())
        .unwrap();
    assert_eq!(
        store
            .page(&site, &registration_core::ListQuery::by_name(10))
            .unwrap()
            .1,
        2
    );
}

#[test]
fn an_in_memory_database_is_refused_with_the_reason() {
    for path in [":memory:", ""] {
        let Err(StoreError::Unavailable(message)) = SqliteStore::open(std::path::Path::new(path))
        else {
            panic!("{path:?} must be refused");
        };
        assert!(
            message.contains("must share one database") && message.contains("temporary directory"),
            "{message}"
        );
    }
}
