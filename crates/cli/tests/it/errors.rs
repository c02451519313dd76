//! Bad input: one clear line on stderr, exit code 1, and stored data unchanged.

use rusqlite::Connection;

use crate::{Appreg, CREATED_AT};

/// Everything a command could have changed, to compare before and after a refusal.
fn state(appreg: &Appreg) -> String {
    let registrations = appreg.ok(
        Some(CREATED_AT),
        &["--json", "reg", "list", "--site", "default"],
    );
    let sites = appreg.ok(None, &["--json", "site", "list"]);
    let audit: i64 = Connection::open(appreg.db())
        .unwrap()
        .query_row("SELECT COUNT(*) FROM audit_log", [], |row| row.get(0))
        .unwrap();
    format!("{registrations}\n{sites}\naudit entries: {audit}")
}

#[test]
fn bad_input_is_refused_with_one_clear_line_and_changes_nothing() {
    let appreg = Appreg::new();
    let (client_id, _) = appreg.create(CREATED_AT, "default", "Billing sync", "2027-01-31");
    let before = state(&appreg);
    let now = Some(CREATED_AT);
    let create = |site: &str, name: &str, expires: &str| {
        appreg.fails(
            now,
            &[
                "reg",
                "create",
                "--site",
                site,
                "--name",
                name,
                "--expires",
                expires,
            ],
        )
    };
    let cases = [
        (create("nowhere", "X", "2027-01-31"), r#"site "nowhere" does not exist"#.to_owned()),
        (create("Default", "X", "2027-01-31"), "site slug must be 1 to 40 characters of a-z, 0-9 and '-'".to_owned()),
        (
            create("default", "BILLING SYNC", "2027-01-31"),
            r#"a registration named "BILLING SYNC" already exists in this site"#.to_owned(),
        ),
        (create("default", "  ", "2027-01-31"), "name must not be empty".to_owned()),
        (
            create("default", "X", "2026-11-22"),
            "expiration date 2026-11-22 is before today (2026-11-23, site time)".to_owned(),
        ),
        (
            create("default", "X", "2040-01-01"),
            "expiration date 2040-01-01 is more than 10 years ahead; the latest allowed is 2036-11-23".to_owned(),
        ),
        (
            create("default", "X", "31.01.2027"),
            "expiration date must be a calendar date written YYYY-MM-DD".to_owned(),
        ),
        (
            create("default", "X", "2027-02-29"),
            "expiration date must be a calendar date written YYYY-MM-DD".to_owned(),
        ),
        (
            appreg.fails(now, &["reg", "show", "--site", "default", "NOT-AN-ID"]),
            "client ID must be exactly 20 characters of a-z and 2-7".to_owned(),
        ),
        (
            appreg.fails(now, &["reg", "renew", "--site", "default", &client_id, "--expires", "2026-01-01"]),
            "expiration date 2026-01-01 is before today (2026-11-23, site time)".to_owned(),
        ),
        (
            appreg.fails(now, &["reg", "enable", "--site", "default", "abcdefghijklmnopqrst"]),
            "site default has no App registration with Client ID abcdefghijklmnopqrst".to_owned(),
        ),
        (
            appreg.fails(now, &["site", "add", "default"]),
            r#"site "default" already exists"#.to_owned(),
        ),
        (
            appreg.fails(now, &["site", "add", "mars", "--time-zone", "Mars/Olympus"]),
            r#"unknown time zone "Mars/Olympus": use an IANA name such as "Europe/Berlin""#.to_owned(),
        ),
        (
            appreg.fails(Some("next tuesday"), &["reg", "list", "--site", "default"]),
            r#"APPREG_NOW="next tuesday" is not an RFC 3339 instant such as 2026-03-16T00:00:00Z"#.to_owned(),
        ),
    ];
    for (actual, expected) in cases {
        assert_eq!(actual, expected);
    }
    assert_eq!(
        state(&appreg),
        before,
        "refused commands changed stored data"
    );
}

#[test]
fn usage_errors_exit_with_code_2() {
    let appreg = Appreg::new();
    let output = appreg.run(None, &["reg", "create", "--site", "default"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("--name <NAME>"), "{stderr}");

    let output = appreg.run(None, &["serve", "--trusted-proxy", "10.0.0.0/33"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("\"10.0.0.0/33\" is neither an IP address nor a CIDR block"),
        "{stderr}"
    );
}

#[test]
fn a_database_from_a_newer_appreg_is_refused() {
    let appreg = Appreg::new();
    appreg.create(CREATED_AT, "default", "Billing sync", "2027-01-31");
    Connection::open(appreg.db())
        .unwrap()
        .execute("INSERT INTO schema_version (version) VALUES (42)", [])
        .unwrap();
    let message = appreg.fails(None, &["reg", "list", "--site", "default"]);
    assert_eq!(
        message,
        format!(
            "cannot use the database {}: the database was written by a newer appreg \
             (schema 42, this binary knows up to {})",
            appreg.db().display(),
            store_sqlite::SqliteStore::SCHEMA_VERSION
        )
    );
}

#[test]
fn a_file_that_is_not_a_database_is_refused_and_kept() {
    let appreg = Appreg::new();
    std::fs::write(
        appreg.db(),
        "name,expires\nbilling,2027-01-31\n".repeat(100),
    )
    .unwrap();
    let message = appreg.fails(None, &["reg", "list", "--site", "default"]);
    assert!(message.starts_with(&format!(
        "cannot use the database {}: ",
        appreg.db().display()
    )));
    assert!(
        message.contains("not a usable appreg database"),
        "{message}"
    );
    assert!(
        std::fs::read_to_string(appreg.db())
            .unwrap()
            .starts_with("name,expires")
    );
}

#[test]
fn a_locked_database_is_reported_as_busy_and_nothing_is_written() {
    let appreg = Appreg::new();
    appreg.create(CREATED_AT, "default", "Billing sync", "2027-01-31");
    let holder = Connection::open(appreg.db()).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let message = appreg.fails(
        Some(CREATED_AT),
        &[
            "reg",
            "create",
            "--site",
            "default",
            "--name",
            "Blocked",
            "--expires",
            "2027-01-31",
        ],
    );
    assert!(message.contains("busy or locked"), "{message}");
    holder.execute_batch("ROLLBACK").unwrap();
    let list = appreg.json(Some(CREATED_AT), &["reg", "list", "--site", "default"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
}
