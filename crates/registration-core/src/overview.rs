//! The expiry overview (SPEC 13): which registrations expire within a window of days, or
//! have expired, across sites.

use time::{Date, Duration};

use crate::error::Error;
use crate::values::ExpirationDate;

/// How far ahead the overview looks: registrations whose last valid day is at most this many
/// days after today (site time), and every expired one. 30 days unless chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExpiryWindow(u16);

impl ExpiryWindow {
    /// The window when none is chosen: the Expiring30 state's.
    pub const DEFAULT: Self = Self(30);
    /// The widest window: ten years, the longest an expiration date may be ahead by default.
    pub const MAX_DAYS: u16 = 3660;

    /// A window of `days` days, 0 (today and expired) to [`Self::MAX_DAYS`].
    pub fn days(days: i64) -> Result<Self, Error> {
        u16::try_from(days)
            .ok()
            .filter(|days| *days <= Self::MAX_DAYS)
            .map(Self)
            .ok_or(Error::InvalidWindow {
                max_days: Self::MAX_DAYS,
            })
    }

    /// Reads a whole number of days.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::InvalidWindow {
                max_days: Self::MAX_DAYS,
            });
        }
        // More digits than fit are past the maximum anyway.
        Self::days(text.parse().unwrap_or(i64::MAX))
    }

    /// The number of days.
    pub fn as_days(self) -> u16 {
        self.0
    }

    /// The last expiration date in the window on a site whose today is `today`: the
    /// overview lists the enabled registrations (a disabled one neither authenticates nor
    /// gets notices) with an expiration date on or before it.
    pub fn last_day(self, today: Date) -> ExpirationDate {
        ExpirationDate::from_date(today.saturating_add(Duration::days(i64::from(self.0))))
    }
}

impl Default for ExpiryWindow {
    fn default() -> Self {
        Self::DEFAULT
    }
}
