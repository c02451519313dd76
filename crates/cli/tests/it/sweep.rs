//! `appreg sweep`: each notice identity once, at the right time, with the catch-up rule.

use std::process::Stdio;
use std::sync::Arc;

use registration_core::testkit::{SeededRandom, audit_entry, shared_secret_hash};
use registration_core::{
    ClientId, ClientSecret, ExpirationDate, Registration, RegistrationId, RegistrationName,
    RegistrationRecord, RegistrationStore, Rejections, SiteSlug, StoredSecret,
};
use serde_json::Value;
use store_sqlite::SqliteStore;

use crate::{Appreg, CREATED_AT};

fn sweep(appreg: &Appreg, now: &str) -> u64 {
    appreg.json(Some(now), &["sweep"])["notices_recorded"]
        .as_u64()
        .unwrap()
}

/// (kind, registration name, disposition) of the log, newest first.
fn log(appreg: &Appreg) -> Vec<(String, String, String)> {
    let entries = appreg.json(None, &["notices", "list", "--site", "default"]);
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e: &Value| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["registration"]["name"].as_str().unwrap().to_owned(),
                e["disposition"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn repeated_sweeps_record_each_notice_once_at_its_time() {
    let appreg = Appreg::new();
    let (client_id, _) = appreg.create(CREATED_AT, "default", "Billing sync", "2027-01-31");
    assert_eq!(sweep(&appreg, CREATED_AT), 0);
    assert_eq!(
        sweep(&appreg, "2026-12-31T23:59:59Z"),
        0,
        "one second early"
    );
    assert_eq!(sweep(&appreg, "2027-01-01T00:00:00Z"), 1, "30 days before");
    assert_eq!(
        sweep(&appreg, "2027-01-01T00:00:00Z"),
        0,
        "same instant again"
    );
    assert_eq!(sweep(&appreg, "2027-01-10T00:00:00Z"), 0);
    assert_eq!(sweep(&appreg, "2027-01-24T00:00:01Z"), 1, "7 days before");
    assert_eq!(sweep(&appreg, "2027-02-01T00:00:00Z"), 1, "expired");
    assert_eq!(sweep(&appreg, "2027-03-01T00:00:00Z"), 0);
    assert_eq!(
        log(&appreg),
        [
            ("expired".into(), "Billing sync".into(), "deliver".into()),
            (
                "expires_in_7_days".into(),
                "Billing sync".into(),
                "deliver".into()
            ),
            (
                "expires_in_30_days".into(),
                "Billing sync".into(),
                "deliver".into()
            ),
        ]
    );

    // Renewing starts a new cycle with new identities.
    appreg.ok(
        Some("2027-03-01T00:00:00Z"),
        &[
            "reg",
            "renew",
            "--site",
            "default",
            &client_id,
            "--expires",
            "2027-03-20",
        ],
    );
    assert_eq!(
        sweep(&appreg, "2027-03-01T00:00:00Z"),
        1,
        "new cycle, 30-day notice"
    );
    assert_eq!(log(&appreg)[0].0, "expires_in_30_days");
    assert_eq!(log(&appreg).len(), 4);
}

#[test]
fn catch_up_delivers_only_the_latest_due_kind() {
    let appreg = Appreg::new();
    appreg.create(CREATED_AT, "default", "Late", "2026-11-26");
    appreg.create(CREATED_AT, "default", "Later", "2026-12-01");
    // The server was down until after both expired.
    assert_eq!(sweep(&appreg, "2026-12-15T00:00:00Z"), 6);
    assert_eq!(sweep(&appreg, "2026-12-16T00:00:00Z"), 0);
    let log = log(&appreg);
    let delivered: Vec<(&str, &str)> = log
        .iter()
        .filter(|(_, _, disposition)| disposition == "deliver")
        .map(|(kind, name, _)| (kind.as_str(), name.as_str()))
        .collect();
    assert_eq!(delivered.len(), 2);
    assert!(
        delivered.iter().all(|(kind, _)| *kind == "expired"),
        "{delivered:?}"
    );
    let skipped = log.iter().filter(|e| e.2 == "skipped (superseded)").count();
    assert_eq!(skipped, 4);
}

#[test]
fn superseded_notices_keep_their_own_kinds_subject() {
    let appreg = Appreg::new();
    appreg.create(CREATED_AT, "default", "Beta", "2026-12-01");
    assert_eq!(sweep(&appreg, "2026-12-15T00:00:00Z"), 3);
    let entries = appreg.json(None, &["notices", "list", "--site", "default"]);
    let mut subjects: Vec<(&str, &str, &str)> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap(),
                e["disposition"].as_str().unwrap(),
                e["subject"].as_str().unwrap(),
            )
        })
        .collect();
    subjects.sort_unstable();
    assert_eq!(
        subjects,
        [
            (
                "expired",
                "deliver",
                r#"App registration "Beta" has expired"#
            ),
            (
                "expires_in_30_days",
                "skipped (superseded)",
                r#"App registration "Beta" expires in 30 days"#
            ),
            (
                "expires_in_7_days",
                "skipped (superseded)",
                r#"App registration "Beta" expires in 7 days"#
            ),
        ]
    );
}

