//! Delivery of recorded notices: channels, the idempotency key and the retry rule.

use std::fmt;

use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::schedule::NoticeKey;
use crate::secret::{ClientId, hex};
use crate::site::SiteSlug;
use crate::webhook::WebhookSecret;

/// How a notice reaches a recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Channel {
    /// The administrator's inbox in the console.
    InApp,
    /// An e-mail over SMTP.
    Email,
    /// A signed POST to a site's webhook endpoint.
    Webhook,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 3] = [Channel::InApp, Channel::Email, Channel::Webhook];

    /// The name stored and shown (`in_app`, `email`, `webhook`).
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::InApp => "in_app",
            Channel::Email => "email",
            Channel::Webhook => "webhook",
        }
    }

    /// The channel named by [`as_str`](Self::as_str), if any.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|channel| channel.as_str() == text)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rendered message for one recipient on one channel, as the delivery worker sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The notice this delivery belongs to.
    pub notice: NoticeKey,
    /// The registration's site.
    pub site: SiteSlug,
    /// The registration's name and Client ID when the notice was recorded.
    pub registration_name: String,
    /// The registration's Client ID.
    pub client_id: ClientId,
    /// When the notice fell due.
    pub due_at: OffsetDateTime,
    /// A username for `in_app`, an address for `email`, an endpoint URL for `webhook`.
    pub recipient: String,
    /// The channel to send on.
    pub channel: Channel,
    /// The rendered subject (one line).
    pub subject: String,
    /// The rendered body.
    pub body: String,
    /// The endpoint's signing secret, for `webhook` deliveries.
    pub signing_secret: Option<WebhookSecret>,
}

impl Delivery {
    /// `(notice, recipient, channel)`: a receiver that sees the same key twice has already
    /// handled this delivery.
    pub fn idempotency_key(&self) -> String {
        format!(
            "{}:{}:{}:{}:{}",
            self.notice.registration_id,
            self.notice.expiration_date,
            self.notice.kind,
            self.channel,
            self.recipient
        )
    }

    /// A short, stable identifier derived from the idempotency key, for headers that carry
    /// it (`Message-ID`, `webhook-id`): 32 hex digits, without the recipient's address.
    pub fn message_id(&self) -> String {
        hex(&Sha256::digest(self.idempotency_key().as_bytes())[..16])
    }
}

/// Identifies one delivery of one notice.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeliveryTarget {
    /// The notice.
    pub notice: NoticeKey,
    /// The administrator, address or URL.
    pub recipient: String,
    /// The channel.
    pub channel: Channel,
}

impl Delivery {
    /// Which delivery this is, for recording its outcome.
    pub fn target(&self) -> DeliveryTarget {
        DeliveryTarget {
            notice: self.notice,
            recipient: self.recipient.clone(),
            channel: self.channel,
        }
    }
}

/// A worker's claim on deliveries: until `until`, no other worker takes them; only the
/// holder of `id` can record their outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// Unique per claim: only its holder can record an outcome.
    pub id: String,
    /// When the lease runs out and another worker may claim the delivery.
    pub until: OffsetDateTime,
}

/// A delivery a worker has claimed, with the attempts made before this one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedDelivery {
    /// What to send.
    pub delivery: Delivery,
    /// Attempts made before this claim.
    pub attempts_made: u32,
}

/// What an attempt changed: the new status, and when to try again if it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryOutcome {
    /// The new status.
    pub status: DeliveryStatus,
    /// Attempts made, this one included.
    pub attempts: u32,
    /// When to try again (`retrying` only).
    pub next_attempt_at: Option<OffsetDateTime>,
    /// Why the attempt failed, for the log (never secret material).
    pub last_error: Option<String>,
}

/// Where a delivery stands, as the Administrative notification log shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeliveryStatus {
    /// Recorded, not yet attempted.
    Pending,
    /// Delivered (for in-app: recorded).
    Sent,
    /// Failed at least once; another attempt is scheduled.
    Retrying,
    /// Gave up after the retry policy's last attempt.
    Dead,
    /// Not sent on purpose (the notice was superseded by a later one).
    Skipped,
    /// The registration was deleted before the delivery went out.
    Cancelled,
}

