//! Floods of bad secrets, key rotation, and the operations endpoints.

use std::sync::Arc;

use registration_core::ClientSecret;
use registration_core::testkit::SeededRandom;
use registration_http::BudgetPolicy;
use reqwest::StatusCode;
use serde_json::Value;

use crate::{Credentials, spawn_app, spawn_app_with};

/// Failure budgets per one-minute window.
fn budgets(failures_per_client: u32, failures_per_source: u32) -> BudgetPolicy {
    BudgetPolicy {
        failures_per_client,
        failures_per_source,
        window: time::Duration::minutes(1),
    }
}

/// A client whose requests come from 127.0.0.`last_octet` (Linux routes all of 127.0.0.0/8
/// to the loopback interface, so each is a distinct source to the server); it does not
/// follow redirects.
fn client_from(last_octet: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, last_octet]))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_flood_of_wrong_secrets_gets_429s_while_the_valid_client_keeps_getting_tokens() {
    let app = Arc::new(
        spawn_app_with(|config| {
            config.budgets = budgets(5, 1_000);
        })
        .await,
    );
    let valid = app.create("default", "Billing sync", "2027-01-31");
    assert_eq!(
        app.token_basic("default", &valid).await.status(),
        StatusCode::OK
    );

    let attackers: u64 = 8;
    let slack = 8; // one in-flight verification per attacker
    let attempts_each = 25;
    let flood: Vec<_> = (0..attackers)
        .map(|attacker| {
            let app = app.clone();
            let client_id = valid.client_id.clone();
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                for attempt in 0..attempts_each {
                    let seed = attacker * 1_000 + attempt;
                    let wrong = Credentials {
                        client_id: client_id.clone(),
                        client_secret: ClientSecret::generate(&SeededRandom::new(seed))
                            .unwrap()
                            .expose_secret()
                            .to_owned(),
                    };
                    statuses.push(app.token_basic("default", &wrong).await.status());
                }
                statuses
            })
        })
        .collect();
    let mut valid_statuses = Vec::new();
    for _ in 0..50 {
        valid_statuses.push(app.token_basic("default", &valid).await.status());
    }
    let mut flood_statuses = Vec::new();
    for attacker in flood {
        flood_statuses.extend(attacker.await.unwrap());
    }
    assert!(
        valid_statuses.iter().all(|s| *s == StatusCode::OK),
        "{valid_statuses:?}"
    );
    let refused = flood_statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let limited = flood_statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(refused + limited, flood_statuses.len());
    // Five failures spend the budget; requests already past the check when it ran out may
    // still be verified, at most one per attacker.
    assert!((5..=5 + slack).contains(&refused), "{refused} refused");
    assert!(
        limited >= flood_statuses.len() - 5 - slack,
        "{limited} limited"
    );

    let response = app
        .token_basic(
            "default",
            &Credentials {
                client_id: valid.client_id.clone(),
                client_secret: ClientSecret::generate(&SeededRandom::new(99))
                    .unwrap()
                    .expose_secret()
                    .to_owned(),
            },
        )
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "an OAuth error like the endpoint's others, not a problem document"
    );
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
}