#[test]
fn disabled_registrations_get_no_notices_until_enabled() {
    let appreg = Appreg::new();
    let (client_id, _) = appreg.create(CREATED_AT, "default", "Paused", "2026-12-10");
    appreg.ok(None, &["reg", "disable", "--site", "default", &client_id]);
    assert_eq!(sweep(&appreg, "2026-12-05T00:00:00Z"), 0);
    appreg.ok(None, &["reg", "enable", "--site", "default", &client_id]);
    assert_eq!(sweep(&appreg, "2026-12-05T00:00:00Z"), 2);
    assert_eq!(log(&appreg)[0].0, "expires_in_7_days");
}

/// Two sweeps started at once on one file: every identity recorded once in total.
#[test]
fn concurrent_sweep_processes_record_nothing_twice() {
    let appreg = Appreg::new();
    let store = SqliteStore::open(&appreg.db()).unwrap();
    let random = SeededRandom::new(5);
    let hash = shared_secret_hash();
    let audit = audit_entry(time::macros::datetime!(2026-11-23 09:00 UTC));
    let registrations: usize = 400;
    for i in 0..registrations {
        let secret = ClientSecret::generate(&random).unwrap();
        let registration = Registration::from_record(RegistrationRecord {
            id: RegistrationId::generate(&random).unwrap(),
            site: SiteSlug::default_site(),
            client_id: ClientId::generate(&random).unwrap(),
            name: RegistrationName::parse(&format!("Registration {i:04}")).unwrap(),
            expiration_date: ExpirationDate::parse("2026-12-20").unwrap(),
            enabled: true,
            secret: StoredSecret {
                hash: hash.clone(),
                hint: secret.hint(),
                created_at: audit.at,
                last_used: None,
            },
            previous_secret: None,
            registration_date: audit.at,
            last_used: None,
            rejections: Rejections::default(),
            revision: 0,
        });
        store.insert(&registration, &audit).unwrap();
    }
    drop(store);

    let now = Some("2026-12-14T00:00:00Z"); // 30- and 7-day notices due for all
    let barrier = Arc::new(std::sync::Barrier::new(2));
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let mut command = appreg.command(now, &["--json", "sweep"]);
            command.stdout(Stdio::piped()).stderr(Stdio::piped());
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                command.output().unwrap()
            })
        })
        .collect();
    let recorded: u64 = runs
        .into_iter()
        .map(|run| {
            let output = run.join().unwrap();
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let report: Value = serde_json::from_slice(&output.stdout).unwrap();
            report["notices_recorded"].as_u64().unwrap()
        })
        .sum();
    assert_eq!(
        usize::try_from(recorded).unwrap(),
        2 * registrations,
        "each notice recorded by exactly one sweep"
    );
    let entries = appreg.json(None, &["notices", "list", "--site", "default"]);
    assert_eq!(entries.as_array().unwrap().len(), 2 * registrations);
}

