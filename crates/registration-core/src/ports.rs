//! The ports: what the domain needs from the outside world. Adapters (store-sqlite, notify,
//! the binaries) implement them; tests use the fakes in `testkit`.
//!
//! Ports are synchronous and small. Each method's doc states what an implementation MUST
//! guarantee; `testkit::conformance` checks exactly those sentences against any store.

use std::fmt;

use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::admin::{AdminAccount, AdminName, Subscription, TokenDigest};
use crate::audit::{AuditEntry, AuditQuery};
use crate::calendar::{CalendarFeed, ExpiryEntry};
use crate::console::{ConsoleSession, FactFilter, ListQuery, PendingReveal, RevealPad};
use crate::delivery::{
    Channel, ClaimedDelivery, Delivery, DeliveryFailure, DeliveryOutcome, DeliveryStatus,
    DeliveryTarget, Lease,
};
use crate::error::StoreError;
use crate::log::{InboxPage, InboxQuery, LogQuery, NoticeLogEntry, NoticeRecord};
use crate::registration::Registration;
use crate::schedule::{NoticeCandidate, NoticeKey, NoticeKind};
use crate::secret::{ClientId, ClientSecret};
use crate::site::{Site, SiteSlug};
use crate::template::NotificationTemplate;
use crate::usage::UsageUpdate;
use crate::values::{ExpirationDate, RegistrationId};
use crate::webhook::{WebhookEndpoint, WebhookUrl};

/// SPEC 7's freshness bound: a change to a site or a registration made through any process
/// or node is honoured by every node's token endpoint and introspection within this.
pub const FRESHNESS_BOUND: std::time::Duration = std::time::Duration::from_secs(1);

/// Sites and their settings.
pub trait SiteStore: Send + Sync {
    /// Stores `site` and its audit entry, together.
    /// MUST return [`StoreError::DuplicateSite`] when the slug exists.
    fn add_site(&self, site: &Site, audit: &AuditEntry) -> Result<(), StoreError>;

    /// Replaces the name, zone and policy stored for `site.slug` with `site`'s, and stores
    /// the audit entry, together.
    /// MUST return [`StoreError::UnknownSite`] (and store nothing) when there is no such site.
    fn update_site(&self, site: &Site, audit: &AuditEntry) -> Result<(), StoreError>;

    /// MUST return [`StoreError::UnknownSite`] when there is no such site.
    fn site(&self, slug: &SiteSlug) -> Result<Site, StoreError>;

    /// All sites, sorted by slug. A fresh store has exactly the site `default` (zone UTC).
    fn sites(&self) -> Result<Vec<Site>, StoreError>;
}

/// App registrations. Every method is one transaction: it happens entirely or not at all.
///
/// Every method that changes something takes the [`AuditEntry`] the service built for the
/// change and MUST store it, unaltered, in the same transaction as the change: an entry
/// exists if and only if its change was committed.
pub trait RegistrationStore: Send + Sync {
    /// Stores a new registration with revision 0, with every fact of its record (both
    /// secrets included) so that reading it back gives an equal value.
    /// MUST return [`StoreError::UnknownSite`] when its site does not exist,
    /// [`StoreError::DuplicateName`] when another registration of the same site has a name
    /// with the same [`unique_key`](crate::RegistrationName::unique_key), and
    /// [`StoreError::DuplicateClientId`] when the Client ID is taken in any site.
    fn insert(&self, registration: &Registration, audit: &AuditEntry) -> Result<(), StoreError>;

    /// The registration of `site` with `client_id`.
    /// MUST return [`StoreError::NotFound`] when it does not exist *or belongs to another
    /// site*: a site never learns about another site's registrations.
    fn get(&self, site: &SiteSlug, client_id: &ClientId) -> Result<Registration, StoreError>;

