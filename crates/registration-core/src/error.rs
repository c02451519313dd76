use time::Date;

/// Everything the domain refuses, with enough detail for an operator to fix the input.
///
/// No variant ever carries a Client secret or any part of one: these messages end up in
/// logs, problem responses and terminals.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("site slug must be 1 to 40 characters of a-z, 0-9 and '-'")]
    /// A site slug that is not 1–40 characters of `a-z`, `0-9` and `-`.
    InvalidSiteSlug,
    #[error("unknown time zone {0:?}: use an IANA name such as \"Europe/Berlin\"")]
    /// A time zone name the tz database does not know.
    UnknownTimeZone(String),
    #[error("{field} must not be empty")]
    /// A required text (name, subject, …) that is empty after trimming.
    EmptyText {
        /// The field, as the message names it.
        field: &'static str,
    },
    #[error("{field} is longer than {max} characters")]
    /// A text longer than its field allows.
    TextTooLong {
        /// The field, as the message names it.
        field: &'static str,
        /// Its limit in characters.
        max: usize,
    },
    #[error("{field} must not contain control characters")]
    /// A text with control characters (line breaks included) where one line is expected.
    ControlCharacter {
        /// The field, as the message names it.
        field: &'static str,
    },
    #[error("expiration date must be a calendar date written YYYY-MM-DD")]
    /// An expiration date not written `YYYY-MM-DD`, or not a calendar date.
    MalformedDate,
    #[error("expiration date {date} is before today ({today}, site time)")]
    /// An expiration date before today in the site's zone.
    DateInPast {
        /// The date given.
        date: Date,
        /// Today in the site's zone.
        today: Date,
    },
    #[error(
        "expiration date {date} is more than {years} years ahead; the latest allowed is {latest}"
    )]
    /// An expiration date past the site's `max_years_ahead`.
    DateTooFarAhead {
        /// The date given.
        date: Date,
        /// The site's `max_years_ahead`.
        years: u8,
        /// The latest date allowed today.
        latest: Date,
    },
    #[error("client ID must be exactly 20 characters of a-z and 2-7")]
    /// Not a Client ID (wrong length or alphabet).
    MalformedClientId,
    #[error("client secret is malformed: {0}")]
    /// Not a Client secret; the defect says which part is wrong.
    MalformedSecret(SecretDefect),
    #[error("stored secret hash is not an argon2id PHC string")]
    /// A stored hash that is not an argon2id PHC string.
    MalformedSecretHash,
    #[error("argon2 parameters below the minimum (m={min_m_kib} KiB, t={min_t}, p={min_p})")]
    /// argon2 parameters weaker than the minimum this crate accepts.
    WeakHashParameters {
        /// The minimum memory cost, in KiB.
        min_m_kib: u32,
        /// The minimum number of passes.
        min_t: u32,
        /// The minimum parallelism.
        min_p: u32,
    },
    #[error("hashing failed: {0}")]
    /// argon2 itself failed (e.g. out of memory).
    Hashing(String),
    #[error("the operating system's random source failed")]
    /// The random source could not deliver bytes: nothing is made with weaker ones.
    EntropyUnavailable,
    #[error("administrator names are 1 to 64 characters of a-z, 0-9, '.', '_' and '-'")]
    /// An administrator name outside `[a-z0-9._-]{1,64}`.
    InvalidAdminName,
    #[error("a password must be {min} to {max} characters without control characters")]
    /// A password that is too short, too long or has control characters.
    WeakPassword {
        /// The fewest characters accepted.
        min: usize,
        /// The most characters accepted.
        max: usize,
    },
    #[error("that is not an e-mail address")]
    /// Not an e-mail address.
    InvalidEmail,
    #[error("the banner setting is none or warning")]
    /// A banner setting other than `none` or `warning`.
    InvalidBannerSetting,
    #[error("the expired template always shows the red banner; its banner cannot be set")]
    /// An attempt to change the banner of the `expired` template, which is always red.
    BannerFixedForExpired,
    #[error("administrator {admin} does not manage site {site}")]
    /// An administrator acting on, or subscribed to, a site they do not manage.
    NotAdministratorOf {
        /// The administrator.
        admin: String,
        /// The site they do not manage.
        site: String,
    },
    #[error("administrator {0} has no e-mail address; add one before subscribing to e-mail")]
    /// An e-mail subscription for an administrator without an address.
    NoEmailAddress(String),
    #[error("subscriptions are for the in_app and email channels; webhooks are per site")]
    /// A subscription on the webhook channel (webhooks are endpoints of a site).
    NotASubscriptionChannel,
    #[error("the {part} template is invalid{}: {reason}", line.map(|l| format!(" at line {l}")).unwrap_or_default())]
    /// A template that does not render with example values.
    InvalidTemplate {
        /// `subject` or `body`.
        part: &'static str,
        /// The line of the error, when the template engine knows it.
        line: Option<usize>,
        /// What is wrong, in the engine's words.
        reason: String,
    },
    #[error("invalid webhook URL: {0}")]
    /// A webhook URL that is not an absolute http(s) URL with a host, or has credentials or a
    /// fragment.
    InvalidWebhookUrl(&'static str),
    /// A webhook URL whose destination the network policy refuses (decision 0008).
    #[error("webhook destination refused: {0}")]
    WebhookDestination(String),
    #[error("a webhook signing secret is whsec_ followed by a base64 key")]
    /// A webhook signing secret not in the `whsec_` format.
    MalformedWebhookSecret,
    #[error(
        "overlap must be 0 or a whole number with a unit d, h, m or s (e.g. 7d, 36h); 0 retires the old secret at once"
    )]
    /// A secret overlap that is not `0` or a whole number with a unit.
    InvalidOverlap,
    #[error("overlap is at most {max_days} days")]
    /// A secret overlap longer than the maximum.
    OverlapTooLong {
        /// The longest overlap, in days.
        max_days: i64,
    },
    #[error(
        "the registration already has two live secrets: the previous one authenticates until {}; retire it first (retire-secret)",
        rfc3339(*previous_expires_at)
    )]
    /// A rotation while the previous secret still authenticates: at most two are live.
    TwoLiveSecrets {
        /// When the previous secret stops authenticating.
        previous_expires_at: time::OffsetDateTime,
    },
    #[error("the registration has only its current secret, and the last secret cannot be retired")]
    /// A retirement with no live previous secret.
    LastSecret,
    #[error("the window is a whole number of days from 0 to {max_days}")]
    /// An expiry window that is not a whole number of days in range.
    InvalidWindow {
        /// The widest window, in days.
        max_days: u16,
    },
    /// A storage port refused or failed; see [`StoreError`] for the contract.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a presented string is not a well-formed Client secret. Deliberately says nothing