#[test]
fn templates_are_checked_on_save_and_used_by_the_sweep() {
    let appreg = Appreg::new();
    let list = || appreg.ok(None, &["--json", "templates", "list", "--site", "default"]);
    let before = list();
    let edit = |args: &[&str]| {
        let mut all = vec!["templates", "edit", "--site", "default"];
        all.extend_from_slice(args);
        appreg.fails(None, &all)
    };
    assert_eq!(
        edit(&["expires_in_7_days", "--subject", "{{ registration.name"]),
        "the subject template is invalid at line 1: syntax error: unexpected end of input, \
         expected end of variable block"
    );
    assert_eq!(
        edit(&[
            "expires_in_7_days",
            "--subject",
            "{{ registration.secret }}"
        ]),
        "the subject template is invalid at line 1: undefined value"
    );
    for control in ["\r\nBcc: attacker@example.com", "\n", "\t"] {
        assert_eq!(
            edit(&[
                "expires_in_7_days",
                "--subject",
                &format!("Renew {{{{ registration.name }}}}{control}")
            ]),
            "the subject template is invalid: a subject is one line: no line breaks, tabs or \
             other control characters",
            "{control:?}"
        );
    }
    assert_eq!(
        edit(&["expired", "--banner", "warning"]),
        "the expired template always shows the red banner; its banner cannot be set"
    );
    assert_eq!(
        edit(&["expires_in_1_day", "--on"]),
        "unknown template \"expires_in_1_day\": use expires_in_30_days, expires_in_7_days or expired"
    );
    assert_eq!(list(), before, "refused edits save nothing");

    appreg.ok(
        None,
        &[
            "templates",
            "edit",
            "--site",
            "default",
            "expires_in_7_days",
            "--subject",
            "Renew {{ registration.name }} ({{ days_left }} days left)",
        ],
    );
    appreg.ok(
        None,
        &[
            "templates",
            "edit",
            "--site",
            "default",
            "expires_in_30_days",
            "--off",
        ],
    );
    appreg.ok(None, &["admin", "add", "alice", "--site", "default"]);
    appreg.create(CREATED_AT, "default", "Ledger", "2026-11-28");
    appreg.create(CREATED_AT, "default", "Payroll", "2026-12-20");
    assert_eq!(sweep(&appreg, CREATED_AT), 3);
    let entries = appreg.json(None, &["notices", "list", "--site", "default"]);
    let summary: Vec<(String, String, String)> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["registration"]["name"].as_str().unwrap().to_owned(),
                e["subject"].as_str().unwrap().to_owned(),
                e["deliveries"][0]["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        summary.contains(&(
            "Ledger".into(),
            "Renew Ledger (5 days left)".into(),
            "sent".into()
        )),
        "{summary:?}"
    );
    assert!(
        summary.contains(&(
            "Payroll".into(),
            "App registration \"Payroll\" expires in 27 days".into(),
            "skipped".into()
        )),
        "a switched-off template is logged but not delivered: {summary:?}"
    );
}