    /// `site` and, when `client_id` is given and names one of its registrations, that
    /// registration, read in one snapshot: client authentication's one read per request.
    /// MUST return [`StoreError::UnknownSite`] when the site does not exist, and no
    /// registration of another site.
    /// MAY answer from a copy kept in memory, but then MUST reflect a change committed
    /// through this handle at once, and one committed through any other handle (another
    /// process or node) within [`FRESHNESS_BOUND`].
    fn site_and_registration(
        &self,
        site: &SiteSlug,
        client_id: Option<&ClientId>,
    ) -> Result<(Site, Option<Registration>), StoreError>;

    /// What [`Self::site_and_registration`] would answer for an existing registration, if
    /// the store holds it in memory and can answer without I/O or waiting on I/O: an async
    /// caller runs this on its executor and falls back to `site_and_registration` on its
    /// blocking pool when it is `None`. The same freshness rules apply. The default: `None`.
    fn site_and_registration_in_memory(
        &self,
        _site: &SiteSlug,
        _client_id: &ClientId,
    ) -> Option<(Site, Registration)> {
        None
    }

    /// Replaces the stored facts with `registration`'s and returns the new revision.
    /// MUST return [`StoreError::Conflict`] and change nothing when the stored revision is not
    /// `registration.revision()` (someone else changed it since it was read),
    /// [`StoreError::NotFound`] when it was deleted, and [`StoreError::DuplicateName`] as for
    /// insert. On success the stored revision is `registration.revision() + 1`.
    fn update(&self, registration: &Registration, audit: &AuditEntry) -> Result<u64, StoreError>;

    /// Deletes the registration, if its stored revision is still `revision`, and cancels its
    /// open deliveries, together.
    /// MUST return [`StoreError::NotFound`] as for get, and [`StoreError::Conflict`] (deleting
    /// nothing) when the stored revision is another one: the audit entry's before image was
    /// read at `revision`. The notices stay in the log.
    fn delete(
        &self,
        site: &SiteSlug,
        client_id: &ClientId,
        revision: u64,
        audit: &AuditEntry,
    ) -> Result<(), StoreError>;

    /// All registrations of `site`, sorted by name key, then Client ID.
    /// MUST return [`StoreError::UnknownSite`] when there is no such site.
    fn list(&self, site: &SiteSlug) -> Result<Vec<Registration>, StoreError>;

    /// One page of `site`'s registrations for `query`, and how many match in all. Search is a
    /// case-insensitive substring of the name or the Client ID; only registrations that pass
    /// `query.filter` (Enabled, inclusive expiration date bounds) match; ties of the sort key
    /// are broken by Client ID (both reversed when descending); no Last used sorts first.
    /// MUST return [`StoreError::UnknownSite`] when there is no such site, and MUST NOT read
    /// every registration of the site to serve a page (sites have 100,000).
    fn page(
        &self,
        site: &SiteSlug,
        query: &ListQuery,
    ) -> Result<(Vec<Registration>, u64), StoreError>;

    /// For each `(site, until)` of `windows`: its enabled registrations whose expiration date
    /// is on or before `until`, soonest date first then by Client ID, at most `limit` of
    /// them; all sites' together, in one snapshot, with how many match in all (the expiry
    /// overview across sites reads this once, not once per site).
    /// MUST return [`StoreError::UnknownSite`] when a site does not exist, and MUST NOT
    /// read the registrations after each site's first `limit` (they are counted, not read).
    fn expiring_in(
        &self,
        windows: &[(SiteSlug, ExpirationDate)],
        limit: u32,
    ) -> Result<(Vec<Registration>, u64), StoreError>;

    /// The enabled registrations of `site` whose expiration date is on or before `until`
    /// (expired or expiring: the banner candidates), sorted by name key.
    /// MUST NOT read the other registrations.
    fn enabled_expiring_by(
        &self,
        site: &SiteSlug,
        until: ExpirationDate,
    ) -> Result<Vec<Registration>, StoreError>;

