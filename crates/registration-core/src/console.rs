//! What the admin console needs from the domain: sign-in sessions, the registration grid's
//! query, and the API client alert banners (SPEC section 6).

use std::fmt;

use sha2::{Digest, Sha256};
use time::{Date, Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::admin::{AdminName, TokenDigest};
use crate::error::Error;
use crate::secret::{
    ClientId, ClientSecret, check_checksummed_token, checksummed_token, hex, unhex,
};
use crate::sources::RandomSource;
use crate::status::State;
use crate::values::{ExpirationDate, RegistrationName};

/// How long a console sign-in lasts, however active the administrator is.
pub const SESSION_LIFETIME: Duration = Duration::hours(8);

/// The console's session cookie value: `appregsess_` + 43 base62 + 6 base62 of CRC32.
/// Stored only as its SHA-256 digest, like API tokens.
pub struct SessionToken(Zeroizing<String>);

impl SessionToken {
    /// What every session token starts with.
    pub const PREFIX: &'static str = "appregsess_";

    /// A new session token from `random`.
    pub fn generate(random: &dyn RandomSource) -> Result<Self, Error> {
        checksummed_token(Self::PREFIX, random).map(Self)
    }

    /// Checks the prefix, length, alphabet and checksum of a presented session token.
    pub fn parse(presented: &str) -> Result<Self, Error> {
        check_checksummed_token(Self::PREFIX, presented)?;
        Ok(Self(Zeroizing::new(presented.to_owned())))
    }

    /// The token in clear: the cookie's value, never stored.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// The SHA-256 digest under which the session is stored.
    pub fn digest(&self) -> TokenDigest {
        TokenDigest::of(&self.0)
    }

    /// The CSRF token of this session's forms: derived from the session token, so it needs
    /// no storage, and unguessable by a page that cannot read the (HttpOnly) cookie.
    pub fn csrf_token(&self) -> String {
        hex(&Sha256::digest(
            format!("appreg-csrf:{}", self.expose_secret()).as_bytes(),
        ))
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

/// A signed-in console session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    /// The digest of the session token.
    pub digest: TokenDigest,
    /// The administrator signed in.
    pub username: AdminName,
    /// When the session started.
    pub created_at: OffsetDateTime,
    /// When the session ends, however active it is.
    pub expires_at: OffsetDateTime,
}

/// How long a just-created Client secret waits for its one showing in the console.
pub const REVEAL_LIFETIME: Duration = Duration::minutes(10);

/// The store's half of a one-time secret reveal: random bytes as long as the secret. The
/// browser holds the other half, the secret masked with these bytes (a one-time pad), so
/// neither the database nor the cookie alone tells anything about the secret, taking the pad
/// from the store makes the cookie worthless, and any `serve` node can show the secret.
pub struct RevealPad(Zeroizing<Vec<u8>>);

impl RevealPad {
    /// A pad as a store kept it.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The pad's bytes, for a store to keep.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// A fresh pad for `secret`, and `secret` masked with it in hexadecimal (the browser's
    /// half).
    pub fn seal(secret: &ClientSecret, random: &dyn RandomSource) -> Result<(Self, String), Error> {
        let mut pad = Zeroizing::new(vec![0u8; secret.expose_secret().len()]);
        random.fill_bytes(&mut pad)?;
        let masked = xor(secret.expose_secret().as_bytes(), &pad);
        Ok((Self(pad), hex(&masked)))
    }

    /// The secret that `masked` hides, or `None` when `masked` was not made with this pad.
    pub fn open(&self, masked: &str) -> Option<ClientSecret> {
        let masked = unhex(masked)?;
        if masked.len() != self.0.len() {
            return None;
        }
        let clear = xor(&masked, &self.0);
        // A wrong pad or a tampered cookie yields bytes that fail the secret's checksum.
        ClientSecret::parse(std::str::from_utf8(&clear).ok()?).ok()
    }
}

/// `text` XOR `pad`, byte by byte (both of one length): masks and unmasks alike.
fn xor(text: &[u8], pad: &[u8]) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(text.iter().zip(pad).map(|(byte, key)| byte ^ key).collect())
}

impl fmt::Debug for RevealPad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RevealPad(<redacted>)")
    }
}

/// A reveal pad as stored: for one console session and one registration, until it expires.
#[derive(Debug)]
pub struct PendingReveal {
    /// The session that created the registration (only it can reveal the secret).
    pub session: TokenDigest,
    /// The created registration's Client ID.
    pub client_id: ClientId,
    /// The store's half of the sealed secret.
    pub pad: RevealPad,
    /// When the secret was sealed.
    pub created_at: OffsetDateTime,
    /// When the secret page stops working.
    pub expires_at: OffsetDateTime,
}

/// The grid's columns that it can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// The registration's name (case-insensitive).
    Name,
    /// The Client ID.
    ClientId,
    /// When the registration was created.
    RegistrationDate,
    /// Enabled before disabled, or the reverse.
    Enabled,
    /// Last used; never used sorts first.
    LastUsed,
    /// The expiration date.
    ExpirationDate,
}

impl SortKey {
    /// Every sort key, in the grid's column order.
    pub const ALL: [SortKey; 6] = [
        SortKey::Name,
        SortKey::ClientId,
        SortKey::RegistrationDate,
        SortKey::Enabled,
        SortKey::LastUsed,
        SortKey::ExpirationDate,
    ];

