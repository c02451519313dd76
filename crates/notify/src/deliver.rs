//! The `Notifier` of `appreg serve` and `appreg sweep`, and what setting delivery up needs.

use std::time::Duration;

use registration_core::{Channel, Delivery, DeliveryFailure, Notifier};

use crate::email::EmailSender;
use crate::webhook::WebhookSender;

/// Makes ring the process's TLS provider for reqwest (built without one, to keep aws-lc and
/// its licence out). Idempotent: the first installed provider stays.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// How long one delivery attempt may take before it counts as failed (and is retried).
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// What can go wrong setting delivery up. Attempts themselves fail as
/// [`DeliveryFailure`]s, which the worker retries.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "invalid SMTP URL: {0} (expected smtp://host:port, smtps://host:port or smtp://host:port?tls=required)"
    )]
    InvalidSmtpUrl(String),
    #[error("invalid sender address {0:?}: expected an address such as appreg@example.com")]
    InvalidMailFrom(String),
    #[error("the HTTP client for webhooks could not be created: {0}")]
    HttpClient(String),
}

/// The notifier of `appreg serve` and `appreg sweep`: e-mail when an SMTP server is
/// configured, webhooks always.
#[derive(Debug)]
pub struct ChannelNotifier {
    email: Option<EmailSender>,
    webhook: WebhookSender,
}

impl ChannelNotifier {
    pub fn new(email: Option<EmailSender>, webhook: WebhookSender) -> Self {
        Self { email, webhook }
    }
}

impl Notifier for ChannelNotifier {
    fn channels(&self) -> Vec<Channel> {
        let mut channels = Vec::new();
        if self.email.is_some() {
            channels.push(Channel::Email);
        }
        channels.push(Channel::Webhook);
        channels
    }

    fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryFailure> {
        match (delivery.channel, &self.email) {
            (Channel::InApp, _) => Ok(()),
            (Channel::Email, Some(email)) => email.send(delivery),
            (Channel::Email, None) => Err(DeliveryFailure {
                reason: "no SMTP server is configured (--smtp-url)".into(),
                permanent: false,
            }),
            (Channel::Webhook, _) => self.webhook.send(delivery),
        }
    }
}
