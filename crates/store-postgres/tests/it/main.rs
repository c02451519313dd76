//! store-postgres against a real PostgreSQL: the shared port conformance suite (two handles
//! on one database are two nodes), then what only this store has. Each test creates its own
//! database and drops it. The server is `APPREG_TEST_POSTGRES` (default: the local one,
//! trust auth), which `.ci/run` starts when it is not up.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Barrier};

use registration_core::testkit::conformance::Damage;
use registration_core::{SiteStore, StoreError};
use store_postgres::PostgresStore;
use store_postgres::testkit::{FreshDatabase, server_client, test_server};

fn fresh_store() -> (FreshDatabase, PostgresStore) {
    let database = FreshDatabase::create();
    let store = PostgresStore::connect(&database.url()).unwrap();
    (database, store)
}

/// Another node's handle on the same database.
fn second_handle(database: &FreshDatabase) -> PostgresStore {
    PostgresStore::connect(&database.url()).unwrap()
}

/// Makes rows unreadable with a plain connection, behind the store's back: a name no
/// registration may have, a disposition that does not exist, an action that does not exist.
fn damage(database: &FreshDatabase, damage: Damage<'_>) {
    let mut client = database.client();
    let (sql, key) = match damage {
        Damage::Registration(client_id) => (
            "UPDATE registrations SET name = '' WHERE client_id = $1",
            client_id.to_string(),
        ),
        Damage::NoticesOf(registration_id) => (
            "UPDATE notices SET disposition = 'damaged' WHERE registration_id = $1",
            registration_id.to_string(),
        ),
        Damage::AuditEntriesAbout(subject) => (
            "UPDATE audit_log SET action = 'damaged' WHERE subject = $1",
            subject.to_owned(),
        ),
        _ => panic!("a damage this store's tests cannot do yet: {damage:?}"),
    };
    let changed = client.execute(sql, &[&key]).unwrap();
    assert!(changed > 0, "{damage:?} matched no row");
}

registration_core::store_conformance_tests! {
    fresh: fresh_store,
    second_handle: second_handle,
    damage: damage,
}

#[test]
fn nodes_starting_together_migrate_once() {
    let database = FreshDatabase::create();
    let nodes = 3;
    let barrier = Arc::new(Barrier::new(nodes));
    let handles: Vec<_> = (0..nodes)
        .map(|_| {
            let (url, barrier) = (database.url(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                PostgresStore::connect(&url).map(|store| store.schema_version())
            })
        })
        .collect();
    for handle in handles {
        assert_eq!(
            handle.join().unwrap().unwrap(),
            Ok(PostgresStore::SCHEMA_VERSION),
            "every node connects and sees the current schema"
        );
    }
    let mut client = database.client();
    let versions: Vec<i32> = client
        .query("SELECT version FROM schema_version ORDER BY version", &[])
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let expected: Vec<i32> = (1..).take(PostgresStore::SCHEMA_VERSION as usize).collect();
    assert_eq!(versions, expected, "each migration recorded once");
    let sites: i64 = client
        .query_one("SELECT COUNT(*) FROM sites WHERE slug = 'default'", &[])
        .unwrap()
        .get(0);
    assert_eq!(sites, 1, "the default site exists once");
    drop(client);
    assert_eq!(
        PostgresStore::connect(&database.url())
            .unwrap()
            .schema_version(),
        Ok(PostgresStore::SCHEMA_VERSION),
        "a later start has nothing to do"
    );
}

#[test]
fn a_database_of_a_newer_schema_is_refused_and_left_alone() {
    let database = FreshDatabase::create();
    drop(PostgresStore::connect(&database.url()).unwrap());
    let mut client = database.client();
    client
        .batch_execute("INSERT INTO schema_version (version) VALUES (99)")
        .unwrap();
    assert_eq!(
        PostgresStore::connect(&database.url()).unwrap_err(),
        StoreError::SchemaTooNew {
            found: 99,
            supported: PostgresStore::SCHEMA_VERSION
        }
    );
    let newest: i32 = client
        .query_one("SELECT MAX(version) FROM schema_version", &[])
        .unwrap()
        .get(0);
    assert_eq!(newest, 99, "nothing was changed");
}

