//! The derived state of a registration (SPEC section 4). Nothing here is stored: every value
//! is computed from the expiration date, the Enabled flag, the site's zone and `now`.

use std::fmt;

use time::{Date, OffsetDateTime};

use crate::site::SiteZone;
use crate::values::ExpirationDate;

/// Where a registration stands. `Disabled` takes precedence over every date-based state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum State {
    /// More than 30 days left.
    Active,
    /// 30 to 8 days left.
    Expiring30,
    /// 7 days left to the last day.
    Expiring7,
    /// Past the last day: refused.
    Expired,
    /// Switched off by an administrator: refused, whatever the date.
    Disabled,
}

impl State {
    /// `days_left` is `expiration_date − today` in the site's zone.
    pub fn derive(enabled: bool, days_left: i64) -> Self {
        match days_left {
            _ if !enabled => State::Disabled,
            i64::MIN..=-1 => State::Expired,
            0..=7 => State::Expiring7,
            8..=30 => State::Expiring30,
            _ => State::Active,
        }
    }

    /// The registration may obtain tokens.
    pub fn can_authenticate(self) -> bool {
        matches!(self, State::Active | State::Expiring30 | State::Expiring7)
    }

    /// The stable wire name (`active`, `expiring_30`, `expiring_7`, `expired`, `disabled`).
    pub fn as_str(self) -> &'static str {
        match self {
            State::Active => "active",
            State::Expiring30 => "expiring_30",
            State::Expiring7 => "expiring_7",
            State::Expired => "expired",
            State::Disabled => "disabled",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The grid's "Expires" column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiresLabel {
    /// Two or more days left.
    InDays(i64),
    /// One day left.
    InOneDay,
    /// The expiration date is today: the last day it authenticates.
    Today,
    /// Past the last day.
    Expired,
}

impl ExpiresLabel {
    /// The label for `days_left` (negative once expired).
    pub fn from_days_left(days_left: i64) -> Self {
        match days_left {
            i64::MIN..=-1 => ExpiresLabel::Expired,
            0 => ExpiresLabel::Today,
            1 => ExpiresLabel::InOneDay,
            n => ExpiresLabel::InDays(n),
        }
    }
}

impl fmt::Display for ExpiresLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpiresLabel::InDays(n) => write!(f, "In {n} days"),
            ExpiresLabel::InOneDay => f.write_str("In 1 day"),
            ExpiresLabel::Today => f.write_str("Today"),
            ExpiresLabel::Expired => f.write_str("Expired"),
        }
    }
}

/// Whole days from the site-local date at `now` to `expiration_date` (negative once past).
pub fn days_left(expiration_date: ExpirationDate, zone: SiteZone, now: OffsetDateTime) -> i64 {
    (expiration_date.date() - zone.date_at(now)).whole_days()
}

/// The instant a registration stops authenticating: the start of the day after its
/// expiration date, site time (docs/decisions/0001-time-semantics.md).
pub fn expiry_instant(expiration_date: ExpirationDate, zone: SiteZone) -> OffsetDateTime {
    zone.start_of_day(expiration_date.date().next_day().unwrap_or(Date::MAX))
}

/// Everything derived about a registration at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// The derived state.
    pub state: State,
    /// Days until the expiration date in the site's zone (negative once past).
    pub days_left: i64,
    /// The grid's Expires label.
    pub expires: ExpiresLabel,
    /// In UTC; render it in the site's zone with [`SiteZone::local`].
    pub expires_at: OffsetDateTime,
}

impl Status {
    /// The status of a registration with these facts at `now`.
    pub fn at(
        expiration_date: ExpirationDate,
        enabled: bool,
        zone: SiteZone,
        now: OffsetDateTime,
    ) -> Self {
        let days_left = days_left(expiration_date, zone, now);
        Self {
            state: State::derive(enabled, days_left),
            days_left,
            expires: ExpiresLabel::from_days_left(days_left),
            expires_at: expiry_instant(expiration_date, zone),
        }
    }
}
