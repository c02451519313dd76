//! Operations endpoints: liveness, readiness, Prometheus metrics, and the fallback 404.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::problem;
use crate::{AppState, blocking};

/// Counters exposed at `/metrics`.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    tokens_issued: AtomicU64,
    tokens_refused: AtomicU64,
    tokens_invalid_request: AtomicU64,
    tokens_rate_limited: AtomicU64,
    verifications: AtomicU64,
    verification_micros: AtomicU64,
}

impl Metrics {
    pub(crate) fn token_issued(&self) {
        self.tokens_issued.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn token_refused(&self) {
        self.tokens_refused.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn token_invalid_request(&self) {
        self.tokens_invalid_request.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn token_rate_limited(&self) {
        self.tokens_rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    /// Runs one argon2 verification and records how long it took.
    pub(crate) fn time_verification<T>(&self, verify: impl FnOnce() -> T) -> T {
        #[allow(clippy::disallowed_methods)] // a duration for metrics, not domain time
        let started = std::time::Instant::now();
        let result = verify();
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.verifications.fetch_add(1, Ordering::Relaxed);
        self.verification_micros
            .fetch_add(micros, Ordering::Relaxed);
        result
    }

    fn render(&self) -> String {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let seconds = load(&self.verification_micros) as f64 / 1e6;
        format!(
            "# HELP appreg_token_requests_total Token requests by outcome.\n\
             # TYPE appreg_token_requests_total counter\n\
             appreg_token_requests_total{{outcome=\"issued\"}} {}\n\
             appreg_token_requests_total{{outcome=\"invalid_client\"}} {}\n\
             appreg_token_requests_total{{outcome=\"invalid_request\"}} {}\n\
             appreg_token_requests_total{{outcome=\"rate_limited\"}} {}\n\
             # HELP appreg_secret_verification_seconds Time spent in argon2id verifications.\n\
             # TYPE appreg_secret_verification_seconds summary\n\
             appreg_secret_verification_seconds_sum {seconds}\n\
             appreg_secret_verification_seconds_count {}\n",
            load(&self.tokens_issued),
            load(&self.tokens_refused),
            load(&self.tokens_invalid_request),
            load(&self.tokens_rate_limited),
            load(&self.verifications),
        )
    }
}

/// `GET /healthz`: the process is up.
pub(crate) async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: the database answers.
pub(crate) async fn readyz(State(state): State<AppState>) -> Response {
    match blocking(&state, |service| service.sites()).await {
        Ok(Ok(_)) => "ready".into_response(),
        _ => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "Not Ready",
            "The database cannot be reached.",
        ),
    }
}

/// `GET /metrics`: Prometheus text format.
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    let mut text = state.metrics.render();
    match blocking(&state, |service| service.delivery_counts()).await {
        Ok(Ok(counts)) => {
            text.push_str(
                "# HELP appreg_notice_deliveries Deliveries of recorded notices by kind and status.\n\
                 # TYPE appreg_notice_deliveries gauge\n",
            );
            for (kind, status, count) in counts {
                text.push_str(&format!(
                    "appreg_notice_deliveries{{kind=\"{kind}\",status=\"{status}\"}} {count}\n"
                ));
            }
        }
        _ => tracing::warn!("could not read notice counts for /metrics"),
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

pub(crate) async fn not_found() -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "Not Found",
        "There is nothing at this address.",
    )
}
