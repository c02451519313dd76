//! Creating, reading and changing registrations through the binary.

use crate::{Appreg, CREATED_AT};

fn is_client_id(text: &str) -> bool {
    text.len() == 20
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
}

#[test]
fn create_shows_the_credentials_once_and_never_again() {
    let appreg = Appreg::new();
    let human = appreg.ok(
        Some(CREATED_AT),
        &[
            "reg",
            "create",
            "--site",
            "default",
            "--name",
            "Billing sync",
            "--expires",
            "2027-01-31",
        ],
    );
    let client_id = human
        .lines()
        .find_map(|line| line.trim().strip_prefix("Client ID"))
        .unwrap()
        .trim();
    let secret = human
        .lines()
        .find_map(|line| line.trim().strip_prefix("Client secret"))
        .unwrap()
        .trim();
    assert!(is_client_id(client_id), "{client_id}");
    assert!(
        secret.starts_with("appreg_") && secret.len() == 56,
        "{secret}"
    );
    assert!(human.contains("shown only this once"));

    let (json_id, json_secret) = appreg.create(CREATED_AT, "default", "Ledger", "2027-01-31");
    assert!(is_client_id(&json_id));
    assert!(json_secret.starts_with("appreg_") && json_secret.len() == 56);

    for args in [
        vec!["reg", "list", "--site", "default"],
        vec!["--json", "reg", "list", "--site", "default"],
        vec!["reg", "show", "--site", "default", client_id],
        vec!["--json", "reg", "show", "--site", "default", &json_id],
        vec![
            "--json",
            "reg",
            "renew",
            "--site",
            "default",
            &json_id,
            "--expires",
            "2027-02-01",
        ],
        vec!["reg", "disable", "--site", "default", client_id],
    ] {
        let output = appreg.ok(Some(CREATED_AT), &args);
        assert!(
            !output.contains(secret) && !output.contains(&json_secret),
            "{args:?}"
        );
        assert!(!output.contains("client_secret"), "{args:?}");
        assert!(!output.contains("appreg_"), "{args:?}: {output}");
    }
    let shown = appreg.json(
        Some(CREATED_AT),
        &["reg", "show", "--site", "default", client_id],
    );
    assert_eq!(
        shown["secret_hint"],
        &secret[52..],
        "the hint is the secret's last 4"
    );
}

#[test]
fn the_database_files_never_contain_a_secret() {
    let appreg = Appreg::new();
    let secrets: Vec<String> = (0..5)
        .map(|i| {
            appreg
                .create(CREATED_AT, "default", &format!("App {i}"), "2027-01-31")
                .1
        })
        .collect();
    let mut files = 0;
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", appreg.db().display());
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        files += 1;
        for secret in &secrets {
            // The random part alone, too: no encoding of the whole secret may hide it.
            for needle in [secret.as_str(), &secret[7..50]] {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                    "{path} contains a secret"
                );
            }
        }
    }
    assert!(files >= 1);
}

#[test]
fn renew_keeps_the_client_id_and_secret() {
    let appreg = Appreg::new();
    let (client_id, secret) = appreg.create(CREATED_AT, "default", "Billing sync", "2026-12-01");
    let expired_at = Some("2026-12-05T12:00:00Z");
    let before = appreg.json(
        expired_at,
        &["reg", "show", "--site", "default", &client_id],
    );
    assert_eq!(before["state"], "expired");
    let renewed = appreg.json(
        expired_at,
        &[
            "reg",
            "renew",
            "--site",
            "default",
            &client_id,
            "--expires",
            "2027-06-30",
        ],
    );
    assert_eq!(renewed["client_id"], client_id.as_str());
    assert_eq!(renewed["secret_hint"], &secret[52..]);
    assert_eq!(renewed["state"], "active");
    assert_eq!(renewed["expiration_date"], "2027-06-30");
}

