use time::Date;

/// Everything the domain refuses, with enough detail for an operator to fix the input.
///
/// No variant ever carries a Client secret or any part of one: these messages end up in
/// logs, problem responses and terminals.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("site slug must be 1 to 40 characters of a-z, 0-9 and '-'")]
    InvalidSiteSlug,
    #[error("unknown time zone {0:?}: use an IANA name such as \"Europe/Berlin\"")]
    UnknownTimeZone(String),
    #[error("{field} must not be empty")]
    EmptyText { field: &'static str },
    #[error("{field} is longer than {max} characters")]
    TextTooLong { field: &'static str, max: usize },
    #[error("{field} must not contain control characters")]
    ControlCharacter { field: &'static str },
    #[error("expiration date must be a calendar date written YYYY-MM-DD")]
    MalformedDate,
    #[error("expiration date {date} is before today ({today}, site time)")]
    DateInPast { date: Date, today: Date },
    #[error(
        "expiration date {date} is more than {years} years ahead; the latest allowed is {latest}"
    )]
    DateTooFarAhead { date: Date, years: u8, latest: Date },
    #[error("client ID must be exactly 20 characters of a-z and 2-7")]
    MalformedClientId,
    #[error("client secret is malformed: {0}")]
    MalformedSecret(SecretDefect),
    #[error("stored secret hash is not an argon2id PHC string")]
    MalformedSecretHash,
    #[error("argon2 parameters below the minimum (m={min_m_kib} KiB, t={min_t}, p={min_p})")]
    WeakHashParameters {
        min_m_kib: u32,
        min_t: u32,
        min_p: u32,
    },
    #[error("hashing failed: {0}")]
    Hashing(String),
    #[error("the operating system's random source failed")]
    EntropyUnavailable,
    #[error("administrator names are 1 to 64 characters of a-z, 0-9, '.', '_' and '-'")]
    InvalidAdminName,
    #[error("a password must be {min} to {max} characters without control characters")]
    WeakPassword { min: usize, max: usize },
    #[error("that is not an e-mail address")]
    InvalidEmail,
    #[error("the banner setting is none or warning")]
    InvalidBannerSetting,
    #[error("the expired template always shows the red banner; its banner cannot be set")]
    BannerFixedForExpired,
    #[error("administrator {admin} does not manage site {site}")]
    NotAdministratorOf { admin: String, site: String },
    #[error("administrator {0} has no e-mail address; add one before subscribing to e-mail")]
    NoEmailAddress(String),
    #[error("subscriptions are for the in_app and email channels; webhooks are per site")]
    NotASubscriptionChannel,
    #[error("the {part} template is invalid{}: {reason}", line.map(|l| format!(" at line {l}")).unwrap_or_default())]
    InvalidTemplate {
        part: &'static str,
        line: Option<usize>,
        reason: String,
    },
    #[error("invalid webhook URL: {0}")]
    InvalidWebhookUrl(&'static str),
    #[error("a webhook signing secret is whsec_ followed by a base64 key")]
    MalformedWebhookSecret,
    /// A storage port refused or failed; see [`StoreError`] for the contract.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a presented string is not a well-formed Client secret. Deliberately says nothing
/// about *where* the defect is, so an error message never echoes secret material.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretDefect {
    WrongPrefix,
    WrongLength,
    InvalidCharacter,
    ChecksumMismatch,
}

impl std::fmt::Display for SecretDefect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SecretDefect::WrongPrefix => "it does not start with \"appreg_\"",
            SecretDefect::WrongLength => "it does not have 56 characters",
            SecretDefect::InvalidCharacter => "it contains a character outside 0-9, A-Z, a-z",
            SecretDefect::ChecksumMismatch => "its checksum does not match (a typo?)",
        })
    }
}

/// The contract between the domain and a storage adapter. Each port method documents which
/// variant it must return in which situation; callers act on the variant, not the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("site {0:?} does not exist")]
    UnknownSite(String),
    #[error("site {0:?} already exists")]
    DuplicateSite(String),
    #[error("a registration named {0:?} already exists in this site")]
    DuplicateName(String),
    #[error("that Client ID is already taken")]
    DuplicateClientId,
    #[error("no such registration")]
    NotFound,
    #[error("administrator {0:?} already exists")]
    DuplicateAdmin(String),
    #[error("administrator {0:?} does not exist")]
    UnknownAdmin(String),
    #[error("site {site} already has a webhook endpoint {url}")]
    DuplicateWebhook { site: String, url: String },
    #[error("site {site} has no webhook endpoint {url}")]
    UnknownWebhook { site: String, url: String },
    #[error("the registration was changed by someone else; reload and try again")]
    Conflict,
    #[error(
        "the database was written by a newer appreg (schema {found}, this binary knows up to {supported})"
    )]
    SchemaTooNew { found: u32, supported: u32 },
    #[error("the database is busy or locked: {0}")]
    Busy(String),
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}
