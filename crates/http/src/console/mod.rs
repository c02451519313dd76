//! The admin console (SPEC sections 2, 3 and 6): server-rendered HTML over
//! `RegistrationService`, no build step. Sessions are HttpOnly, SameSite=Strict cookies
//! (Secure when the public URL is https) holding a random token stored as a digest; every
//! form carries a CSRF token derived from the session, and cross-origin posts are refused.
//! Every page of a site shows that site's banners. Another site's pages answer 404.

mod audit;
mod inbox;
mod notifications;
mod overview;
mod registrations;
mod rotation;
mod settings;
mod view;

use axum::Router;
use axum::extract::{Form, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::context;
use registration_core::{AdminAccount, SESSION_LIFETIME, SessionToken, SiteSlug, TokenDigest};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::budget::AttemptKeys;
use crate::error::Error;
use crate::source::Source;
use crate::{AppState, blocking};

pub(crate) use view::Views;

const SESSION_COOKIE: &str = "appreg_session";
/// The browser's half of a one-time secret reveal, scoped to the secret page's path.
const REVEAL_COOKIE: &str = "appreg_reveal";
/// The login form's double-submit CSRF token (there is no session yet to derive one from).
const LOGIN_COOKIE: &str = "appreg_login";

pub(crate) fn routes() -> Router<AppState> {
    let registrations = "/sites/{site}/app-registrations";
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/switch-site", get(switch_site))
        .route("/console/console.css", get(view::css))
        .route("/console/console.js", get(view::js))
        .route(
            registrations,
            get(registrations::grid).post(registrations::create),
        )
        .route(
            &format!("{registrations}/new"),
            get(registrations::new_form),
        )
        .route(
            &format!("{registrations}/{{client_id}}"),
            get(registrations::detail).post(registrations::change),
        )
        .route(
            &format!("{registrations}/{{client_id}}/secret"),
            get(registrations::secret),
        )
        .route(
            &format!("{registrations}/{{client_id}}/replace"),
            get(registrations::replace),
        )
        .route(
            &format!("{registrations}/{{client_id}}/rotate"),
            get(rotation::rotate_form).post(rotation::rotate),
        )
        .route(
            "/sites/{site}/notifications/templates",
            get(notifications::templates),
        )
        .route(
            "/sites/{site}/notifications/templates/{kind}",
            post(notifications::edit_template),
        )
        .route(
            "/sites/{site}/notifications/subscriptions",
            get(notifications::subscriptions).post(notifications::subscribe),
        )
        .route("/sites/{site}/notifications/log", get(notifications::log))
        .route("/sites/{site}/audit", get(audit::log))
        .route("/sites/{site}/expiring", get(overview::expiring))
        .route(
            "/sites/{site}/settings",
            get(settings::settings).post(settings::save),
        )
        .route("/sites/{site}/inbox", get(inbox::inbox))
        .route("/sites/{site}/inbox/read", post(inbox::mark_read))
        .layer(axum::middleware::map_response(security_headers))
}

/// On every console response: nothing cached (the secret page above all), no framing, no
/// inline script or style, no referrer leaving the site.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// A signed-in administrator and their session.
pub(crate) struct Signed {
    pub(crate) admin: AdminAccount,
    token: SessionToken,
}

impl Signed {
    pub(crate) fn csrf(&self) -> String {
        self.token.csrf_token()
    }

    /// Refuses a form whose CSRF token is not this session's, or that comes from another
    /// origin (defence in depth: SameSite=Strict already keeps the cookie off cross-site
    /// posts).
    pub(crate) fn check_form(
        &self,
        state: &AppState,
        headers: &HeaderMap,
        presented: &str,
    ) -> Result<(), PageError> {
        check_origin(state, headers)?;
        if bool::from(self.csrf().as_bytes().ct_eq(presented.as_bytes())) {
            Ok(())
        } else {
            Err(PageError::Forbidden)
        }
    }

    /// What this session's one-time secret reveals are kept under.
    pub(crate) fn session_digest(&self) -> TokenDigest {
        self.token.digest()
    }
}

fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<(), PageError> {
    match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        Some(origin) if origin != public_origin(&state.config.public_url) => {
            Err(PageError::Forbidden)
        }
        _ => Ok(()),
    }
}

