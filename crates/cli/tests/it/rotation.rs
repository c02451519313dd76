//! Secret rotation with overlap (SPEC 12) through the binary: `reg rotate`,
//! `reg retire-secret`, and token requests to real `appreg serve` processes.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::serve::{Running, start_with};
use crate::{Appreg, CREATED_AT};

/// A token request with Basic authentication: (status, WWW-Authenticate, body).
fn token(server: &Running, client_id: &str, secret: &str) -> (u16, Option<String>, String) {
    let response = crate::http_client()
        .post(format!("{}/sites/default/oauth2/token", server.base))
        .basic_auth(client_id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .unwrap();
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|value| value.to_str().unwrap().to_owned());
    (status, challenge, response.text().unwrap())
}

fn rotate(appreg: &Appreg, now: &str, client_id: &str, overlap: &str) -> Value {
    appreg.json(
        Some(now),
        &[
            "reg",
            "rotate",
            "--site",
            "default",
            client_id,
            "--overlap",
            overlap,
        ],
    )
}

fn show(appreg: &Appreg, now: &str, client_id: &str) -> Value {
    appreg.json(Some(now), &["reg", "show", "--site", "default", client_id])
}

#[test]
fn both_secrets_work_during_the_overlap_then_the_old_one_gets_any_wrong_secrets_answer() {
    let appreg = Appreg::new();
    let (client_id, old_secret) =
        appreg.create(CREATED_AT, "default", "Billing sync", "2027-01-31");
    // A well-formed secret that is not this registration's.
    let (_, wrong_secret) = appreg.create(CREATED_AT, "default", "Ledger", "2027-01-31");
    let rotated = rotate(&appreg, CREATED_AT, &client_id, "2d");
    assert_eq!(
        rotated["client_id"],
        client_id.as_str(),
        "the Client ID stays"
    );
    let new_secret = rotated["client_secret"].as_str().unwrap().to_owned();
    assert!(new_secret.starts_with("appreg_") && new_secret.len() == 56);
    assert_ne!(new_secret, old_secret);
    assert_eq!(
        rotated["previous_secret_expires_at"],
        "2026-11-25T09:00:00Z"
    );
    assert_eq!(rotated["expiration_date"], "2027-01-31", "the date stays");
    assert_eq!(rotated["previous_secret"]["live"], true);
    assert_eq!(
        rotated["secret_hint"].as_str().unwrap(),
        &new_secret[new_secret.len() - 4..]
    );
    let shown = show(&appreg, CREATED_AT, &client_id);
    assert!(shown.get("client_secret").is_none(), "shown once: {shown}");
    assert!(!shown.to_string().contains(&new_secret));

    let during = start_with(&appreg, "2026-11-25T08:59:00Z", &[]);
    assert_eq!(
        token(&during, &client_id, &old_secret).0,
        200,
        "old, in the overlap"
    );
    assert_eq!(token(&during, &client_id, &new_secret).0, 200, "new");
    during.stop();

    let after = start_with(&appreg, "2026-11-25T09:00:00Z", &[]);
    let wrong = token(&after, &client_id, &wrong_secret);
    assert_eq!(wrong.0, 401);
    assert_eq!(
        token(&after, &client_id, &old_secret),
        wrong,
        "a retired secret gets the byte-identical answer of any wrong secret"
    );
    assert_eq!(token(&after, &client_id, &old_secret).0, 401);
    assert_eq!(token(&after, &client_id, &new_secret).0, 200);
    after.stop();

    let shown = show(&appreg, "2026-11-25T10:00:00Z", &client_id);
    let previous = &shown["previous_secret"];
    assert_eq!(previous["live"], false);
    assert_eq!(previous["secret_hint"], &old_secret[old_secret.len() - 4..]);
    assert_eq!(previous["expires_at"], "2026-11-25T09:00:00Z");
    assert!(
        previous["created_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-23T09:00:00")
    );
    assert!(
        previous["last_used"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-25T08:59")
    );
    assert_eq!(previous["rejected_since_expiry"], 2, "{shown}");
    assert!(
        previous["last_rejected"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-25T09:00")
    );
    assert!(
        shown["secret_last_used"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-25T09:00")
    );
    assert_eq!(
        shown["rejected_since_expiry"], 0,
        "the registration was never refused"
    );

    let human = appreg.ok(
        Some("2026-11-25T10:00:00Z"),
        &["reg", "show", "--site", "default", &client_id],
    );
    assert!(
        human.contains("stopped authenticating 2026-11-25 09:00 UTC; old secret still presented: 2 times, last 2026-11-25 09:00"),
        "{human}"
    );
    let grid = appreg.ok(None, &["reg", "list", "--site", "default"]);
    assert_eq!(
        grid.lines().count(),
        3,
        "a header and one row per registration: {grid}"
    );
}

#[test]
fn at_most_two_live_secrets_and_the_last_cannot_be_retired() {
    let appreg = Appreg::new();
    let (client_id, _) = appreg.create(CREATED_AT, "default", "Billing sync", "2026-12-31");
    let rotate_args = ["reg", "rotate", "--site", "default", &client_id];
    let retire_args = ["reg", "retire-secret", "--site", "default", &client_id];
    assert_eq!(
        appreg.fails(Some(CREATED_AT), &retire_args),
        "the registration has only its current secret, and the last secret cannot be retired"
    );
    let first = appreg.json(Some(CREATED_AT), &rotate_args);
    assert_eq!(
        first["previous_secret_expires_at"], "2026-11-30T09:00:00Z",
        "7 days by default"
    );
    assert_eq!(
        appreg.fails(Some(CREATED_AT), &rotate_args),
        "the registration already has two live secrets: the previous one authenticates until \
         2026-11-30T09:00:00Z; retire it first (retire-secret)"
    );
    let retired = appreg.json(Some("2026-11-23T10:00:00Z"), &retire_args);
    assert_eq!(
        retired["previous_secret"]["expires_at"],
        "2026-11-23T10:00:00Z"
    );
    assert_eq!(retired["previous_secret"]["live"], false);
    assert_eq!(
        retired["secret_hint"], first["secret_hint"],
        "the current secret stays"
    );
    appreg.fails(Some("2026-11-23T10:00:00Z"), &retire_args);

    let at_once = rotate(&appreg, "2026-11-23T11:00:00Z", &client_id, "0");
    assert_eq!(
        at_once["previous_secret_expires_at"],
        "2026-11-23T11:00:00Z"
    );
    assert_eq!(
        at_once["previous_secret"]["live"], false,
        "overlap 0 retires at once"
    );
    let capped = rotate(&appreg, "2026-11-23T12:00:00Z", &client_id, "90d");
    assert_eq!(
        capped["previous_secret_expires_at"], "2027-01-01T00:00:00Z",
        "never past the registration's expiry"
    );
    assert_eq!(capped["expiration_date"], "2026-12-31");

    let before = show(&appreg, "2026-11-23T12:00:00Z", &client_id);
    appreg.ok(Some("2026-11-23T12:00:00Z"), &retire_args);
    for (overlap, reason) in [
        ("91d", "overlap is at most 90 days"),
        ("2161h", "overlap is at most 90 days"),
        (
            "7w",
            "overlap must be 0 or a whole number with a unit d, h, m or s (e.g. 7d, 36h); 0 retires the old secret at once",
        ),
        (
            "-1d",
            "overlap must be 0 or a whole number with a unit d, h, m or s (e.g. 7d, 36h); 0 retires the old secret at once",
        ),
        (
            "",
            "overlap must be 0 or a whole number with a unit d, h, m or s (e.g. 7d, 36h); 0 retires the old secret at once",
        ),
    ] {
        assert_eq!(
            appreg.fails(
                Some("2026-11-23T13:00:00Z"),
                &[
                    "reg",
                    "rotate",
                    "--site",
                    "default",
                    &client_id,
                    &format!("--overlap={overlap}"),
                ]
            ),
            reason,
            "--overlap {overlap:?}"
        );
    }
    let after = show(&appreg, "2026-11-23T12:00:00Z", &client_id);
    assert_eq!(
        after["secret_hint"], before["secret_hint"],
        "a refused rotation changes nothing"
    );
    assert_eq!(
        appreg.fails(
            None,
            &["reg", "rotate", "--site", "default", "aaaaaaaaaaaaaaaaaaaa"]
        ),
        "site default has no App registration with Client ID aaaaaaaaaaaaaaaaaaaa"
    );

    let audit = appreg.json(None, &["audit", "list", "--site", "default"]);
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "registration.secret_rotate")
            .count(),
        3,
        "{actions:?}"
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "registration.secret_retire")
            .count(),
        2,
        "{actions:?}"
    );
}

