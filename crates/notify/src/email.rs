//! E-mail over SMTP with lettre.

use std::fmt;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{Message, SmtpTransport, Transport};
use registration_core::{Delivery, DeliveryFailure};

use crate::Error;

/// Where and as whom to send mail.
#[derive(Clone)]
pub struct SmtpSettings {
    /// `smtp://host:port` (plain, or `?tls=required` for STARTTLS), `smtps://host:port`
    /// (TLS from the start); credentials, if any, as `smtp://user:password@host:port`.
    pub url: String,
    /// The `From:` address.
    pub mail_from: String,
    pub timeout: Duration,
}

impl fmt::Debug for SmtpSettings {
    /// The URL can hold the SMTP password: only its scheme is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = self.url.split(':').next().unwrap_or_default();
        f.debug_struct("SmtpSettings")
            .field("url", &format_args!("{scheme}://<redacted>"))
            .field("mail_from", &self.mail_from)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Sends e-mail deliveries. Each message's `Message-ID` is derived from the delivery's
/// idempotency key, so a retried message can be recognised as the same by mail systems.
pub struct EmailSender {
    transport: SmtpTransport,
    from: Mailbox,
    /// The right-hand side of Message-IDs.
    domain: String,
}

impl fmt::Debug for EmailSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailSender")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl EmailSender {
    pub fn new(settings: &SmtpSettings) -> Result<Self, Error> {
        let from: Mailbox = settings
            .mail_from
            .parse()
            .map_err(|_| Error::InvalidMailFrom(settings.mail_from.clone()))?;
        let transport = SmtpTransport::from_url(&settings.url)
            // lettre's message could echo the URL, password included.
            .map_err(|_| Error::InvalidSmtpUrl(redacted(&settings.url)))?
            .timeout(Some(settings.timeout))
            .build();
        let domain = from.email.domain().to_owned();
        Ok(Self {
            transport,
            from,
            domain,
        })
    }

    pub(crate) fn send(&self, delivery: &Delivery) -> Result<(), DeliveryFailure> {
        let permanent = |reason: String| DeliveryFailure {
            reason,
            permanent: true,
        };
        let to: Mailbox = delivery
            .recipient
            .parse()
            .map_err(|_| permanent(format!("{:?} is not an e-mail address", delivery.recipient)))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&delivery.subject)
            .message_id(Some(format!("<{}@{}>", delivery.message_id(), self.domain)))
            .header(ContentType::TEXT_PLAIN)
            .body(delivery.body.clone())
            .map_err(|error| permanent(format!("the message could not be built: {error}")))?;
        self.transport
            .send(&message)
            .map(|_| ())
            .map_err(|error| DeliveryFailure {
                reason: format!("SMTP: {error}"),
                // A 5xx reply (e.g. no such mailbox) will not change by retrying.
                permanent: error.is_permanent(),
            })
    }
}

/// `smtp://<redacted>@host:port` when the URL has credentials.
fn redacted(url: &str) -> String {
    match (url.split_once("://"), url.rsplit_once('@')) {
        (Some((scheme, _)), Some((_, host))) => format!("{scheme}://<redacted>@{host}"),
        _ => url.to_owned(),
    }
}
