//! The token endpoint, JWKS, metadata and introspection as a client sees them.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::Value;
use time::Duration;

use crate::{Credentials, spawn_app};

#[derive(Debug, serde::Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    aud: String,
    client_id: String,
    site: String,
    iat: i64,
    exp: i64,
    jti: String,
}

/// Verifies `token` against the published JWKS with an independent JWT library.
async fn verify_with_jwks(app: &crate::TestApp, site: &str, token: &str) -> Claims {
    let jwks: Value = app
        .client
        .get(app.url(&format!("/sites/{site}/oauth2/jwks")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let kid = header.kid.unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["kid"] == kid.as_str())
        .expect("the signing key is published");
    let key = DecodingKey::from_ed_components(jwk["x"].as_str().unwrap()).unwrap();
    let issuer = app.url(&format!("/sites/{site}"));
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[&issuer]);
    validation.set_audience(&[&issuer]);
    // The fake clock is in the future; the library checks `exp` against the real clock.
    validation.validate_exp = false;
    jsonwebtoken::decode::<Claims>(token, &key, &validation)
        .unwrap()
        .claims
}

async fn access_token(response: reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn basic_and_post_authentication_get_tokens_that_verify_with_the_jwks() {
    let app = spawn_app().await;
    let client = app.create("default", "Billing sync", "2027-01-31");
    for response in [
        app.token_basic("default", &client).await,
        app.token_post("default", &client).await,
    ] {
        let token = access_token(response).await;
        let claims = verify_with_jwks(&app, "default", &token).await;
        assert_eq!(claims.iss, app.url("/sites/default"));
        assert_eq!(claims.aud, claims.iss);
        assert_eq!(claims.sub, client.client_id);
        assert_eq!(claims.client_id, client.client_id);
        assert_eq!(claims.site, "default");
        assert_eq!(claims.iat, app.now().unix_timestamp());
        assert_eq!(claims.exp - claims.iat, 900, "15 minutes by default");
        assert_eq!(claims.jti.len(), 36);
    }
}

#[tokio::test]
async fn exp_never_passes_the_expiry_instant() {
    let app = spawn_app().await;
    let client = app.create("other", "Ledger", "2027-01-31");
    // 22:55 UTC on 31 January is 23:55 in Berlin: five minutes of validity left.
    app.clock.set(time::macros::datetime!(2027-01-31 22:55 UTC));
    let response = app.token_basic("other", &client).await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["expires_in"], 300);
    let claims = verify_with_jwks(&app, "other", body["access_token"].as_str().unwrap()).await;
    assert_eq!(
        claims.exp,
        time::macros::datetime!(2027-01-31 23:00 UTC).unix_timestamp()
    );
}

/// `secret` with its last character changed (to one it is not, or it would be no typo).
fn typo(secret: &str) -> String {
    let last = if secret.ends_with('x') { 'y' } else { 'x' };
    format!("{}{last}", &secret[..secret.len() - 1])
}

async fn refusal(response: reqwest::Response) -> (StatusCode, Option<String>, String) {
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|value| value.to_str().unwrap().to_owned());
    (status, challenge, response.text().await.unwrap())
}

#[tokio::test]
async fn every_kind_of_bad_client_gets_the_same_401() {
    let app = spawn_app().await;
    let valid = app.create("default", "Billing sync", "2027-01-31");
    let other_site = app.create("other", "Theirs", "2027-01-31");
    let disabled = app.create("default", "Paused", "2027-01-31");
    app.service
        .set_enabled(
            &registration_core::SiteSlug::default_site(),
            &registration_core::ClientId::parse(&disabled.client_id).unwrap(),
            false,
            &crate::tester(),
        )
        .unwrap();
    let expiring = app.create("default", "Short-lived", "2026-11-30");
    let another_secret = app.create("default", "Another", "2027-01-31").client_secret;

    let cases = [
        (
            "wrong secret",
            Credentials {
                client_id: valid.client_id.clone(),
                client_secret: another_secret,
            },
        ),
        (
            "typo in secret",
            Credentials {
                client_id: valid.client_id.clone(),
                client_secret: typo(&valid.client_secret),
            },
        ),
        (
            "unknown client",
            Credentials {
                client_id: "abcdefghijklmnopqrst".into(),
                client_secret: valid.client_secret.clone(),
            },
        ),
        ("other site's client", other_site),
        ("disabled", disabled),
    ];
    let mut answers = Vec::new();
    for (case, credentials) in &cases {
        answers.push((
            *case,
            refusal(app.token_basic("default", credentials).await).await,
        ));
        answers.push((
            *case,
            refusal(app.token_post("default", credentials).await).await,
        ));
    }
    app.clock.set(crate::START + Duration::days(10));
    answers.push((
        "expired",
        refusal(app.token_basic("default", &expiring).await).await,
    ));

    let basic = (
        StatusCode::UNAUTHORIZED,
        Some("Basic realm=\"appreg\", charset=\"UTF-8\"".to_owned()),
        r#"{"error":"invalid_client","error_description":"client authentication failed"}"#
            .to_owned(),
    );
    for (index, (case, answer)) in answers.iter().enumerate() {
        let post_auth = index % 2 == 1 && *case != "expired";
        let expected = if post_auth {
            (basic.0, None, basic.2.clone())
        } else {
            basic.clone()
        };
        assert_eq!(
            answer,
            &expected,
            "{case} ({})",
            if post_auth { "post" } else { "basic" }
        );
    }
}