#[test]
fn bad_urls_and_unreachable_servers_are_one_clear_error_without_the_password() {
    let unavailable = |url: &str| match PostgresStore::connect(url) {
        Err(StoreError::Unavailable(message)) => message,
        other => panic!("{url}: expected Unavailable, got {other:?}"),
    };
    let malformed = unavailable("postgres://user:s3cret@[::1");
    assert!(
        malformed.contains("not a PostgreSQL URL") && !malformed.contains("s3cret"),
        "{malformed}"
    );
    // Port 1 on loopback: nothing listens there.
    let unreachable = unavailable("postgres://user:s3cret@127.0.0.1:1/appreg");
    assert!(
        unreachable.contains("unreachable") && !unreachable.contains("s3cret"),
        "{unreachable}"
    );
    let missing = unavailable(&format!("{}/appreg_no_such_database", test_server()));
    assert!(missing.contains("does not exist"), "{missing}");
}

/// Whether the store's open connections to `database` are encrypted (None: it has none).
fn store_connections_encrypted(database: &FreshDatabase) -> Option<bool> {
    let rows = server_client()
        .query(
            "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
             WHERE a.datname = $1",
            &[&database.name()],
        )
        .unwrap();
    let encrypted: Vec<bool> = rows.iter().map(|row| row.get(0)).collect();
    encrypted.first().map(|first| {
        assert!(encrypted.iter().all(|each| each == first), "{encrypted:?}");
        *first
    })
}

/// The local server's certificate: Debian's PostgreSQL serves the snakeoil one (CN and SAN
/// `localhost`), self-signed, so it is its own root.
const SERVER_CERTIFICATE: &str = "/etc/ssl/certs/ssl-cert-snakeoil.pem";

#[test]
fn sslmode_encrypts_and_checks_the_server_certificate_as_libpq_does() {
    assert!(
        std::path::Path::new(SERVER_CERTIFICATE).exists(),
        "the local PostgreSQL's certificate {SERVER_CERTIFICATE} is missing: is ssl on?"
    );
    let database = FreshDatabase::create();
    let on = |host: &str, query: &str| {
        format!(
            "{}/{}?{query}",
            test_server().replace("127.0.0.1", host),
            database.name()
        )
    };
    let connects = |url: &str, encrypted: bool| {
        let store = PostgresStore::connect(url).unwrap_or_else(|error| panic!("{url}: {error}"));
        assert_eq!(store.schema_version(), Ok(PostgresStore::SCHEMA_VERSION));
        assert_eq!(
            store_connections_encrypted(&database),
            Some(encrypted),
            "{url}"
        );
    };
    connects(&on("127.0.0.1", "sslmode=disable"), false);
    connects(&on("127.0.0.1", "sslmode=require"), true);
    let root = format!("sslrootcert={SERVER_CERTIFICATE}");
    connects(
        &on("localhost", &format!("sslmode=verify-full&{root}")),
        true,
    );
    // The certificate names localhost, not 127.0.0.1: only verify-ca accepts that.
    connects(&on("127.0.0.1", &format!("sslmode=verify-ca&{root}")), true);

    let refused = |url: &str| match PostgresStore::connect(url) {
        Err(StoreError::Unavailable(message)) => message,
        other => panic!("{url}: expected Unavailable, got {other:?}"),
    };
    let wrong_name = refused(&on("127.0.0.1", &format!("sslmode=verify-full&{root}")));
    assert!(
        wrong_name.contains("TLS") && wrong_name.contains("not valid for name"),
        "{wrong_name}"
    );
    // Self-signed: not among the public CAs.
    let untrusted = refused(&on(
        "localhost",
        "sslmode=verify-full&sslrootcert=/etc/ssl/certs/ca-certificates.crt",
    ));
    assert!(
        untrusted.contains("TLS") && untrusted.contains("certificate"),
        "{untrusted}"
    );
    let unknown_mode = refused(&on("localhost", "sslmode=verify_full"));
    assert!(unknown_mode.contains("verify-full"), "{unknown_mode}");
    let missing_root = refused(&on(
        "localhost",
        "sslmode=verify-full&sslrootcert=/nonexistent.pem",
    ));
    assert!(missing_root.contains("/nonexistent.pem"), "{missing_root}");
}