#[test]
fn appreg_now_moves_a_registration_through_its_states_and_disable_wins() {
    let appreg = Appreg::new();
    appreg.ok(
        None,
        &[
            "site",
            "add",
            "berlin",
            "--name",
            "Berlin",
            "--time-zone",
            "Europe/Berlin",
        ],
    );
    let (client_id, _) = appreg.create(CREATED_AT, "berlin", "Billing sync", "2027-01-31");
    let state_at = |now: &str| {
        let shown = appreg.json(Some(now), &["reg", "show", "--site", "berlin", &client_id]);
        format!(
            "{} {} {}",
            shown["state"], shown["days_left"], shown["expires"]
        )
    };
    let timeline = [
        ("2026-12-01T12:00:00Z", r#""active" 61 "In 61 days""#),
        ("2027-01-01T12:00:00Z", r#""expiring_30" 30 "In 30 days""#),
        ("2027-01-24T12:00:00Z", r#""expiring_7" 7 "In 7 days""#),
        ("2027-01-30T12:00:00Z", r#""expiring_7" 1 "In 1 day""#),
        ("2027-01-31T22:59:59Z", r#""expiring_7" 0 "Today""#),
        ("2027-01-31T23:00:00Z", r#""expired" -1 "Expired""#),
    ];
    for (now, expected) in timeline {
        assert_eq!(state_at(now), expected, "at {now}");
    }
    let shown = appreg.json(
        Some(CREATED_AT),
        &["reg", "show", "--site", "berlin", &client_id],
    );
    assert_eq!(shown["expires_at"], "2027-02-01T00:00:00+01:00");
    assert_eq!(shown["time_zone"], "Europe/Berlin");

    appreg.ok(
        Some(CREATED_AT),
        &["reg", "disable", "--site", "berlin", &client_id],
    );
    for (now, _) in timeline {
        assert!(state_at(now).starts_with(r#""disabled""#), "at {now}");
    }
    appreg.ok(
        Some(CREATED_AT),
        &["reg", "enable", "--site", "berlin", &client_id],
    );
    assert_eq!(state_at("2026-12-01T12:00:00Z"), timeline[0].1);
}

#[test]
fn delete_removes_the_registration_from_its_site_only() {
    let appreg = Appreg::new();
    appreg.ok(None, &["site", "add", "other"]);
    let (client_id, _) = appreg.create(CREATED_AT, "default", "Billing sync", "2027-01-31");
    assert_eq!(
        appreg.fails(None, &["reg", "delete", "--site", "other", &client_id]),
        format!("site other has no App registration with Client ID {client_id}")
    );
    appreg.ok(None, &["reg", "delete", "--site", "default", &client_id]);
    assert_eq!(
        appreg.fails(None, &["reg", "show", "--site", "default", &client_id]),
        format!("site default has no App registration with Client ID {client_id}")
    );
}

#[test]
fn administrators_and_api_tokens_are_shown_once_and_stored_hashed() {
    let appreg = Appreg::new();
    let added = appreg.json(
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
    let password = added["password"].as_str().unwrap().to_owned();
    assert_eq!(password.len(), 24);
    assert_eq!(added["sites"], serde_json::json!(["default"]));
    let token = appreg.json(None, &["admin", "token", "alice"])["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        token.starts_with("appregpat_") && token.len() == 59,
        "{token}"
    );

    assert_eq!(
        appreg.fails(None, &["admin", "add", "alice", "--site", "default"]),
        r#"administrator "alice" already exists"#
    );
    assert_eq!(
        appreg.fails(None, &["admin", "token", "bob"]),
        r#"administrator "bob" does not exist"#
    );
    assert_eq!(
        appreg.fails(None, &["admin", "add", "Bob", "--site", "default"]),
        "administrator names are 1 to 64 characters of a-z, 0-9, '.', '_' and '-'"
    );

    let mut short = appreg
        .command(
            None,
            &[
                "admin",
                "add",
                "carol",
                "--site",
                "default",
                "--password-stdin",
            ],
        )
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(short.stdin.as_mut().unwrap(), b"short\n").unwrap();
    let output = short.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("12 to 256 characters"));

    let mut bytes = std::fs::read(appreg.db()).unwrap();
    bytes.extend(std::fs::read(format!("{}-wal", appreg.db().display())).unwrap_or_default());
    for needle in [password.as_str(), token.as_str(), &token[10..53]] {
        assert!(!bytes.windows(needle.len()).any(|w| w == needle.as_bytes()));
    }
}

#[test]
fn the_list_filters_by_state_in_the_sites_zone() {
    let appreg = Appreg::new();
    for (name, expires) in [
        ("Active", "2027-06-30"),
        ("Soon", "2026-12-20"),
        ("Today", "2026-11-30"),
        ("Gone", "2026-11-29"),
        ("Paused", "2027-06-30"),
    ] {
        appreg.create(CREATED_AT, "default", name, expires);
    }
    let paused = appreg
        .json(None, &["reg", "list", "--site", "default"])
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Paused")
        .unwrap()["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    appreg.ok(None, &["reg", "disable", "--site", "default", &paused]);
    let now = Some("2026-11-30T12:00:00Z");
    let names = |state: &str| -> Vec<String> {
        appreg
            .json(now, &["reg", "list", "--site", "default", "--state", state])
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names("expiring"), ["Soon", "Today"]);
    assert_eq!(names("expired"), ["Gone"]);
    assert_eq!(names("disabled"), ["Paused"]);
    assert_eq!(
        appreg.ok(
            Some("2026-11-01T12:00:00Z"),
            &["reg", "list", "--site", "default", "--state", "expired"]
        ),
        "Site default has no expired App registrations.\n"
    );
    let refused = appreg.run(
        now,
        &["reg", "list", "--site", "default", "--state", "stale"],
    );
    assert_eq!(refused.status.code(), Some(2), "a usage error");
    let refused = String::from_utf8_lossy(&refused.stderr);
    assert!(
        refused.contains("\"stale\" is not a state: use expiring, expired or disabled"),
        "{refused}"
    );
}