    /// The Client ID, name and expiration date of each registration of `site` that passes
    /// `filter`, soonest expiration date first, then by Client ID: what a calendar feed
    /// shows, without the rest of each row.
    /// MUST return [`StoreError::UnknownSite`] when there is no such site, and MUST NOT read
    /// the registrations that do not pass `filter`.
    fn expiry_entries(
        &self,
        site: &SiteSlug,
        filter: &FactFilter,
    ) -> Result<Vec<ExpiryEntry>, StoreError>;

    /// Applies coalesced token traffic: Last used and rejected-request counts, and per
    /// secret its Last used and the presentations after it was retired.
    /// MUST NOT change the revision or write audit entries (traffic is not an administrative
    /// change), MUST only move Last used and Last rejected forward, MUST ignore the
    /// rejections of an update whose expiration date is no longer the registration's (they
    /// count since the current expiry), and MUST skip registrations that are gone.
    /// MUST apply each [`SecretUsage`](crate::SecretUsage) to the stored secret that has its
    /// hint now, current or previous (its instants only forward, its rejections to the
    /// previous secret only), and ignore one whose hint neither has.
    fn record_usage(&self, updates: &[UsageUpdate]) -> Result<(), StoreError>;
}

/// An Ed25519 signing key as stored. The private half is secret: `Debug` leaves it out.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    /// The key ID (`kid`) in JWT headers and the JWKS.
    pub kid: String,
    /// The Ed25519 private key.
    pub private_key: Zeroizing<[u8; 32]>,
    /// When the key was made.
    pub created_at: OffsetDateTime,
}

impl fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyRecord")
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// The token signing keys, shared by every node that uses the store.
pub trait KeyStore: Send + Sync {
    /// The kept keys, newest (last stored) first; the first signs, all verify. Keys stored
    /// at the same instant are still ordered by when they were stored.
    fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError>;

    /// Stores `candidate` only if there is no key yet, and returns the kept keys. Nodes that
    /// start at the same time on an empty store MUST end up with the same single key.
    fn ensure_signing_key(
        &self,
        candidate: &SigningKeyRecord,
    ) -> Result<Vec<SigningKeyRecord>, StoreError>;

    /// Stores `key` as the newest and deletes all but the newest `keep` keys, atomically.
    fn rotate_signing_key(
        &self,
        key: &SigningKeyRecord,
        keep: usize,
    ) -> Result<Vec<SigningKeyRecord>, StoreError>;
}

/// Remembers which presented secrets were verified, so valid traffic skips argon2.
pub trait VerificationCache: Send + Sync {
    /// True iff `presented` was verified for `registration` at `revision`. MUST NOT keep the
    /// secret itself: only a keyed hash of it.
    fn contains(
        &self,
        registration: RegistrationId,
        revision: u64,
        presented: &ClientSecret,
    ) -> bool;

    /// Remembers that `presented` verified for `registration` at `revision`.
    fn insert(&self, registration: RegistrationId, revision: u64, presented: &ClientSecret);
}

/// A [`VerificationCache`] that remembers nothing: every presented secret costs one argon2
/// verification. For embedders and tools that authenticate rarely; a server keeps a real
/// cache (appreg's is an HMAC-keyed map in `registration-http`).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoVerificationCache;

impl VerificationCache for NoVerificationCache {
    fn contains(&self, _: RegistrationId, _: u64, _: &ClientSecret) -> bool {
        false
    }

    fn insert(&self, _: RegistrationId, _: u64, _: &ClientSecret) {}
}

/// The record of notices: the at-most-once guarantee of SPEC section 5 lives here.
pub trait NoticeOutbox: Send + Sync {
    /// Records `notices` with their deliveries in one transaction and returns how many were
    /// new.
    /// MUST record each [`NoticeKey`](crate::NoticeKey) at most once, even when several
    /// processes or nodes call it at the same time with the same notices: a key already
    /// present is left unchanged and not counted.
    /// MUST skip (not record, not count) a notice whose registration, at the moment of
    /// recording, no longer exists, is disabled, or has another expiration date: the sweep
    /// that computed it read facts that have changed since.
    fn record(
        &self,
        notices: &[NoticeRecord],
        recorded_at: OffsetDateTime,
    ) -> Result<usize, StoreError>;