/// about *where* the defect is, so an error message never echoes secret material.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretDefect {
    /// It does not start with `appreg_`.
    WrongPrefix,
    /// It is not exactly as long as a Client secret.
    WrongLength,
    /// It has a character outside base62.
    InvalidCharacter,
    /// Its checksum does not match: a typo, or a truncated copy.
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
#[non_exhaustive]
pub enum StoreError {
    #[error("site {0:?} does not exist")]
    /// The site does not exist.
    UnknownSite(String),
    #[error("site {0:?} already exists")]
    /// A site with this slug exists already.
    DuplicateSite(String),
    #[error("a registration named {0:?} already exists in this site")]
    /// Another registration of the site has this name (ignoring case).
    DuplicateName(String),
    #[error("that Client ID is already taken")]
    /// The Client ID is taken (in any site).
    DuplicateClientId,
    #[error("no such registration")]
    /// No such registration in this site (also when it belongs to another site).
    NotFound,
    #[error("administrator {0:?} already exists")]
    /// An administrator with this name exists already.
    DuplicateAdmin(String),
    #[error("administrator {0:?} does not exist")]
    /// The administrator does not exist.
    UnknownAdmin(String),
    #[error("site {site} already has a webhook endpoint {url}")]
    /// The site already has an endpoint with this URL.
    DuplicateWebhook {
        /// The site.
        site: String,
        /// The endpoint's URL.
        url: String,
    },
    #[error("site {site} has no webhook endpoint {url}")]
    /// The site has no endpoint with this URL.
    UnknownWebhook {
        /// The site.
        site: String,
        /// The URL asked for.
        url: String,
    },
    #[error("the registration was changed by someone else; reload and try again")]
    /// The stored revision is not the one the change was read at.
    Conflict,
    #[error(
        "the target database is not empty ({table} has {rows} rows): copy only into a new database"
    )]
    /// A copy's target already holds data (`appreg db copy` writes only into an empty one).
    TargetNotEmpty {
        /// A table that holds rows.
        table: String,
        /// How many.
        rows: u64,
    },
    #[error(
        "the database was written by a newer appreg (schema {found}, this binary knows up to {supported})"
    )]
    /// The database's schema is newer than this binary knows.
    SchemaTooNew {
        /// The database's schema version.
        found: u32,
        /// The newest version this binary knows.
        supported: u32,
    },
    #[error("the database is busy or locked: {0}")]
    /// Another process holds the lock longer than the busy timeout.
    Busy(String),
    #[error("the database is unavailable: {0}")]
    /// The database cannot be reached or opened.
    Unavailable(String),
    #[error("stored data is invalid: {0}")]
    /// A stored value fails the domain's own parser.
    Corrupt(String),
}

/// An instant as RFC 3339 in UTC (whole seconds), for messages.
pub(crate) fn rfc3339(instant: time::OffsetDateTime) -> String {
    let utc = instant.to_offset(time::UtcOffset::UTC);
    utc.replace_nanosecond(0)
        .unwrap_or(utc)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| unreachable!("every instant in years 0..=9999 formats"))
}
