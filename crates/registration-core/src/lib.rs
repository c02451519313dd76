//! The App registration domain of appreg: value types, the registration aggregate and its
//! derived state, Client secrets and their hashing, the expiration notification schedule,
//! and the ports that adapters implement.
//!
//! This crate performs no I/O. It never reads the clock or the OS random generator: `now` is
//! a parameter and randomness comes through [`RandomSource`], so tests drive it with a fake
//! clock and a seeded generator (feature `testkit`).

mod admin;
mod audit;
mod console;
mod delivery;
mod error;
mod log;
mod ports;
mod registration;
mod schedule;
mod secret;
mod service;
mod site;
mod sources;
mod status;
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
pub use console::{
    Banner, BannerKind, ConsoleSession, ListQuery, PendingReveal, REVEAL_LIFETIME, RevealPad,
    SESSION_LIFETIME, SessionToken, SortKey,
};
pub use delivery::{
    Channel, ClaimedDelivery, Delivery, DeliveryFailure, DeliveryOutcome, DeliveryState,
    DeliveryStatus, DeliveryTarget, Lease, RetryPolicy,
};
pub use error::{Error, SecretDefect, StoreError};
pub use log::{LogQuery, NoticeLogEntry, NoticeRecord};
pub use ports::{
    AdminStore, AuditLog, DeliveryQueue, KeyStore, NoticeLog, NoticeOutbox, Notifier,
    RegistrationStore, SessionStore, SigningKeyRecord, SiteStore, Store, TemplateStore,
    VerificationCache, WebhookStore,
};
pub use registration::{
    Created, NewRegistration, Registration, RegistrationRecord, Rejections,
    check_settable_expiration_date,
};
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
pub use usage::{UsageLedger, UsageUpdate};
pub use values::{ExpirationDate, RegistrationId, RegistrationName};
pub use webhook::{WebhookEndpoint, WebhookSecret, WebhookUrl};