#[test]
fn subscriptions_choose_who_gets_which_notice_on_which_channel() {
    let appreg = Appreg::new();
    appreg.ok(
        None,
        &[
            "admin",
            "add",
            "alice",
            "--site",
            "default",
            "--email",
            "alice@example.com",
        ],
    );
    appreg.ok(None, &["admin", "add", "bob", "--site", "default"]);
    appreg.ok(None, &["site", "add", "other"]);
    appreg.ok(
        None,
        &[
            "admin",
            "add",
            "olga",
            "--site",
            "other",
            "--email",
            "olga@example.com",
        ],
    );
    fn subscribe<'a>(args: &[&'a str]) -> Vec<&'a str> {
        let mut all = vec!["subscribe"];
        all.extend_from_slice(args);
        all
    }
    appreg.ok(
        None,
        &subscribe(&[
            "alice",
            "--site",
            "default",
            "--template",
            "expires_in_7_days",
            "--channel",
            "email",
        ]),
    );
    appreg.ok(
        None,
        &subscribe(&[
            "bob",
            "--site",
            "default",
            "--template",
            "expires_in_7_days",
            "--channel",
            "in_app",
            "--off",
        ]),
    );
    assert_eq!(
        appreg.fails(
            None,
            &subscribe(&[
                "bob",
                "--site",
                "default",
                "--template",
                "expired",
                "--channel",
                "email"
            ])
        ),
        "administrator bob has no e-mail address; add one before subscribing to e-mail"
    );
    assert_eq!(
        appreg.fails(
            None,
            &subscribe(&[
                "olga",
                "--site",
                "default",
                "--template",
                "expired",
                "--channel",
                "email"
            ])
        ),
        "administrator olga does not manage site default"
    );
    assert_eq!(
        appreg.fails(
            None,
            &subscribe(&[
                "alice",
                "--site",
                "default",
                "--template",
                "expired",
                "--channel",
                "webhook"
            ])
        ),
        "unknown channel \"webhook\": use in_app or email"
    );

    appreg.create(CREATED_AT, "default", "Ledger", "2026-11-26");
    assert_eq!(sweep(&appreg, CREATED_AT), 2);
    let entries = appreg.json(None, &["notices", "list", "--site", "default"]);
    let deliveries = |index: usize| {
        entries[index]["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                format!(
                    "{} {} {}",
                    d["channel"].as_str().unwrap(),
                    d["recipient"].as_str().unwrap(),
                    d["status"].as_str().unwrap()
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(entries[0]["kind"], "expires_in_7_days");
    assert_eq!(
        deliveries(0),
        ["in_app alice sent", "email alice@example.com pending"],
        "bob switched in-app off for this template; olga is another site's"
    );
    assert_eq!(
        deliveries(1),
        ["in_app alice skipped", "in_app bob skipped"],
        "superseded"
    );
}

/// Decision 0001: a site's new zone moves states and deadlines at once; notices already
/// recorded stay recorded (none is recorded or sent again, even when the zone moves back),
/// and the next sweep records only what the new zone makes due.
#[test]
fn a_zone_change_moves_states_at_once_and_records_nothing_twice() {
    let appreg = Appreg::new();
    let (client_id, _) = appreg.create(CREATED_AT, "default", "Beta", "2026-12-10");
    assert_eq!(
        sweep(&appreg, "2026-12-03T12:00:00Z"),
        2,
        "30-day superseded, 7-day"
    );
    let now = "2026-12-10T20:00:00Z";
    let state = || {
        appreg.json(Some(now), &["reg", "show", "--site", "default", &client_id])["state"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(state(), "expiring_7", "its last day in UTC");

    let edited = appreg.json(
        None,
        &[
            "site",
            "edit",
            "default",
            "--time-zone",
            "Pacific/Kiritimati",
        ],
    );
    assert_eq!(edited["time_zone"], "Pacific/Kiritimati");
    assert_eq!(
        state(),
        "expired",
        "already the next day in Kiritimati, at once"
    );
    assert_eq!(sweep(&appreg, now), 1, "only the expired notice is new");
    assert_eq!(sweep(&appreg, now), 0);

    appreg.ok(None, &["site", "edit", "default", "--time-zone", "UTC"]);
    assert_eq!(state(), "expiring_7", "back on its last day");
    assert_eq!(
        sweep(&appreg, now),
        0,
        "a recorded notice is never recorded again"
    );
    let kinds: Vec<String> = log(&appreg).into_iter().map(|(kind, ..)| kind).collect();
    assert_eq!(
        kinds,
        ["expired", "expires_in_7_days", "expires_in_30_days"]
    );

    let audit = appreg.json(None, &["audit", "list", "--site", "default"]);
    let edits = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["action"] == "site.edit")
        .count();
    assert_eq!(edits, 2, "each zone change is audited");

    assert_eq!(
        appreg.fails(None, &["site", "edit", "nowhere", "--name", "Nowhere"]),
        "site nowhere does not exist (appreg site list shows the sites)"
    );
    assert!(
        appreg
            .fails(
                None,
                &["site", "edit", "default", "--time-zone", "Mars/Base"]
            )
            .starts_with("unknown time zone \"Mars/Base\"")
    );
    let nothing = appreg.run(None, &["site", "edit", "default"]);
    assert_eq!(
        nothing.status.code(),
        Some(2),
        "nothing to change is a usage error"
    );
}
