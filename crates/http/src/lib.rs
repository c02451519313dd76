//! appreg's HTTP server (axum on tokio): the per-site OAuth 2.0 endpoints of SPEC section 7
//! and the operations endpoints, with the background sweeper and delivery worker. Glue over `registration_core::RegistrationService`: every
//! rule is the domain's; this crate parses, bounds the expensive work, and renders.

mod admin;
mod api;
mod audit;
mod budget;
mod cache;
mod calendar;
mod console;
mod error;
mod keys;
mod listen;
mod me;
mod notices;
mod oauth;
mod openapi;
mod ops;
mod overview;
mod secrets;
mod sites;
mod source;
pub mod wire;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::routing::{get, post};
use registration_core::{DEFAULT_TOKEN_LIFETIME, Notifier, RegistrationService, UsageLedger};
use time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

pub use budget::BudgetPolicy;
pub use error::{Error, FieldError};
pub use listen::ConnectionLimits;
pub use oauth::{Credentials, FormRequest, parse_form_request};
pub use source::client_address;

use crate::budget::FailureBudgets;
use crate::cache::SecretCache;
use crate::keys::KeyRing;
use crate::ops::Metrics;

/// Largest request body the OAuth endpoints read.
const MAX_FORM_BYTES: usize = 16 * 1024;
/// Largest request body the admin API reads.
const MAX_JSON_BYTES: usize = 64 * 1024;
/// Largest form the console reads: a template as big as the API takes, percent-encoded.
const MAX_CONSOLE_FORM_BYTES: usize = 3 * MAX_JSON_BYTES;

/// How the server behaves; `Config::new` has the production defaults.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where clients reach this server, e.g. `https://id.example.com`; issuers derive from it.
    pub public_url: String,
    pub token_lifetime: Duration,
    /// Concurrent argon2 verifications (each holds ~19 MiB for its duration).
    pub max_concurrent_verifications: usize,
    pub budgets: BudgetPolicy,
    /// How often coalesced Last used / rejection counts are written.
    pub flush_interval: std::time::Duration,
    /// How often the signing keys are reloaded (a rotation by another process or node).
    pub key_reload_interval: std::time::Duration,
    /// How often the notification sweep runs (also once at start).
    pub sweep_interval: std::time::Duration,
    /// How often the delivery worker looks for deliveries that became due (retries); it
    /// also runs at once after every sweep that recorded notices.
    pub delivery_interval: std::time::Duration,
    /// Reverse proxies whose `X-Forwarded-For` is believed (see [`client_address`]); empty:
    /// the TCP peer is the source.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub connections: ConnectionLimits,
}

impl Config {
    pub fn new(public_url: impl Into<String>) -> Self {
        Self {
            public_url: public_url.into().trim_end_matches('/').to_owned(),
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            max_concurrent_verifications: std::thread::available_parallelism()
                .map_or(2, std::num::NonZero::get),
            budgets: BudgetPolicy::default(),
            flush_interval: std::time::Duration::from_secs(60),
            key_reload_interval: std::time::Duration::from_secs(10),
            sweep_interval: std::time::Duration::from_secs(60),
            delivery_interval: std::time::Duration::from_secs(5),
            trusted_proxies: Vec::new(),
            connections: ConnectionLimits::default(),
        }
    }
}

/// Shared by every handler.
#[derive(Clone)]
pub(crate) struct AppState {
    service: Arc<RegistrationService>,
    config: Arc<Config>,
    keys: Arc<KeyRing>,
    cache: Arc<SecretCache>,
    verifications: Arc<Semaphore>,
    budgets: Arc<FailureBudgets>,
    usage: Arc<Mutex<UsageLedger>>,
    metrics: Arc<Metrics>,
    /// Sends e-mail and webhook deliveries; without one, they wait in the outbox.
    notifier: Option<Arc<dyn Notifier>>,
    /// Wakes the delivery worker when a sweep recorded notices.
    deliveries_recorded: Arc<tokio::sync::Notify>,
    views: Arc<console::Views>,
}

impl AppState {
    /// The token traffic gathered since the last flush (a poisoned lock still holds counts).
    fn usage(&self) -> MutexGuard<'_, UsageLedger> {
        self.usage.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Runs blocking domain work (SQLite, argon2) on tokio's blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&RegistrationService) -> T + Send + 'static,
) -> Result<T, Error> {
    let service = state.service.clone();
    tokio::task::spawn_blocking(move || work(&service))
        .await
        .map_err(|error| Error::Internal(format!("blocking task failed: {error}")))
}

