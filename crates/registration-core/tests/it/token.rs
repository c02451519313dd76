//! The client-credentials decision: who gets a token and until when.

use registration_core::{
    CheckedClient, DEFAULT_TOKEN_LIFETIME, PresentedToken, Refusal, Registration, SecretMatch,
    Site, TokenDecision, TokenRequest, decide_token_request, issuer, token_is_active,
};
use time::{Duration, OffsetDateTime};

use crate::{created, instant, rfc3339, site};

fn decide(
    site: &Site,
    registration: Option<&Registration>,
    secret_matches: bool,
    now: OffsetDateTime,
) -> TokenDecision {
    decide_token_request(TokenRequest {
        site,
        registration,
        secret_matches,
        now,
        public_url: "https://appreg.example/",
        lifetime: DEFAULT_TOKEN_LIFETIME,
        token_id: "jti-1".into(),
        scope: Some("billing:read".into()),
    })
}

#[test]
fn a_valid_client_gets_claims_for_its_site() {
    let berlin = site("Europe/Berlin");
    let registration = created(&berlin, "2027-01-31", instant("2026-11-23T09:00:00Z"));
    let now = instant("2026-12-01T10:00:00Z");
    let TokenDecision::Issue(claims) = decide(&berlin, Some(&registration), true, now) else {
        panic!("expected a token");
    };
    assert_eq!(claims.issuer, "https://appreg.example/sites/acme");
    assert_eq!(&claims.client_id, registration.client_id());
    assert_eq!(claims.site, berlin.slug);
    assert_eq!(claims.issued_at, now);
    assert_eq!(claims.expires_at, now + Duration::minutes(15));
    assert_eq!(claims.token_id, "jti-1");
    assert_eq!(claims.scope.as_deref(), Some("billing:read"));
}

#[test]
fn exp_never_passes_the_expiry_instant() {
    let berlin = site("Europe/Berlin");
    let registration = created(&berlin, "2027-01-31", instant("2026-11-23T09:00:00Z"));
    // Five minutes before midnight in Berlin on the last valid day.
    let now = instant("2027-01-31T22:55:00Z");
    let TokenDecision::Issue(claims) = decide(&berlin, Some(&registration), true, now) else {
        panic!("expected a token");
    };
    assert_eq!(rfc3339(claims.expires_at), "2027-01-31T23:00:00Z");
    assert_eq!(
        decide(
            &berlin,
            Some(&registration),
            true,
            instant("2027-01-31T23:00:00Z")
        ),
        TokenDecision::Refuse(Refusal::NotAuthenticating)
    );
}

#[test]
fn refusals_distinguish_bad_credentials_from_a_registration_that_may_not_authenticate() {
    let utc = site("UTC");
    let mut registration = created(&utc, "2027-01-31", instant("2026-11-23T09:00:00Z"));
    let now = instant("2026-12-01T10:00:00Z");
    assert_eq!(
        decide(&utc, None, false, now),
        TokenDecision::Refuse(Refusal::BadCredentials)
    );
    assert_eq!(
        decide(&utc, Some(&registration), false, now),
        TokenDecision::Refuse(Refusal::BadCredentials)
    );
    registration.disable();
    assert_eq!(
        decide(&utc, Some(&registration), true, now),
        TokenDecision::Refuse(Refusal::NotAuthenticating)
    );
    assert_eq!(
        decide(&utc, Some(&registration), false, now),
        TokenDecision::Refuse(Refusal::BadCredentials),
        "a wrong secret for a disabled registration is not counted as its traffic"
    );
}

#[test]
fn the_issuer_is_the_public_url_and_site() {
    let slug = site("UTC").slug;
    assert_eq!(
        issuer("http://127.0.0.1:8080", &slug),
        "http://127.0.0.1:8080/sites/acme"
    );
    assert_eq!(
        issuer("https://id.example/", &slug),
        "https://id.example/sites/acme"
    );
}

#[test]
fn introspection_is_active_only_for_this_sites_token_of_an_authenticating_registration() {
    let acme = site("UTC");
    let registration = created(&acme, "2026-12-10", instant("2026-11-23T09:00:00Z"));
    let mut disabled = registration.clone();
    disabled.disable();
    let client_id = registration.client_id().as_str();
    let iss = "https://appreg.example/sites/acme";
    let token = |issuer, site, client_id| PresentedToken {
        issuer,
        site,
        client_id,
    };
    let (before_expiry, after_expiry) = (
        instant("2026-12-10T23:59:59Z"),
        instant("2026-12-11T00:00:00Z"),
    );
    let public_url = "https://appreg.example/";
    let cases = [
        (
            "active",
            token(iss, "acme", client_id),
            Some(&registration),
            before_expiry,
            true,
        ),
        (
            "expired since",
            token(iss, "acme", client_id),
            Some(&registration),
            after_expiry,
            false,
        ),
        (
            "disabled since",
            token(iss, "acme", client_id),
            Some(&disabled),
            before_expiry,
            false,
        ),
        (
            "deleted since",
            token(iss, "acme", client_id),
            None,
            before_expiry,
            false,
        ),
        (
            "another site's claim",
            token(iss, "beta", client_id),
            Some(&registration),
            before_expiry,
            false,
        ),
        (
            "another issuer",
            token("https://evil.example/sites/acme", "acme", client_id),
            Some(&registration),
            before_expiry,
            false,
        ),
        (
            "another client",
            token(iss, "acme", "aaaaaaaaaaaaaaaaaaaa"),
            Some(&registration),
            before_expiry,
            false,
        ),
    ];
    for (case, token, registration, now, active) in cases {
        assert_eq!(
            token_is_active(token, &acme, public_url, registration, now),
            active,
            "{case}"
        );
    }
}

#[test]
fn only_a_client_that_authenticates_may_introspect() {
    let acme = site("UTC");
    let registration = created(&acme, "2026-12-10", instant("2026-11-23T09:00:00Z"));
    let checked = |registration: Option<&Registration>, secret_matches: bool| CheckedClient {
        site: acme.clone(),
        registration: registration.cloned(),
        secret: if secret_matches {
            SecretMatch::Current
        } else {
            SecretMatch::None
        },
    };
    let now = instant("2026-12-10T12:00:00Z");
    assert!(checked(Some(&registration), true).authenticates(now));
    assert!(
        !checked(Some(&registration), false).authenticates(now),
        "wrong secret"
    );
    assert!(!checked(None, true).authenticates(now), "unknown client");
    assert!(
        !checked(Some(&registration), true).authenticates(instant("2026-12-11T00:00:00Z")),
        "expired"
    );
    let mut disabled = registration.clone();
    disabled.disable();
    assert!(
        !checked(Some(&disabled), true).authenticates(now),
        "disabled"
    );
}