#[tokio::test]
async fn renewing_an_expired_registration_lets_the_same_secret_in_again() {
    let app = spawn_app().await;
    let client = app.create("default", "Billing sync", "2026-11-30");
    access_token(app.token_basic("default", &client).await).await;
    app.clock.set(crate::START + Duration::days(8));
    assert_eq!(
        app.token_basic("default", &client).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.service
        .renew(
            &registration_core::SiteSlug::default_site(),
            &registration_core::ClientId::parse(&client.client_id).unwrap(),
            registration_core::ExpirationDate::parse("2027-06-30").unwrap(),
            &crate::tester(),
        )
        .unwrap();
    access_token(app.token_basic("default", &client).await).await;
}

async fn introspect(app: &crate::TestApp, caller: &Credentials, token: &str) -> Value {
    let response = app
        .client
        .post(app.url("/sites/default/oauth2/introspect"))
        .basic_auth(&caller.client_id, Some(&caller.client_secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn introspection_turns_inactive_when_the_registration_is_disabled_or_deleted() {
    let app = spawn_app().await;
    let resource_server = app.create("default", "Orders API", "2027-06-30");
    let client = app.create("default", "Billing sync", "2027-01-31");
    let token = access_token(app.token_basic("default", &client).await).await;

    let active = introspect(&app, &resource_server, &token).await;
    assert_eq!(active["active"], true);
    assert_eq!(active["client_id"], client.client_id.as_str());
    assert_eq!(active["site"], "default");

    let site = registration_core::SiteSlug::default_site();
    let client_id = registration_core::ClientId::parse(&client.client_id).unwrap();
    app.service
        .set_enabled(&site, &client_id, false, &crate::tester())
        .unwrap();
    assert_eq!(
        introspect(&app, &resource_server, &token).await,
        serde_json::json!({"active": false})
    );
    app.service
        .set_enabled(&site, &client_id, true, &crate::tester())
        .unwrap();
    assert_eq!(
        introspect(&app, &resource_server, &token).await["active"],
        true
    );
    app.service
        .delete(&site, &client_id, &crate::tester())
        .unwrap();
    assert_eq!(
        introspect(&app, &resource_server, &token).await["active"],
        false
    );

    assert_eq!(
        introspect(&app, &resource_server, "not.a.token").await["active"],
        false
    );

    // A registration of another site may not introspect this site's tokens.
    let outsider = app.create("other", "Outsider", "2027-01-31");
    let response = app
        .client
        .post(app.url("/sites/default/oauth2/introspect"))
        .basic_auth(&outsider.client_id, Some(&outsider.client_secret))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn metadata_describes_the_site_and_unknown_sites_are_404_problems() {
    let app = spawn_app().await;
    let metadata: Value = app
        .client
        .get(app.url("/sites/other/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let issuer = app.url("/sites/other");
    assert_eq!(metadata["issuer"], issuer.as_str());
    assert_eq!(metadata["token_endpoint"], format!("{issuer}/oauth2/token"));
    assert_eq!(metadata["jwks_uri"], format!("{issuer}/oauth2/jwks"));
    assert_eq!(
        metadata["grant_types_supported"],
        serde_json::json!(["client_credentials"])
    );

    for path in [
        "/sites/nowhere/oauth2/jwks",
        "/sites/NOT_A_SLUG/.well-known/oauth-authorization-server",
        "/no/such/page",
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["status"], 404);
    }
}

#[tokio::test]
async fn last_used_and_rejections_are_written_when_the_server_stops() {
    let mut app = spawn_app().await;
    let client = app.create("default", "Billing sync", "2026-11-30");
    access_token(app.token_basic("default", &client).await).await;
    let used_at = app.now();
    app.clock.set(crate::START + Duration::days(8));
    for _ in 0..3 {
        assert_eq!(
            app.token_basic("default", &client).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    app.stop().await;
    let snapshot = app
        .service
        .get(
            &registration_core::SiteSlug::default_site(),
            &registration_core::ClientId::parse(&client.client_id).unwrap(),
        )
        .unwrap();
    let record = snapshot.registration.record();
    assert_eq!(record.last_used, Some(used_at));
    assert_eq!(record.rejections.count, 3);
    assert_eq!(
        record.rejections.last,
        Some(crate::START + Duration::days(8))
    );
    assert_eq!(
        record.revision, 0,
        "traffic is not an administrative change"
    );
}