    /// The registrations of `site` whose schedule can have something due: enabled, with an
    /// expiration date on or before `horizon`, and not every kind recorded for their current
    /// expiration date; each with the kinds already recorded for that date. Sorted by
    /// expiration date. MUST NOT read the other registrations (a sweep over a million
    /// registrations looks at the few that can be due).
    fn notice_candidates(
        &self,
        site: &SiteSlug,
        horizon: ExpirationDate,
    ) -> Result<Vec<NoticeCandidate>, StoreError>;
}

/// The Administrative notification log (SPEC 5): what was recorded, and what became of
/// each delivery.
pub trait NoticeLog: Send + Sync {
    /// The Administrative notification log of `site`, newest first (by recording time,
    /// then due time, then kind).
    fn log(&self, site: &SiteSlug) -> Result<Vec<NoticeLogEntry>, StoreError>;

    /// One page of `site`'s log in the same order, filtered by `query`, and how many notices
    /// match in all. MUST return [`StoreError::UnknownSite`] when there is no such site, and
    /// MUST NOT read the whole log to serve a page.
    fn log_page(
        &self,
        site: &SiteSlug,
        query: &LogQuery,
    ) -> Result<(Vec<NoticeLogEntry>, u64), StoreError>;
}

/// Each administrator's inbox: the in-app deliveries made to them. An in-app delivery is
/// delivered by being recorded (`sent`): that is when it shows in the inbox.
pub trait Inbox: Send + Sync {
    /// One page of the notices delivered in-app (status `sent`) to `username` in `sites`,
    /// newest first (by recording time, then due time, then kind), with how many match the
    /// query and how many of the inbox are unread.
    /// MUST NOT return another administrator's notices, nor those of a site not in `sites`.
    fn inbox_page(
        &self,
        username: &AdminName,
        sites: &[SiteSlug],
        query: &InboxQuery,
    ) -> Result<InboxPage, StoreError>;

    /// Marks `username`'s in-app delivery of `notice` read at `at`, if it is in one of
    /// `sites` and unread; returns whether it is now marked read (false: no such delivery).
    /// MUST NOT change another administrator's deliveries.
    fn mark_read(
        &self,
        username: &AdminName,
        sites: &[SiteSlug],
        notice: &NoticeKey,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Marks every unread in-app delivery of `username` in `sites` read at `at`; returns
    /// how many were marked.
    fn mark_all_read(
        &self,
        username: &AdminName,
        sites: &[SiteSlug],
        at: OffsetDateTime,
    ) -> Result<u64, StoreError>;
}

/// The deliveries of recorded notices, claimed and finished by the delivery workers of every
/// process and node that uses the store.
pub trait DeliveryQueue: Send + Sync {
    /// Claims up to `limit` open deliveries on `channels` that are due at `now` (never tried,
    /// or their next attempt has come) and not leased, or whose lease ran out, by leasing
    /// them to `lease`; oldest notices first. A `webhook` delivery comes with its endpoint's
    /// signing secret.
    /// MUST NOT give a delivery to two claims while the first lease runs, even when several
    /// processes or nodes claim at the same time.
    fn claim_deliveries(
        &self,
        channels: &[Channel],
        now: OffsetDateTime,
        lease: &Lease,
        limit: usize,
    ) -> Result<Vec<ClaimedDelivery>, StoreError>;

    /// Records the outcome of an attempt and ends the lease. Returns `false` and changes
    /// nothing when the delivery is no longer leased under `lease_id` (its lease ran out and
    /// another worker claimed it, or it was cancelled meanwhile).
    fn finish_delivery(
        &self,
        target: &DeliveryTarget,
        lease_id: &str,
        outcome: &DeliveryOutcome,
    ) -> Result<bool, StoreError>;

