//! Secret rotation with overlap (SPEC 12): a registration keeps its Client ID and holds its
//! current secret and, after a rotation, the previous one, which authenticates until its
//! overlap ends and is then kept (as a hash) only to count who still presents it.

use std::fmt;

use time::{Duration, OffsetDateTime};

use crate::error::Error;
use crate::secret::{ClientSecret, SecretHash, SecretHint};
use crate::site::SiteZone;
use crate::values::Rejections;

/// One of a registration's secrets as stored: its argon2id hash, never the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSecret {
    /// argon2id hash of the secret.
    pub hash: SecretHash,
    /// Its last four characters, to tell secrets apart.
    pub hint: SecretHint,
    /// When it was issued (created or rotated in).
    pub created_at: OffsetDateTime,
    /// The latest token issued against it, if any.
    pub last_used: Option<OffsetDateTime>,
}

/// The secret a rotation replaced. It authenticates until `expires_at`; afterwards a request
/// that presents it is refused like any wrong secret and counted in `rejections`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousSecret {
    /// The secret itself, as stored.
    pub secret: StoredSecret,
    /// The instant it stops authenticating: the end of the overlap, never after the
    /// registration's expiry instant at the time of the rotation.
    pub expires_at: OffsetDateTime,
    /// Token requests that presented it after `expires_at`.
    pub rejections: Rejections,
}

impl PreviousSecret {
    /// Whether it still authenticates at `now` (the registration's own state aside).
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        now < self.expires_at
    }

    /// Whether consumers still present it after it stopped, in site time: "old secret still
    /// presented: 3 times, last 2026-12-02 09:00", or "old secret not presented since".
    pub fn presented_summary(&self, zone: SiteZone) -> String {
        match self.rejections.last {
            Some(last) => format!(
                "old secret still presented: {} {}, last {}",
                self.rejections.count,
                if self.rejections.count == 1 {
                    "time"
                } else {
                    "times"
                },
                zone.local_minute(last)
            ),
            None => "old secret not presented since".to_owned(),
        }
    }
}

/// Which of a registration's secrets a presented secret can be. The two stored secrets
/// always have different hints (a rotation draws until they do), so the presented secret's
/// own last four characters select the one hash it is verified against: every request costs
/// exactly one argon2 verification, as for a registration with one secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretSlot {
    /// The current secret.
    Current,
    /// The previous secret, live or not.
    Previous,
}

/// What verification found a presented secret to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretMatch {
    /// Not one of the registration's secrets (or no such registration, or malformed).
    None,
    /// The current secret.
    Current,
    /// The previous secret, within its overlap.
    Previous,
    /// The previous secret after its overlap ended: refused as a wrong secret, counted.
    Retired,
}

impl SecretMatch {
    /// Whether the presented secret authenticates (the registration's state aside).
    pub fn is_live(self) -> bool {
        matches!(self, Self::Current | Self::Previous)
    }

    /// The slot the presented secret matched, live or not.
    pub fn slot(self) -> Option<SecretSlot> {
        match self {
            Self::None => None,
            Self::Current => Some(SecretSlot::Current),
            Self::Previous | Self::Retired => Some(SecretSlot::Previous),
        }
    }
}

/// How long the previous secret keeps authenticating after a rotation: 0 (retired at once)
/// to 90 days; 7 days unless chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SecretOverlap(Duration);

impl SecretOverlap {
    /// The overlap when none is chosen.
    pub const DEFAULT: Self = Self(Duration::days(7));
    /// The longest overlap accepted.
    pub const MAX: Self = Self(Duration::days(90));

    /// An overlap of `duration`: refused when negative or longer than [`Self::MAX`].
    pub fn new(duration: Duration) -> Result<Self, Error> {
        if duration.is_negative() {
            return Err(Error::InvalidOverlap);
        }
        if duration > Self::MAX.0 {
            return Err(Error::OverlapTooLong {
                max_days: Self::MAX.0.whole_days(),
            });
        }
        Ok(Self(duration))
    }

    /// Reads `0` or a whole number with a unit: `90d`, `36h`, `15m`, `30s`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        if text == "0" {
            return Ok(Self(Duration::ZERO));
        }
        let split = text.len().saturating_sub(1);
        let (number, unit) = text.split_at_checked(split).ok_or(Error::InvalidOverlap)?;
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::InvalidOverlap);
        }
        // Anything longer than nine digits is past the maximum in every unit.
        let count: i64 = if number.len() > 9 {
            i64::MAX
        } else {
            number.parse().map_err(|_| Error::InvalidOverlap)?
        };
        let seconds_per_unit = match unit {
            "d" => 86_400,
            "h" => 3_600,
            "m" => 60,
            "s" => 1,
            _ => return Err(Error::InvalidOverlap),
        };
        Self::new(Duration::seconds(count.saturating_mul(seconds_per_unit)))
    }

    /// The length of the overlap.
    pub fn duration(self) -> Duration {
        self.0
    }
}

impl Default for SecretOverlap {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for SecretOverlap {
    /// The largest unit that divides it: `7d`, `36h`, `90m`, `45s`, or `0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.0.whole_seconds();
        match seconds {
            0 => f.write_str("0"),
            s if s % 86_400 == 0 => write!(f, "{}d", s / 86_400),
            s if s % 3_600 == 0 => write!(f, "{}h", s / 3_600),
            s if s % 60 == 0 => write!(f, "{}m", s / 60),
            s => write!(f, "{s}s"),
        }
    }
}

/// The slot a presented secret selects: the previous one iff its hint is the previous
/// secret's. Hints are not secret (administrators see them), so a plain comparison is fine.
pub(crate) fn slot_for(presented: &ClientSecret, previous: Option<&PreviousSecret>) -> SecretSlot {
    match previous {
        // A hint is a secret's last four characters: compared in place, on every request.
        Some(previous)
            if presented
                .expose_secret()
                .ends_with(previous.secret.hint.as_str()) =>
        {
            SecretSlot::Previous
        }
        _ => SecretSlot::Current,
    }
}
