//! The per-site OAuth 2.0 endpoints (SPEC section 7): token, JWKS, introspection, metadata.
//! Handlers parse, call the domain, render; the rules are registration-core's.

use std::net::IpAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use registration_core::{
    CheckedClient, ClientCheck, PresentedToken, SiteSlug, TokenDecision, issuer,
};

use crate::budget::AttemptKeys;
use crate::error::Error;
use crate::source::Source;
use crate::{AppState, blocking};

/// Client credentials as presented, before any check.
#[derive(PartialEq, Eq)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: String,
    /// Presented with HTTP Basic (`client_secret_basic`) rather than in the body.
    pub basic: bool,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .field("basic", &self.basic)
            .finish_non_exhaustive()
    }
}

/// A parsed `application/x-www-form-urlencoded` request of the OAuth endpoints.
#[derive(Debug, PartialEq, Eq)]
pub struct FormRequest {
    pub credentials: Option<Credentials>,
    /// Every other parameter, each at most once.
    pub parameters: Vec<(String, String)>,
}

impl FormRequest {
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Parses the headers and body of a token or introspection request (RFC 6749 §2.3.1 and
/// §3.2): form encoding, no repeated parameter, at most one client authentication method.
pub fn parse_form_request(headers: &HeaderMap, body: &[u8]) -> Result<FormRequest, Error> {
    let form_encoded = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_encoded {
        return Err(Error::InvalidRequest(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let mut parameters: Vec<(String, String)> = Vec::new();
    for (key, value) in form_urlencoded::parse(body) {
        if parameters.iter().any(|(seen, _)| *seen == key) {
            return Err(Error::InvalidRequest("a parameter is repeated"));
        }
        parameters.push((key.into_owned(), value.into_owned()));
    }
    let mut take = |name: &str| {
        parameters
            .iter()
            .position(|(key, _)| key == name)
            .map(|index| parameters.remove(index).1)
    };
    let body_credentials = match (take("client_id"), take("client_secret")) {
        (Some(client_id), Some(client_secret)) => Some(Credentials {
            client_id,
            client_secret,
            basic: false,
        }),
        (None, None) => None,
        _ => {
            return Err(Error::InvalidRequest(
                "client_id and client_secret go together",
            ));
        }
    };
    let basic_credentials = basic_credentials(headers)?;
    let credentials = match (basic_credentials, body_credentials) {
        (Some(_), Some(_)) => {
            return Err(Error::InvalidRequest(
                "use one client authentication method, not two",
            ));
        }
        (basic, body) => basic.or(body),
    };
    Ok(FormRequest {
        credentials,
        parameters,
    })
}

/// `Authorization: Basic base64(urlencode(id) ":" urlencode(secret))`.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<Credentials>, Error> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || Error::InvalidRequest("malformed Authorization header");
    let value = value.to_str().map_err(|_| malformed())?;
    let (scheme, encoded) = value.split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(Error::InvalidRequest(
            "only HTTP Basic client authentication is supported",
        ));
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let decode = |part: &str| -> String {
        form_urlencoded::parse(format!("x={part}").as_bytes())
            .next()
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default()
    };
    Ok(Some(Credentials {
        client_id: decode(id),
        client_secret: decode(secret),
        basic: true,
    }))
}

fn site_slug(site: &str) -> Result<SiteSlug, Error> {
    SiteSlug::parse(site).map_err(|_| Error::NotFound)
}

fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// Checks client credentials: the cheap lookup first, then (under the failure budgets and the
/// bound on concurrent verifications) one argon2 verification off the async executor.
pub(crate) async fn authenticate(
    state: &AppState,
    site: &SiteSlug,
    credentials: Credentials,
    source: IpAddr,
) -> Result<CheckedClient, Error> {
    let Credentials {
        client_id,
        client_secret,
        basic: _,
    } = credentials;
    // A registration the store holds in memory is checked right here: no I/O, so no hop
    // to the blocking pool (the warm path's largest cost after the signature).
    let in_memory = state.service.check_client_in_memory(
        site,
        &client_id,
        &client_secret,
        state.cache.as_ref(),
    );
    let check = match in_memory {
        Some(check) => check,
        None => {
            let (site, client_id, cache) = (site.clone(), client_id.clone(), state.cache.clone());
            blocking(state, move |service| {
                service.check_client(&site, &client_id, &client_secret, cache.as_ref())
            })
            .await??
        }
    };
    let pending = match check {
        ClientCheck::Decided(checked) => return Ok(checked),
        ClientCheck::NeedsHashing(pending) => pending,
    };
    let policy = state.config.budgets;
    let now = state.service.now();
    let keys = AttemptKeys::new("client", &format!("{site}:{client_id}"), source);
    if let Err(retry_after_seconds) = state.budgets.admit(&keys, &policy, now) {
        state.metrics.token_rate_limited();
        return Err(Error::RateLimited {
            retry_after_seconds,
        });
    }
    let permit = state
        .verifications
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| Error::Internal("verification pool closed".into()))?;
    let cache = state.cache.clone();
    let metrics = state.metrics.clone();
    let checked = blocking(state, move |service| {
        let _permit = permit;
        metrics.time_verification(|| service.finish_verification(pending, cache.as_ref()))
    })
    .await?;
    // Every refusal spends the budgets, whether the secret was wrong or right for a
    // registration that cannot authenticate: both are answered alike, 429 included.
    if !checked.authenticates(now) {
        state.budgets.record_failed(&keys, &policy, now);
    }
    Ok(checked)
}

/// `POST /sites/{site}/oauth2/token`
pub(crate) async fn token(
    State(state): State<AppState>,
    Path(site): Path<String>,
    Source(source): Source,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Error> {
    let site = site_slug(&site)?;
    let request = parse_form_request(&headers, &body)
        .inspect_err(|_| state.metrics.token_invalid_request())?;
    match request.parameter("grant_type") {
        Some("client_credentials") => {}
        Some(_) => {
            state.metrics.token_invalid_request();
            return Err(Error::UnsupportedGrantType);
        }
        None => {
            state.metrics.token_invalid_request();
            return Err(Error::InvalidRequest("grant_type is required"));
        }
    }
    let scope = request.parameter("scope").map(str::to_owned);
    let Some(credentials) = request.credentials else {
        state.metrics.token_refused();
        return Err(Error::InvalidClient { basic: true });
    };
    let basic = credentials.basic;
    let checked = authenticate(&state, &site, credentials, source).await?;
    let decision = state.service.decide_token(
        &checked,
        &state.config.public_url,
        state.config.token_lifetime,
        scope.clone(),
    )?;
    let decided_at = match &decision {
        TokenDecision::Issue(claims) => claims.issued_at,
        TokenDecision::Refuse(_) => state.service.now(),
    };
    // Uses, rejections of correct secrets, presentations of a retired secret (SPEC 3, 12).
    state.usage().record_outcome(
        checked.registration.as_ref(),
        checked.secret,
        &decision,
        decided_at,
    );
    match decision {
        TokenDecision::Issue(claims) => {
            let access_token = state
                .keys
                .sign(&claims)
                .ok_or_else(|| Error::Internal("no signing key loaded".into()))?;
            state.metrics.token_issued();
            let expires_in = (claims.expires_at - claims.issued_at)
                .whole_seconds()
                .max(0);
            let mut body = serde_json::json!({
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": expires_in,
            });
            if let Some(scope) = scope {
                body["scope"] = scope.into();
            }
            Ok(no_store(Json(body).into_response()))
        }
        TokenDecision::Refuse(_) => {
            state.metrics.token_refused();
            Err(Error::InvalidClient { basic })
        }
    }
}

/// `GET /sites/{site}/oauth2/jwks`
pub(crate) async fn jwks(
    State(state): State<AppState>,
    Path(site): Path<String>,
) -> Result<Response, Error> {
    let site = site_slug(&site)?;
    blocking(&state, move |service| service.site(&site)).await??;
    Ok(Json(state.keys.jwks()).into_response())
}

/// `GET /sites/{site}/.well-known/oauth-authorization-server` (RFC 8414)
pub(crate) async fn metadata(
    State(state): State<AppState>,
    Path(site): Path<String>,
) -> Result<Response, Error> {
    let slug = site_slug(&site)?;
    let checked = slug.clone();
    blocking(&state, move |service| service.site(&checked)).await??;
    let issuer = issuer(&state.config.public_url, &slug);
    let methods = ["client_secret_basic", "client_secret_post"];
    Ok(Json(serde_json::json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}/oauth2/token"),
        "jwks_uri": format!("{issuer}/oauth2/jwks"),
        "introspection_endpoint": format!("{issuer}/oauth2/introspect"),
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": methods,
        "introspection_endpoint_auth_methods_supported": methods,
    }))
    .into_response())
}

/// `POST /sites/{site}/oauth2/introspect` (RFC 7662), authenticated as any registration of
/// the same site that may authenticate, or with an API token of one of its administrators.
pub(crate) async fn introspect(
    State(state): State<AppState>,
    Path(site): Path<String>,
    Source(source): Source,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Error> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("Bearer "));
    let site = if bearer {
        // An administrator of this site, with a personal API token.
        let (_, site) = crate::api::administrator_of(&state, &headers, &site).await?;
        site
    } else {
        site_slug(&site)?
    };
    let mut form_headers = headers.clone();
    if bearer {
        form_headers.remove(header::AUTHORIZATION);
    }
    let request = parse_form_request(&form_headers, &body)?;
    let Some(token) = request.parameter("token").map(str::to_owned) else {
        return Err(Error::InvalidRequest("token is required"));
    };
    if !bearer {
        // Or a registration of this site that may itself authenticate.
        let Some(credentials) = request.credentials else {
            return Err(Error::InvalidClient { basic: true });
        };
        let basic = credentials.basic;
        let caller = authenticate(&state, &site, credentials, source).await?;
        if !caller.authenticates(state.service.now()) {
            return Err(Error::InvalidClient { basic });
        }
    }
    let inactive = || no_store(Json(serde_json::json!({ "active": false })).into_response());
    let Some(claims) = state.keys.verify(&token, state.service.now()) else {
        return Ok(inactive());
    };
    let (public_url, presented) = (state.config.public_url.clone(), claims.clone());
    let active = blocking(&state, move |service| {
        let token = PresentedToken {
            issuer: &presented.iss,
            site: &presented.site,
            client_id: &presented.client_id,
        };
        service.introspect(&site, &public_url, token)
    })
    .await??;
    if !active {
        return Ok(inactive());
    }
    let mut body = serde_json::json!({
        "active": true,
        "client_id": claims.client_id,
        "sub": claims.sub,
        "iss": claims.iss,
        "aud": claims.aud,
        "iat": claims.iat,
        "exp": claims.exp,
        "jti": claims.jti,
        "token_type": "Bearer",
        "site": claims.site,
    });
    if let Some(scope) = claims.scope {
        body["scope"] = scope.into();
    }
    Ok(no_store((StatusCode::OK, Json(body)).into_response()))
}