/// `scheme://host[:port]` of the public URL, as browsers send it in `Origin`.
fn public_origin(public_url: &str) -> &str {
    let after_scheme = public_url.find("://").map_or(0, |i| i + 3);
    match public_url[after_scheme..].find('/') {
        Some(path) => &public_url[..after_scheme + path],
        None => public_url,
    }
}

/// What a console request can fail with, rendered as a page.
#[derive(Debug)]
pub(crate) enum PageError {
    /// Not signed in: go to the sign-in page.
    SignIn,
    /// No such page, or another site's: indistinguishable.
    NotFound,
    /// A form without this session's CSRF token, or from another origin.
    Forbidden,
    /// Too many failed sign-ins from this source (or for this account from it).
    TooManyAttempts {
        /// Whole seconds until a sign-in is tried again, for `Retry-After`.
        retry_after_seconds: u64,
    },
    Internal(String),
}

impl From<Error> for PageError {
    fn from(error: Error) -> Self {
        match error {
            Error::NotFound
            | Error::Core(registration_core::Error::Store(
                registration_core::StoreError::NotFound
                | registration_core::StoreError::UnknownSite(_),
            )) => PageError::NotFound,
            other => PageError::Internal(other.to_string()),
        }
    }
}

impl From<registration_core::Error> for PageError {
    fn from(error: registration_core::Error) -> Self {
        Error::Core(error).into()
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, heading, message) = match self {
            PageError::SignIn => return see_other("/login"),
            PageError::NotFound => (
                StatusCode::NOT_FOUND,
                "Not found",
                "There is nothing at this address.",
            ),
            PageError::Forbidden => (
                StatusCode::FORBIDDEN,
                "This form cannot be accepted",
                "It did not come from a page of this console, or it is from an earlier \
                 session. Go back, reload the page and try again.",
            ),
            PageError::TooManyAttempts {
                retry_after_seconds,
            } => {
                let html = Views::standalone(
                    "Too many attempts",
                    &format!(
                        "Too many failed sign-ins; wait {retry_after_seconds} seconds and try again."
                    ),
                );
                let mut response = html_response(StatusCode::TOO_MANY_REQUESTS, html);
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
                return response;
            }
            PageError::Internal(error) => {
                tracing::error!(%error, "console request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The server could not complete the request.",
                )
            }
        };
        let html = Views::standalone(heading, message);
        html_response(status, html)
    }
}

pub(crate) fn html_response(status: StatusCode, html: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response()
}

pub(crate) fn see_other(location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_owned())],
    )
        .into_response()
}

pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// Adds a `Set-Cookie` with the console's attributes (an empty value with age 0 removes it).
pub(crate) fn add_cookie(
    state: &AppState,
    response: &mut Response,
    (name, value): (&str, &str),
    path: &str,
    max_age: i64,
) -> Result<(), PageError> {
    let secure = if state.config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    ))
    .map_err(|error| PageError::Internal(error.to_string()))?;
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(())
}

/// The query string's pairs, decoded.
pub(crate) fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect()
}

/// The first value of `key`, or "" when absent.
pub(crate) fn query_value<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, value)| value.as_str())
}

/// The 1-based page a console list asks for (`page=`); anything unreadable is page 1.
pub(crate) fn page_number(pairs: &[(String, String)]) -> u32 {
    query_value(pairs, "page")
        .trim()
        .parse::<u32>()
        .unwrap_or(1)
        .clamp(1, 1_000_000)
}

/// The pager under a console list, merged into the list's context (`..pager(…)`): `page`,
/// `pages`, and the links to the previous and next pages where there are some.
pub(crate) fn pager(
    page: u64,
    total: u64,
    per_page: u64,
    link: impl Fn(u64) -> String,
) -> minijinja::Value {
    let pages = total.div_ceil(per_page).max(1);
    context! {
        page => page,
        pages => pages,
        prev => (page > 1).then(|| link(page - 1)),
        next => (page < pages).then(|| link(page + 1)),
    }
}

/// `text` encoded for a query string.
pub(crate) fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The administrator signed in with this request's session cookie, if any.
pub(crate) async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Signed>, PageError> {
    let Some(presented) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let found = blocking(state, move |service| service.session_admin(&presented)).await??;
    Ok(found.map(|(admin, token)| Signed { admin, token }))
}

