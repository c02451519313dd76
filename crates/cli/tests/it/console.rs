//! The admin console in a real headless Chromium (Debian's `chromium` and `chromium-driver`,
//! installed by `.ci/run`) against a real `appreg serve`, plus its CSRF and site isolation
//! checked with a plain HTTP client.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::serve::{Running, start_with};
use crate::{Appreg, CREATED_AT};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// chromedriver on a free port, killed when dropped.
pub(crate) struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn driver() -> Driver {
    assert!(
        std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists(),
        "browser tests need Debian's chromium and chromium-driver \
         (apt-get install -y chromium chromium-driver; .ci/run installs them)"
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Driver {
                child,
                url: format!("http://127.0.0.1:{port}"),
            };
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("chromedriver did not start");
}

pub(crate) async fn browser(driver: &Driver) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,1000"],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

fn screenshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/screenshots")
        .join(name)
}

pub(crate) async fn save_screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    std::fs::create_dir_all(screenshot_path("")).unwrap();
    std::fs::write(screenshot_path(name), png).unwrap();
}

/// An administrator with a generated password; returns the password.
pub(crate) fn admin(appreg: &Appreg, name: &str, site: &str) -> String {
    let added = appreg.json(Some(CREATED_AT), &["admin", "add", name, "--site", site]);
    added["password"].as_str().unwrap().to_owned()
}

pub(crate) async fn sign_in(client: &Client, base: &str, username: &str, password: &str) {
    client.goto(&format!("{base}/login")).await.unwrap();
    client
        .find(Locator::Css("input[name=username]"))
        .await
        .unwrap()
        .send_keys(username)
        .await
        .unwrap();
    client
        .find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    navigate_by(client, Locator::Css("form button[type=submit]")).await;
}