/// A token request from 127.0.0.`last_octet`.
async fn token_from(
    app: &crate::TestApp,
    last_octet: u8,
    client_id: &str,
    client_secret: &str,
) -> StatusCode {
    client_from(last_octet)
        .post(app.url("/sites/default/oauth2/token"))
        .basic_auth(client_id, Some(client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn a_flood_for_a_client_id_does_not_lock_out_its_first_token_from_elsewhere() {
    let app = spawn_app_with(|config| {
        config.budgets = budgets(5, 1_000);
    })
    .await;
    // Never authenticated: nothing in the verified-secret cache to fall back on.
    let valid = app.create("default", "Billing sync", "2027-01-31");
    let wrong = |seed| {
        ClientSecret::generate(&SeededRandom::new(seed))
            .unwrap()
            .expose_secret()
            .to_owned()
    };
    let mut flood = Vec::new();
    for seed in 0..10 {
        flood.push(token_from(&app, 2, &valid.client_id, &wrong(seed)).await);
    }
    assert_eq!(
        flood,
        [
            [StatusCode::UNAUTHORIZED; 5],
            [StatusCode::TOO_MANY_REQUESTS; 5]
        ]
        .concat(),
        "the Client ID's budget is spent"
    );
    assert_eq!(
        token_from(&app, 2, &valid.client_id, &valid.client_secret).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the flooding source stays held back, right secret or not"
    );
    assert_eq!(
        token_from(&app, 3, &valid.client_id, &valid.client_secret).await,
        StatusCode::OK,
        "the client's own source gets its token"
    );
    let from_four = [
        token_from(&app, 4, &valid.client_id, &wrong(99)).await,
        token_from(&app, 4, &valid.client_id, &wrong(100)).await,
    ];
    assert_eq!(
        from_four,
        [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS],
        "while the budget is spent, another source gets one try"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_budgets_count_per_forwarded_client() {
    let policy = budgets(100, 3);
    let unknown = |seed| {
        let random = SeededRandom::new(seed);
        (
            registration_core::ClientId::generate(&random)
                .unwrap()
                .to_string(),
            ClientSecret::generate(&random)
                .unwrap()
                .expose_secret()
                .to_owned(),
        )
    };
    let attempt = |app: &crate::TestApp, forwarded_for: &str, seed| {
        let (client_id, secret) = unknown(seed);
        let request = app
            .client
            .post(app.url("/sites/default/oauth2/token"))
            .header("x-forwarded-for", forwarded_for)
            .basic_auth(client_id, Some(secret))
            .form(&[("grant_type", "client_credentials")]);
        async move { request.send().await.unwrap().status() }
    };

    let proxied = spawn_app_with(|config| {
        config.budgets = policy;
        config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let mut first = Vec::new();
    for seed in 0..4 {
        first.push(attempt(&proxied, "198.51.100.1", seed).await);
    }
    assert_eq!(
        first,
        [
            [StatusCode::UNAUTHORIZED; 3].as_slice(),
            &[StatusCode::TOO_MANY_REQUESTS]
        ]
        .concat()
    );
    assert_eq!(
        attempt(&proxied, "198.51.100.2", 10).await,
        StatusCode::UNAUTHORIZED,
        "another client behind the same proxy has its own budget"
    );
    let mut one_network = Vec::new();
    for host in 1..=4 {
        one_network.push(attempt(&proxied, &format!("2001:db8:1:2::{host}"), 20 + host).await);
    }
    assert_eq!(
        one_network[3],
        StatusCode::TOO_MANY_REQUESTS,
        "an IPv6 /64 is one source, whichever of its addresses is used"
    );
    assert_eq!(
        attempt(&proxied, "2001:db8:1:3::1", 30).await,
        StatusCode::UNAUTHORIZED,
        "the next /64 is another source"
    );

    let direct = spawn_app_with(|config| config.budgets = policy).await;
    let mut spoofed = Vec::new();
    for seed in 0..4 {
        spoofed.push(attempt(&direct, &format!("198.51.100.{seed}"), seed).await);
    }
    assert_eq!(
        spoofed[3],
        StatusCode::TOO_MANY_REQUESTS,
        "without trusted proxies a forged header changes nothing"
    );
}

#[tokio::test]
async fn unknown_client_ids_from_one_source_spend_its_budget() {
    let app = spawn_app_with(|config| {
        config.budgets = budgets(5, 10);
    })
    .await;
    let mut statuses = Vec::new();
    for seed in 0..15u64 {
        let random = SeededRandom::new(seed);
        let unknown = Credentials {
            client_id: registration_core::ClientId::generate(&random)
                .unwrap()
                .to_string(),
            client_secret: ClientSecret::generate(&random)
                .unwrap()
                .expose_secret()
                .to_owned(),
        };
        statuses.push(app.token_post("default", &unknown).await.status());
    }
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(limited, 5, "{statuses:?}");
    assert!(
        statuses[..10]
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED)
    );
}

#[tokio::test]
async fn rotated_keys_keep_verifying_until_rotated_out() {
    let app =
        spawn_app_with(|config| config.key_reload_interval = std::time::Duration::from_millis(50))
            .await;
    let resource_server = app.create("default", "Orders API", "2027-06-30");
    let client = app.create("default", "Billing sync", "2027-01-31");
    let first: Value = app
        .token_basic("default", &client)
        .await
        .json()
        .await
        .unwrap();
    let first = first["access_token"].as_str().unwrap().to_owned();

    let kids = |keys: Vec<registration_core::SigningKeyRecord>| {
        keys.into_iter().map(|k| k.kid).collect::<Vec<_>>()
    };
    let after_first_rotation = kids(app.service.rotate_signing_key().unwrap());
    let published = |app: &crate::TestApp| {
        let url = app.url("/sites/default/oauth2/jwks");
        let client = app.client.clone();
        async move {
            let jwks: Value = client.get(url).send().await.unwrap().json().await.unwrap();
            jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["kid"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    // The server reloads keys every flush interval.
    for _ in 0..500 {
        if published(&app).await == after_first_rotation {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(published(&app).await, after_first_rotation);
    let introspect = |token: String| {
        let request = app
            .client
            .post(app.url("/sites/default/oauth2/introspect"))
            .basic_auth(
                &resource_server.client_id,
                Some(&resource_server.client_secret),
            )
            .form(&[("token", token)]);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap()["active"].clone() }
    };
    assert_eq!(
        introspect(first.clone()).await,
        true,
        "the previous key still verifies"
    );

    let after_second_rotation = kids(app.service.rotate_signing_key().unwrap());
    for _ in 0..500 {
        if published(&app).await == after_second_rotation {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(introspect(first).await, false, "rotated out");
}

/// How many argon2 verifications the server has run.
async fn verifications(app: &crate::TestApp) -> u64 {
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    metrics
        .lines()
        .find_map(|line| line.strip_prefix("appreg_secret_verification_seconds_count "))
        .unwrap()
        .parse()
        .unwrap()
}

/// SPEC 7: refusals show no timing difference. A correct secret of an expired or disabled
/// registration is never answered from the verified-secret cache: it costs the argon2
/// verification a wrong secret costs, and spends the failure budget like one (decision 0006).
#[tokio::test]
async fn a_correct_secret_is_refused_like_a_wrong_one_once_it_cannot_authenticate() {
    let app = spawn_app_with(|config| {
        config.budgets = budgets(3, 1_000);
    })
    .await;
    let client = app.create("default", "Billing sync", "2026-11-30");
    for _ in 0..2 {
        assert_eq!(
            app.token_basic("default", &client).await.status(),
            StatusCode::OK
        );
    }
    assert_eq!(
        verifications(&app).await,
        1,
        "the second token came from the cache"
    );

    app.clock.advance(time::Duration::days(8));
    let mut refusals = Vec::new();
    for _ in 0..4 {
        refusals.push(app.token_basic("default", &client).await.status());
    }
    assert_eq!(
        refusals,
        [
            [StatusCode::UNAUTHORIZED; 3].as_slice(),
            &[StatusCode::TOO_MANY_REQUESTS]
        ]
        .concat(),
        "refused like a wrong secret, budget included"
    );
    assert_eq!(
        verifications(&app).await,
        4,
        "each refusal ran a verification, none came from the cache"
    );
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = spawn_app().await;
    let client = app.create("default", "Billing sync", "2027-01-31");
    app.token_basic("default", &client).await;
    let get = |path: &str| app.client.get(app.url(path)).send();
    assert_eq!(get("/healthz").await.unwrap().text().await.unwrap(), "ok");
    assert_eq!(get("/readyz").await.unwrap().status(), StatusCode::OK);
    let metrics = get("/metrics").await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains("appreg_token_requests_total{outcome=\"issued\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("appreg_secret_verification_seconds_count 1"),
        "{metrics}"
    );
    // Deliveries go to the site's administrators (in-app by default).
    app.service
        .add_admin(
            registration_core::AdminName::parse("alice").unwrap(),
            vec![registration_core::SiteSlug::default_site()],
            None,
            None,
            &crate::tester(),
        )
        .unwrap();
    app.create("default", "Soon", "2026-11-26");
    app.service.sweep().unwrap();
    let metrics = get("/metrics").await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains("appreg_notice_deliveries{kind=\"expires_in_7_days\",status=\"sent\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics
            .contains("appreg_notice_deliveries{kind=\"expires_in_30_days\",status=\"skipped\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn the_server_sweeps_at_start_and_every_interval() {
    let app =
        spawn_app_with(|config| config.sweep_interval = std::time::Duration::from_millis(50)).await;
    app.create("default", "Billing sync", "2026-11-30");
    let site = registration_core::SiteSlug::default_site();
    let kinds = |app: &crate::TestApp| {
        app.service
            .notices(&site)
            .unwrap()
            .into_iter()
            .map(|entry| entry.key.kind.to_string())
            .collect::<Vec<_>>()
    };
    let wait_for = |expected: usize| {
        let app = &app;
        async move {
            for _ in 0..1000 {
                if kinds(app).len() >= expected {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    };
    wait_for(2).await;
    assert_eq!(kinds(&app), ["expires_in_7_days", "expires_in_30_days"]);
    app.clock.set(crate::START + time::Duration::days(8));
    wait_for(3).await;
    assert_eq!(
        kinds(&app)[0],
        "expired",
        "the next interval records the expiry"
    );
}

/// A connection that sent the start of a token request and then went quiet.
async fn half_sent_request(app: &crate::TestApp) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let address = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"POST /sites/default/oauth2/token HTTP/1.1\r\nHost: appreg\r\n")
        .await
        .unwrap();
    stream
}

#[tokio::test]
async fn a_request_whose_headers_never_finish_is_cut_off() {
    use tokio::io::AsyncReadExt;
    let app = spawn_app_with(|config| {
        config.connections.header_read_timeout = std::time::Duration::from_millis(200);
    })
    .await;
    let mut stalled = half_sent_request(&app).await;
    let mut answer = Vec::new();
    // Far longer than the header timeout: only a server that never closes runs into it.
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        stalled.read_to_end(&mut answer),
    )
    .await;
    assert!(
        matches!(read, Ok(Ok(_)) | Ok(Err(_))),
        "the server closed the connection"
    );
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
}

#[tokio::test]
async fn shutdown_waits_for_requests_only_as_long_as_the_grace_period() {
    let mut app = spawn_app_with(|config| {
        config.connections.header_read_timeout = std::time::Duration::from_secs(600);
        config.connections.shutdown_grace = std::time::Duration::from_millis(300);
    })
    .await;
    let _stalled = half_sent_request(&app).await;
    let client = app.create("default", "Billing sync", "2027-01-31");
    assert_eq!(
        app.token_basic("default", &client).await.status(),
        StatusCode::OK
    );
    let stopped = tokio::time::timeout(std::time::Duration::from_secs(20), app.stop()).await;
    assert!(
        stopped.is_ok(),
        "a stalled client cannot hold the server up"
    );
}

/// One console sign-in attempt from 127.0.0.`last_octet`: the sign-in form's status.
async fn sign_in_from(
    app: &crate::TestApp,
    last_octet: u8,
    username: &str,
    password: &str,
) -> StatusCode {
    sign_in_response_from(app, last_octet, username, password)
        .await
        .status()
}

/// The whole answer to a console sign-in from 127.0.0.`last_octet`.
async fn sign_in_response_from(
    app: &crate::TestApp,
    last_octet: u8,
    username: &str,
    password: &str,
) -> reqwest::Response {
    let client = client_from(last_octet);
    let form = client.get(app.url("/login")).send().await.unwrap();
    let login_cookie = form.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = login_cookie.split_once('=').unwrap().1.to_owned();
    client
        .post(app.url("/login"))
        .header("cookie", &login_cookie)
        .form(&[
            ("username", username),
            ("password", password),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_sign_in_flood_for_a_username_does_not_lock_its_owner_out() {
    let app = spawn_app_with(|config| {
        config.budgets = budgets(3, 1_000);
    })
    .await;
    let (_, password) = app
        .service
        .add_admin(
            registration_core::AdminName::parse("alice").unwrap(),
            vec![registration_core::SiteSlug::default_site()],
            None,
            None,
            &crate::tester(),
        )
        .unwrap();
    let password = password.unwrap().expose_secret().to_owned();
    let mut flood = Vec::new();
    for attempt in 0..5 {
        flood.push(sign_in_from(&app, 2, "alice", &format!("guess {attempt}")).await);
    }
    assert_eq!(
        flood,
        [
            [StatusCode::UNAUTHORIZED; 3].as_slice(),
            &[StatusCode::TOO_MANY_REQUESTS; 2]
        ]
        .concat()
    );
    let held_back = sign_in_response_from(&app, 2, "ALICE", &password).await;
    assert_eq!(
        held_back.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the guessing source stays held back, right password or not"
    );
    let retry_after: u64 = held_back.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=60).contains(&retry_after),
        "Retry-After: {retry_after}"
    );
    let page = held_back.text().await.unwrap();
    assert!(
        page.contains(&format!("wait {retry_after} seconds")),
        "the page says how long: {page}"
    );
    assert_eq!(
        sign_in_from(&app, 3, "alice", &password).await,
        StatusCode::SEE_OTHER,
        "alice, from her own address, signs in"
    );
}

#[tokio::test]
async fn an_oversized_console_form_is_refused_before_it_is_read() {
    let app = spawn_app().await;
    let huge = "a".repeat(300 * 1024);
    let response = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("username", huge.as_str()),
            ("password", "x"),
            ("csrf", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_request_in_flight_at_shutdown_is_answered() {
    use base64::Engine;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut app = spawn_app().await;
    let client = app.create("default", "Billing sync", "2027-01-31");
    let address = app.base.trim_start_matches("http://").to_owned();
    let body = "grant_type=client_credentials";
    let credentials = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", client.client_id, client.client_secret));
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    // The headers, not the body: the handler is running, waiting to read it.
    stream
        .write_all(
            format!(
                "POST /sites/default/oauth2/token HTTP/1.1\r\nHost: {address}\r\n\
                 Authorization: Basic {credentials}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\n\
                 Content-Length: {}\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let stopping = tokio::spawn(async move { app.stop().await });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(!stopping.is_finished(), "shutdown waits for the request");
    stream.write_all(body.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("access_token"), "{answer}");
    stopping.await.unwrap();
}
