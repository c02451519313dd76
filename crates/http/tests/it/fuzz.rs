//! Parsers fed arbitrary input: they answer, never panic. A quick pass runs with every test
//! run; `cargo xtask fuzz` sets `APPREG_FUZZ_SECONDS` and keeps generating until then.
//! (cargo-fuzz needs a nightly toolchain, which this project's machines do not have.)

use axum::http::{HeaderMap, HeaderValue, header};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use registration_core::{AdminToken, ClientId, ClientSecret, ExpirationDate, SiteSlug};
use registration_http::{Error, parse_form_request};

/// Runs `property` over `strategy` in batches until the fuzzing time is spent (one batch of
/// `quick_cases` when no time is set). Returns how many inputs were tried.
fn fuzz<S: Strategy>(
    strategy: S,
    quick_cases: u32,
    property: impl Fn(S::Value) -> Result<(), TestCaseError>,
) -> u64 {
    let seconds: u64 = std::env::var("APPREG_FUZZ_SECONDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(0);
    #[allow(clippy::disallowed_methods)] // a time budget for the fuzzing loop
    let started = std::time::Instant::now();
    let mut tried = 0u64;
    loop {
        let mut runner = TestRunner::new(Config {
            cases: quick_cases,
            failure_persistence: None,
            ..Config::default()
        });
        if let Err(failure) = runner.run(&strategy, &property) {
            panic!("{failure}");
        }
        tried += u64::from(quick_cases);
        if started.elapsed().as_secs() >= seconds {
            return tried;
        }
    }
}

fn request_parts() -> impl Strategy<Value = (Option<String>, Option<String>, Vec<u8>)> {
    let content_type = proptest::option::of(prop_oneof![
        Just("application/x-www-form-urlencoded".to_owned()),
        Just("application/x-www-form-urlencoded; charset=UTF-8".to_owned()),
        "[ -~]{0,40}",
    ]);
    let authorization = proptest::option::of(prop_oneof![
        "Basic [A-Za-z0-9+/=]{0,80}",
        "Bearer [ -~]{0,60}",
        "[ -~]{0,80}",
    ]);
    let body = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..400),
        "(grant_type|client_id|client_secret|scope|token|%[0-9A-F]{2}|[=&+]|[a-z_]{1,12}){0,30}"
            .prop_map(String::into_bytes),
    ];
    (content_type, authorization, body)
}

#[test]
fn the_oauth_form_parser_survives_arbitrary_requests() {
    let tried = fuzz(
        request_parts(),
        2_000,
        |(content_type, authorization, body)| {
            let mut headers = HeaderMap::new();
            for (name, value) in [
                (header::CONTENT_TYPE, content_type),
                (header::AUTHORIZATION, authorization),
            ] {
                if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
                    headers.insert(name, value);
                }
            }
            match parse_form_request(&headers, &body) {
                Ok(request) => {
                    // Whatever was accepted is self-consistent.
                    let mut names: Vec<&str> =
                        request.parameters.iter().map(|(k, _)| k.as_str()).collect();
                    names.sort_unstable();
                    let before = names.len();
                    names.dedup();
                    prop_assert_eq!(before, names.len(), "a repeated parameter was accepted");
                    prop_assert!(
                        request.parameter("client_id").is_none(),
                        "credentials are taken out"
                    );
                }
                Err(Error::InvalidRequest(_)) => {}
                Err(other) => prop_assert!(false, "unexpected error {:?}", other),
            }
            Ok(())
        },
    );
    eprintln!("form parser: {tried} inputs");
}

#[test]
fn the_secret_and_identifier_parsers_survive_arbitrary_text() {
    let text = prop_oneof![
        ".{0,80}",
        "appreg_[0-9A-Za-z]{40,52}",
        "appregpat_[0-9A-Za-z]{45,52}",
        "[a-z2-7]{18,22}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}",
    ];
    let tried = fuzz(text, 5_000, |text: String| {
        if let Ok(secret) = ClientSecret::parse(&text) {
            prop_assert_eq!(secret.expose_secret(), text.as_str());
            prop_assert_eq!(text.len(), ClientSecret::LEN);
        }
        if let Ok(token) = AdminToken::parse(&text) {
            prop_assert_eq!(token.expose_secret(), text.as_str());
        }
        if let Ok(id) = ClientId::parse(&text) {
            prop_assert_eq!(id.as_str(), text.as_str());
        }
        if let Ok(date) = ExpirationDate::parse(&text) {
            prop_assert_eq!(date.to_string(), text.clone());
        }
        let _ = SiteSlug::parse(&text);
        Ok(())
    });
    eprintln!("secret and identifier parsers: {tried} inputs");
}
