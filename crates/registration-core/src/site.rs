//! Sites and their time zones. All calendar arithmetic goes through [`SiteZone`].

use std::fmt;

use time::{Date, Duration, OffsetDateTime, Time, UtcOffset};

use crate::error::Error;

/// `[a-z0-9-]{1,40}`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SiteSlug(String);

impl SiteSlug {
    /// Parses `[a-z0-9-]{1,40}`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let well_formed = (1..=40).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if well_formed {
            Ok(Self(text.to_owned()))
        } else {
            Err(Error::InvalidSiteSlug)
        }
    }

    /// The site every fresh database starts with.
    pub fn default_site() -> Self {
        Self("default".to_owned())
    }

    /// The slug as in URLs.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SiteSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SiteSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SiteSlug({})", self.0)
    }
}

/// Trims `text` and checks it is 1..=`max` characters with no control characters.
pub(crate) fn parse_display_text(
    text: &str,
    field: &'static str,
    max: usize,
) -> Result<String, Error> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(Error::EmptyText { field });
    }
    if trimmed.chars().count() > max {
        return Err(Error::TextTooLong { field, max });
    }
    if trimmed.chars().any(char::is_control) {
        return Err(Error::ControlCharacter { field });
    }
    Ok(trimmed.to_owned())
}

/// A site's display name: 1–100 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteName(String);

impl SiteName {
    /// 1–100 characters without control characters.
    pub fn parse(text: &str) -> Result<Self, Error> {
        parse_display_text(text, "site name", 100).map(Self)
    }

    /// The name as shown.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IANA time zone from the bundled tz database (see docs/decisions/0001-time-semantics.md).
#[derive(Clone, Copy)]
pub struct SiteZone {
    name: &'static str,
    zone: tz::TimeZoneRef<'static>,
}

impl SiteZone {
    /// Resolves an IANA name, case-insensitively, to its canonical spelling.
    pub fn parse(name: &str) -> Result<Self, Error> {
        let unknown = || Error::UnknownTimeZone(name.to_owned());
        let canonical = tzdb::TZ_NAMES
            .iter()
            .find(|candidate| candidate.eq_ignore_ascii_case(name))
            .ok_or_else(unknown)?;
        let zone = tzdb::tz_by_name(canonical).ok_or_else(unknown)?;
        Ok(Self {
            name: canonical,
            zone,
        })
    }

    /// Coordinated Universal Time.
    pub fn utc() -> Self {
        Self::parse("UTC").unwrap_or_else(|_| unreachable!("UTC is in every tz database"))
    }

    /// The IANA name, e.g. `Europe/Berlin`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The zone's offset from UTC at `instant`.
    pub fn offset_at(&self, instant: OffsetDateTime) -> UtcOffset {
        // The bundled zones resolve every instant `time` can represent (tested in
        // `every_zone_resolves_the_whole_calendar`); UTC is only a formal fallback.
        self.zone
            .find_local_time_type(instant.unix_timestamp())
            .ok()
            .and_then(|local| UtcOffset::from_whole_seconds(local.ut_offset()).ok())
            .unwrap_or(UtcOffset::UTC)
    }

    /// `instant` seen on a wall clock in this zone.
    pub fn local(&self, instant: OffsetDateTime) -> OffsetDateTime {
        instant.to_offset(self.offset_at(instant))
    }

    /// `instant` as people read it in this zone: `2026-03-16 00:00 Europe/Berlin`.
    pub fn display_local(&self, instant: OffsetDateTime) -> String {
        format!("{} {}", self.local_minute(instant), self.name)
    }

    /// `instant` to the minute in this zone, without the zone: `2026-03-16 00:00` (for tables
    /// that name the zone once).
    pub fn local_minute(&self, instant: OffsetDateTime) -> String {
        let local = self.local(instant);
        format!("{} {:02}:{:02}", local.date(), local.hour(), local.minute())
    }

    /// The site-local calendar date at `instant`.
    pub fn date_at(&self, instant: OffsetDateTime) -> Date {
        self.local(instant).date()
    }

    /// The first instant whose local date is `date` or later (in UTC).
    ///
    /// Usually local midnight. Where a DST gap swallows midnight (e.g. America/Santiago) it is
    /// the moment of the transition; where midnight happens twice, the earlier one.
    pub fn start_of_day(&self, date: Date) -> OffsetDateTime {
        let naive_midnight = date.with_time(Time::MIDNIGHT).assume_utc();
        // Offsets in force a day and a half around midnight cover any transition near it.
        [Duration::hours(-36), Duration::ZERO, Duration::hours(36)]
            .into_iter()
            .filter_map(|shift| naive_midnight.checked_add(shift))
            .map(|probe| self.offset_at(probe))
            .filter_map(|offset| {
                let candidate = date.with_time(Time::MIDNIGHT).assume_offset(offset);
                (self.date_at(candidate) == date).then_some(candidate)
            })
            .min()
            .map_or_else(
                || self.first_instant_of_date_by_search(date, naive_midnight),
                |instant| instant.to_offset(UtcOffset::UTC),
            )
    }

    /// Fallback for a gap that starts before midnight and ends after it (or a date a zone
    /// skipped): the earliest instant in a 2-day window whose local date is `date` or later,
    /// by bisection over whole seconds, the resolution of tz transitions.
    fn first_instant_of_date_by_search(
        &self,
        date: Date,
        naive_midnight: OffsetDateTime,
    ) -> OffsetDateTime {
        let at = |unix: i64| OffsetDateTime::from_unix_timestamp(unix).unwrap_or(naive_midnight);
        let day = Duration::DAY.whole_seconds();
        let mut before = naive_midnight.unix_timestamp() - day;
        let mut at_or_after = naive_midnight.unix_timestamp() + day;
        while at_or_after - before > 1 {
            let middle = before + (at_or_after - before) / 2;
            if self.date_at(at(middle)) >= date {
                at_or_after = middle;
            } else {
                before = middle;
            }
        }
        at(at_or_after)
    }
}

impl fmt::Debug for SiteZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SiteZone({})", self.name)
    }
}

impl PartialEq for SiteZone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for SiteZone {}

/// Per-site rules an administrator may relax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SitePolicy {
    /// How far ahead an expiration date may be set, in calendar years from today.
    pub max_years_ahead: u8,
}

impl Default for SitePolicy {
    fn default() -> Self {
        Self {
            max_years_ahead: 10,
        }
    }
}

/// A site of the multi-site product. Every registration belongs to exactly one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// The site's identity, in URLs.
    pub slug: SiteSlug,
    /// The display name.
    pub name: SiteName,
    /// The zone its calendar dates are in.
    pub zone: SiteZone,
    /// Its rules for expiration dates.
    pub policy: SitePolicy,
}

impl Site {
    /// The site-local date at `now`.
    pub fn today(&self, now: OffsetDateTime) -> Date {
        self.zone.date_at(now)
    }
}
