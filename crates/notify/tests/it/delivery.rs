//! Delivery through real peers: lettre against the SMTP sink, the webhook sender against the
//! receiver, each accepting, refusing and hanging.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use notify::testkit::{PeerMode, SmtpSink, WebhookReceiver};
use notify::{
    ChannelNotifier, EmailSender, SmtpSettings, WebhookSender, check_destination, sign,
    webhook_payload,
};
use registration_core::testkit::{FakeClock, SeededRandom};
use registration_core::{
    Channel, ClientId, Delivery, NoticeKey, NoticeKind, Notifier, RegistrationId, SiteSlug,
    WebhookNetworks, WebhookSecret, WebhookUrl,
};
use sha2::Sha256;
use time::macros::datetime;

const SHORT: Duration = Duration::from_millis(500);

fn delivery(channel: Channel, recipient: &str) -> Delivery {
    let random = SeededRandom::new(7);
    Delivery {
        notice: NoticeKey {
            registration_id: RegistrationId::generate(&random).unwrap(),
            expiration_date: registration_core::ExpirationDate::parse("2027-01-31").unwrap(),
            kind: NoticeKind::ExpiresIn7Days,
        },
        site: SiteSlug::parse("berlin").unwrap(),
        registration_name: "Billing sync".into(),
        client_id: ClientId::generate(&random).unwrap(),
        due_at: datetime!(2027-01-23 23:00 UTC),
        recipient: recipient.into(),
        channel,
        subject: "App registration expires in 7 days: Billing sync".into(),
        body: "Billing sync expires in 7 days.\n.\nA line with a single dot above.".into(),
        signing_secret: (channel == Channel::Webhook)
            .then(|| WebhookSecret::generate(&random).unwrap()),
    }
}

fn email_sender(sink: &SmtpSink, timeout: Duration) -> EmailSender {
    EmailSender::new(&SmtpSettings {
        url: sink.url(),
        mail_from: "appreg@example.com".into(),
        timeout,
    })
    .unwrap()
}

/// A sender that may reach the receivers on 127.0.0.1, as with `--allow-private-network`.
fn webhook_sender(timeout: Duration) -> WebhookSender {
    sender_for(timeout, WebhookNetworks::AllowPrivate)
}

fn sender_for(timeout: Duration, networks: WebhookNetworks) -> WebhookSender {
    let clock = Arc::new(FakeClock::at(datetime!(2027-01-24 00:00:05 UTC)));
    WebhookSender::new(clock, timeout, networks).unwrap()
}

#[test]
fn the_signature_matches_the_standard_webhooks_test_vector() {
    // Published with the Standard Webhooks reference libraries; recomputed with Python's hmac.
    let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    assert_eq!(
        sign(
            &secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#
        ),
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    );
}

#[test]
fn the_webhook_body_is_a_standard_webhooks_envelope() {
    let payload = webhook_payload(&delivery(Channel::Webhook, "http://127.0.0.1:9/"));
    let json: serde_json::Value = serde_json::from_str(&payload).unwrap();
    insta::assert_snapshot!(serde_json::to_string_pretty(&json).unwrap());
}

#[test]
fn mail_reaches_the_sink_with_subject_message_id_and_body() {
    let sink = SmtpSink::start();
    let sender = email_sender(&sink, SHORT);
    let notifier = ChannelNotifier::new(Some(sender), webhook_sender(SHORT));
    assert_eq!(notifier.channels(), [Channel::Email, Channel::Webhook]);
    let mail = delivery(Channel::Email, "ops@example.com");
    notifier.deliver(&mail).unwrap();
    let received = sink.messages();
    assert_eq!(received.len(), 1);
    let message = &received[0];
    assert_eq!(message.mail_from, "appreg@example.com");
    assert_eq!(message.rcpt_to, ["ops@example.com"]);
    assert_eq!(
        message.header("Subject").as_deref(),
        Some("App registration expires in 7 days: Billing sync")
    );
    assert_eq!(
        message.header("Message-ID"),
        Some(format!("<{}@example.com>", mail.message_id())),
        "derived from the idempotency key, the same on every retry"
    );
    assert!(
        message.body().contains("A line with a single dot above."),
        "{}",
        message.body()
    );
}

#[test]
fn a_refusing_or_hanging_mail_server_is_a_failure_to_retry() {
    let sink = SmtpSink::start();
    let sender = email_sender(&sink, SHORT);
    let notifier = ChannelNotifier::new(Some(sender), webhook_sender(SHORT));
    let mail = delivery(Channel::Email, "ops@example.com");
    sink.set_mode(PeerMode::Refuse);
    let refused = notifier.deliver(&mail).unwrap_err();
    assert!(!refused.permanent, "{refused:?}");
    assert!(refused.reason.starts_with("SMTP: "), "{}", refused.reason);
    sink.set_mode(PeerMode::Hang);
    let hung = notifier.deliver(&mail).unwrap_err();
    assert!(!hung.permanent, "{hung:?}");
    sink.set_mode(PeerMode::Accept);
    notifier.deliver(&mail).unwrap();
    assert_eq!(sink.messages().len(), 1);
}

#[test]
fn without_an_smtp_server_email_is_not_a_channel() {
    let notifier = ChannelNotifier::new(None, webhook_sender(SHORT));
    assert_eq!(notifier.channels(), [Channel::Webhook]);
    let failure = notifier
        .deliver(&delivery(Channel::Email, "ops@example.com"))
        .unwrap_err();
    assert_eq!(failure.reason, "no SMTP server is configured (--smtp-url)");
}

