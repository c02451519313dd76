//! "Rotate secret" in the console (SPEC 12), in a real headless Chromium against a real
//! `appreg serve`: the confirmation that says what happens to the old secret, the one-time
//! secret page, both secrets getting tokens, retirement, and the count of a missed consumer.

use fantoccini::{Client, Locator};

use crate::console::{
    admin, assert_accessible, browser, driver, navigate_by, save_screenshot, sign_in, text_of,
};
use crate::serve::start_with;
use crate::{Appreg, CREATED_AT};

/// The status of a token request, from a blocking client kept off the async runtime.
async fn token_status(base: &str, client_id: &str, secret: &str) -> u16 {
    let (url, id, presented) = (
        format!("{base}/sites/default/oauth2/token"),
        client_id.to_owned(),
        secret.to_owned(),
    );
    tokio::task::spawn_blocking(move || {
        crate::http_client()
            .post(url)
            .basic_auth(&id, Some(&presented))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .unwrap()
            .status()
            .as_u16()
    })
    .await
    .unwrap()
}

async fn source(client: &Client) -> String {
    client.source().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secret_is_rotated_and_retired_in_the_console() {
    let appreg = Appreg::new();
    let alice = admin(&appreg, "alice", "default");
    let (billing, old_secret) = appreg.create(CREATED_AT, "default", "Billing sync", "2027-01-31");
    // Expired by the time the server runs: its banner is on every page.
    appreg.create(CREATED_AT, "default", "Old feed", "2026-11-24");
    let old_hint = &old_secret[old_secret.len() - 4..];
    let driver = driver();
    let client = browser(&driver).await;
    let now = "2026-11-25T09:00:00Z";
    let server = start_with(&appreg, now, &[]);
    let base = server.base.clone();
    sign_in(&client, &base, "alice", &alice).await;
    let detail = format!("{base}/sites/default/app-registrations/{billing}");

    // The replace guide sends a lost secret to rotation first.
    client.goto(&format!("{detail}/replace")).await.unwrap();
    let rotate_first = client
        .find(Locator::Css("#rotate-first a"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        rotate_first,
        format!("/sites/default/app-registrations/{billing}/rotate")
    );

    client.goto(&detail).await.unwrap();
    navigate_by(&client, Locator::LinkText("Rotate secret")).await;
    let page = source(&client).await;
    assert!(
        page.contains("What happens to the current secret"),
        "{page}"
    );
    assert!(page.contains(&format!("<code>{old_hint}</code>")));
    assert!(page.contains("refused like any wrong secret"));
    assert_accessible(&client).await;
    client
        .execute("document.getElementById('overlap').value = '1d'", vec![])
        .await
        .unwrap();
    save_screenshot(&client, "rotate-secret.png").await;
    navigate_by(&client, Locator::Css("main form button[type=submit]")).await;

    assert_eq!(
        text_of(&client, Locator::Css("main h1")).await,
        "New Client secret for Billing sync"
    );
    let new_secret = text_of(&client, Locator::Css("#client-secret")).await;
    assert!(new_secret.starts_with("appreg_") && new_secret != old_secret);
    assert_eq!(text_of(&client, Locator::Css("#client-id")).await, billing);
    assert!(
        text_of(&client, Locator::Css("#previous-secret"))
            .await
            .contains("keeps working until 2026-11-26 09:00 UTC")
    );
    assert_eq!(token_status(&base, &billing, &old_secret).await, 200);
    assert_eq!(token_status(&base, &billing, &new_secret).await, 200);
    client.refresh().await.unwrap();
    assert!(
        client.find(Locator::Css("#client-secret")).await.is_err(),
        "the new secret is shown once"
    );

    // A second rotation while both are live: the page offers retirement instead.
    client.goto(&format!("{detail}/rotate")).await.unwrap();
    assert!(
        source(&client)
            .await
            .contains("already has two live secrets")
    );
    navigate_by(
        &client,
        Locator::XPath("//form[input[@name='action' and @value='retire-secret']]//button"),
    )
    .await;
    assert_eq!(
        text_of(&client, Locator::Css("p.notice")).await,
        "The previous secret was retired: only the current secret authenticates."
    );
    let previous = client
        .find(Locator::Css("[data-previous-secret]"))
        .await
        .unwrap();
    assert_eq!(
        previous
            .attr("data-previous-secret")
            .await
            .unwrap()
            .as_deref(),
        Some("retired")
    );
    assert_eq!(token_status(&base, &billing, &old_secret).await, 401);
    assert_eq!(token_status(&base, &billing, &old_secret).await, 401);
    assert_eq!(token_status(&base, &billing, &new_secret).await, 200);
    // Stopping writes the coalesced traffic; the next server shows who still calls.
    server.stop();

    // The session lives in the database: the browser is still signed in. (An hour later:
    // APPREG_NOW starts each process's clock at the same instant again.)
    let server = start_with(&appreg, "2026-11-25T10:00:00Z", &[]);
    let base = server.base.clone();
    client
        .goto(&format!("{base}/sites/default/app-registrations/{billing}"))
        .await
        .unwrap();
    let previous = text_of(&client, Locator::Css("[data-previous-secret]")).await;
    assert!(
        previous.contains("old secret still presented: 2 times, last 2026-11-25 09:0"),
        "{previous}"
    );
    assert!(previous.contains(old_hint));
    save_screenshot(&client, "previous-secret.png").await;
    client.close().await.unwrap();
    let (_, log) = server.stop();
    assert!(!log.contains(&new_secret) && !log.contains(&old_secret));
}
