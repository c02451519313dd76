//! The rules of the client-credentials grant (SPEC section 7): who gets a token, with which
//! claims, and what a refusal counts. Signing and HTTP live in the adapters.

use time::{Duration, OffsetDateTime};

use crate::registration::Registration;
use crate::secret::ClientId;
use crate::site::{Site, SiteSlug};

/// Access tokens live this long unless the registration expires sooner.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::minutes(15);

/// The claims of an RFC 9068 access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessTokenClaims {
    /// `{public_url}/sites/{site}`
    pub issuer: String,
    /// `sub` and `client_id`: the Client ID.
    pub client_id: ClientId,
    /// The site the token is for.
    pub site: SiteSlug,
    /// `iat`.
    pub issued_at: OffsetDateTime,
    /// Never after the registration's expiry instant.
    pub expires_at: OffsetDateTime,
    /// `jti`: unique per token.
    pub token_id: String,
    /// The scope the client asked for, echoed.
    pub scope: Option<String>,
}

/// The issuer identifier of a site: `{public_url}/sites/{site}`.
pub fn issuer(public_url: &str, site: &SiteSlug) -> String {
    format!("{}/sites/{site}", public_url.trim_end_matches('/'))
}

/// What to answer a token request whose client authentication has been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenDecision {
    /// Sign a token with these claims.
    Issue(AccessTokenClaims),
    /// Always the same `401 invalid_client` to the caller, whatever the reason.
    Refuse(Refusal),
}

/// Why a token request is refused. Only for metrics and the rejected-requests count; the
/// caller never learns which one it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Unknown Client ID, another site's client, wrong or malformed secret.
    BadCredentials,
    /// Correct credentials of a registration that is expired or disabled: counted on the
    /// registration so administrators see it is still being called.
    NotAuthenticating,
}

/// Everything a token request needs to be decided.
#[derive(Debug, Clone)]
pub struct TokenRequest<'a> {
    /// The site the request was sent to.
    pub site: &'a Site,
    /// The registration the Client ID names in this site, if any.
    pub registration: Option<&'a Registration>,
    /// Whether the presented secret is that registration's.
    pub secret_matches: bool,
    /// The service's `now`.
    pub now: OffsetDateTime,
    /// Where appreg is reached (for `iss`).
    pub public_url: &'a str,
    /// How long tokens live unless the registration expires sooner.
    pub lifetime: Duration,
    /// A fresh `jti`.
    pub token_id: String,
    /// The scope asked for.
    pub scope: Option<String>,
}

/// Issues a token iff the registration exists in the site, the secret matches and its state
/// authenticates; `exp` is capped at the registration's expiry instant.
pub fn decide_token_request(request: TokenRequest<'_>) -> TokenDecision {
    let Some(registration) = request.registration.filter(|_| request.secret_matches) else {
        return TokenDecision::Refuse(Refusal::BadCredentials);
    };
    let status = registration.status(request.site, request.now);
    if !status.state.can_authenticate() {
        return TokenDecision::Refuse(Refusal::NotAuthenticating);
    }
    TokenDecision::Issue(AccessTokenClaims {
        issuer: issuer(request.public_url, &request.site.slug),
        client_id: registration.client_id().clone(),
        site: request.site.slug.clone(),
        issued_at: request.now,
        expires_at: (request.now + request.lifetime).min(status.expires_at),
        token_id: request.token_id,
        scope: request.scope,
    })
}

/// The facts of an access token presented for introspection (RFC 7662) whose signature and
/// `exp` the adapter has verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresentedToken<'a> {
    /// `iss` as signed.
    pub issuer: &'a str,
    /// The `site` claim as signed.
    pub site: &'a str,
    /// `client_id` as signed.
    pub client_id: &'a str,
}

/// Whether a verified token is active: this site's issuer signed it for this site, and the
/// registration it names (`registration`, looked up by its Client ID in `site`) still exists
/// and authenticates at `now`. A token outlives neither a disable nor a delete.
pub fn token_is_active(
    token: PresentedToken<'_>,
    site: &Site,
    public_url: &str,
    registration: Option<&Registration>,
    now: OffsetDateTime,
) -> bool {
    token.site == site.slug.as_str()
        && token.issuer == issuer(public_url, &site.slug)
        && registration.is_some_and(|registration| {
            registration.client_id().as_str() == token.client_id
                && registration.status(site, now).state.can_authenticate()
        })
}
