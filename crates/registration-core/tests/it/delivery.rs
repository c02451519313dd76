//! The delivery rules: idempotency key and retry with backoff until dead.

use registration_core::testkit::SeededRandom;
use registration_core::{Channel, Delivery, NoticeKey, NoticeKind, RegistrationId, RetryPolicy};
use time::Duration;

use crate::{expires, instant, rfc3339};

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
        recipient: recipient.into(),
        channel,
        subject: "subject".into(),
        body: "body".into(),
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
    assert_eq!(Channel::parse("in_app"), Some(Channel::InApp));
    assert_eq!(Channel::parse("sms"), None);
}