/// The server, ready to accept connections.
pub struct Server {
    state: AppState,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("config", &self.state.config)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Loads (creating on first start) the signing keys and prepares the unknown-client
    /// verification. `cache_key` keys the verified-secret cache's hashes; give it 32 fresh
    /// random bytes.
    pub fn new(
        service: Arc<RegistrationService>,
        config: Config,
        cache_key: [u8; 32],
    ) -> Result<Self, Error> {
        service.warm_up()?;
        let keys = KeyRing::default();
        keys.load(&service.ensure_signing_key()?);
        Ok(Self {
            state: AppState {
                verifications: Arc::new(Semaphore::new(config.max_concurrent_verifications.max(1))),
                service,
                config: Arc::new(config),
                keys: Arc::new(keys),
                cache: Arc::new(SecretCache::new(cache_key)),
                budgets: Arc::new(FailureBudgets::default()),
                usage: Arc::default(),
                metrics: Arc::new(Metrics::default()),
                notifier: None,
                deliveries_recorded: Arc::new(tokio::sync::Notify::new()),
                views: Arc::new(
                    console::Views::new()
                        .map_err(|error| Error::Internal(format!("console templates: {error}")))?,
                ),
            },
        })
    }

    /// Runs the delivery worker with `notifier` (build it outside the async runtime: the
    /// webhook client is a blocking one).
    #[must_use]
    pub fn with_notifier(mut self, notifier: Arc<dyn Notifier>) -> Self {
        self.state.notifier = Some(notifier);
        self
    }

    pub fn router(&self) -> Router {
        let oauth = Router::new()
            .route("/sites/{site}/oauth2/token", post(oauth::token))
            .route("/sites/{site}/oauth2/introspect", post(oauth::introspect))
            .layer(RequestBodyLimitLayer::new(MAX_FORM_BYTES));
        let api = Router::new()
            .route(
                "/api/v1/sites/{site}/registrations",
                get(admin::list).post(admin::create),
            )
            .route(
                "/api/v1/sites/{site}/registrations/{client_id}",
                get(admin::show).patch(admin::update).delete(admin::remove),
            )
            .route(
                "/api/v1/sites/{site}/registrations/{client_id}/secrets",
                post(secrets::rotate),
            )
            .route(
                "/api/v1/sites/{site}/registrations/{client_id}/secrets/previous",
                axum::routing::delete(secrets::retire),
            )
            .route("/api/v1/expiring", get(overview::expiring))
            .route("/api/v1/sites/{site}/notifications", get(notices::log))
            .route("/api/v1/sites/{site}/audit", get(audit::log))
            .route(
                "/api/v1/sites/{site}",
                get(sites::show).patch(sites::update),
            )
            .route(
                "/api/v1/sites/{site}/notification-templates",
                get(notices::templates),
            )
            .route(
                "/api/v1/sites/{site}/notification-templates/{kind}",
                axum::routing::patch(notices::edit_template),
            )
            .route(
                "/api/v1/sites/{site}/subscriptions",
                get(notices::subscriptions),
            )
            .route(
                "/api/v1/sites/{site}/subscriptions/{username}/{kind}/{channel}",
                axum::routing::put(notices::subscribe),
            )
            .route("/api/v1/sites/{site}/banners", get(notices::banners))
            .route("/api/v1/me/notifications", get(me::notifications))
            .route("/api/v1/me/notifications/read", post(me::mark_all_read))
            .route("/api/v1/me/notifications/{id}/read", post(me::mark_read))
            .route("/api/v1/openapi.json", get(openapi::document))
            .layer(RequestBodyLimitLayer::new(MAX_JSON_BYTES));
        Router::new()
            .merge(oauth)
            .merge(api)
            .merge(console::routes().layer(RequestBodyLimitLayer::new(MAX_CONSOLE_FORM_BYTES)))
            .route("/sites/{site}/oauth2/jwks", get(oauth::jwks))
            .route("/sites/{site}/calendar/{file}", get(calendar::feed))
            .route(
                "/sites/{site}/.well-known/oauth-authorization-server",
                get(oauth::metadata),
            )
            .route("/healthz", get(ops::healthz))
            .route("/readyz", get(ops::readyz))
            .route("/metrics", get(ops::metrics))
            .fallback(ops::not_found)
            .layer(TraceLayer::new_for_http().make_span_with(request_span))
            .with_state(self.state.clone())
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish and writes the
    /// last coalesced usage.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        let state = self.state.clone();
        let background = tokio::spawn(maintain(state.clone()));
        let keys = tokio::spawn(reload_keys(state.clone()));
        let sweeper = tokio::spawn(sweep_periodically(state.clone()));
        let deliverer = tokio::spawn(deliver_continuously(state.clone()));
        listen::serve(listener, self.router(), state.config.connections, shutdown).await;
        background.abort();
        keys.abort();
        sweeper.abort();
        deliverer.abort();
        flush_usage(&state).await;
        Ok(())
    }
}