/// Clicks `element` and waits until the page it leads to has loaded: clicks return before
/// a form's navigation is complete, and reading the old page then gives stale answers.
async fn click_and_wait(client: &Client, element: fantoccini::elements::Element) {
    client
        .execute("window.__appreg_old_page = true;", vec![])
        .await
        .unwrap();
    element.click().await.unwrap();
    for _ in 0..200 {
        let loaded = client
            .execute(
                "return window.__appreg_old_page === undefined && document.readyState === 'complete';",
                vec![],
            )
            .await;
        if loaded.is_ok_and(|value| value == json!(true)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the page did not change after the click");
}

pub(crate) async fn navigate_by(client: &Client, locator: Locator<'_>) {
    let element = client.find(locator).await.unwrap();
    click_and_wait(client, element).await;
}

/// The red banners on the current page: (Client ID, the name it links to).
async fn alerts(client: &Client) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for banner in client
        .find_all(Locator::Css("[data-banner=\"api-client-alert\"]"))
        .await
        .unwrap()
    {
        assert_eq!(banner.attr("role").await.unwrap().as_deref(), Some("alert"));
        let link = banner.find(Locator::Css("a")).await.unwrap();
        let client_id = banner.attr("data-client-id").await.unwrap().unwrap();
        let href = link.attr("href").await.unwrap().unwrap();
        assert!(
            href.ends_with(&client_id),
            "{href} links to its registration"
        );
        found.push((client_id, link.text().await.unwrap()));
    }
    found
}

/// The computed text and background colours (sRGB) of the first alert banner.
async fn alert_colours(client: &Client) -> ((u8, u8, u8), (u8, u8, u8)) {
    let colours = client
        .execute(
            "const s = getComputedStyle(document.querySelector('[data-banner=\"api-client-alert\"]'));\
             return [s.color, s.backgroundColor];",
            vec![],
        )
        .await
        .unwrap();
    let rgb = |value: &serde_json::Value| {
        let channels: Vec<u8> = value
            .as_str()
            .unwrap()
            .trim_start_matches("rgba(")
            .trim_start_matches("rgb(")
            .trim_end_matches(')')
            .split(',')
            .take(3)
            .map(|channel| channel.trim().parse().unwrap())
            .collect();
        (channels[0], channels[1], channels[2])
    };
    (rgb(&colours[0]), rgb(&colours[1]))
}

/// WCAG 2 contrast ratio of two sRGB colours.
pub(crate) fn contrast_ratio(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    let luminance = |(r, g, b): (u8, u8, u8)| {
        let linear = |channel: u8| {
            let c = f64::from(channel) / 255.0;
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
    };
    let (x, y) = (luminance(a), luminance(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

/// The text of the element `locator` finds on the current page.
pub(crate) async fn text_of(client: &Client, locator: Locator<'_>) -> String {
    client.find(locator).await.unwrap().text().await.unwrap()
}

/// The CSRF token of the first form on a page.
fn csrf_in(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}

/// Visits the four pages and returns the alerts each shows (they must agree).
async fn alerts_on_every_page(
    client: &Client,
    base: &str,
    detail_of: &str,
) -> Vec<(String, String)> {
    let pages = [
        "/sites/default/app-registrations".to_owned(),
        format!("/sites/default/app-registrations/{detail_of}"),
        "/sites/default/notifications/templates".to_owned(),
        "/sites/default/notifications/log".to_owned(),
        "/sites/default/audit".to_owned(),
    ];
    let mut seen = Vec::new();
    for page in &pages {
        client.goto(&format!("{base}{page}")).await.unwrap();
        let shown = alerts(client).await;
        if let Some(first) = seen.first() {
            assert_eq!(&shown, first, "the same banners on {page}");
        }
        seen.push(shown);
    }
    seen.remove(0)
}

async fn submit_action(client: &Client, base: &str, client_id: &str, action: &str) {
    client
        .goto(&format!(
            "{base}/sites/default/app-registrations/{client_id}"
        ))
        .await
        .unwrap();
    let form = client
        .find(Locator::XPath(&format!(
            "//form[input[@name='action' and @value='{action}']]"
        )))
        .await
        .unwrap();
    let button = form
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap();
    click_and_wait(client, button).await;
}

fn serve_at(appreg: &Appreg, now: &str) -> Running {
    start_with(appreg, now, &[])
}

#[tokio::test(flavor = "multi_thread")]
async fn an_administrator_works_through_the_console_in_chromium() {
    let appreg = Appreg::new();
    let alice = admin(&appreg, "alice", "default");
    appreg.ok(Some(CREATED_AT), &["site", "add", "other"]);
    let carol = admin(&appreg, "carol", "other");
    let (ledger, _) = appreg.create(CREATED_AT, "default", "Ledger export", "2026-12-05");
    appreg.create(CREATED_AT, "default", "Zeta reports", "2027-06-01");
    let driver = driver();
    let client = browser(&driver).await;

    // Sign in, create a registration, read its secret once.
    let server = serve_at(&appreg, CREATED_AT);
    let base = server.base.clone();
    sign_in(&client, &base, "alice", &alice).await;
    assert!(
        client
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/sites/default/app-registrations")
    );
    navigate_by(&client, Locator::LinkText("New registration")).await;
    client
        .find(Locator::Css("#name"))
        .await
        .unwrap()
        .send_keys("Billing sync")
        .await
        .unwrap();
    client
        .execute(
            "document.getElementById('expiration_date').value = '2026-11-30'",
            vec![],
        )
        .await
        .unwrap();
    navigate_by(&client, Locator::Css("main form button[type=submit]")).await;
    let secret = text_of(&client, Locator::Css("#client-secret")).await;
    let billing = text_of(&client, Locator::Css("#client-id")).await;
    assert!(secret.starts_with("appreg_"), "{secret}");
    save_screenshot(&client, "secret-once.png").await;
    let (url, id, presented) = (
        format!("{base}/sites/default/oauth2/token"),
        billing.clone(),
        secret.clone(),
    );
    // The blocking client must not live on the async test's runtime.
    let token_status = tokio::task::spawn_blocking(move || {
        crate::http_client()
            .post(url)
            .basic_auth(&id, Some(&presented))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .unwrap()
            .status()
    })
    .await
    .unwrap();
    assert_eq!(token_status, 200, "the secret shown is the real one");
    client.refresh().await.unwrap();
    assert!(
        client.find(Locator::Css("#client-secret")).await.is_err(),
        "reloading never shows the secret again"
    );
    assert!(
        client
            .source()
            .await
            .unwrap()
            .contains("already been shown")
    );
    client.back().await.unwrap();
    assert!(!client.source().await.unwrap().contains(&secret));

    client
        .goto(&format!("{base}/sites/default/app-registrations"))
        .await
        .unwrap();
    assert_eq!(
        text_of(&client, Locator::Css(".crumbs")).await,
        "Admin Center › Site Settings › IAM"
    );
    let names: Vec<String> = {
        let mut names = Vec::new();
        for cell in client
            .find_all(Locator::Css("table.grid tbody td:first-child a"))
            .await
            .unwrap()
        {
            names.push(cell.text().await.unwrap());
        }
        names
    };
    assert_eq!(names, ["Billing sync", "Ledger export", "Zeta reports"]);
    assert!(alerts(&client).await.is_empty(), "nothing expired yet");
    let session = client
        .get_named_cookie("appreg_session")
        .await
        .unwrap()
        .value()
        .to_owned();
    let (_, log) = server.stop();
    for (what, secret) in [
        ("password", alice.as_str()),
        ("client secret", secret.as_str()),
        ("session token", session.as_str()),
    ] {
        assert!(!log.contains(secret), "the server log contains the {what}");
    }

    // One expired registration: one red banner on every page.
    let server = serve_at(&appreg, "2026-12-01T10:00:00Z");
    let base = server.base.clone();
    sign_in(&client, &base, "alice", &alice).await;
    let one = alerts_on_every_page(&client, &base, &ledger).await;
    assert_eq!(one, [(billing.clone(), "Billing sync".to_owned())]);
    let (text, background) = alert_colours(&client).await;
    assert!(
        background.0 > background.2 && background.2 > background.1 && background.1 >= 128,
        "the alert banner is a light rose-pink (red, then blue, then green): {background:?}"
    );
    let contrast = contrast_ratio(text, background);
    assert!(
        contrast >= 4.5,
        "alert text contrast {contrast:.2}:1 is below WCAG AA"
    );

    // The sweep at start put alice's in-app notices in her inbox: the header counts them,
    // the inbox lists them, and marking read (one, then all) empties the count.
    let badge = || async {
        match client.find(Locator::Css(".inbox-link .badge")).await {
            Ok(badge) => badge.text().await.unwrap().parse::<usize>().unwrap(),
            Err(_) => 0,
        }
    };
    let unread = badge().await;
    assert!(unread >= 1, "the header counts unread notices");
    navigate_by(&client, Locator::Css(".inbox-link")).await;
    assert_eq!(
        client
            .find_all(Locator::Css("ol.inbox li.unread"))
            .await
            .unwrap()
            .len(),
        unread
    );
    assert_accessible(&client).await;
    navigate_by(
        &client,
        Locator::XPath("(//ol[@class='inbox']//button[text()='Mark as read'])[1]"),
    )
    .await;
    assert_eq!(badge().await, unread - 1, "one marked read");
    if unread > 1 {
        navigate_by(
            &client,
            Locator::XPath("//button[text()='Mark all as read']"),
        )
        .await;
    }
    assert_eq!(badge().await, 0, "all read");
    assert!(
        client
            .find_all(Locator::Css("ol.inbox li.unread"))
            .await
            .unwrap()
            .is_empty()
    );
    server.stop();

    // Two expired: two stacked banners, sorted by name.
    let server = serve_at(&appreg, "2026-12-06T10:00:00Z");
    let base = server.base.clone();
    sign_in(&client, &base, "alice", &alice).await;
    let two = alerts_on_every_page(&client, &base, &ledger).await;
    assert_eq!(
        two,
        [
            (billing.clone(), "Billing sync".to_owned()),
            (ledger.clone(), "Ledger export".to_owned())
        ]
    );
    client
        .goto(&format!("{base}/sites/default/app-registrations"))
        .await
        .unwrap();
    save_screenshot(&client, "grid-with-banners.png").await;
    assert_accessible(&client).await;
    // The state filter: a click on "Expired" shows the two expired registrations only.
    navigate_by(
        &client,
        Locator::XPath("//nav[@aria-label='Show registrations']//a[text()='Expired']"),
    )
    .await;
    assert_eq!(
        text_of(&client, Locator::Css(".state-filter a[aria-current]")).await,
        "Expired"
    );
    let mut expired_rows = Vec::new();
    for cell in client
        .find_all(Locator::Css("table.grid tbody td:first-child a"))
        .await
        .unwrap()
    {
        expired_rows.push(cell.text().await.unwrap());
    }
    assert_eq!(expired_rows, ["Billing sync", "Ledger export"]);
    assert_accessible(&client).await;

    // Renew one: its banner is gone on the next load. Disable the other: no banner.
    client
        .goto(&format!("{base}/sites/default/app-registrations/{billing}"))
        .await
        .unwrap();
    client
        .execute(
            "document.getElementById('expiration_date').value = '2027-12-31'",
            vec![],
        )
        .await
        .unwrap();
    navigate_by(
        &client,
        Locator::XPath("//form[input[@name='action' and @value='renew']]//button"),
    )
    .await;
    assert_eq!(
        alerts(&client).await,
        [(ledger.clone(), "Ledger export".to_owned())]
    );
    submit_action(&client, &base, &ledger, "disable").await;
    assert!(
        alerts(&client).await.is_empty(),
        "a disabled registration has no banner"
    );
    let shown = appreg.json(None, &["reg", "show", "--site", "default", &ledger]);
    assert_eq!(shown["enabled"], false);

    // The template editor: a preview, and an invalid template refused inline.
    client
        .goto(&format!("{base}/sites/default/notifications/templates"))
        .await
        .unwrap();
    assert_eq!(
        text_of(&client, Locator::Css(".crumbs")).await,
        "Admin Center › Site Settings › Notifications"
    );
    let subject = client
        .find(Locator::Css("#subject-expires_in_7_days"))
        .await
        .unwrap();
    subject.clear().await.unwrap();
    subject
        .send_keys("Soon: {{ registration.name }} ({{ days_left }} days)")
        .await
        .unwrap();
    navigate_by(
        &client,
        Locator::XPath("//section[@id='expires_in_7_days']//button[@value='preview']"),
    )
    .await;
    let preview = text_of(&client, Locator::Css("#expires_in_7_days .preview")).await;
    assert!(preview.contains("Subject: Soon: "), "{preview}");
    client
        .execute(
            "document.getElementById('expires_in_7_days').scrollIntoView()",
            vec![],
        )
        .await
        .unwrap();
    save_screenshot(&client, "template-editor.png").await;
    let body = client
        .find(Locator::Css("#body-expires_in_7_days"))
        .await
        .unwrap();
    body.send_keys("{% for %}").await.unwrap();
    navigate_by(
        &client,
        Locator::XPath("//section[@id='expires_in_7_days']//button[@value='save']"),
    )
    .await;
    let error = text_of(&client, Locator::Css("#error-expires_in_7_days")).await;
    assert!(
        error.starts_with("Not saved: the body template is invalid"),
        "{error}"
    );
    let templates = appreg.json(None, &["templates", "list", "--site", "default"]);
    assert_ne!(
        templates[1]["subject"], "Soon: {{ registration.name }} ({{ days_left }} days)",
        "nothing was saved"
    );

    // Subscriptions: switch in-app notices of expired registrations off, and see it kept.
    client
        .goto(&format!("{base}/sites/default/notifications/subscriptions"))
        .await
        .unwrap();
    assert_eq!(
        text_of(&client, Locator::Css(".crumbs")).await,
        "Admin Center › Site Settings › Notifications"
    );
    let expired_in_app = client.find(Locator::Css("#expired-in_app")).await.unwrap();
    assert_eq!(
        expired_in_app.prop("checked").await.unwrap().as_deref(),
        Some("true"),
        "in-app is on by default"
    );
    expired_in_app.click().await.unwrap();
    navigate_by(
        &client,
        Locator::XPath("//main//button[text()='Save subscriptions']"),
    )
    .await;
    assert!(
        client
            .source()
            .await
            .unwrap()
            .contains("Your subscriptions were saved.")
    );
    let after = client.find(Locator::Css("#expired-in_app")).await.unwrap();
    assert_eq!(
        after.prop("checked").await.unwrap().as_deref(),
        Some("false")
    );

    // The log lists what the servers' sweeps recorded, filterable by kind.
    client
        .goto(&format!(
            "{base}/sites/default/notifications/log?kind=expired"
        ))
        .await
        .unwrap();
    let log = text_of(&client, Locator::Css("table.log tbody")).await;
    assert!(
        log.contains("Billing sync") && log.contains("Ledger export"),
        "{log}"
    );
    assert!(!log.contains("expires_in_7_days"), "{log}");

    // The audit log, reached from the header, names alice's console changes, old → new.
    navigate_by(&client, Locator::LinkText("Audit log")).await;
    let renewal = text_of(
        &client,
        Locator::XPath(&format!(
            "//tr[@data-action='registration.update'][td[code='{billing}']][contains(., '2027-12-31')]"
        )),
    )
    .await;
    assert!(
        renewal.contains("admin:alice")
            && renewal.contains("expiration_date: 2026-11-30 → 2027-12-31"),
        "{renewal}"
    );

    // Site settings: a bad zone is refused inline and saves nothing; a good one is saved.
    client
        .goto(&format!("{base}/sites/default/settings"))
        .await
        .unwrap();
    let set = |id: &'static str, value: &'static str| {
        let client = client.clone();
        async move {
            let input = client.find(Locator::Id(id)).await.unwrap();
            input.clear().await.unwrap();
            input.send_keys(value).await.unwrap();
        }
    };
    set("name", "Default site (EU)").await;
    set("time_zone", "Mars/Base").await;
    navigate_by(&client, Locator::XPath("//button[text()='Save settings']")).await;
    assert!(
        text_of(&client, Locator::Id("settings-error"))
            .await
            .starts_with("Not saved: unknown time zone \"Mars/Base\""),
    );
    let default_site = || {
        appreg
            .json(None, &["site", "list"])
            .as_array()
            .unwrap()
            .iter()
            .find(|site| site["slug"] == "default")
            .unwrap()
            .clone()
    };
    assert_eq!(default_site()["time_zone"], "UTC", "nothing was saved");
    set("time_zone", "Europe/Berlin").await;
    navigate_by(&client, Locator::XPath("//button[text()='Save settings']")).await;
    assert_eq!(
        text_of(&client, Locator::Css("p.notice")).await,
        "The site settings were saved."
    );
    let saved = default_site();
    assert_eq!(
        (saved["name"].clone(), saved["time_zone"].clone()),
        (
            serde_json::json!("Default site (EU)"),
            serde_json::json!("Europe/Berlin")
        )
    );

    // Another site's administrator sees nothing of this site.
    navigate_by(
        &client,
        Locator::Css("header form[action='/logout'] button"),
    )
    .await;
    sign_in(&client, &base, "carol", &carol).await;
    for page in [
        "/sites/default/app-registrations".to_owned(),
        format!("/sites/default/app-registrations/{billing}"),
        "/sites/default/notifications/log".to_owned(),
        "/sites/default/audit".to_owned(),
        "/sites/default/settings".to_owned(),
        "/sites/default/inbox".to_owned(),
    ] {
        client.goto(&format!("{base}{page}")).await.unwrap();
        assert_eq!(
            text_of(&client, Locator::Css("h1")).await,
            "Not found",
            "{page}"
        );
        assert!(!client.source().await.unwrap().contains("Billing sync"));
    }
    client.close().await.unwrap();
    let (_, log) = server.stop();
    assert!(
        !log.contains(&carol) && !log.contains(&alice),
        "no password in the log"
    );
}

/// Every form control has a label, the red banner's text has at least 4.5:1 contrast, and
/// at 640 CSS pixels wide (1280 at 200% zoom) the page needs no horizontal scrolling.
pub(crate) async fn assert_accessible(client: &Client) {
    let unlabelled = client
        .execute(
            "return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
               .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
               .map(e => e.outerHTML);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(unlabelled, json!([]), "form controls without a label");
    let contrast = client
        .execute(
            "const luminance = (css) => {
               const [r, g, b] = css.match(/\\d+/g).slice(0, 3).map(v => {
                 v = v / 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
               });
               return 0.2126 * r + 0.7152 * g + 0.0722 * b;
             };
             const banner = document.querySelector('[data-banner=\"api-client-alert\"]');
             const style = getComputedStyle(banner);
             const [a, b] = [luminance(style.color), luminance(style.backgroundColor)];
             return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);",
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    assert!(contrast >= 4.5, "banner contrast {contrast:.2}:1");
    client.set_window_size(640, 1000).await.unwrap();
    let overflow = client
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            vec![],
        )
        .await
        .unwrap();
    client.set_window_size(1280, 1000).await.unwrap();
    assert_eq!(overflow, json!(0), "horizontal scrolling at 200% zoom");
}

/// Signs in over plain HTTP and returns the session cookie as set (with its attributes).
fn http_sign_in(base: &str, username: &str, password: &str) -> String {
    let http = crate::http_client();
    let form = http.get(format!("{base}/login")).send().unwrap();
    let login_cookie = form
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = login_cookie.split_once('=').unwrap().1.to_owned();
    let redirecting = crate::http_client_without_redirects();
    let signed = redirecting
        .post(format!("{base}/login"))
        .header("cookie", &login_cookie)
        .form(&[
            ("username", username),
            ("password", password),
            ("csrf", &csrf),
        ])
        .send()
        .unwrap();
    assert_eq!(signed.status(), 303);
    signed
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("appreg_session="))
        .unwrap()
        .to_owned()
}

/// `name=value` of a Set-Cookie header.
fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

#[test]
fn forms_without_the_csrf_token_or_from_another_origin_change_nothing() {
    let appreg = Appreg::new();
    let alice = admin(&appreg, "alice", "default");
    appreg.ok(Some(CREATED_AT), &["site", "add", "other"]);
    let carol = admin(&appreg, "carol", "other");
    let (client_id, _) = appreg.create(CREATED_AT, "default", "Billing sync", "2027-01-31");
    let server = serve_at(&appreg, CREATED_AT);
    let base = server.base.clone();
    let http = crate::http_client_without_redirects();
    let set_cookie = http_sign_in(&base, "alice", &alice);
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"),
        "{set_cookie}"
    );
    let session = cookie_pair(&set_cookie);
    let detail = format!("{base}/sites/default/app-registrations/{client_id}");
    let page = http.get(&detail).header("cookie", &session).send().unwrap();
    assert_eq!(page.status(), 200);
    for header in [
        "cache-control",
        "content-security-policy",
        "x-frame-options",
    ] {
        assert!(page.headers().contains_key(header), "{header}");
    }
    let html = page.text().unwrap();
    let csrf = csrf_in(&html);

    let disable = |cookie: &str, csrf: Option<&str>, origin: Option<&str>| {
        let mut form = vec![("action", "disable")];
        if let Some(csrf) = csrf {
            form.push(("csrf", csrf));
        }
        let mut request = http.post(&detail).header("cookie", cookie).form(&form);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send().unwrap().status().as_u16()
    };
    let enabled =
        || appreg.json(None, &["reg", "show", "--site", "default", &client_id])["enabled"].clone();
    assert_eq!(
        disable(&session, None, Some("https://evil.example")),
        403,
        "cross-site, no token"
    );
    assert_eq!(disable(&session, Some("0000"), None), 403, "wrong token");
    assert_eq!(
        disable(&session, Some(&csrf), Some("https://evil.example")),
        403,
        "the right token from another origin"
    );
    assert_eq!(
        disable(&session, Some(&csrf), Some(&base[..base.len() - 1])),
        403,
        "an origin that is a prefix of ours is another origin"
    );
    assert_eq!(enabled(), true, "nothing changed");
    assert_eq!(
        disable("", Some(&csrf), None),
        303,
        "no session: to the sign-in page"
    );
    assert_eq!(enabled(), true);

    let carols = cookie_pair(&http_sign_in(&base, "carol", &carol));
    let carol_page = http
        .get(format!("{base}/sites/other/app-registrations"))
        .header("cookie", &carols)
        .send()
        .unwrap()
        .text()
        .unwrap();
    let carol_csrf = csrf_in(&carol_page);
    assert_eq!(
        disable(&carols, Some(&carol_csrf), None),
        404,
        "another site's administrator"
    );
    assert_eq!(
        http.get(&detail)
            .header("cookie", &carols)
            .send()
            .unwrap()
            .status(),
        404
    );
    assert_eq!(enabled(), true);

    // "Rotate secret" is a form like the others: CSRF-checked and site-isolated.
    let rotate = format!("{detail}/rotate");
    let hint = || {
        appreg.json(None, &["reg", "show", "--site", "default", &client_id])["secret_hint"].clone()
    };
    let before = hint();
    let rotation = |cookie: &str, csrf: Option<&str>| {
        let mut form = vec![("overlap", "1d")];
        if let Some(csrf) = csrf {
            form.push(("csrf", csrf));
        }
        http.post(&rotate)
            .header("cookie", cookie)
            .form(&form)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(rotation(&session, None), 403, "rotation without the token");
    assert_eq!(rotation(&session, Some("0000")), 403);
    assert_eq!(
        rotation(&carols, Some(&carol_csrf)),
        404,
        "another site's administrator"
    );
    assert_eq!(
        http.get(&rotate)
            .header("cookie", &carols)
            .send()
            .unwrap()
            .status(),
        404
    );
    assert_eq!(hint(), before, "no rotation happened");
    assert_eq!(
        rotation(&session, Some(&csrf)),
        303,
        "the real form rotates"
    );
    assert_ne!(hint(), before);

    assert_eq!(
        disable(&session, Some(&csrf), Some(&base)),
        303,
        "the real form works"
    );
    assert_eq!(enabled(), false);
    server.stop();
}

/// `value` of the first `Set-Cookie` for cookie `name`.
fn set_cookie_for(response: &reqwest::blocking::Response, name: &str) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap())
        .find(|value| value.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie set"))
        .to_owned()
}

#[test]
fn the_secret_page_shows_the_secret_once_on_whichever_node_it_reaches() {
    let appreg = Appreg::new();
    let alice = admin(&appreg, "alice", "default");
    // Two nodes on one database, as behind a load balancer without session affinity.
    let (one, two) = (serve_at(&appreg, CREATED_AT), serve_at(&appreg, CREATED_AT));
    let http = crate::http_client_without_redirects();
    let session = cookie_pair(&http_sign_in(&one.base, "alice", &alice));
    let grid = format!("{}/sites/default/app-registrations", one.base);
    let form = http
        .get(format!("{grid}/new"))
        .header("cookie", &session)
        .send()
        .unwrap()
        .text()
        .unwrap();
    let created = http
        .post(&grid)
        .header("cookie", &session)
        .form(&[
            ("name", "Billing sync"),
            ("expiration_date", "2027-01-31"),
            ("enabled", "on"),
            ("csrf", &csrf_in(&form)),
        ])
        .send()
        .unwrap();
    assert_eq!(created.status(), 303);
    let secret_page = created.headers()["location"].to_str().unwrap().to_owned();
    let set_reveal = set_cookie_for(&created, "appreg_reveal");
    for attribute in [
        format!("Path={secret_page}"),
        "Max-Age=600".to_owned(),
        "HttpOnly".to_owned(),
        "SameSite=Strict".to_owned(),
    ] {
        assert!(set_reveal.contains(&attribute), "{attribute}: {set_reveal}");
    }
    let cookies = format!("{session}; {}", cookie_pair(&set_reveal));

    let shown = http
        .get(format!("{}{secret_page}", two.base))
        .header("cookie", &cookies)
        .send()
        .unwrap();
    assert_eq!(shown.status(), 200);
    assert!(
        set_cookie_for(&shown, "appreg_reveal").contains("Max-Age=0"),
        "the browser's half is dropped once used"
    );
    let html = shown.text().unwrap();
    let marker = "id=\"client-secret\" data-secret>";
    let start = html.find(marker).expect("the other node shows the secret") + marker.len();
    let secret = html[start..start + 56].to_owned();
    assert!(secret.starts_with("appreg_"), "{secret}");
    let client_id = secret_page.split('/').nth(4).unwrap().to_owned();
    let token = crate::http_client()
        .post(format!("{}/sites/default/oauth2/token", one.base))
        .basic_auth(&client_id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .unwrap();
    assert_eq!(token.status(), 200, "the secret shown is the real one");
    assert!(!set_reveal.contains(&secret[7..20]));

    for node in [&one, &two] {
        let again = http
            .get(format!("{}{secret_page}", node.base))
            .header("cookie", &cookies)
            .send()
            .unwrap()
            .text()
            .unwrap();
        assert!(!again.contains(&secret), "a replayed cookie shows nothing");
        assert!(again.contains("already been shown"));
    }
    let (_, log_one) = one.stop();
    let (_, log_two) = two.stop();
    assert!(!log_one.contains(&secret) && !log_two.contains(&secret));
    let mut stored = std::fs::read(appreg.db()).unwrap();
    if let Ok(wal) = std::fs::read(appreg.db().with_extension("db-wal")) {
        stored.extend(wal);
    }
    assert!(
        !String::from_utf8_lossy(&stored).contains(&secret[7..]),
        "the secret never reaches the database"
    );
}
