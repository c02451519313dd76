//! The registration's value types: identity, name, expiration date and rejection counts. A
//! leaf module, so the schedule, the status, rotation and the stores use them without
//! depending on the aggregate.

use std::fmt;

use time::{Date, OffsetDateTime, macros::format_description};
use uuid::Uuid;

use crate::error::Error;
use crate::site::parse_display_text;
use crate::sources::{RandomSource, random_uuid};

/// Internal, immutable identity of a registration (notices refer to it; survives renames).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegistrationId(Uuid);

impl RegistrationId {
    /// A random (version 4) UUID from `random`.
    pub fn generate(random: &dyn RandomSource) -> Result<Self, Error> {
        random_uuid(random).map(Self)
    }

    /// An ID as stored.
    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// Parses the hyphenated UUID text `Display` writes.
    pub fn parse(text: &str) -> Option<Self> {
        Uuid::try_parse(text).ok().map(Self)
    }

    /// The UUID, for storing.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for RegistrationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// 1–100 characters after trimming, no control characters. Unique per site, ignoring case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationName(String);

impl RegistrationName {
    /// The longest name accepted.
    pub const MAX_CHARS: usize = 100;

    /// 1–100 characters after trimming, no control characters.
    pub fn parse(text: &str) -> Result<Self, Error> {
        parse_display_text(text, "name", Self::MAX_CHARS).map(Self)
    }

    /// The name as typed (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key under which names must be unique within a site (case-insensitive).
    pub fn unique_key(&self) -> String {
        self.0.to_lowercase()
    }
}

impl fmt::Display for RegistrationName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The last calendar date, in the site's zone, on which a registration authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExpirationDate(Date);

impl ExpirationDate {
    /// Parses `YYYY-MM-DD` strictly (four-digit year, zero-padded month and day, a real date).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let format = format_description!("[year repr:full base:calendar]-[month]-[day]");
        if text.len() != 10 {
            return Err(Error::MalformedDate);
        }
        Date::parse(text, &format)
            .map(Self)
            .map_err(|_| Error::MalformedDate)
    }

    /// A calendar date as an expiration date (no range check: see
    /// `check_settable_expiration_date`).
    pub fn from_date(date: Date) -> Self {
        Self(date)
    }

    /// The calendar date.
    pub fn date(self) -> Date {
        self.0
    }
}

impl fmt::Display for ExpirationDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How many token requests were refused because the registration was expired or disabled.
/// Reset when the registration is renewed, so it counts "since expiry" of the current date.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rejections {
    /// Refused token requests since the current expiry.
    pub count: u64,
    /// The latest of them, if any.
    pub last: Option<OffsetDateTime>,
}
