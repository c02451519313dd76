//! The delivery rules: idempotency key and retry with backoff until dead.

use registration_core::testkit::SeededRandom;
use registration_core::{
    Channel, ClientId, Delivery, DeliveryFailure, DeliveryOutcome, DeliveryStatus, Error,
    NoticeKey, NoticeKind, RegistrationId, RetryPolicy, SiteSlug, WebhookSecret, WebhookUrl,
};
use time::Duration;

use crate::{expires, instant, rfc3339};

fn failure(permanent: bool) -> DeliveryFailure {
    DeliveryFailure {
        reason: "451 try again later".into(),
        permanent,
    }
}

#[test]
fn an_attempt_ends_sent_retrying_or_dead() {
    let policy = RetryPolicy::default();
    let now = instant("2026-11-23T09:00:00Z");
    assert_eq!(
        policy.outcome(2, Ok(()), now, 0.5),
        DeliveryOutcome {
            status: DeliveryStatus::Sent,
            attempts: 3,
            next_attempt_at: None,
            last_error: None,
        }
    );
    assert_eq!(
        policy.outcome(0, Err(&failure(false)), now, 0.0),
        DeliveryOutcome {
            status: DeliveryStatus::Retrying,
            attempts: 1,
            next_attempt_at: Some(now + Duration::seconds(15)),
            last_error: Some("451 try again later".into()),
        },
        "the first retry comes after half the first delay at the lowest jitter"
    );
    let last = policy.outcome(policy.max_attempts - 1, Err(&failure(false)), now, 0.0);
    assert_eq!(
        (last.status, last.attempts, last.next_attempt_at),
        (DeliveryStatus::Dead, policy.max_attempts, None),
        "the last try ends dead"
    );
    let permanent = policy.outcome(0, Err(&failure(true)), now, 0.0);
    assert_eq!(
        (permanent.status, permanent.attempts),
        (DeliveryStatus::Dead, 1),
        "a permanent failure is not retried"
    );
}

#[test]
fn webhook_urls_are_http_or_https_without_credentials() {
    let ok = WebhookUrl::parse("https://hooks.example.com/appreg?team=ops").unwrap();
    assert_eq!(ok.as_str(), "https://hooks.example.com/appreg?team=ops");
    assert_eq!(
        WebhookUrl::parse("HTTP://127.0.0.1:8025").unwrap().as_str(),
        "http://127.0.0.1:8025/",
        "stored normalised"
    );
    for (text, reason) in [
        ("hooks.example.com/x", "it is not an absolute URL"),
        ("ftp://example.com/x", "the scheme must be http or https"),
        ("mailto:ops@example.com", "the scheme must be http or https"),
        (
            "https://user:pw@example.com/",
            "it must not contain credentials (receivers check the signature instead)",
        ),
        ("https://example.com/#x", "it must not have a #fragment"),
    ] {
        assert_eq!(
            WebhookUrl::parse(text),
            Err(Error::InvalidWebhookUrl(reason)),
            "{text}"
        );
    }
    let long = format!("https://example.com/{}", "a".repeat(2000));
    assert!(WebhookUrl::parse(&long).is_err());
}

#[test]
fn webhook_secrets_are_whsec_base64_keys_and_never_debug_printed() {
    let secret = WebhookSecret::generate(&SeededRandom::new(4)).unwrap();
    let text = secret.expose();
    assert!(text.starts_with("whsec_"), "{text}");
    assert_eq!(secret.key().unwrap().len(), 32);
    assert_eq!(WebhookSecret::parse(text).unwrap(), secret);
    assert_eq!(format!("{secret:?}"), "WebhookSecret(<redacted>)");
    assert_ne!(
        WebhookSecret::generate(&SeededRandom::new(5)).unwrap(),
        secret
    );
    for bad in [
        "",
        "whsec_",
        "whsec_***",
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    ] {
        assert_eq!(
            WebhookSecret::parse(bad),
            Err(Error::MalformedWebhookSecret),
            "{bad}"
        );
    }
}

#[test]
fn retries_back_off_exponentially_with_jitter_and_end_dead() {
    let policy = RetryPolicy::default();
    let failed_at = instant("2026-11-23T09:00:00Z");
    let schedule: Vec<String> = (1..=10)
        .map(
            |attempts| match policy.next_attempt(attempts, failed_at, 0.0) {
                Some(next) => format!("after attempt {attempts}: retry at {}", rfc3339(next)),
                None => format!("after attempt {attempts}: dead"),
            },
        )
        .collect();
    insta::assert_snapshot!(schedule.join("\n"));

    // Jitter spreads a retry over [backoff / 2, backoff).
    let lowest = policy.next_attempt(3, failed_at, 0.0).unwrap();
    let highest = policy.next_attempt(3, failed_at, 0.999).unwrap();
    assert_eq!(lowest - failed_at, Duration::minutes(1));
    assert!(highest - failed_at < Duration::minutes(2));
    assert!(highest - failed_at > Duration::seconds(119));
}

#[test]
fn the_idempotency_key_is_notice_recipient_and_channel() {
    let notice = NoticeKey {
        registration_id: RegistrationId::generate(&SeededRandom::new(9)).unwrap(),
        expiration_date: expires("2027-01-31"),
        kind: NoticeKind::ExpiresIn7Days,
    };
    let delivery = |recipient: &str, channel| Delivery {
        notice,
        site: SiteSlug::parse("default").unwrap(),
        registration_name: "Billing sync".into(),
        client_id: ClientId::generate(&SeededRandom::new(1)).unwrap(),
        due_at: instant("2027-01-24T00:00:00Z"),
        recipient: recipient.into(),
        channel,
        subject: "subject".into(),
        body: "body".into(),
        signing_secret: None,
    };
    let key = delivery("ops@example.com", Channel::Email).idempotency_key();
    assert_eq!(
        key,
        format!(
            "{}:2027-01-31:expires_in_7_days:email:ops@example.com",
            notice.registration_id
        )
    );
    let mut other = delivery("ops@example.com", Channel::Email);
    other.body = "re-rendered".into();
    assert_eq!(
        other.idempotency_key(),
        key,
        "the content is not part of the identity"
    );
    assert_ne!(delivery("ops", Channel::InApp).idempotency_key(), key);
    let message_id = delivery("ops@example.com", Channel::Email).message_id();
    assert_eq!(message_id.len(), 32);
    assert!(message_id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(other.message_id(), message_id, "stable across retries");
    assert_ne!(
        delivery("dev@example.com", Channel::Email).message_id(),
        message_id
    );
    assert_eq!(Channel::parse("in_app"), Some(Channel::InApp));
    assert_eq!(Channel::parse("sms"), None);
}