    /// How many open deliveries on `channels` are due at `now`, leased or not.
    fn due_delivery_count(
        &self,
        channels: &[Channel],
        now: OffsetDateTime,
    ) -> Result<u64, StoreError>;

    /// How many deliveries there are per notice kind and delivery status, over all sites
    /// (for metrics). Kinds and statuses without deliveries are absent.
    fn delivery_counts(&self) -> Result<Vec<(NoticeKind, DeliveryStatus, u64)>, StoreError>;
}

/// The webhook endpoints of each site.
pub trait WebhookStore: Send + Sync {
    /// Stores the endpoint and its audit entry, together.
    /// MUST return [`StoreError::UnknownSite`] when there is no such site and
    /// [`StoreError::DuplicateWebhook`] when the site already has this URL.
    fn add_webhook(
        &self,
        site: &SiteSlug,
        endpoint: &WebhookEndpoint,
        audit: &AuditEntry,
    ) -> Result<(), StoreError>;

    /// The endpoints of `site`, sorted by URL.
    /// MUST return [`StoreError::UnknownSite`] when there is no such site.
    fn webhooks(&self, site: &SiteSlug) -> Result<Vec<WebhookEndpoint>, StoreError>;

    /// Removes the endpoint and cancels its open deliveries, together.
    /// MUST return [`StoreError::UnknownWebhook`] when the site has no such endpoint.
    fn remove_webhook(
        &self,
        site: &SiteSlug,
        url: &WebhookUrl,
        audit: &AuditEntry,
    ) -> Result<(), StoreError>;
}

/// Site Administrators and their API tokens.
pub trait AdminStore: Send + Sync {
    /// Stores `admin` and `audit` (one entry per site of the administrator), together.
    /// MUST return [`StoreError::DuplicateAdmin`] when the username exists and
    /// [`StoreError::UnknownSite`] when one of its sites does not; stores nothing then.
    fn add_admin(&self, admin: &AdminAccount, audit: &[AuditEntry]) -> Result<(), StoreError>;

    /// How many administrators exist (zero means the bootstrap administrator is due).
    fn admin_count(&self) -> Result<u64, StoreError>;

    /// MUST return [`StoreError::UnknownAdmin`] when there is no such administrator.
    fn admin(&self, username: &AdminName) -> Result<AdminAccount, StoreError>;

    /// Stores a token's digest for `username` (never the token) and `audit` (one entry per
    /// site of the administrator), together, with `created_at` as the token's creation time.
    /// MUST return [`StoreError::UnknownAdmin`] when there is no such administrator.
    fn add_admin_token(
        &self,
        username: &AdminName,
        digest: &TokenDigest,
        created_at: OffsetDateTime,
        audit: &[AuditEntry],
    ) -> Result<(), StoreError>;

    /// The administrator a token digest belongs to, if any.
    fn admin_by_token(&self, digest: &TokenDigest) -> Result<Option<AdminAccount>, StoreError>;

    /// The administrators of `site`, sorted by username.
    fn admins_of(&self, site: &SiteSlug) -> Result<Vec<AdminAccount>, StoreError>;

    /// Stores `feed` (its token's digest, never the token) and `audit`, together, replacing
    /// the feed the same administrator had for the same site, whose URL stops working.
    /// MUST return [`StoreError::UnknownAdmin`] when there is no such administrator and
    /// [`StoreError::UnknownSite`] when there is no such site.
    fn set_calendar_feed(&self, feed: &CalendarFeed, audit: &AuditEntry) -> Result<(), StoreError>;

