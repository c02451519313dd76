//! Expiration notices leaving the building: real mail to a local SMTP sink and signed POSTs
//! to a local webhook receiver, from `appreg serve` and `appreg sweep`, across restarts,
//! failures and concurrent processes.

use std::collections::HashSet;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use notify::testkit::{PeerMode, ReceivedRequest, SmtpSink, WebhookReceiver};
use serde_json::Value;
use sha2::Sha256;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::serve::start_with;
use crate::{Appreg, CREATED_AT};

const KINDS: [&str; 3] = ["expires_in_30_days", "expires_in_7_days", "expired"];

/// An administrator `alice` with e-mail on for every template, and a webhook endpoint at
/// `receiver`; returns the endpoint's signing secret.
pub(crate) fn subscribe_everything(appreg: &Appreg, receiver: &WebhookReceiver) -> String {
    appreg.ok(
        Some(CREATED_AT),
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
    for kind in KINDS {
        appreg.ok(
            Some(CREATED_AT),
            &[
                "subscribe",
                "alice",
                "--site",
                "default",
                "--template",
                kind,
                "--channel",
                "email",
            ],
        );
    }
    let added = appreg.json(
        Some(CREATED_AT),
        &[
            "webhook",
            "add",
            "--site",
            "default",
            &receiver.url("/appreg"),
            "--allow-private-network",
        ],
    );
    added["secret"].as_str().unwrap().to_owned()
}

/// Polls `done` every 50 ms for up to 30 s.
pub(crate) fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..600 {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting until {what}");
}

fn rfc3339(instant: OffsetDateTime) -> String {
    instant.format(&Rfc3339).unwrap()
}

fn at(text: &str) -> OffsetDateTime {
    OffsetDateTime::parse(text, &Rfc3339).unwrap()
}

/// Checks a POST's signature the way a receiver does, independently of appreg's code.
fn assert_signed(request: &ReceivedRequest, secret: &str) {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap();
    let id = request.header("webhook-id").unwrap();
    let timestamp = request.header("webhook-timestamp").unwrap();
    mac.update(format!("{id}.{timestamp}.{}", request.body).as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    assert_eq!(request.header("webhook-signature"), Some(expected.as_str()));
    // Receivers refuse timestamps more than 5 minutes from their own clock, APPREG_NOW or not.
    let sent_at: i64 = timestamp.parse().unwrap();
    #[allow(clippy::disallowed_methods)] // the receiver's own, real clock
    let real_now = OffsetDateTime::now_utc().unix_timestamp();
    assert!(
        (real_now - sent_at).abs() <= 300,
        "webhook-timestamp {sent_at} is not the real time {real_now}"
    );
}

/// Delivery states in the log of site `default`: (kind, channel, status, attempts).
fn deliveries(appreg: &Appreg) -> Vec<(String, String, String, u64)> {
    let log = appreg.json(None, &["notices", "list", "--site", "default"]);
    let mut states = Vec::new();
    for notice in log.as_array().unwrap() {
        for delivery in notice["deliveries"].as_array().unwrap() {
            states.push((
                notice["kind"].as_str().unwrap().to_owned(),
                delivery["channel"].as_str().unwrap().to_owned(),
                delivery["status"].as_str().unwrap().to_owned(),
                delivery["attempts"].as_u64().unwrap(),
            ));
        }
    }
    states
}

fn last_error(appreg: &Appreg, channel: &str) -> String {
    let log = appreg.json(None, &["notices", "list", "--site", "default"]);
    log.as_array()
        .unwrap()
        .iter()
        .flat_map(|notice| notice["deliveries"].as_array().unwrap())
        .find(|delivery| delivery["channel"] == channel)
        .and_then(|delivery| delivery["last_error"].as_str())
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn serve_mails_and_posts_each_notice_once_as_time_advances_across_restarts() {
    let appreg = Appreg::new();
    let sink = SmtpSink::start();
    let receiver = WebhookReceiver::start();
    let secret = subscribe_everything(&appreg, &receiver);
    appreg.create(CREATED_AT, "default", "Billing sync", "2027-01-31");
    let smtp_url = sink.url();
    let options = [
        "--smtp-url",
        &smtp_url,
        "--mail-from",
        "appreg@example.com",
        "--allow-private-network",
    ];

    // Just after each due instant (SPEC 5): the start of 01-01, of 01-24, and of 02-01 (UTC).
    let moments = [
        "2027-01-01T00:00:30Z",
        "2027-01-24T00:00:30Z",
        "2027-02-01T00:00:30Z",
    ];
    for (sent, now) in (1..).zip(moments) {
        let server = start_with(&appreg, now, &options);
        wait_until("the notice is mailed and posted", || {
            sink.messages().len() >= sent && receiver.accepted().len() >= sent
        });
        server.stop();
        // A restart at the same moment sweeps and runs the worker again: nothing is new.
        let restarted = start_with(&appreg, now, &options);
        restarted.wait_for_log("sweep found nothing due");
        std::thread::sleep(Duration::from_millis(500));
        restarted.stop();
        assert_eq!(sink.messages().len(), sent, "no mail twice (at {now})");
        assert_eq!(receiver.accepted().len(), sent, "no POST twice (at {now})");
    }

    let log = appreg.json(None, &["notices", "list", "--site", "default"]);
    let mut logged_subjects: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|notice| notice["subject"].as_str().unwrap())
        .collect();
    logged_subjects.reverse();
    let mails = sink.messages();
    let mailed_subjects: Vec<String> = mails.iter().map(|m| m.header("Subject").unwrap()).collect();
    assert_eq!(
        mailed_subjects, logged_subjects,
        "each mail has its rendered subject"
    );
    insta::assert_snapshot!("mailed_subjects", mailed_subjects.join("\n"));
    assert!(mails.iter().all(|m| m.rcpt_to == ["alice@example.com"]));
    let message_ids: HashSet<String> = mails
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();
    assert_eq!(message_ids.len(), 3);

    let posts = receiver.accepted();
    for post in &posts {
        assert_signed(post, &secret);
    }
    let types: Vec<String> = posts
        .iter()
        .map(|post| {
            let body: Value = serde_json::from_str(&post.body).unwrap();
            body["type"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        types,
        [
            "app_registration.expires_in_30_days",
            "app_registration.expires_in_7_days",
            "app_registration.expired"
        ]
    );
    let mut expired: Value = serde_json::from_str(&posts[2].body).unwrap();
    let client_id = expired["data"]["registration"]["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = expired["data"]["body"]
        .as_str()
        .unwrap()
        .replace(&client_id, "[client id]");
    // The console link names the server's random port.
    let port_start = body.find("http://127.0.0.1:").unwrap() + "http://127.0.0.1:".len();
    let port_end = port_start + body[port_start..].find('/').unwrap();
    let body = format!("{}[port]{}", &body[..port_start], &body[port_end..]);
    expired["data"]["body"] = body.into();
    expired["data"]["registration"]["client_id"] = "[client id]".into();
    expired["data"]["registration"]["id"] = "[registration id]".into();
    insta::assert_snapshot!(
        "webhook_body_expired",
        serde_json::to_string_pretty(&expired).unwrap()
    );

    let states = deliveries(&appreg);
    for kind in KINDS {
        for channel in ["in_app", "email", "webhook"] {
            assert!(
                states.contains(&(kind.into(), channel.into(), "sent".into(), 1)),
                "{kind} {channel} sent once: {states:?}"
            );
        }
    }
}

#[test]
fn deliveries_that_fail_for_a_while_retry_and_then_are_sent() {
    let appreg = Appreg::new();
    let sink = SmtpSink::start();
    let receiver = WebhookReceiver::start();
    subscribe_everything(&appreg, &receiver);
    appreg.create(CREATED_AT, "default", "Flaky", "2026-11-25");
    let smtp_url = sink.url();
    let sweep = |now: &str| {
        appreg.json(
            Some(now),
            &[
                "sweep",
                "--smtp-url",
                &smtp_url,
                "--delivery-timeout",
                "1",
                "--allow-private-network",
            ],
        )["deliveries"]
            .clone()
    };
    sink.set_mode(PeerMode::Refuse);
    receiver.set_mode(PeerMode::Hang);
    let start = at(CREATED_AT);
    let first = sweep(CREATED_AT);
    assert_eq!(
        (first["attempted"].as_u64(), first["retrying"].as_u64()),
        (Some(2), Some(2))
    );
    let retrying: Vec<_> = deliveries(&appreg)
        .into_iter()
        .filter(|(kind, channel, ..)| kind == "expires_in_7_days" && channel != "in_app")
        .collect();
    assert_eq!(
        retrying,
        [
            (
                "expires_in_7_days".into(),
                "email".into(),
                "retrying".into(),
                1
            ),
            (
                "expires_in_7_days".into(),
                "webhook".into(),
                "retrying".into(),
                1
            ),
        ]
    );
    assert!(
        last_error(&appreg, "email").starts_with("SMTP: "),
        "{}",
        last_error(&appreg, "email")
    );
    assert!(
        last_error(&appreg, "webhook").starts_with("the POST timed out"),
        "{}",
        last_error(&appreg, "webhook")
    );

    let too_early = sweep(&rfc3339(start + time::Duration::seconds(5)));
    assert_eq!(
        too_early["attempted"], 0,
        "not before the backoff has passed"
    );

    sink.set_mode(PeerMode::Accept);
    receiver.set_mode(PeerMode::Accept);
    let recovered = sweep(&rfc3339(start + time::Duration::hours(1)));
    assert_eq!(
        (recovered["attempted"].as_u64(), recovered["sent"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(sink.messages().len(), 1);
    assert_eq!(receiver.accepted().len(), 1);
    let sent: Vec<_> = deliveries(&appreg)
        .into_iter()
        .filter(|(kind, channel, ..)| kind == "expires_in_7_days" && channel != "in_app")
        .collect();
    assert_eq!(
        sent,
        [
            ("expires_in_7_days".into(), "email".into(), "sent".into(), 2),
            (
                "expires_in_7_days".into(),
                "webhook".into(),
                "sent".into(),
                2
            ),
        ]
    );
    assert_eq!(
        last_error(&appreg, "webhook"),
        "",
        "a sent delivery has no error"
    );
}

#[test]
fn a_receiver_that_never_recovers_ends_dead_in_the_log() {
    let appreg = Appreg::new();
    let receiver = WebhookReceiver::start();
    receiver.set_mode(PeerMode::Refuse);
    appreg.ok(
        Some(CREATED_AT),
        &[
            "webhook",
            "add",
            "--site",
            "default",
            &receiver.url("/down"),
            "--allow-private-network",
        ],
    );
    appreg.create(CREATED_AT, "default", "Doomed", "2026-11-25");
    let mut now = at(CREATED_AT);
    for attempt in 1..=10 {
        let report = appreg.json(Some(&rfc3339(now)), &["sweep", "--allow-private-network"]);
        assert_eq!(report["deliveries"]["attempted"], 1, "attempt {attempt}");
        // Longer than the longest backoff (1 h).
        now += time::Duration::hours(2);
    }
    let after = appreg.json(Some(&rfc3339(now)), &["sweep", "--allow-private-network"]);
    assert_eq!(
        after["deliveries"]["attempted"], 0,
        "a dead delivery is not retried"
    );
    assert_eq!(receiver.attempts(), 10);
    let states = deliveries(&appreg);
    assert!(
        states.contains(&(
            "expires_in_7_days".into(),
            "webhook".into(),
            "dead".into(),
            10
        )),
        "{states:?}"
    );
    assert_eq!(
        last_error(&appreg, "webhook"),
        "the receiver answered 503 Service Unavailable"
    );
    let table = appreg.ok(None, &["notices", "list", "--site", "default"]);
    assert!(
        table.contains("dead [the receiver answered 503 Service Unavailable]"),
        "{table}"
    );
}

/// An SMTP sink and a webhook receiver subscribed to everything, and `count` registrations
/// of site `default` that expire on 2026-11-25.
pub(crate) fn services_expiring_soon(appreg: &Appreg, count: usize) -> (SmtpSink, WebhookReceiver) {
    let sink = SmtpSink::start();
    let receiver = WebhookReceiver::start();
    subscribe_everything(appreg, &receiver);
    for i in 0..count {
        appreg.create(
            CREATED_AT,
            "default",
            &format!("Service {i:02}"),
            "2026-11-25",
        );
    }
    (sink, receiver)
}

#[test]
fn two_servers_and_a_sweep_on_one_database_deliver_each_notice_once() {
    let appreg = Appreg::new();
    let registrations = 12;
    let (sink, receiver) = services_expiring_soon(&appreg, registrations);
    let now = "2026-11-24T12:00:00Z";
    let smtp_url = sink.url();
    let options = ["--smtp-url", smtp_url.as_str(), "--allow-private-network"];
    let first = start_with(&appreg, now, &options);
    let second = start_with(&appreg, now, &options);
    let sweep = appreg
        .command(
            Some(now),
            &["sweep", "--smtp-url", &smtp_url, "--allow-private-network"],
        )
        .output()
        .unwrap();
    assert!(
        sweep.status.success(),
        "{}",
        String::from_utf8_lossy(&sweep.stderr)
    );
    wait_until("every notice is mailed and posted", || {
        sink.messages().len() >= registrations && receiver.accepted().len() >= registrations
    });
    // Both servers poll again within their delivery interval (5 s): give them the chance to
    // send something twice.
    std::thread::sleep(Duration::from_secs(6));
    first.stop();
    second.stop();
    let message_ids: HashSet<String> = sink
        .messages()
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();
    assert_eq!(
        sink.messages().len(),
        registrations,
        "each notice mailed once"
    );
    assert_eq!(message_ids.len(), registrations);
    let webhook_ids: HashSet<String> = receiver
        .accepted()
        .iter()
        .map(|r| r.header("webhook-id").unwrap().to_owned())
        .collect();
    assert_eq!(
        receiver.accepted().len(),
        registrations,
        "each notice posted once"
    );
    assert_eq!(webhook_ids.len(), registrations);
}

#[test]
fn mail_recorded_without_a_server_waits_and_goes_out_once_serve_has_one() {
    let appreg = Appreg::new();
    let sink = SmtpSink::start();
    let receiver = WebhookReceiver::start();
    subscribe_everything(&appreg, &receiver);
    appreg.create(CREATED_AT, "default", "Patient", "2026-11-25");
    let report = appreg.json(Some(CREATED_AT), &["sweep", "--allow-private-network"]);
    assert_eq!(report["waiting_for_smtp"], 1);
    assert_eq!(
        report["deliveries"]["sent"], 1,
        "the webhook needs no server"
    );
    assert!(
        deliveries(&appreg).contains(&(
            "expires_in_7_days".into(),
            "email".into(),
            "pending".into(),
            0
        )),
        "e-mail waits without spending its retries"
    );
    let smtp_url = sink.url();
    let server = start_with(
        &appreg,
        CREATED_AT,
        &["--smtp-url", &smtp_url, "--allow-private-network"],
    );
    wait_until("the waiting mail goes out", || sink.messages().len() == 1);
    server.stop();
    assert_eq!(
        receiver.accepted().len(),
        1,
        "the webhook was not sent again"
    );
}

/// Decision 0008: `webhook add` refuses destinations inside the operator's network, by
/// literal and by what a name resolves to; `--allow-private-network` opens private ranges
/// and loopback, never link-local (cloud metadata) or unspecified addresses.
#[test]
fn webhook_add_refuses_internal_destinations() {
    let appreg = Appreg::new();
    let add = |url: &str, allow: bool| {
        let mut args = vec!["webhook", "add", "--site", "default", url];
        if allow {
            args.push("--allow-private-network");
        }
        appreg.run(None, &args)
    };
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "http://0.0.0.0:8080/",
    ] {
        for allow in [false, true] {
            let output = add(url, allow);
            assert_eq!(output.status.code(), Some(1), "{url}");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                stderr.contains("webhook destination refused: "),
                "{url}: {stderr}"
            );
        }
    }
    for url in [
        "http://[::1]:22/",
        "http://2130706433/",
        "http://localhost:9/",
        "http://10.0.0.7/hooks",
    ] {
        let refused = add(url, false);
        assert_eq!(refused.status.code(), Some(1), "{url}");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(
            stderr.contains("--allow-private-network"),
            "the error names the way out: {stderr}"
        );
        assert!(add(url, true).status.success(), "{url} with the opt-in");
    }
    let listed = appreg.json(None, &["webhook", "list", "--site", "default"]);
    assert_eq!(
        listed.as_array().unwrap().len(),
        4,
        "only the opted-in endpoints were stored: {listed}"
    );
}
