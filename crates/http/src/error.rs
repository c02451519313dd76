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
    /// No valid bearer token on an admin API call.
    #[error("authentication required")]
    Unauthenticated,
    /// Authenticated, in the right site, but not allowed to do this (403).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// Field-by-field validation failures (422).
    #[error("invalid fields")]
    Invalid(Vec<FieldError>),
    #[error("the body must be application/json")]
    UnsupportedMediaType,
    #[error("malformed JSON: {0}")]
    MalformedBody(String),
    #[error(transparent)]
    Core(#[from] registration_core::Error),
    #[error("internal error: {0}")]
    Internal(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// One invalid field of a request, as listed in a 422 problem's `errors`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: &'static str,
    pub detail: String,
}

/// The field a domain validation error is about, if it is about one.
fn field_of(error: &registration_core::Error) -> Option<&'static str> {
    use registration_core::Error as Core;
    match error {
        Core::EmptyText { field: "name" }
        | Core::TextTooLong { field: "name", .. }
        | Core::ControlCharacter { field: "name" } => Some("name"),
        Core::MalformedDate | Core::DateInPast { .. } | Core::DateTooFarAhead { .. } => {
            Some("expiration_date")
        }
        Core::InvalidTemplate { part, .. } => Some(part),
        Core::BannerFixedForExpired | Core::InvalidBannerSetting => Some("banner"),
        Core::NoEmailAddress(_) => Some("enabled"),
        Core::InvalidOverlap | Core::OverlapTooLong { .. } => Some("overlap"),
        _ => None,
    }
}

/// A 422 problem listing the invalid fields.
fn invalid(status: StatusCode, errors: &[FieldError]) -> Response {
    let body = serde_json::json!({
        "type": "about:blank",
        "title": "Invalid request",
        "status": status.as_u16(),
        "detail": "One or more fields are invalid.",
        "errors": errors,
    });
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
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
                // Only the OAuth endpoints count failures: their clients parse RFC 6749
                // errors. `temporarily_unavailable` is RFC 6749's "try again later".
                let mut response = oauth_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "temporarily_unavailable",
                    "too many failed client authentications; retry after Retry-After seconds",
                );
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(retry_after_seconds.max(1)),
                );
                response
            }
            Error::NotFound
            | Error::Core(registration_core::Error::Store(
                StoreError::UnknownSite(_) | StoreError::NotFound,
            )) => problem(
                StatusCode::NOT_FOUND,
                "Not Found",
                "There is nothing at this address.",
            ),
            Error::Unauthenticated => {
                let mut response = problem(
                    StatusCode::UNAUTHORIZED,
                    "Unauthorized",
                    "Send a personal API token: Authorization: Bearer appregpat_…",
                );
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"appreg\""),
                );
                response
            }
            Error::Forbidden(reason) => problem(StatusCode::FORBIDDEN, "Forbidden", reason),
            Error::Invalid(errors) => invalid(StatusCode::UNPROCESSABLE_ENTITY, &errors),
            Error::UnsupportedMediaType => problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported Media Type",
                "The body must be application/json.",
            ),
            Error::MalformedBody(reason) => problem(
                StatusCode::BAD_REQUEST,
                "Malformed body",
                &format!("malformed JSON: {reason}"),
            ),
            Error::Core(registration_core::Error::Store(StoreError::DuplicateName(name))) => {
                invalid(
                    StatusCode::CONFLICT,
                    &[FieldError {
                        field: "name",
                        detail: format!(
                            "a registration named {name:?} already exists in this site"
                        ),
                    }],
                )
            }
            Error::Core(
                error @ (registration_core::Error::TwoLiveSecrets { .. }
                | registration_core::Error::LastSecret),
            ) => problem(StatusCode::CONFLICT, "Conflict", &error.to_string()),
            Error::Core(registration_core::Error::Store(StoreError::Conflict)) => problem(
                StatusCode::CONFLICT,
                "Conflict",
                "The registration was changed by someone else; reload and try again.",
            ),
            Error::Core(registration_core::Error::Store(
                error @ (StoreError::Unavailable(_) | StoreError::Busy(_)),
            )) => {
                // The database is down or overloaded: a client should try again, and a
                // load balancer sees it in /readyz too.
                tracing::warn!(%error, "the database could not serve the request");
                let mut response = problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service Unavailable",
                    "The database cannot be reached right now; try again shortly.",
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(1));
                response
            }
            Error::Core(error) if field_of(&error).is_some() => invalid(
                StatusCode::UNPROCESSABLE_ENTITY,
                &[FieldError {
                    field: field_of(&error).unwrap_or_default(),
                    detail: error.to_string(),
                }],
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