    /// Deletes `username`'s feed for `site` and stores `audit`, together, and returns true;
    /// when there is no such feed, stores nothing and returns false.
    fn revoke_calendar_feed(
        &self,
        username: &AdminName,
        site: &SiteSlug,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError>;

    /// The feed a token digest belongs to, if any.
    fn calendar_feed(&self, digest: &TokenDigest) -> Result<Option<CalendarFeed>, StoreError>;

    /// The subscription choices made in `site` (absent ones are the defaults).
    fn subscriptions(&self, site: &SiteSlug) -> Result<Vec<Subscription>, StoreError>;

    /// Records one choice, replacing an earlier one for the same user, template and channel.
    /// MUST return [`StoreError::UnknownSite`] / [`StoreError::UnknownAdmin`] when either
    /// does not exist.
    fn set_subscription(
        &self,
        site: &SiteSlug,
        subscription: &Subscription,
        audit: &AuditEntry,
    ) -> Result<(), StoreError>;
}

/// Console sign-in sessions, stored as token digests.
pub trait SessionStore: Send + Sync {
    /// Stores a new session and forgets every session that expired before
    /// `session.created_at`.
    fn create_session(&self, session: &ConsoleSession) -> Result<(), StoreError>;

    /// The session with this digest, expired or not (the caller checks).
    fn session(&self, digest: &TokenDigest) -> Result<Option<ConsoleSession>, StoreError>;

    /// Forgets the session (signing out) and its pending reveals; absent sessions are not an
    /// error.
    fn delete_session(&self, digest: &TokenDigest) -> Result<(), StoreError>;

    /// Keeps the pad of a one-time secret reveal, replacing one for the same session and
    /// Client ID, and forgets every pad that expired before `reveal.created_at`.
    fn keep_reveal(&self, reveal: &PendingReveal) -> Result<(), StoreError>;

    /// Removes the pad for `session` and `client_id` and returns it unless it expired by
    /// `now`.
    fn take_reveal(
        &self,
        session: &TokenDigest,
        client_id: &ClientId,
        now: OffsetDateTime,
    ) -> Result<Option<RevealPad>, StoreError>;
}

/// Per-site notification templates.
pub trait TemplateStore: Send + Sync {
    /// The templates `site` has saved (kinds never saved are absent: they use the default).
    /// MUST return [`StoreError::UnknownSite`] when there is no such site.
    fn templates(&self, site: &SiteSlug) -> Result<Vec<NotificationTemplate>, StoreError>;

    /// Saves (replaces) `site`'s template for `template.kind`, whole, in one transaction.
    /// MUST return [`StoreError::UnknownSite`] when there is no such site.
    fn save_template(
        &self,
        site: &SiteSlug,
        template: &NotificationTemplate,
        audit: &AuditEntry,
    ) -> Result<(), StoreError>;
}

/// The audit log, written by the changing methods of the other ports.
pub trait AuditLog: Send + Sync {
    /// One page of `site`'s audit entries, newest (last written) first, exactly as they
    /// were given to the changing methods, and how many entries the site has in all.
    /// MUST return [`StoreError::UnknownSite`] when there is no such site, never return
    /// another site's entries, and MUST NOT read the whole log to serve a page.
    fn audit_page(
        &self,
        site: &SiteSlug,
        query: &AuditQuery,
    ) -> Result<(Vec<AuditEntry>, u64), StoreError>;
}

/// Everything storage provides, for wiring one store into the service.
pub trait Store:
    SiteStore
    + RegistrationStore
    + NoticeOutbox
    + NoticeLog
    + Inbox
    + DeliveryQueue
    + KeyStore
    + AdminStore
    + TemplateStore
    + WebhookStore
    + SessionStore
    + AuditLog
{
}

impl<T> Store for T where
    T: SiteStore
        + RegistrationStore
        + NoticeOutbox
        + NoticeLog
        + Inbox
        + DeliveryQueue
        + KeyStore
        + AdminStore
        + TemplateStore
        + WebhookStore
        + SessionStore
        + AuditLog
{
}

/// Sends one delivery over its channel.
pub trait Notifier: Send + Sync {
    /// The channels this notifier can deliver on (e-mail only when a server is configured).
    fn channels(&self) -> Vec<Channel>;

    /// MUST be safe to call again with the same delivery after a failure or a crash: it
    /// passes [`Delivery::idempotency_key`] on where the channel supports it.
    fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryFailure>;
}