impl DeliveryStatus {
    /// Every status.
    pub const ALL: [DeliveryStatus; 6] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Sent,
        DeliveryStatus::Retrying,
        DeliveryStatus::Dead,
        DeliveryStatus::Skipped,
        DeliveryStatus::Cancelled,
    ];

    /// The name stored and shown in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Retrying => "retrying",
            DeliveryStatus::Dead => "dead",
            DeliveryStatus::Skipped => "skipped",
            DeliveryStatus::Cancelled => "cancelled",
        }
    }

    /// The status named by [`as_str`](Self::as_str), if any.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// Still waiting to go out: deleting the registration cancels it.
    pub fn is_open(self) -> bool {
        matches!(self, DeliveryStatus::Pending | DeliveryStatus::Retrying)
    }
}

impl fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One (recipient, channel) of a notice and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryState {
    /// The administrator, address or URL.
    pub recipient: String,
    /// The channel.
    pub channel: Channel,
    /// Where the delivery stands.
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// When a `retrying` delivery is tried next.
    pub next_attempt_at: Option<OffsetDateTime>,
    /// Why the last attempt failed (`retrying`, `dead`).
    pub last_error: Option<String>,
}

impl DeliveryState {
    /// A delivery as the sweep plans it, before any attempt.
    pub fn planned(recipient: &str, channel: Channel, status: DeliveryStatus) -> Self {
        Self {
            recipient: recipient.to_owned(),
            channel,
            status,
            attempts: u32::from(status == DeliveryStatus::Sent),
            next_attempt_at: None,
            last_error: None,
        }
    }
}

/// Why a delivery attempt failed, as the notifier saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryFailure {
    /// What went wrong, for the log.
    pub reason: String,
    /// Retrying cannot help (e.g. the address was rejected as nonexistent).
    pub permanent: bool,
}

/// Exponential backoff with jitter and a bounded number of tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait before the second attempt.
    pub first_delay: Duration,
    /// The longest wait between attempts.
    pub max_delay: Duration,
    /// Attempts before a delivery is dead.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    /// 30 s, 1 min, 2 min, … capped at 1 h; dead after 10 attempts (about 6 hours).
    fn default() -> Self {
        Self {
            first_delay: Duration::seconds(30),
            max_delay: Duration::hours(1),
            max_attempts: 10,
        }
    }
}

impl RetryPolicy {
    /// When to try again after `attempts_made` failed attempts, or `None` when the delivery
    /// is dead. `jitter` in `[0, 1)` spreads retries of many deliveries apart: the delay is
    /// drawn from `[backoff / 2, backoff)`.
    pub fn next_attempt(
        &self,
        attempts_made: u32,
        failed_at: OffsetDateTime,
        jitter: f64,
    ) -> Option<OffsetDateTime> {
        if attempts_made >= self.max_attempts {
            return None;
        }
        let doublings = attempts_made.saturating_sub(1).min(30);
        let backoff = self
            .first_delay
            .saturating_mul(1_i32 << doublings)
            .min(self.max_delay);
        let jitter = jitter.clamp(0.0, 1.0);
        Some(failed_at + backoff * (0.5 + jitter / 2.0))
    }

    /// The outcome of an attempt made at `now` after `attempts_made` earlier ones: `sent`,
    /// `retrying` with the next attempt's time, or `dead` after the last try or a permanent
    /// failure.
    pub fn outcome(
        &self,
        attempts_made: u32,
        result: Result<(), &DeliveryFailure>,
        now: OffsetDateTime,
        jitter: f64,
    ) -> DeliveryOutcome {
        let attempts = attempts_made.saturating_add(1);
        let failure = match result {
            Ok(()) => {
                return DeliveryOutcome {
                    status: DeliveryStatus::Sent,
                    attempts,
                    next_attempt_at: None,
                    last_error: None,
                };
            }
            Err(failure) => failure,
        };
        let next_attempt_at = if failure.permanent {
            None
        } else {
            self.next_attempt(attempts, now, jitter)
        };
        DeliveryOutcome {
            status: if next_attempt_at.is_some() {
                DeliveryStatus::Retrying
            } else {
                DeliveryStatus::Dead
            },
            attempts,
            next_attempt_at,
            last_error: Some(failure.reason.clone()),
        }
    }
}
