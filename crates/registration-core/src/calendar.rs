//! The iCalendar feed (SPEC 13): per administrator and site, a secret URL that calendars
//! subscribe to, with one all-day event per registration on its last valid day. What the
//! feed holds is decided here; the text format is the adapter's.

use std::fmt;

use time::{Date, Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::admin::{AdminName, TokenDigest};
use crate::console::FactFilter;
use crate::error::Error;
use crate::secret::{ClientId, check_checksummed_token, checksummed_token};
use crate::site::{Site, SiteSlug};
use crate::values::{ExpirationDate, RegistrationName};

/// The secret part of a feed URL: `appregcal_` + 43 random base62 characters + a 6-character
/// checksum, like the other tokens. Stored only as its SHA-256 ([`TokenDigest`]).
pub struct FeedToken(Zeroizing<String>);

impl FeedToken {
    /// What every feed token starts with (secret scanners look for it).
    pub const PREFIX: &'static str = "appregcal_";

    /// A new token from `random`.
    pub fn generate(random: &dyn crate::sources::RandomSource) -> Result<Self, Error> {
        checksummed_token(Self::PREFIX, random).map(Self)
    }

    /// Checks the prefix, length, alphabet and checksum of a presented token.
    pub fn parse(presented: &str) -> Result<Self, Error> {
        check_checksummed_token(Self::PREFIX, presented)?;
        Ok(Self(Zeroizing::new(presented.to_owned())))
    }

    /// The token in clear: shown once, in the feed URL, never stored.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// The SHA-256 digest under which the token is stored and looked up.
    pub fn digest(&self) -> TokenDigest {
        TokenDigest::of(&self.0)
    }
}

impl fmt::Debug for FeedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FeedToken(<redacted>)")
    }
}

/// A feed as stored: whose, for which site, under which token digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarFeed {
    /// The administrator it was issued to.
    pub username: AdminName,
    /// The site whose registrations it lists.
    pub site: SiteSlug,
    /// The SHA-256 of its token.
    pub digest: TokenDigest,
    /// When it was issued.
    pub created_at: OffsetDateTime,
}

/// How far the feed looks back: a registration that expired within this many days stays on
/// the calendar, so the day it lapsed is still there to see.
pub const FEED_DAYS_BEHIND: i64 = 30;
/// How far the feed looks ahead. Registrations further out appear as they come within it
/// (calendars refresh the feed).
pub const FEED_DAYS_AHEAD: i64 = 366;
/// The alarms on each event, in days before its last valid day: SPEC 5's two warnings.
pub const ALARM_DAYS_BEFORE: [i64; 2] = [30, 7];

/// The stored facts of a site's registrations on its feed, for a site whose today is
/// `today`: enabled (a disabled one neither authenticates nor gets notices), last valid day
/// from [`FEED_DAYS_BEHIND`] days ago to [`FEED_DAYS_AHEAD`] days ahead.
pub fn feed_facts(today: Date) -> FactFilter {
    let day = |offset: i64| ExpirationDate::from_date(today.saturating_add(Duration::days(offset)));
    FactFilter {
        enabled: Some(true),
        expires_on_or_after: Some(day(-FEED_DAYS_BEHIND)),
        expires_on_or_before: Some(day(FEED_DAYS_AHEAD)),
    }
}

/// The facts of a registration a calendar feed shows: all it reads of each row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiryEntry {
    /// The Client ID.
    pub client_id: ClientId,
    /// The display name.
    pub name: RegistrationName,
    /// The last valid day.
    pub expiration_date: ExpirationDate,
}

/// One all-day event: a registration's last valid day. Never a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEvent {
    /// Stable per registration and expiration date (SPEC 13): `{client_id}-{date}@{host}`.
    /// A renewal is a new date and so a new event; the old one leaves the feed with it.
    pub uid: String,
    /// The registration's last valid day (site time): the all-day event's date.
    pub last_valid_day: Date,
    /// The registration's name.
    pub name: String,
    /// Its Client ID.
    pub client_id: ClientId,
    /// The instant it stops authenticating, shown with the site's zone.
    pub expires_at: String,
    /// Its console page.
    pub console_url: String,
    /// Alarms, in days before the event.
    pub alarm_days_before: [i64; 2],
}

impl CalendarEvent {
    /// The events of `entries` of `site`, in their order; `public_url` is where the console
    /// is reached (its host names the UIDs).
    pub fn all_of(entries: &[ExpiryEntry], site: &Site, public_url: &str) -> Vec<Self> {
        let base = public_url.trim_end_matches('/');
        let host = url::Url::parse(base)
            .ok()
            .and_then(|url| url.host_str().map(str::to_owned))
            .unwrap_or_else(|| "appreg".to_owned());
        entries
            .iter()
            .map(|entry| Self::of(entry, site, base, &host))
            .collect()
    }

    fn of(entry: &ExpiryEntry, site: &Site, base: &str, host: &str) -> Self {
        let expires_at = crate::status::expiry_instant(entry.expiration_date, site.zone);
        Self {
            uid: format!("{}-{}@{host}", entry.client_id, entry.expiration_date),
            last_valid_day: entry.expiration_date.date(),
            name: entry.name.to_string(),
            client_id: entry.client_id.clone(),
            expires_at: site.zone.display_local(expires_at),
            console_url: format!(
                "{base}/sites/{}/app-registrations/{}",
                site.slug, entry.client_id
            ),
            alarm_days_before: ALARM_DAYS_BEFORE,
        }
    }
}