/// One span per request, numbered so its log lines can be told apart. Only the path is
/// logged: never headers, bodies or query strings, which may carry credentials; and a
/// calendar feed's path without its token, which is one.
fn request_span<B>(request: &axum::http::Request<B>) -> tracing::Span {
    static NEXT_ID: AtomicU64 = AtomicU64::new(1);
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    tracing::info_span!(
        "request",
        id,
        method = %request.method(),
        path = %loggable_path(request.uri().path())
    )
}

/// `path` as it may be logged: `/sites/{site}/calendar/…` keeps its site, not its token.
fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    match path.split_once("/calendar/") {
        Some((before, _)) => format!("{before}/calendar/<token>").into(),
        None => path.into(),
    }
}

/// Every flush interval: write coalesced usage, reload signing keys.
async fn maintain(state: AppState) {
    let mut interval = tokio::time::interval(state.config.flush_interval);
    interval.tick().await;
    loop {
        interval.tick().await;
        flush_usage(&state).await;
    }
}

/// Reloads the signing keys every key reload interval: `appreg keys rotate`, run anywhere,
/// reaches this node within that (SPEC 11: within 60 s).
async fn reload_keys(state: AppState) {
    let mut interval = tokio::time::interval(state.config.key_reload_interval);
    interval.tick().await;
    loop {
        interval.tick().await;
        match blocking(&state, |service| service.ensure_signing_key()).await {
            Ok(Ok(records)) => state.keys.load(&records),
            Ok(Err(error)) => tracing::warn!(%error, "could not reload signing keys"),
            Err(error) => tracing::warn!(%error, "could not reload signing keys"),
        }
    }
}

/// The notification sweeper: at start, then every sweep interval. Several servers on one
/// database may sweep at once; the outbox records each notice once.
async fn sweep_periodically(state: AppState) {
    let mut interval = tokio::time::interval(state.config.sweep_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        match blocking(&state, |service| service.sweep()).await {
            Ok(Ok(report)) if report.notices_recorded > 0 => {
                tracing::info!(notices = report.notices_recorded, "sweep recorded notices");
                state.deliveries_recorded.notify_one();
            }
            Ok(Ok(report)) => tracing::debug!(
                registrations = report.registrations_evaluated,
                "sweep found nothing due"
            ),
            Ok(Err(error)) => tracing::warn!(%error, "sweep failed; retrying next interval"),
            Err(error) => tracing::warn!(%error, "sweep failed; retrying next interval"),
        }
    }
}

/// Deliveries attempted per round: small, so that stopping the server waits for at most a
/// few attempts (each bounded by the notifier's timeout).
const DELIVERY_BATCH: usize = 8;

/// The delivery worker: rounds of [`RegistrationService::deliver_due`] until nothing more is
/// due, then waits for a sweep or the delivery interval. Several servers may run it on one
/// database; leases keep them from sending the same delivery concurrently.
async fn deliver_continuously(state: AppState) {
    let Some(notifier) = state.notifier.clone() else {
        return;
    };
    loop {
        loop {
            let notifier = notifier.clone();
            let round = blocking(&state, move |service| {
                service.deliver_due(notifier.as_ref(), DELIVERY_BATCH)
            })
            .await;
            match round {
                Ok(Ok(report)) => {
                    if report.attempted > 0 {
                        tracing::info!(
                            attempted = report.attempted,
                            sent = report.sent,
                            retrying = report.retrying,
                            dead = report.dead,
                            "deliveries attempted"
                        );
                    }
                    if report.attempted < DELIVERY_BATCH {
                        break;
                    }
                }
                Ok(Err(error)) => {
                    tracing::warn!(%error, "delivery round failed; retrying later");
                    break;
                }
                Err(error) => {
                    tracing::warn!(%error, "delivery round failed; retrying later");
                    break;
                }
            }
        }
        tokio::select! {
            () = state.deliveries_recorded.notified() => {}
            () = tokio::time::sleep(state.config.delivery_interval) => {}
        }
    }
}

async fn flush_usage(state: &AppState) {
    let updates = state.usage().take();
    if updates.is_empty() {
        return;
    }
    let count = updates.len();
    match blocking(state, move |service| service.record_usage(&updates)).await {
        Ok(Ok(())) => tracing::debug!(registrations = count, "usage written"),
        Ok(Err(error)) => tracing::warn!(%error, "could not write usage"),
        Err(error) => tracing::warn!(%error, "could not write usage"),
    }
}