/// A signed-in administrator of `site`; anyone else gets the sign-in page or a 404.
pub(crate) async fn site_access(
    state: &AppState,
    headers: &HeaderMap,
    site: &str,
) -> Result<(Signed, SiteSlug), PageError> {
    let signed = signed_in(state, headers).await?.ok_or(PageError::SignIn)?;
    let site = signed
        .admin
        .administered_site(site)
        .ok_or(PageError::NotFound)?;
    Ok((signed, site))
}

/// [`site_access`] for a state-changing form: also checks its origin and CSRF token.
pub(crate) async fn site_form_access(
    state: &AppState,
    headers: &HeaderMap,
    site: &str,
    csrf: &str,
) -> Result<(Signed, SiteSlug), PageError> {
    let (signed, site) = site_access(state, headers, site).await?;
    signed.check_form(state, headers, csrf)?;
    Ok((signed, site))
}

/// `/`: the first site's registrations, or the sign-in page.
async fn home(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, PageError> {
    let signed = signed_in(&state, &headers)
        .await?
        .ok_or(PageError::SignIn)?;
    match signed.admin.sites.first() {
        Some(site) => Ok(see_other(&format!("/sites/{site}/app-registrations"))),
        None => Ok(html_response(
            StatusCode::OK,
            Views::standalone(
                "No sites",
                "Your account does not manage any site yet. Ask an operator to add one.",
            ),
        )),
    }
}

async fn switch_site(RawQuery(raw): RawQuery) -> Response {
    let pairs = query_pairs(raw.as_deref());
    let site = SiteSlug::parse(query_value(&pairs, "site")).ok();
    match site {
        Some(site) => see_other(&format!("/sites/{site}/app-registrations")),
        None => see_other("/"),
    }
}

async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    if signed_in(&state, &headers).await?.is_some() {
        return Ok(see_other("/"));
    }
    login_page(&state, StatusCode::OK, "", None)
}

fn login_page(
    state: &AppState,
    status: StatusCode,
    username: &str,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let csrf = state.service.random_hex(32)?;
    let body = state.views.render(
        "login.html",
        context! { csrf => &csrf, username => username, error => error },
    )?;
    let html = state
        .views
        .layout(context! { title => "Sign in", body => body })?;
    let mut response = html_response(status, html);
    add_cookie(state, &mut response, (LOGIN_COOKIE, &csrf), "/login", 3600)?;
    Ok(response)
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

/// Sign-in: the same failure budgets as client authentication (per username and per source,
/// checked before hashing), argon2 under the verification semaphore, one message for every
/// failure.
async fn login(
    State(state): State<AppState>,
    Source(source): Source,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    check_origin(&state, &headers)?;
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !bool::from(expected.as_bytes().ct_eq(form.csrf.as_bytes())) {
        return Err(PageError::Forbidden);
    }
    let policy = state.config.budgets;
    let now = state.service.now();
    let keys = AttemptKeys::new("login", &form.username.to_lowercase(), source);
    if let Err(retry_after_seconds) = state.budgets.admit(&keys, &policy, now) {
        return Err(PageError::TooManyAttempts {
            retry_after_seconds,
        });
    }
    let permit = state
        .verifications
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| PageError::Internal("verification pool closed".into()))?;
    let (username, password) = (form.username.clone(), form.password);
    let signed = blocking(&state, move |service| {
        let _permit = permit;
        service.sign_in(&username, &password)
    })
    .await??;
    let Some((_, token)) = signed else {
        state.budgets.record_failed(&keys, &policy, now);
        return login_page(
            &state,
            StatusCode::UNAUTHORIZED,
            &form.username,
            Some("Wrong username or password."),
        );
    };
    let mut response = see_other("/");
    add_cookie(
        &state,
        &mut response,
        (SESSION_COOKIE, token.expose_secret()),
        "/",
        SESSION_LIFETIME.whole_seconds(),
    )?;
    add_cookie(&state, &mut response, (LOGIN_COOKIE, ""), "/login", 0)?;
    Ok(response)
}

#[derive(Deserialize)]
pub(crate) struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    let signed = signed_in(&state, &headers)
        .await?
        .ok_or(PageError::SignIn)?;
    signed.check_form(&state, &headers, &form.csrf)?;
    blocking(&state, move |service| service.sign_out(&signed.token)).await??;
    let mut response = see_other("/login");
    add_cookie(&state, &mut response, (SESSION_COOKIE, ""), "/", 0)?;
    Ok(response)
}
