//! "Expiring soon" and the grid's coloured Expires cells (SPEC 13) in a real headless
//! Chromium against a real `appreg serve`.

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::console::{
    admin, assert_accessible, browser, contrast_ratio, driver, navigate_by, save_screenshot,
    sign_in,
};
use crate::serve::start_with;
use crate::{Appreg, CREATED_AT};

/// (class, text, background, colour) of the Expires cell in the row of `client_id`.
async fn expires_cell(client: &Client, client_id: &str) -> (String, String, String, String) {
    let found = client
        .execute(
            "const cell = document.querySelector(`tr[data-client-id='${arguments[0]}'] td.expires`);
             const style = getComputedStyle(cell);
             return [cell.className, cell.textContent.trim(), style.backgroundColor, style.color];",
            vec![json!(client_id)],
        )
        .await
        .unwrap();
    let text = |i: usize| found[i].as_str().unwrap().to_owned();
    (text(0), text(1), text(2), text(3))
}

fn rgb(css: &str) -> (u8, u8, u8) {
    let channels: Vec<u8> = css
        .trim_start_matches("rgba(")
        .trim_start_matches("rgb(")
        .trim_end_matches(')')
        .split(',')
        .take(3)
        .map(|channel| channel.trim().parse().unwrap())
        .collect();
    (channels[0], channels[1], channels[2])
}

async fn row_names(client: &Client) -> Vec<String> {
    let mut names = Vec::new();
    for cell in client
        .find_all(Locator::Css("table.grid tbody td:nth-child(2) a"))
        .await
        .unwrap()
    {
        names.push(cell.text().await.unwrap());
    }
    names
}

#[tokio::test(flavor = "multi_thread")]
async fn the_grid_colours_expiry_and_expiring_soon_spans_the_administrators_sites() {
    let appreg = Appreg::new();
    appreg.ok(
        None,
        &["site", "add", "berlin", "--time-zone", "Europe/Berlin"],
    );
    appreg.ok(
        None,
        &["site", "add", "auckland", "--time-zone", "Pacific/Auckland"],
    );
    appreg.ok(None, &["site", "add", "other"]);
    let (soon, _) = appreg.create(CREATED_AT, "berlin", "Ledger export", "2026-12-20");
    let (expired, _) = appreg.create(CREATED_AT, "berlin", "Expired feed", "2026-11-24");
    let (far, _) = appreg.create(CREATED_AT, "berlin", "Far away", "2027-06-30");
    appreg.create(CREATED_AT, "auckland", "Kiwi sync", "2026-12-05");
    appreg.create(CREATED_AT, "other", "Not mine", "2026-11-30");
    let added = appreg.json(
        Some(CREATED_AT),
        &[
            "admin", "add", "ana", "--site", "berlin", "--site", "auckland",
        ],
    );
    let password = added["password"].as_str().unwrap().to_owned();
    // `admin` is used for its side effect only: a second account to show it stays out.
    admin(&appreg, "otto", "other");
    let driver = driver();
    let client = browser(&driver).await;
    let server = start_with(&appreg, "2026-11-25T12:00:00Z", &[]);
    let base = server.base.clone();
    sign_in(&client, &base, "ana", &password).await;
    client
        .goto(&format!("{base}/sites/berlin/app-registrations"))
        .await
        .unwrap();

    let (class, text, background, colour) = expires_cell(&client, &soon).await;
    assert_eq!(class, "expires expiry-soon");
    assert_eq!(
        text, "In 25 days expiring soon",
        "the words say it, not only the colour"
    );
    let (r, g, b) = rgb(&background);
    assert!(r > g && g > b && g >= 180, "amber: {background}");
    assert!(contrast_ratio(rgb(&colour), (r, g, b)) >= 4.5);
    let (class, text, background, colour) = expires_cell(&client, &expired).await;
    assert_eq!(class, "expires expiry-expired");
    assert_eq!(text, "Expired");
    let (r, g, b) = rgb(&background);
    assert!(r > b && b > g, "red (rose): {background}");
    assert!(contrast_ratio(rgb(&colour), (r, g, b)) >= 4.5);
    let (class, text, background, _) = expires_cell(&client, &far).await;
    assert_eq!(
        (class.as_str(), background.as_str()),
        ("expires", "rgba(0, 0, 0, 0)")
    );
    assert!(text.starts_with("In "));

    navigate_by(&client, Locator::LinkText("Expiring soon")).await;
    assert_eq!(
        row_names(&client).await,
        ["Expired feed", "Kiwi sync", "Ledger export"],
        "both of her sites, soonest first; never another site's"
    );
    let page = client.source().await.unwrap();
    assert!(page.contains("all 2 of your sites"));
    assert!(!page.contains("Not mine"));
    assert_accessible(&client).await;
    save_screenshot(&client, "expiring-soon.png").await;
    client
        .execute("document.getElementById('within').value = '365'", vec![])
        .await
        .unwrap();
    navigate_by(&client, Locator::Css("main form button[type=submit]")).await;
    assert_eq!(
        row_names(&client).await,
        ["Expired feed", "Kiwi sync", "Ledger export", "Far away"]
    );
    client.close().await.unwrap();
    server.stop();
}