/// SPEC 7 across processes: a server that verified the old secret (and so answers it from
/// memory) refuses it within a second of a retirement made by another process.
fn retirement_is_honoured_by_a_running_server_within_a_second(appreg: Appreg) {
    let (client_id, old_secret) =
        appreg.create(CREATED_AT, "default", "Billing sync", "2027-01-31");
    let rotated = rotate(&appreg, CREATED_AT, &client_id, "7d");
    let new_secret = rotated["client_secret"].as_str().unwrap().to_owned();
    let server = start_with(&appreg, "2026-11-24T09:00:00Z", &[]);
    for _ in 0..3 {
        assert_eq!(token(&server, &client_id, &old_secret).0, 200);
    }
    appreg.ok(
        Some("2026-11-24T09:00:00Z"),
        &["reg", "retire-secret", "--site", "default", &client_id],
    );
    #[allow(clippy::disallowed_methods)] // the real time the bound is about
    let retired_at = Instant::now();
    while token(&server, &client_id, &old_secret).0 != 401 {
        assert!(
            retired_at.elapsed() < Duration::from_secs(1),
            "the server still accepts the retired secret {:?} after the retirement",
            retired_at.elapsed()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(token(&server, &client_id, &new_secret).0, 200);
    server.stop();
}

#[test]
fn retirement_through_another_process_is_honoured_within_a_second_on_sqlite() {
    retirement_is_honoured_by_a_running_server_within_a_second(Appreg::new());
}

#[test]
fn retirement_through_another_process_is_honoured_within_a_second_on_postgres() {
    retirement_is_honoured_by_a_running_server_within_a_second(Appreg::on_postgres());
}

#[test]
fn the_admin_api_rotates_and_retires() {
    let appreg = Appreg::new();
    let (client_id, _) = appreg.create(CREATED_AT, "default", "Billing sync", "2027-01-31");
    appreg.ok(None, &["admin", "add", "alice", "--site", "default"]);
    appreg.ok(None, &["site", "add", "other"]);
    appreg.ok(None, &["admin", "add", "olga", "--site", "other"]);
    let token_of = |user: &str| {
        appreg.json(None, &["admin", "token", user])["token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (alice, olga) = (token_of("alice"), token_of("olga"));
    let server = start_with(&appreg, CREATED_AT, &[]);
    let secrets = format!(
        "{}/api/v1/sites/default/registrations/{client_id}/secrets",
        server.base
    );
    let client = crate::http_client();
    let rotated = client
        .post(&secrets)
        .bearer_auth(&alice)
        .json(&json!({ "overlap": "36h" }))
        .send()
        .unwrap();
    assert_eq!(rotated.status(), 201);
    assert_eq!(rotated.headers()["cache-control"], "no-store");
    let rotated: Value = rotated.json().unwrap();
    assert_eq!(rotated["client_id"], client_id.as_str());
    assert_eq!(
        rotated["previous_secret_expires_at"],
        "2026-11-24T21:00:00Z"
    );
    let new_secret = rotated["client_secret"].as_str().unwrap();
    assert_eq!(token(&server, &client_id, new_secret).0, 200);

    let again = client.post(&secrets).bearer_auth(&alice).send().unwrap();
    assert_eq!(again.status(), 409, "a third live secret");
    assert_eq!(again.headers()["content-type"], "application/problem+json");
    let problem: Value = again.json().unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("two live secrets")
    );

    let bad = client
        .post(&secrets)
        .bearer_auth(&alice)
        .json(&json!({ "overlap": "91d" }))
        .send()
        .unwrap();
    assert_eq!(bad.status(), 422);
    let problem: Value = bad.json().unwrap();
    assert_eq!(problem["errors"][0]["field"], "overlap");
    assert_eq!(problem["errors"][0]["detail"], "overlap is at most 90 days");

    let other_site = format!(
        "{}/api/v1/sites/other/registrations/{client_id}/secrets",
        server.base
    );
    for (url, token) in [(&secrets, &olga), (&other_site, &olga)] {
        let refused = client.post(url).bearer_auth(token).send().unwrap();
        assert_eq!(refused.status(), 404, "another site's administrator: {url}");
        let refused = client
            .delete(format!("{url}/previous"))
            .bearer_auth(token)
            .send()
            .unwrap();
        assert_eq!(refused.status(), 404);
    }

    let retired = client
        .delete(format!("{secrets}/previous"))
        .bearer_auth(&alice)
        .send()
        .unwrap();
    assert_eq!(retired.status(), 200);
    let retired: Value = retired.json().unwrap();
    assert_eq!(retired["previous_secret"]["live"], false);
    assert!(retired.get("client_secret").is_none());
    let last = client
        .delete(format!("{secrets}/previous"))
        .bearer_auth(&alice)
        .send()
        .unwrap();
    assert_eq!(last.status(), 409, "the last secret cannot be retired");
    server.stop();
}

/// SPEC 10 for rotations: `reg rotate` killed with SIGKILL at any point (starting, hashing,
/// committing) leaves the registration as it was or rotated, never half of it, and its
/// audit log agrees with it.
#[test]
fn a_rotation_killed_at_any_point_leaves_the_old_state_or_the_new_one() {
    let appreg = Appreg::new();
    let (client_id, secret) = appreg.create(CREATED_AT, "default", "Billing sync", "2027-01-31");
    let created_hint = &secret[secret.len() - 4..];
    let mut rounds_that_rotated = 0;
    for round in 0..25u64 {
        let mut child = appreg
            .command(
                None,
                &[
                    "reg",
                    "rotate",
                    "--site",
                    "default",
                    &client_id,
                    "--overlap",
                    "0",
                ],
            )
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // From before start-up to after the commit (a rotation takes ~40 ms here).
        std::thread::sleep(Duration::from_millis(round * 4));
        let _ = child.kill();
        child.wait().unwrap();

        let shown = show(&appreg, "2026-11-23T09:00:00Z", &client_id);
        let audit = appreg.json(None, &["audit", "list", "--site", "default"]);
        let rotations: Vec<&Value> = audit
            .as_array()
            .unwrap()
            .iter()
            .filter(|entry| entry["action"] == "registration.secret_rotate")
            .collect();
        let newest = rotations.first();
        let expected_hint = newest.map_or(json!(created_hint), |entry| {
            entry["after"]["secret_hint"].clone()
        });
        assert_eq!(
            shown["secret_hint"], expected_hint,
            "round {round}: the current secret is the newest audited rotation's"
        );
        assert_eq!(
            shown["previous_secret"]["secret_hint"],
            newest.map_or(Value::Null, |entry| entry["before"]["secret_hint"].clone()),
            "round {round}: the previous secret is the one that rotation replaced"
        );
        if let Some(entry) = newest {
            assert_eq!(
                entry["after"]["revision"],
                rotations.len().to_string(),
                "round {round}: one audit entry per committed rotation (the revision counts them)"
            );
        }
        rounds_that_rotated = rotations.len();
    }
    assert!(
        rounds_that_rotated >= 1,
        "no rotation committed: the kills never came late enough to test the new state"
    );
}
