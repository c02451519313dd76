//! Site Administrators: accounts, passwords and personal API tokens (SPEC section 2).

use std::fmt;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::error::Error;
use crate::secret::{SecretHash, check_checksummed_token, checksummed_token, push_random_base62};
use crate::site::SiteSlug;
use crate::sources::RandomSource;

/// `[a-z0-9._-]{1,64}`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AdminName(String);

impl AdminName {
    /// Parses `[a-z0-9._-]{1,64}`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let well_formed = (1..=64).contains(&text.len())
            && text.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            });
        if well_formed {
            Ok(Self(text.to_owned()))
        } else {
            Err(Error::InvalidAdminName)
        }
    }

    /// The administrator created on the first `appreg serve` of an empty database.
    pub fn bootstrap() -> Self {
        Self("admin".to_owned())
    }

    /// The name as typed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AdminName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AdminName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AdminName({})", self.0)
    }
}

/// An administrator's password in clear: redacted `Debug`, wiped on drop.
pub struct AdminPassword(Zeroizing<String>);

impl AdminPassword {
    /// The shortest password accepted.
    pub const MIN_CHARS: usize = 12;
    /// The longest password accepted.
    pub const MAX_CHARS: usize = 256;

    /// A generated password: 24 base62 characters (143 bits).
    pub fn generate(random: &dyn RandomSource) -> Result<Self, Error> {
        let mut text = Zeroizing::new(String::with_capacity(24));
        push_random_base62(&mut text, 24, random)?;
        Ok(Self(text))
    }

    /// A chosen password: 12 to 256 characters, no control characters.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let chars = text.chars().count();
        if !(Self::MIN_CHARS..=Self::MAX_CHARS).contains(&chars)
            || text.chars().any(char::is_control)
        {
            return Err(Error::WeakPassword {
                min: Self::MIN_CHARS,
                max: Self::MAX_CHARS,
            });
        }
        Ok(Self(Zeroizing::new(text.to_owned())))
    }

    /// The password in clear, for hashing only.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AdminPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminPassword(<redacted>)")
    }
}

/// A personal API token for the admin API: `appregpat_` + 43 base62 + 6 base62 of CRC32.
/// Stored only as its SHA-256 digest: 256 random bits need no slow hash, and every API call
/// looks it up.
pub struct AdminToken(Zeroizing<String>);

impl AdminToken {
    /// What every personal API token starts with (secret scanners look for it).
    pub const PREFIX: &'static str = "appregpat_";

    /// A new token from `random`.
    pub fn generate(random: &dyn RandomSource) -> Result<Self, Error> {
        checksummed_token(Self::PREFIX, random).map(Self)
    }

    /// Checks the prefix, length, alphabet and checksum of a presented token.
    pub fn parse(presented: &str) -> Result<Self, Error> {
        check_checksummed_token(Self::PREFIX, presented)?;
        Ok(Self(Zeroizing::new(presented.to_owned())))
    }

    /// The token in clear: shown once to its owner, never stored.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// The SHA-256 digest under which the token is stored and looked up.
    pub fn digest(&self) -> TokenDigest {
        TokenDigest::of(&self.0)
    }
}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

/// The SHA-256 of an [`AdminToken`] or a console session token, the form in which it is
/// stored and looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenDigest(pub [u8; 32]);

impl TokenDigest {
    pub(crate) fn of(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }
}

/// A Site Administrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminAccount {
    /// The sign-in name.
    pub username: AdminName,
    /// argon2id hash of the console password.
    pub password_hash: SecretHash,
    /// Where e-mail notices go, if the administrator gave one.
    pub email: Option<String>,
    /// The sites this administrator manages, sorted.
    pub sites: Vec<SiteSlug>,
    /// When the account was added.
    pub created_at: OffsetDateTime,
}

impl AdminAccount {
    /// Whether this administrator may see and change `site`'s data. Everything else about
    /// another site answers 404, as if it did not exist.
    pub fn administers(&self, site: &SiteSlug) -> bool {
        self.sites.contains(site)
    }

    /// The site named by `requested` (a slug from a URL), if this administrator manages it.
    /// `None` both for a site that does not exist and for another administrator's: the
    /// console and the API answer both with the same 404.
    pub fn administered_site(&self, requested: &str) -> Option<SiteSlug> {
        SiteSlug::parse(requested)
            .ok()
            .filter(|site| self.administers(site))
    }
}

/// One administrator's choice for one template and channel. Without one, `in_app` is on and
/// `email` is off (SPEC 5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// Whose choice it is.
    pub username: AdminName,
    /// Which notice (template) it is about.
    pub kind: crate::schedule::NoticeKind,
    /// On which channel.
    pub channel: crate::delivery::Channel,
    /// Whether the administrator receives it.
    pub enabled: bool,
}

impl Subscription {
    /// Whether `channel` is on for a template when the administrator chose nothing.
    pub fn default_for(channel: crate::delivery::Channel) -> bool {
        channel == crate::delivery::Channel::InApp
    }
}

/// Checks an optional e-mail address lightly: one `@`, no spaces or control characters,
/// at most 254 characters. Delivery is the real test.
pub fn parse_email(text: &str) -> Result<String, Error> {
    let trimmed = text.trim();
    let plausible = trimmed.len() <= 254
        && trimmed.matches('@').count() == 1
        && !trimmed.starts_with('@')
        && !trimmed.ends_with('@')
        && !trimmed.chars().any(|c| c.is_whitespace() || c.is_control());
    if plausible {
        Ok(trimmed.to_owned())
    } else {
        Err(Error::InvalidEmail)
    }
}
