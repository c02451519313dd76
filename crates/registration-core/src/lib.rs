//! The App registration domain of appreg: value types, the registration aggregate and its
//! derived state, Client secrets and their hashing, the expiration notification schedule,
//! and the ports that adapters implement.
//!
//! This crate performs no I/O. It never reads the clock or the OS random generator: `now` is
//! a parameter and randomness comes through [`RandomSource`], so tests drive it with a fake
//! clock and a seeded generator (feature `testkit`).
//!
//! # Where to start
//!
//! - [`RegistrationService`]: every use case over the ports. Registrations (create, renew,
//!   rename, enable, delete, the grid's pages), client authentication and the token decision
//!   ([`RegistrationService::authenticate`], [`RegistrationService::decide_token`]), the
//!   notification sweep and the delivery worker's rounds, templates, subscriptions,
//!   administrators and the audit log. Both appreg binaries only wire it up and render.
//! - [`Store`]: the storage ports in one bound ([`SiteStore`], [`RegistrationStore`],
//!   [`NoticeOutbox`], [`NoticeLog`], [`DeliveryQueue`], [`KeyStore`], [`AdminStore`],
//!   [`TemplateStore`], [`WebhookStore`], [`SessionStore`], [`AuditLog`]). Each method says
//!   what an implementation MUST do; `testkit::conformance` checks it (feature `testkit`).
//!   The `store-sqlite` crate implements them on one SQLite file.
//! - [`Clock`] and [`RandomSource`]: the current instant and cryptographic randomness, passed
//!   in by the host.
//! - [`TemplateRenderer`]: renders notices; the `notify` crate's `SandboxedRenderer` is the
//!   production one.
//!
//! # Wiring it into a service
//!
//! ```no_run
//! use std::path::Path;
//! use std::sync::Arc;
//!
//! use registration_core::{
//!     Actor, Clock, Error, ExpirationDate, NewRegistration, NoVerificationCache, RandomSource,
//!     RegistrationName, RegistrationService, SecretHasher, SiteSlug,
//! };
//! use time::OffsetDateTime;
//!
//! /// The host's clock.
//! struct SystemClock;
//!
//! impl Clock for SystemClock {
//!     fn now(&self) -> OffsetDateTime {
//!         OffsetDateTime::now_utc()
//!     }
//! }
//!
//! /// The host's random source: the operating system's generator.
//! struct OsRandom;
//!
//! impl RandomSource for OsRandom {
//!     fn fill_bytes(&self, dest: &mut [u8]) -> Result<(), Error> {
//!         getrandom::fill(dest).map_err(|_| Error::EntropyUnavailable)
//!     }
//! }
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let service = RegistrationService::new(
//!         Arc::new(store_sqlite::SqliteStore::open(Path::new("appreg.db"))?),
//!         Arc::new(SystemClock),
//!         Arc::new(OsRandom),
//!         SecretHasher::recommended()?,
//!         Arc::new(notify::SandboxedRenderer::default()),
//!         "https://appreg.example", // where administrators reach the console
//!     );
//!     let site = SiteSlug::default_site();
//!     let actor = Actor::System("billing-service".into());
//!
//!     let new = NewRegistration {
//!         name: RegistrationName::parse("Ledger export")?,
//!         expiration_date: ExpirationDate::parse("2027-12-31")?,
//!         enabled: true,
//!     };
//!     let (created, secret) = service.create(&site, new, &actor)?;
//!     // The secret exists in clear only now: hand it to the consumer once.
//!     let client_id = created.registration.client_id().as_str();
//!
//!     // A consumer presents its credentials: one argon2 verification (a server keeps a
//!     // `VerificationCache` so repeated requests skip it).
//!     let checked =
//!         service.authenticate(&site, client_id, secret.expose_secret(), &NoVerificationCache)?;
//!     assert!(checked.authenticates(service.now()));
//!
//!     // From the host's scheduler, e.g. every minute: records due notices exactly once,
//!     // even with several processes on one database.
//!     let report = service.sweep()?;
//!     println!("{} notices recorded", report.notices_recorded);
//!     Ok(())
//! }
//! ```
//!
//! A runnable version with a simulated clock: `cargo run -p registration-core --example
//! embed`.

#![warn(missing_docs)]

mod admin;
mod audit;
mod calendar;
mod console;
mod delivery;
mod error;
mod log;
mod overview;
mod ports;
mod registration;
mod rotation;
mod schedule;
mod secret;
mod service;
mod site;
#[cfg(feature = "stored")]
pub mod snapshots;
mod sources;
mod status;
#[cfg(feature = "stored")]
pub mod stored;
mod template;
#[cfg(feature = "testkit")]
pub mod testkit;
mod token;
mod usage;
mod values;
mod webhook;

pub use admin::{
    AdminAccount, AdminName, AdminPassword, AdminToken, Subscription, TokenDigest, parse_email,
};
pub use audit::{Actor, AuditAction, AuditChange, AuditEntry, AuditImage, AuditQuery};
pub use calendar::{
    ALARM_DAYS_BEFORE, CalendarEvent, CalendarFeed, ExpiryEntry, FEED_DAYS_AHEAD, FEED_DAYS_BEHIND,
    FeedToken, feed_facts,
};
pub use console::{
    Banner, BannerKind, ConsoleSession, FactFilter, ListQuery, PendingReveal, REVEAL_LIFETIME,
    RevealPad, SESSION_LIFETIME, SessionToken, SortKey, StateFilter,
};
pub use delivery::{
    Channel, ClaimedDelivery, Delivery, DeliveryFailure, DeliveryOutcome, DeliveryState,
    DeliveryStatus, DeliveryTarget, Lease, RetryPolicy,
};
pub use error::{Error, SecretDefect, StoreError};
pub use log::{InboxItem, InboxPage, InboxQuery, LogQuery, NoticeLogEntry, NoticeRecord};
pub use overview::ExpiryWindow;
pub use ports::{
    AdminStore, AuditLog, DeliveryQueue, FRESHNESS_BOUND, Inbox, KeyStore, NoVerificationCache,
    NoticeLog, NoticeOutbox, Notifier, RegistrationStore, SessionStore, SigningKeyRecord,
    SiteStore, Store, TemplateStore, VerificationCache, WebhookStore,
};
pub use registration::{
    Created, NewRegistration, Registration, RegistrationRecord, check_settable_expiration_date,
};
pub use rotation::{PreviousSecret, SecretMatch, SecretOverlap, SecretSlot, StoredSecret};
pub use schedule::{
    Disposition, DueNotice, NoticeCandidate, NoticeKey, NoticeKind, ScheduleSubject,
    candidate_horizon, due_notices, next_due_at,
};
pub use secret::{ClientId, ClientSecret, SecretHash, SecretHasher, SecretHint};
pub use service::{
    CheckedClient, ClientCheck, DELIVERY_LEASE, DeliveryReport, PendingVerification,
    RegistrationPatch, RegistrationService, SIGNING_KEYS_KEPT, Snapshot, SubscriptionRow,
    SweepReport, TemplateEdit,
};
pub use site::{Site, SiteName, SitePolicy, SiteSlug, SiteZone};
pub use sources::{Clock, RandomSource};
pub use status::{ExpiresLabel, State, Status, days_left, expiry_instant};
pub use template::{
    BannerSetting, NoticeVariables, NotificationTemplate, RenderedNotice, TemplateRenderer,
    check_template,
};
pub use token::{
    AccessTokenClaims, DEFAULT_TOKEN_LIFETIME, PresentedToken, Refusal, TokenDecision,
    TokenRequest, decide_token_request, issuer, token_is_active,
};
pub use usage::{SecretUsage, UsageLedger, UsageUpdate};
pub use values::{ExpirationDate, RegistrationId, RegistrationName, Rejections};
pub use webhook::{WebhookEndpoint, WebhookNetworks, WebhookSecret, WebhookUrl};
