//! The OAuth form parser: every malformed request is a 400 `invalid_request`, and no input
//! makes it panic.

use axum::http::{HeaderMap, HeaderValue, header};
use proptest::prelude::*;
use registration_http::{Error, client_address, parse_form_request};
use reqwest::StatusCode;
use serde_json::Value;

use crate::spawn_app;

fn form_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded; charset=UTF-8"),
    );
    headers
}

#[test]
fn basic_credentials_are_form_decoded() {
    let mut headers = form_headers();
    // "client%3Aid:s%20ecret" base64-encoded: RFC 6749 2.3.1 form-encodes both parts.
    headers.insert(
        header::AUTHORIZATION,
        HeaderValue::from_static("Basic Y2xpZW50JTNBaWQ6cyUyMGVjcmV0"),
    );
    let request = parse_form_request(&headers, b"grant_type=client_credentials").unwrap();
    assert_eq!(request.parameter("grant_type"), Some("client_credentials"));
    let credentials = request.credentials.unwrap();
    assert_eq!(credentials.client_id, "client:id");
    assert_eq!(credentials.client_secret, "s ecret");
    assert!(credentials.basic);
    assert!(
        !format!("{credentials:?}").contains("ecret"),
        "Debug hides the secret"
    );
}

#[test]
fn malformed_requests_are_refused() {
    let reason = |headers: &HeaderMap, body: &[u8]| match parse_form_request(headers, body) {
        Err(Error::InvalidRequest(reason)) => reason,
        other => panic!("expected invalid_request, got {other:?}"),
    };
    let json = {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers
    };
    assert_eq!(
        reason(&json, b"{}"),
        "the body must be application/x-www-form-urlencoded"
    );
    assert_eq!(
        reason(&HeaderMap::new(), b"grant_type=x"),
        "the body must be application/x-www-form-urlencoded"
    );
    assert_eq!(
        reason(&form_headers(), b"grant_type=a&grant_type=b"),
        "a parameter is repeated"
    );
    assert_eq!(
        reason(
            &form_headers(),
            b"grant_type=client_credentials&client_id=x"
        ),
        "client_id and client_secret go together"
    );
    let mut both = form_headers();
    both.insert(
        header::AUTHORIZATION,
        HeaderValue::from_static("Basic eDp5"),
    );
    assert_eq!(
        reason(&both, b"client_id=x&client_secret=y"),
        "use one client authentication method, not two"
    );
    let mut bearer = form_headers();
    bearer.insert(
        header::AUTHORIZATION,
        HeaderValue::from_static("Bearer abc"),
    );
    assert_eq!(
        reason(&bearer, b""),
        "only HTTP Basic client authentication is supported"
    );
    let mut garbage = form_headers();
    garbage.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
    assert_eq!(reason(&garbage, b""), "malformed Authorization header");
}

proptest! {
    #[test]
    fn arbitrary_bodies_and_authorization_headers_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..300),
        authorization in proptest::option::of("[ -~]{0,80}"),
    ) {
        let mut headers = form_headers();
        if let Some(value) = authorization.and_then(|v| HeaderValue::from_str(&v).ok()) {
            headers.insert(header::AUTHORIZATION, value);
        }
        match parse_form_request(&headers, &body) {
            Ok(_) | Err(Error::InvalidRequest(_)) => {}
            Err(other) => prop_assert!(false, "unexpected error {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_endpoint_answers_rfc_6749_errors() {
    let app = spawn_app().await;
    let client = app.create("default", "Billing sync", "2027-01-31");
    let token_url = app.url("/sites/default/oauth2/token");
    let send = |request: reqwest::RequestBuilder| async move {
        let response = request.send().await.unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        (status, body["error"].as_str().unwrap().to_owned())
    };
    let post = || app.client.post(&token_url);
    assert_eq!(
        send(
            post()
                .basic_auth(&client.client_id, Some(&client.client_secret))
                .form(&[("grant_type", "password")])
        )
        .await,
        (StatusCode::BAD_REQUEST, "unsupported_grant_type".into())
    );
    assert_eq!(
        send(
            post()
                .basic_auth(&client.client_id, Some(&client.client_secret))
                .form(&[("scope", "x")])
        )
        .await,
        (StatusCode::BAD_REQUEST, "invalid_request".into())
    );
    assert_eq!(
        send(
            post()
                .basic_auth(&client.client_id, Some(&client.client_secret))
                .json(&serde_json::json!({"grant_type": "client_credentials"}))
        )
        .await,
        (StatusCode::BAD_REQUEST, "invalid_request".into())
    );
    assert_eq!(
        send(post().form(&[("grant_type", "client_credentials")])).await,
        (StatusCode::UNAUTHORIZED, "invalid_client".into())
    );
    let oversized = "x".repeat(64 * 1024);
    let response = post()
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("grant_type=client_credentials&padding={oversized}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[test]
fn the_source_is_the_peer_unless_a_trusted_proxy_names_another() {
    let trusted: Vec<ipnet::IpNet> = vec![
        "10.0.0.0/8".parse().unwrap(),
        "2001:db8::/32".parse().unwrap(),
    ];
    let source = |peer: &str, forwarded: &[&str]| {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        client_address(peer.parse().unwrap(), &headers, &trusted).to_string()
    };
    assert_eq!(
        source("203.0.113.9", &["198.51.100.1"]),
        "203.0.113.9",
        "an untrusted peer's header is ignored"
    );
    assert_eq!(source("10.1.2.3", &[]), "10.1.2.3", "no header: the proxy");
    assert_eq!(source("10.1.2.3", &["198.51.100.1"]), "198.51.100.1");
    assert_eq!(
        source("10.1.2.3", &["6.6.6.6, 198.51.100.1, 10.9.9.9"]),
        "198.51.100.1",
        "the nearest untrusted hop; what the client wrote before it is not believed"
    );
    assert_eq!(
        source("10.1.2.3", &["6.6.6.6", "198.51.100.1 , 10.9.9.9"]),
        "198.51.100.1",
        "several headers are one list"
    );
    assert_eq!(
        source("10.1.2.3", &["198.51.100.1, garbage, 10.9.9.9"]),
        "10.9.9.9",
        "an unreadable hop stops at the last trusted one"
    );
    assert_eq!(
        source("::ffff:10.1.2.3", &["::ffff:198.51.100.1"]),
        "198.51.100.1",
        "IPv4-mapped addresses (a dual-stack listener) are their IPv4 addresses"
    );
    assert_eq!(
        source("2001:db8::1", &["2001:db8::2, 2001:db8:1::5"]),
        "2001:db8::2",
        "IPv6, and all hops trusted: the farthest"
    );
}