    /// The name in URLs and the admin API's `sort=`.
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::ClientId => "client_id",
            SortKey::RegistrationDate => "registration_date",
            SortKey::Enabled => "enabled",
            SortKey::LastUsed => "last_used",
            SortKey::ExpirationDate => "expiration_date",
        }
    }

    /// The key named by [`as_str`](Self::as_str), if any.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|key| key.as_str() == text)
    }
}

/// The grid's state filter: the states administrators look for, as SPEC 4 derives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateFilter {
    /// Enabled and expiring within 30 days (`expiring_30` and `expiring_7`).
    Expiring,
    /// Enabled and past its last day.
    Expired,
    /// Switched off, whatever its date.
    Disabled,
}

impl StateFilter {
    /// Every filter, in the grid's order (after "All").
    pub const ALL: [StateFilter; 3] = [
        StateFilter::Expiring,
        StateFilter::Expired,
        StateFilter::Disabled,
    ];

    /// The name in URLs, the admin API's `state=` and `reg list --state`.
    pub fn as_str(self) -> &'static str {
        match self {
            StateFilter::Expiring => "expiring",
            StateFilter::Expired => "expired",
            StateFilter::Disabled => "disabled",
        }
    }

    /// The filter named by [`as_str`](Self::as_str), if any.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|filter| filter.as_str() == text)
    }

    /// Whether a registration in `state` belongs here.
    pub fn matches(self, state: State) -> bool {
        match self {
            StateFilter::Expiring => matches!(state, State::Expiring30 | State::Expiring7),
            StateFilter::Expired => state == State::Expired,
            StateFilter::Disabled => state == State::Disabled,
        }
    }

    /// The same filter as stored facts, on the site's `today`: what a store can query
    /// (states are derived, never stored).
    pub fn facts(self, today: Date) -> FactFilter {
        let day =
            |offset: i64| ExpirationDate::from_date(today.saturating_add(Duration::days(offset)));
        match self {
            StateFilter::Expiring => FactFilter {
                enabled: Some(true),
                expires_on_or_after: Some(day(0)),
                expires_on_or_before: Some(day(30)),
            },
            StateFilter::Expired => FactFilter {
                enabled: Some(true),
                expires_on_or_after: None,
                expires_on_or_before: Some(day(-1)),
            },
            StateFilter::Disabled => FactFilter {
                enabled: Some(false),
                ..FactFilter::default()
            },
        }
    }
}

/// A filter on a registration's stored facts; every bound is inclusive and `None` does not
/// filter. The default matches every registration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FactFilter {
    /// Only enabled (`true`) or only disabled (`false`) registrations.
    pub enabled: Option<bool>,
    /// Only expiration dates on or after this one.
    pub expires_on_or_after: Option<ExpirationDate>,
    /// Only expiration dates on or before this one.
    pub expires_on_or_before: Option<ExpirationDate>,
}

impl FactFilter {
    /// Whether a registration with these facts passes.
    pub fn matches(&self, enabled: bool, expiration_date: ExpirationDate) -> bool {
        self.enabled.is_none_or(|wanted| wanted == enabled)
            && self
                .expires_on_or_after
                .is_none_or(|from| expiration_date >= from)
            && self
                .expires_on_or_before
                .is_none_or(|until| expiration_date <= until)
    }
}

/// One page of a site's registrations: filtered, ordered, cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Case-insensitive substring of the name or the Client ID; `None` lists everything.
    pub search: Option<String>,
    /// Only registrations with these facts (a state filter, resolved by the service).
    pub filter: FactFilter,
    /// The column to sort by; ties are broken by Client ID.
    pub sort: SortKey,
    /// Descending instead of ascending (ties too).
    pub descending: bool,
    /// Registrations to skip.
    pub offset: u64,
    /// Registrations to return at most.
    pub limit: u32,
}

impl ListQuery {
    /// What a store looks for in the lower-case name key and Client ID: the trimmed search
    /// in the form a name's unique key takes (lower case), or `None` when there is nothing
    /// to look for.
    pub fn search_needle(&self) -> Option<String> {
        self.search
            .as_deref()
            .map(str::trim)
            .filter(|needle| !needle.is_empty())
            .map(|needle| {
                RegistrationName::parse(needle)
                    .map_or_else(|_| needle.to_lowercase(), |name| name.unique_key())
            })
    }

    /// The first `limit` registrations by name.
    pub fn by_name(limit: u32) -> Self {
        Self {
            search: None,
            filter: FactFilter::default(),
            sort: SortKey::Name,
            descending: false,
            offset: 0,
            limit,
        }
    }
}

/// Which banner a registration shows at the top of every console page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BannerKind {
    /// Red, `data-banner="api-client-alert"`: expired and still enabled.
    Alert,
    /// Amber, `data-banner="api-client-warning"`: expiring, and the template of its notice
    /// kind has the banner setting `warning`.
    Warning,
}

impl BannerKind {
    /// `alert` or `warning`, as the API and the console name them.
    pub fn as_str(self) -> &'static str {
        match self {
            BannerKind::Alert => "alert",
            BannerKind::Warning => "warning",
        }
    }
}

/// One banner, with what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Banner {
    /// Red alert or amber warning.
    pub kind: BannerKind,
    /// The registration's name.
    pub registration_name: String,
    /// The registration's Client ID.
    pub client_id: ClientId,
    /// The registration's expiration date.
    pub expiration_date: ExpirationDate,
    /// The registration's state now.
    pub state: State,
    /// Days left (negative once expired).
    pub days_left: i64,
    /// Token requests refused since it expired (alerts), and when the last one was.
    pub rejected_since_expiry: u64,
    /// The latest token request refused since expiry, if any.
    pub last_rejected: Option<OffsetDateTime>,
}