#[test]
fn bad_smtp_settings_are_refused_without_echoing_the_password() {
    let settings = SmtpSettings {
        url: "smtp://user:hunter2hunter2@[::1".into(),
        mail_from: "appreg@example.com".into(),
        timeout: SHORT,
    };
    let error = EmailSender::new(&settings).unwrap_err().to_string();
    assert!(error.starts_with("invalid SMTP URL"), "{error}");
    assert!(!error.contains("hunter2"), "{error}");
    assert!(!format!("{settings:?}").contains("hunter2"));
    let error = EmailSender::new(&SmtpSettings {
        url: "smtp://127.0.0.1:25".into(),
        mail_from: "not an address".into(),
        timeout: SHORT,
    })
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid sender address \"not an address\": expected an address such as appreg@example.com"
    );
}

#[test]
fn webhooks_are_signed_posts_that_verify() {
    let receiver = WebhookReceiver::start();
    let notifier = ChannelNotifier::new(None, webhook_sender(SHORT));
    let hook = delivery(Channel::Webhook, &receiver.url("/hooks/appreg?team=ops"));
    notifier.deliver(&hook).unwrap();
    let requests = receiver.accepted();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/hooks/appreg?team=ops")
    );
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.header("webhook-id"),
        Some(format!("msg_{}", hook.message_id()).as_str())
    );
    assert_eq!(
        request.header("webhook-timestamp"),
        Some("1800748805"),
        "the attempt's time, from the injected clock"
    );
    assert_eq!(request.body, webhook_payload(&hook));

    // Verified the way a receiver does it, independently of `sign`.
    let key = hook.signing_secret.as_ref().unwrap().key().unwrap();
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap();
    mac.update(
        format!(
            "{}.{}.{}",
            request.header("webhook-id").unwrap(),
            request.header("webhook-timestamp").unwrap(),
            request.body
        )
        .as_bytes(),
    );
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    assert_eq!(request.header("webhook-signature"), Some(expected.as_str()));
}

#[test]
fn a_refusing_or_hanging_receiver_is_a_failure_to_retry() {
    let receiver = WebhookReceiver::start();
    let notifier = ChannelNotifier::new(None, webhook_sender(SHORT));
    let hook = delivery(Channel::Webhook, &receiver.url("/"));
    receiver.set_mode(PeerMode::Refuse);
    let refused = notifier.deliver(&hook).unwrap_err();
    assert_eq!(
        (refused.reason.as_str(), refused.permanent),
        ("the receiver answered 503 Service Unavailable", false)
    );
    receiver.set_mode(PeerMode::Hang);
    let hung = notifier.deliver(&hook).unwrap_err();
    assert!(
        hung.reason.starts_with("the POST timed out"),
        "{}",
        hung.reason
    );
    assert!(!hung.permanent);
    let closed = delivery(Channel::Webhook, "http://127.0.0.1:9/");
    let unreachable = notifier.deliver(&closed).unwrap_err();
    assert!(
        unreachable.reason.starts_with("the POST could not connect"),
        "{}",
        unreachable.reason
    );
    receiver.set_mode(PeerMode::Accept);
    notifier.deliver(&hook).unwrap();
    assert_eq!(receiver.accepted().len(), 1);
    assert_eq!(receiver.attempts(), 3);
}

/// Decision 0008: what a site administrator types cannot make appreg probe its own network.
/// Refused destinations are dead at once, with the policy's reason and no connection made.
#[test]
fn webhooks_never_reach_refused_destinations() {
    let receiver = WebhookReceiver::start();
    let port = receiver.url("").rsplit(':').next().unwrap().to_owned();
    let public_only = ChannelNotifier::new(None, sender_for(SHORT, WebhookNetworks::PublicOnly));
    let private_too = ChannelNotifier::new(None, webhook_sender(SHORT));
    let always_refused = [
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://[::ffff:169.254.169.254]/".to_owned(),
        format!("http://0.0.0.0:{port}/"),
        "http://[fe80::1]/".to_owned(),
    ];
    let refused_unless_allowed = [
        format!("http://2130706433:{port}/"),
        format!("http://[::1]:{port}/"),
        format!("http://localhost:{port}/"),
        format!("http://127.0.0.1:{port}/"),
        "http://10.1.2.3/".to_owned(),
        "http://192.168.0.1/".to_owned(),
    ];
    for url in always_refused.iter().chain(&refused_unless_allowed) {
        let failure = public_only
            .deliver(&delivery(Channel::Webhook, url))
            .unwrap_err();
        assert!(
            failure.permanent && failure.reason.starts_with("destination refused: "),
            "{url}: {failure:?}"
        );
        assert!(
            check_destination(
                &WebhookUrl::parse(url).unwrap(),
                WebhookNetworks::PublicOnly
            )
            .is_err(),
            "{url} is refused when added too"
        );
    }
    for url in &always_refused {
        let failure = private_too
            .deliver(&delivery(Channel::Webhook, url))
            .unwrap_err();
        assert!(
            failure.permanent && failure.reason.starts_with("destination refused: "),
            "{url} stays refused with --allow-private-network: {failure:?}"
        );
    }
    assert_eq!(receiver.attempts(), 0, "no refused delivery connected");

    // A name is checked on the addresses it resolves to when the connection is made.
    let by_name = public_only
        .deliver(&delivery(
            Channel::Webhook,
            &format!("http://localhost:{port}/"),
        ))
        .unwrap_err();
    assert!(by_name.reason.contains("loopback"), "{}", by_name.reason);
    private_too
        .deliver(&delivery(
            Channel::Webhook,
            &format!("http://localhost:{port}/"),
        ))
        .unwrap();
    assert_eq!(receiver.accepted().len(), 1, "allowed, it is delivered");
}
