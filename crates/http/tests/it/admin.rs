//! The admin JSON API: CRUD, validation problems, paging, and site isolation (404, never 403).

use registration_core::{AdminName, SiteSlug};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{TestApp, spawn_app};

/// An administrator of `sites` and their API token.
fn admin_token(app: &TestApp, name: &str, sites: &[&str]) -> String {
    let username = AdminName::parse(name).unwrap();
    let sites = sites.iter().map(|s| SiteSlug::parse(s).unwrap()).collect();
    app.service
        .add_admin(username.clone(), sites, None, None, &crate::tester())
        .unwrap();
    app.service
        .issue_admin_token(&username, &crate::tester())
        .unwrap()
        .expose_secret()
        .to_owned()
}

async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut request = app.client.request(method, app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    };
    (status, headers, body)
}

#[tokio::test]
async fn create_read_update_delete() {
    let app = spawn_app().await;
    let token = admin_token(&app, "alice", &["default"]);
    let base = "/api/v1/sites/default/registrations";
    let (status, headers, created) = call(
        &app,
        reqwest::Method::POST,
        base,
        Some(&token),
        Some(json!({"name": "Billing sync", "expiration_date": "2027-01-31"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(headers["cache-control"], "no-store");
    let client_id = created["client_id"].as_str().unwrap().to_owned();
    assert_eq!(headers["location"], format!("{base}/{client_id}"));
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("appreg_"));
    for field in [
        "name",
        "client_id",
        "expiration_date",
        "expires_at",
        "enabled",
        "registration_date",
        "last_used",
        "expires",
        "state",
        "days_left",
        "secret_hint",
        "rejected_since_expiry",
        "last_rejected",
        "secret_created_at",
        "secret_last_used",
        "previous_secret",
    ] {
        assert!(created.get(field).is_some(), "missing {field}: {created}");
    }

    let one = format!("{base}/{client_id}");
    let (status, _, shown) = call(&app, reqwest::Method::GET, &one, Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        shown.get("client_secret").is_none(),
        "the secret is never shown again"
    );
    assert_eq!(shown["state"], "active");

    let (status, _, patched) = call(
        &app,
        reqwest::Method::PATCH,
        &one,
        Some(&token),
        Some(json!({"name": "Billing sync v2", "expiration_date": "2026-11-28", "enabled": false})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(patched["name"], "Billing sync v2");
    assert_eq!(patched["expiration_date"], "2026-11-28");
    assert_eq!(patched["state"], "disabled");
    let revision = app
        .service
        .get(
            &SiteSlug::default_site(),
            &registration_core::ClientId::parse(&client_id).unwrap(),
        )
        .unwrap()
        .registration
        .revision();
    assert_eq!(revision, 1, "one PATCH is one change");

    let (status, _, body) = call(&app, reqwest::Method::DELETE, &one, Some(&token), None).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, headers, problem) =
        call(&app, reqwest::Method::GET, &one, Some(&token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(headers["content-type"], "application/problem+json");
    assert_eq!(problem["status"], 404);
}

#[tokio::test]
async fn another_sites_administrator_sees_nothing_and_changes_nothing() {
    let app = spawn_app().await;
    let ours = admin_token(&app, "alice", &["default"]);
    let theirs = admin_token(&app, "mallory", &["other"]);
    let client = app.create("default", "Billing sync", "2027-01-31");
    let one = format!("/api/v1/sites/default/registrations/{}", client.client_id);
    let list = "/api/v1/sites/default/registrations";
    let nowhere = "/api/v1/sites/nowhere/registrations";
    let answers = [
        call(&app, reqwest::Method::GET, &one, Some(&theirs), None).await,
        call(
            &app,
            reqwest::Method::PATCH,
            &one,
            Some(&theirs),
            Some(json!({"enabled": false})),
        )
        .await,
        call(&app, reqwest::Method::DELETE, &one, Some(&theirs), None).await,
        call(&app, reqwest::Method::GET, list, Some(&theirs), None).await,
        call(
            &app,
            reqwest::Method::POST,
            list,
            Some(&theirs),
            Some(json!({"name": "X", "expiration_date": "2027-01-31"})),
        )
        .await,
        call(&app, reqwest::Method::GET, nowhere, Some(&ours), None).await,
    ];
    let expected = answers[5].2.clone();
    for (status, _, body) in &answers {
        assert_eq!(*status, StatusCode::NOT_FOUND);
        assert_eq!(
            body, &expected,
            "the same answer as for a site that does not exist"
        );
    }
    let (status, _, shown) = call(&app, reqwest::Method::GET, &one, Some(&ours), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown["enabled"], true, "nothing changed");
    assert_eq!(
        app.service.list(&SiteSlug::default_site()).unwrap().len(),
        1
    );
}

#[tokio::test]
async fn calls_without_a_valid_token_are_401_problems() {
    let app = spawn_app().await;
    let token = admin_token(&app, "alice", &["default"]);
    let list = "/api/v1/sites/default/registrations";
    // Change the last character (to one it is not, or the "forgery" would be the token).
    let last = if token.ends_with('x') { 'y' } else { 'x' };
    let forged = format!("{}{last}", &token[..token.len() - 1]);
    for token in [None, Some("not-a-token"), Some(forged.as_str())] {
        let (status, headers, problem) = call(&app, reqwest::Method::GET, list, token, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(headers["www-authenticate"], "Bearer realm=\"appreg\"");
        assert_eq!(headers["content-type"], "application/problem+json");
        assert_eq!(problem["status"], 401);
    }
}

#[tokio::test]
async fn invalid_bodies_are_problems_listing_the_fields() {
    let app = spawn_app().await;
    let token = admin_token(&app, "alice", &["default"]);
    let list = "/api/v1/sites/default/registrations";
    let create = |body: Value| {
        let (app, token) = (&app, token.clone());
        async move { call(app, reqwest::Method::POST, list, Some(&token), Some(body)).await }
    };
    // Every malformed field is listed at once.
    let (status, _, problem) = create(json!({"name": "  ", "expiration_date": "31.01.2027"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        problem["errors"],
        json!([
            {"field": "name", "detail": "name must not be empty"},
            {"field": "expiration_date", "detail": "expiration date must be a calendar date written YYYY-MM-DD"},
        ])
    );
    // A well-formed date in the past is refused against the site's today.
    let (status, _, problem) =
        create(json!({"name": "Late", "expiration_date": "2026-11-01"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        problem["errors"],
        json!([{"field": "expiration_date", "detail": "expiration date 2026-11-01 is before today (2026-11-23, site time)"}])
    );

    app.create("default", "Billing sync", "2027-01-31");
    let (status, _, problem) = call(
        &app,
        reqwest::Method::POST,
        list,
        Some(&token),
        Some(json!({"name": "BILLING SYNC", "expiration_date": "2027-01-31"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["errors"][0]["field"], "name");

    let (status, _, problem) = call(
        &app,
        reqwest::Method::POST,
        list,
        Some(&token),
        Some(json!({"name": "X", "expiration_date": "2027-01-31", "client_secret": "mine"})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "unknown fields are refused: {problem}"
    );

    let response = app
        .client
        .post(app.url(list))
        .bearer_auth(&token)
        .body("name=X")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        app.service.list(&SiteSlug::default_site()).unwrap().len(),
        1
    );
}

#[tokio::test]
async fn lists_page_sort_and_search() {
    let app = spawn_app().await;
    let token = admin_token(&app, "alice", &["default"]);
    for (name, expires) in [
        ("Echo", "2027-05-01"),
        ("alpha (HA)", "2027-03-01"),
        ("Delta", "2027-01-01"),
        ("charlie (ha)", "2027-02-01"),
        ("Bravo", "2027-04-01"),
    ] {
        app.create("default", name, expires);
    }
    let names = |body: &Value| {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let get = |query: &str| {
        let path = format!("/api/v1/sites/default/registrations{query}");
        let token = token.clone();
        let app = &app;
        async move { call(app, reqwest::Method::GET, &path, Some(&token), None).await }
    };
    let (_, _, page) = get("?per_page=2&page=2").await;
    assert_eq!(names(&page), ["charlie (ha)", "Delta"]);
    assert_eq!(
        (
            page["total"].clone(),
            page["page"].clone(),
            page["per_page"].clone()
        ),
        (json!(5), json!(2), json!(2))
    );
    let (_, _, sorted) = get("?sort=-expiration_date&per_page=3").await;
    assert_eq!(names(&sorted), ["Echo", "Bravo", "alpha (HA)"]);
    // Parentheses never occur in a Client ID, so only the names can match.
    let (_, _, found) = get("?q=%28Ha%29").await;
    assert_eq!(names(&found), ["alpha (HA)", "charlie (ha)"]);
    let (status, _, problem) = get("?per_page=500&sort=colour").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["per_page", "sort"]);
}

#[tokio::test]
async fn lists_filter_by_state_on_the_sites_today() {
    let app = spawn_app().await;
    let token = admin_token(&app, "alice", &["default"]);
    for (name, expires) in [
        ("Gone", "2026-11-25"),
        ("Soon", "2026-12-20"),
        ("Later", "2027-05-01"),
    ] {
        app.create("default", name, expires);
    }
    let off = app.create("default", "Off", "2026-11-25");
    app.service
        .set_enabled(
            &registration_core::SiteSlug::default_site(),
            &registration_core::ClientId::parse(&off.client_id).unwrap(),
            false,
            &crate::tester(),
        )
        .unwrap();
    app.clock.advance(time::Duration::days(4));
    let get = |query: &str| {
        let path = format!("/api/v1/sites/default/registrations{query}");
        let token = token.clone();
        let app = &app;
        async move { call(app, reqwest::Method::GET, &path, Some(&token), None).await }
    };
    for (state, expected) in [
        ("expired", vec!["Gone"]),
        ("expiring", vec!["Soon"]),
        ("disabled", vec!["Off"]),
    ] {
        let (status, _, page) = get(&format!("?state={state}")).await;
        assert_eq!(status, StatusCode::OK);
        let names: Vec<&str> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, expected, "state={state}");
        assert_eq!(page["total"], json!(expected.len()), "state={state}");
    }
    let (_, _, all) = get("?state=").await;
    assert_eq!(all["total"], json!(4), "an empty state lists everything");
    let (status, _, problem) = get("?state=stale").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "state");
}

#[tokio::test]
async fn administrators_of_the_site_may_introspect_with_their_token() {
    let app = spawn_app().await;
    let ours = admin_token(&app, "alice", &["default"]);
    let theirs = admin_token(&app, "mallory", &["other"]);
    let client = app.create("default", "Billing sync", "2027-01-31");
    let issued: Value = app
        .token_basic("default", &client)
        .await
        .json()
        .await
        .unwrap();
    let token = issued["access_token"].as_str().unwrap();
    let introspect = |admin: String| {
        let request = app
            .client
            .post(app.url("/sites/default/oauth2/introspect"))
            .bearer_auth(admin)
            .form(&[("token", token)]);
        async move { request.send().await.unwrap() }
    };
    let answer: Value = introspect(ours).await.json().await.unwrap();
    assert_eq!(answer["active"], true);
    assert_eq!(answer["client_id"], client.client_id.as_str());
    assert_eq!(introspect(theirs).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        introspect("appregpat_nope".into()).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_notification_log_filters_and_stays_in_its_site() {
    let app = spawn_app().await;
    let token = admin_token(&app, "alice", &["default"]);
    let outsider = admin_token(&app, "mallory", &["other"]);
    let soon = app.create("default", "Soon", "2026-11-26");
    app.create("default", "Later", "2026-12-15");
    app.service.sweep().unwrap();
    let get = |query: &str, token: &str| {
        let path = format!("/api/v1/sites/default/notifications{query}");
        let (app, token) = (&app, token.to_owned());
        async move { call(app, reqwest::Method::GET, &path, Some(&token), None).await }
    };
    let (status, _, page) = get("", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total"], 3, "{page}");
    let (_, _, delivered) = get("?status=sent", &token).await;
    assert_eq!(delivered["total"], 2);
    let (_, _, seven) = get("?kind=expires_in_7_days", &token).await;
    assert_eq!(seven["items"][0]["registration"]["name"], "Soon");
    let (_, _, mine) = get(&format!("?registration={}", soon.client_id), &token).await;
    assert_eq!(mine["total"], 2);
    let (status, _, problem) = get("?kind=soonish&per_page=0", &token).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["kind", "per_page"]);
    let (status, _, _) = get("", &outsider).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_audit_log_names_the_api_administrator_and_stays_in_its_site() {
    let app = spawn_app().await;
    let token = admin_token(&app, "alice", &["default"]);
    let outsider = admin_token(&app, "mallory", &["other"]);
    let base = "/api/v1/sites/default/registrations";
    let (_, _, created) = call(
        &app,
        reqwest::Method::POST,
        base,
        Some(&token),
        Some(json!({"name": "Billing sync", "expiration_date": "2027-01-31"})),
    )
    .await;
    let client_id = created["client_id"].as_str().unwrap().to_owned();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    call(
        &app,
        reqwest::Method::PATCH,
        &format!("{base}/{client_id}"),
        Some(&token),
        Some(json!({"enabled": false, "name": "Billing"})),
    )
    .await;
    let get = |query: &str, token: &str| {
        let path = format!("/api/v1/sites/default/audit{query}");
        let (app, token) = (&app, token.to_owned());
        async move { call(app, reqwest::Method::GET, &path, Some(&token), None).await }
    };
    let (status, _, page) = get("?per_page=1", &token).await;
    assert_eq!(status, StatusCode::OK);
    // alice added and given a token (by the test), then her create and her change.
    assert_eq!(page["total"], 4, "{page}");
    let update = &page["items"][0];
    assert_eq!(update["actor"], "admin:alice");
    assert_eq!(update["action"], "registration.update");
    assert_eq!(update["subject"], client_id.as_str());
    assert_eq!(update["before"]["name"], "Billing sync");
    assert_eq!(update["after"]["name"], "Billing");
    assert_eq!(update["after"]["enabled"], "false");
    let (_, _, second) = get("?per_page=1&page=2", &token).await;
    assert_eq!(second["items"][0]["action"], "registration.create");
    let (_, _, all) = get("", &token).await;
    let text = all.to_string();
    assert!(
        !text.contains(&secret) && !text.contains("argon2"),
        "{text}"
    );
    let (status, _, problem) = get("?page=0&per_page=x", &token).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, _, _) = get("", &outsider).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another site's administrator"
    );
    let (status, _, _) = get("", "appregpat_not-a-token").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn templates_are_edited_through_the_api_and_checked_first() {
    let app = spawn_app().await;
    let token = admin_token(&app, "alice", &["default"]);
    let base = "/api/v1/sites/default/notification-templates";
    let (status, _, templates) = call(&app, reqwest::Method::GET, base, Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    let kinds: Vec<&str> = templates
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["expires_in_30_days", "expires_in_7_days", "expired"]
    );
    assert_eq!(templates[2]["banner"], "alert");

    let patch = |kind: &str, body: Value| {
        let path = format!("{base}/{kind}");
        let (app, token) = (&app, token.clone());
        async move { call(app, reqwest::Method::PATCH, &path, Some(&token), Some(body)).await }
    };
    let (status, _, problem) = patch(
        "expires_in_7_days",
        json!({"body": "Hi\n{{ registration.secret }}"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        problem["errors"],
        json!([{"field": "body", "detail": "the body template is invalid at line 2: undefined value"}])
    );
    let (status, _, problem) = patch("expired", json!({"banner": "warning"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "banner");
    let (status, _, _) = patch("expires_in_2_days", json!({"enabled": false})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _, saved) = patch(
        "expires_in_7_days",
        json!({"subject": "Soon: {{ registration.name }}"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(saved["subject"], "Soon: {{ registration.name }}");
    app.create("default", "Ledger", "2026-11-26");
    app.service.sweep().unwrap();
    let log = app.service.notices(&SiteSlug::default_site()).unwrap();
    let notice = log
        .iter()
        .find(|entry| entry.subject == "Soon: Ledger")
        .expect("the saved subject is used");
    assert!(
        notice.body.starts_with(
            "The App registration \"Ledger\" of site Default site expires on 2026-11-26"
        ),
        "the default body is rendered and kept: {}",
        notice.body
    );
    assert!(
        notice.body.contains("/sites/default/app-registrations/"),
        "{}",
        notice.body
    );
}

#[tokio::test]
async fn administrators_see_the_sites_subscriptions_and_change_only_their_own() {
    let app = spawn_app().await;
    let alice = admin_token(&app, "alice", &["default"]);
    admin_token(&app, "bob", &["default"]);
    let stranger = admin_token(&app, "carol", &["other"]);
    let base = "/api/v1/sites/default/subscriptions";
    let (status, _, rows) = call(&app, reqwest::Method::GET, base, Some(&alice), None).await;
    assert_eq!(status, StatusCode::OK);
    let rows = rows.as_array().unwrap();
    assert_eq!(
        rows.len(),
        12,
        "2 administrators × 3 templates × 2 channels"
    );
    assert_eq!(
        rows[0],
        json!({"username": "alice", "template": "expires_in_30_days", "channel": "in_app",
               "enabled": true, "has_email": false}),
        "in-app is on by default"
    );
    assert_eq!(rows[1]["channel"], "email");
    assert_eq!(rows[1]["enabled"], false, "e-mail is off by default");

    let put = |path: &str, token: &str, enabled: bool| {
        let (app, path, token) = (&app, format!("{base}/{path}"), token.to_owned());
        async move {
            call(
                app,
                reqwest::Method::PUT,
                &path,
                Some(&token),
                Some(json!({ "enabled": enabled })),
            )
            .await
        }
    };
    let (status, _, problem) = put("alice/expired/email", &alice, true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "enabled");
    let (status, _, changed) = put("alice/expired/in_app", &alice, false).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(changed["enabled"], false);
    let (status, _, problem) = put("bob/expired/in_app", &alice, false).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    for path in [
        "alice/expired/webhook",
        "alice/expires_in_2_days/in_app",
        "al!ce/expired/in_app",
    ] {
        let (status, _, _) = put(path, &alice, false).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _, _) = put("carol/expired/in_app", &stranger, false).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another site's administrator"
    );
    let (status, _, _) = call(&app, reqwest::Method::GET, base, Some(&stranger), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (_, _, rows) = call(&app, reqwest::Method::GET, base, Some(&alice), None).await;
    let expired_in_app: Vec<(&str, bool)> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["template"] == "expired" && r["channel"] == "in_app")
        .map(|r| {
            (
                r["username"].as_str().unwrap(),
                r["enabled"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(expired_in_app, [("alice", false), ("bob", true)]);
}

#[tokio::test]
async fn banners_are_the_sites_expired_then_warned_registrations_by_name() {
    let app = spawn_app().await;
    let token = admin_token(&app, "alice", &["default"]);
    app.create("default", "zulu", "2026-11-24");
    app.create("default", "Alpha", "2026-11-25");
    let disabled = app.create("default", "Off", "2026-11-24");
    app.create("default", "soon", "2026-11-30");
    app.create("default", "later", "2026-12-20");
    app.create("other", "Elsewhere", "2026-11-24");
    app.service
        .set_enabled(
            &SiteSlug::default_site(),
            &registration_core::ClientId::parse(&disabled.client_id).unwrap(),
            false,
            &crate::tester(),
        )
        .unwrap();
    app.clock.set(time::macros::datetime!(2026-11-26 12:00 UTC));
    let (status, _, banners) = call(
        &app,
        reqwest::Method::GET,
        "/api/v1/sites/default/banners",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let shown: Vec<(&str, &str, &str)> = banners
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["kind"].as_str().unwrap(),
                b["name"].as_str().unwrap(),
                b["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("alert", "Alpha", "expired"),
            ("alert", "zulu", "expired"),
            ("warning", "soon", "expiring_7"),
        ],
        "disabled, other-site and 30-day (banner none by default) registrations show none"
    );
    assert_eq!(banners[0]["rejected_since_expiry"], 0);
}

#[tokio::test]
async fn a_sites_administrators_change_its_name_and_zone() {
    let app = spawn_app().await;
    let token = admin_token(&app, "alice", &["default"]);
    let stranger = admin_token(&app, "bob", &["other"]);
    let client = app.create("default", "Billing sync", "2026-11-23");
    app.clock.advance(time::Duration::hours(12)); // 21:00 UTC
    let registration = format!("/api/v1/sites/default/registrations/{}", client.client_id);
    let (_, _, before) = call(
        &app,
        reqwest::Method::GET,
        &registration,
        Some(&token),
        None,
    )
    .await;
    assert_eq!(before["state"], "expiring_7", "its last day in UTC");

    let patch = |token: &str, body: Value| {
        let token = token.to_owned();
        let app = &app;
        async move {
            call(
                app,
                reqwest::Method::PATCH,
                "/api/v1/sites/default",
                Some(&token),
                Some(body),
            )
            .await
        }
    };
    let (status, _, site) = patch(
        &token,
        json!({"name": "Pacific office", "time_zone": "Pacific/Kiritimati"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        site,
        json!({"slug": "default", "name": "Pacific office", "time_zone": "Pacific/Kiritimati"})
    );
    let (_, _, after) = call(
        &app,
        reqwest::Method::GET,
        &registration,
        Some(&token),
        None,
    )
    .await;
    assert_eq!(
        (after["state"].clone(), after["time_zone"].clone()),
        (json!("expired"), json!("Pacific/Kiritimati")),
        "21:00 UTC is already the next day in Kiritimati: expired at once"
    );

    let (status, _, problem) = patch(&token, json!({"time_zone": "Mars/Base", "name": " "})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "time_zone"]);
    let (status, _, problem) = patch(&token, json!([null, "Asia/Tokyo"])).await;
    assert_eq!(
        (status, problem["detail"].clone()),
        (
            StatusCode::BAD_REQUEST,
            json!("malformed JSON: the body must be a JSON object")
        ),
        "an array of the fields is not a body"
    );
    let (status, _, _) = patch(&stranger, json!({"name": "Taken over"})).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another site's administrator"
    );
    let (_, _, unchanged) = call(
        &app,
        reqwest::Method::GET,
        "/api/v1/sites/default",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(
        unchanged["name"], "Pacific office",
        "refused changes change nothing"
    );
}

#[tokio::test]
async fn the_inbox_holds_the_callers_in_app_notices_of_their_sites() {
    let app = spawn_app().await;
    let alice = admin_token(&app, "alice", &["default", "other"]);
    let bob = admin_token(&app, "bob", &["default"]);
    app.create("default", "Ours", "2026-11-26");
    app.create("other", "Theirs", "2026-11-27");
    app.service.sweep().unwrap();
    let get = |query: &str, token: &str| {
        let path = format!("/api/v1/me/notifications{query}");
        let token = token.to_owned();
        let app = &app;
        async move { call(app, reqwest::Method::GET, &path, Some(&token), None).await }
    };
    let names = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| {
                format!(
                    "{} {} {}",
                    item["site"].as_str().unwrap(),
                    item["registration"]["name"].as_str().unwrap(),
                    item["kind"].as_str().unwrap()
                )
            })
            .collect()
    };
    let (status, _, inbox) = get("", &alice).await;
    assert_eq!(status, StatusCode::OK);
    let mut seen = names(&inbox);
    seen.sort();
    assert_eq!(
        seen,
        [
            "default Ours expires_in_7_days",
            "other Theirs expires_in_7_days"
        ],
        "the 7-day notices delivered in-app (the 30-day ones were superseded)"
    );
    assert_eq!(
        (inbox["total"].clone(), inbox["unread"].clone()),
        (json!(2), json!(2))
    );
    assert_eq!(inbox["items"][0]["read_at"], Value::Null);
    let (_, _, theirs) = get("?site=other", &alice).await;
    assert_eq!(names(&theirs), ["other Theirs expires_in_7_days"]);
    let (_, _, bobs) = get("", &bob).await;
    assert_eq!(
        names(&bobs),
        ["default Ours expires_in_7_days"],
        "bob's own notice of his one site"
    );
    assert_eq!(get("?site=other", &bob).await.0, StatusCode::NOT_FOUND);
    let (status, _, problem) = get("?unread=maybe&per_page=0", &alice).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"].as_array().unwrap().len(), 2);
    let (status, _, _) = call(
        &app,
        reqwest::Method::GET,
        "/api/v1/me/notifications",
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let id = theirs["items"][0]["id"].as_str().unwrap();
    let post = |path: String, token: &str| {
        let token = token.to_owned();
        let app = &app;
        async move { call(app, reqwest::Method::POST, &path, Some(&token), None).await }
    };
    let read = |id: &str| format!("/api/v1/me/notifications/{id}/read");
    assert_eq!(
        post(read(id), &bob).await.0,
        StatusCode::NOT_FOUND,
        "not bob's"
    );
    assert_eq!(
        post(read("not-a-notice"), &alice).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(post(read(id), &alice).await.0, StatusCode::NO_CONTENT);
    assert_eq!(
        post(read(id), &alice).await.0,
        StatusCode::NO_CONTENT,
        "again: still read"
    );
    let (_, _, unread) = get("?unread=true", &alice).await;
    assert_eq!(names(&unread), ["default Ours expires_in_7_days"]);
    assert_eq!(unread["unread"], json!(1));
    let (_, _, all) = get("?site=other", &alice).await;
    assert!(all["items"][0]["read_at"].is_string(), "{all}");
    let (_, _, bobs) = get("", &bob).await;
    assert_eq!(bobs["unread"], json!(1), "alice's read mark is hers alone");
    let (status, _, marked) = post("/api/v1/me/notifications/read".into(), &alice).await;
    assert_eq!((status, marked), (StatusCode::OK, json!({"marked": 1})));
    assert_eq!(get("", &alice).await.2["unread"], json!(0));
}
