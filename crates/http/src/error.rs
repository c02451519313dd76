//! The crate's one error type, and the one place errors become HTTP responses: RFC 6749
//! §5.2 errors on the OAuth endpoints, RFC 9457 problem documents everywhere else.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use registration_core::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Client authentication failed, for whatever reason: one answer for all of them.
    #[error("client authentication failed")]
    InvalidClient {
        /// The client tried HTTP Basic, so the answer carries `WWW-Authenticate: Basic`.
        basic: bool,
    },
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),
    #[error("unsupported grant type")]
    UnsupportedGrantType,
    #[error("too many failed attempts")]
    RateLimited { retry_after_seconds: u64 },
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Core(#[from] registration_core::Error),
    #[error("internal error: {0}")]
    Internal(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

fn oauth_error(status: StatusCode, code: &str, description: &str) -> Response {
    let body = serde_json::json!({ "error": code, "error_description": description });
    let mut response = (status, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// An RFC 9457 problem document.
pub(crate) fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
    let body = serde_json::json!({
        "type": "about:blank",
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    });
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Error::InvalidClient { basic } => {
                let mut response = oauth_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "client authentication failed",
                );
                if basic {
                    response.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static("Basic realm=\"appreg\", charset=\"UTF-8\""),
                    );
                }
                response
            }
            Error::InvalidRequest(reason) => {
                oauth_error(StatusCode::BAD_REQUEST, "invalid_request", reason)
            }
            Error::UnsupportedGrantType => oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only grant_type=client_credentials is supported",
            ),
            Error::RateLimited {
                retry_after_seconds,
            } => {
                let mut response = problem(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many failed attempts",
                    "Too many failed client authentications; retry later.",
                );
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(retry_after_seconds.max(1)),
                );
                response
            }
            Error::NotFound
            | Error::Core(registration_core::Error::Store(StoreError::UnknownSite(_))) => problem(
                StatusCode::NOT_FOUND,
                "Not Found",
                "There is nothing at this address.",
            ),
            other => {
                tracing::error!(error = %other, "request failed");
                problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal Server Error",
                    "The server could not complete the request.",
                )
            }
        }
    }
}