#[test]
fn a_store_recovers_by_itself_when_its_connections_are_cut_or_refused() {
    let (database, store) = fresh_store();
    let site = registration_core::Site {
        slug: registration_core::SiteSlug::parse("acme").unwrap(),
        name: registration_core::SiteName::parse("Acme").unwrap(),
        zone: registration_core::SiteZone::parse("UTC").unwrap(),
        policy: registration_core::SitePolicy { max_years_ahead: 5 },
    };
    let audit =
        registration_core::testkit::audit_entry(time::macros::datetime!(2026-12-03 00:00 UTC));
    store.add_site(&site, &audit).unwrap();

    // Cut: reads find out on use and run again on a fresh connection.
    database.cut_connections();
    assert_eq!(
        store.sites().unwrap().len(),
        2,
        "a read right after the cut"
    );

    // Down: the database refuses new connections. Every call fails with a clear error.
    database.allow_connections(false);
    database.cut_connections();
    for _ in 0..2 {
        match store.sites() {
            Err(StoreError::Unavailable(message) | StoreError::Busy(message)) => {
                assert!(!message.is_empty());
            }
            other => panic!("expected the outage to show, got {other:?}"),
        }
    }
    assert!(store.add_site(&site, &audit).is_err());

    // Up again: the same store recovers without being reopened; nothing committed is lost.
    database.allow_connections(true);
    let mut attempts = 0;
    let sites = loop {
        attempts += 1;
        match store.sites() {
            Ok(sites) => break sites,
            Err(error) => assert!(attempts < 20, "no recovery: {error}"),
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    };
    assert_eq!(sites.iter().filter(|s| s.slug == site.slug).count(), 1);
    assert_eq!(
        store.add_site(&site, &audit),
        Err(StoreError::DuplicateSite("acme".into())),
        "writes work again"
    );
}

/// A server that asks for a password and refuses it as PostgreSQL does (SQLSTATE 28P01):
/// the local PostgreSQL trusts every local connection, so it cannot show this itself.
fn password_refusing_server() -> std::net::SocketAddr {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let read_message = |stream: &mut std::net::TcpStream, typed: bool| {
            let mut kind = [0u8; 1];
            if typed {
                stream.read_exact(&mut kind).unwrap();
            }
            let mut length = [0u8; 4];
            stream.read_exact(&mut length).unwrap();
            let mut body = vec![0u8; u32::from_be_bytes(length) as usize - 4];
            stream.read_exact(&mut body).unwrap();
            body
        };
        // SSLRequest (sslmode=prefer asks first): no TLS here. Then the startup message.
        let first = read_message(&mut stream, false);
        if first.starts_with(&80_877_103u32.to_be_bytes()) {
            stream.write_all(b"N").unwrap();
            read_message(&mut stream, false);
        }
        // AuthenticationCleartextPassword, then the password message.
        stream.write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 3]).unwrap();
        read_message(&mut stream, true);
        let mut fields = Vec::new();
        for (code, value) in [
            (b'S', "FATAL"),
            (b'V', "FATAL"),
            (b'C', "28P01"),
            (b'M', "password authentication failed for user \"ops\""),
        ] {
            fields.push(code);
            fields.extend_from_slice(value.as_bytes());
            fields.push(0);
        }
        fields.push(0);
        let mut error = vec![b'E'];
        error.extend_from_slice(&(u32::try_from(fields.len()).unwrap() + 4).to_be_bytes());
        error.extend_from_slice(&fields);
        stream.write_all(&error).unwrap();
    });
    address
}

#[test]
fn a_wrong_password_is_one_clear_error_without_the_password() {
    let address = password_refusing_server();
    match PostgresStore::connect(&format!("postgres://ops:s3cret@{address}/appreg")) {
        Err(StoreError::Unavailable(message)) => {
            assert!(message.contains("refused the credentials"), "{message}");
            assert!(
                message.contains("password authentication failed"),
                "{message}"
            );
            assert!(!message.contains("s3cret"), "{message}");
        }
        other => panic!("expected the credentials to be refused, got {other:?}"),
    }
}
