//! The expiry overview and the calendar feed (SPEC 13) over 100,000 registrations: ten
//! sites of 10,000 in ten zones, an administrator of all of them.

use anyhow::{Context, Result};

use super::{
    Connection, Database, Server, Stats, TODAY, appreg, bulk_load_into, console_session, measured,
    sequential, sequential_expecting,
};
use std::path::Path;

pub(super) const SITES: u64 = 10;
pub(super) const PER_SITE: u64 = 10_000;
const ZONES: [&str; 10] = [
    "Europe/Berlin",
    "America/New_York",
    "Asia/Tokyo",
    "Pacific/Auckland",
    "UTC",
    "America/Santiago",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
];

/// What was measured: named latency runs, and how many events the feeds held.
pub(super) struct OverviewRuns {
    pub(super) pages: Vec<(String, Stats)>,
}

pub(super) fn overview_pages(binary: &Path, db: &Database) -> Result<OverviewRuns> {
    let mut admin_args = vec!["admin", "add", "bench"];
    let sites: Vec<String> = (0..SITES).map(|k| format!("site-{k}")).collect();
    for (k, site) in sites.iter().enumerate() {
        appreg(binary, db, &["site", "add", site, "--time-zone", ZONES[k]])?;
        let first = u64::try_from(k)? * PER_SITE;
        // Expiration dates from 30 days ago to three years ahead: some expired, about 1 in
        // 40 within 30 days, a third within a year.
        bulk_load_into(binary, db, site, TODAY, first..first + PER_SITE, -30)?;
    }
    for site in &sites {
        admin_args.extend(["--site", site.as_str()]);
    }
    let admin = appreg(binary, db, &admin_args)?;
    let password = admin["password"].as_str().context("password")?.to_owned();
    let token = appreg(binary, db, &["admin", "token", "bench"])?["token"]
        .as_str()
        .context("token")?
        .to_owned();
    let feed_path = |site: &str| -> Result<String> {
        let url = appreg(
            binary,
            db,
            &["admin", "calendar-url", "bench", "--site", site],
        )?;
        let url = url["url"].as_str().context("url")?;
        Ok(url[url.find("/sites/").context("feed path")?..].to_owned())
    };
    let feed = feed_path("site-0")?;
    let other_site = feed_path("site-2")?;
    let revoked = feed_path("site-1")?;
    appreg(
        binary,
        db,
        &[
            "admin",
            "calendar-url",
            "bench",
            "--site",
            "site-1",
            "--revoke",
        ],
    )?;

    let server = Server::start(binary, db)?;
    let address = server.address.clone();
    let pid = server.child.id();
    let session = console_session(&mut Connection::open(&address)?, &address, &password)?;
    let api = |query: &str| {
        format!(
            "GET /api/v1/expiring{query} HTTP/1.1\r\nHost: {address}\r\n\
             Authorization: Bearer {token}\r\n\r\n"
        )
        .into_bytes()
    };
    let get = |path: &str| format!("GET {path} HTTP/1.1\r\nHost: {address}\r\n\r\n").into_bytes();
    let events = feed_events(&address, &feed)?;
    let mut pages = Vec::new();
    for (name, request) in [
        (
            "API expiring, first page, 30 days, 10 sites".to_owned(),
            api(""),
        ),
        (
            "API expiring, first page, 365 days, 10 sites".to_owned(),
            api("?within=365"),
        ),
        (
            "API expiring, page 20, 365 days".to_owned(),
            api("?within=365&page=20"),
        ),
        (
            "console Expiring soon, 10 sites".to_owned(),
            format!(
                "GET /sites/site-0/expiring HTTP/1.1\r\nHost: {address}\r\nCookie: {session}\r\n\r\n"
            )
            .into_bytes(),
        ),
        (
            format!("calendar feed of one site of {PER_SITE} ({events} events)"),
            get(&feed),
        ),
    ] {
        pages.push((name, measured(pid, || sequential(&address, &request))?));
    }
    // The same work for every wrong token: a digest, one indexed lookup, the same 404.
    let other_token = other_site.rsplit('/').next().context("token")?;
    for (name, path) in [
        (
            "calendar feed, another site's token (404)",
            format!("/sites/site-0/calendar/{other_token}"),
        ),
        ("calendar feed, revoked token (404)", revoked),
        (
            "calendar feed, malformed token (404)",
            "/sites/site-0/calendar/nonsense.ics".to_owned(),
        ),
    ] {
        pages.push((
            name.to_owned(),
            measured(pid, || sequential_expecting(&address, &get(&path), 404))?,
        ));
    }

    // One site holding every registration: its feed has a third of 100,000.
    bulk_load_into(
        binary,
        db,
        "site-0",
        TODAY,
        SITES * PER_SITE..SITES * PER_SITE + (SITES - 1) * PER_SITE,
        -30,
    )?;
    let events = feed_events(&address, &feed)?;
    pages.push((
        format!(
            "calendar feed of one site of {} ({events} events)",
            SITES * PER_SITE
        ),
        measured(pid, || sequential(&address, &get(&feed)))?,
    ));
    Ok(OverviewRuns { pages })
}

/// How many events the feed at `path` holds now.
fn feed_events(address: &str, path: &str) -> Result<usize> {
    let (status, body) = Connection::open(address)?
        .exchange(format!("GET {path} HTTP/1.1\r\nHost: {address}\r\n\r\n").as_bytes())?;
    anyhow::ensure!(status == 200, "the feed answered {status}");
    Ok(String::from_utf8_lossy(&body)
        .matches("BEGIN:VEVENT")
        .count())
}

/// The rows of the report's table.
pub(super) fn table(runs: &OverviewRuns) -> String {
    runs.pages
        .iter()
        .map(|(name, stats)| {
            format!(
                "| {name} | {:.2} | {:.2} | {:.0} | {} |",
                stats.percentile(500),
                stats.percentile(990),
                stats.server_cpu_micros_per_request(),
                stats.requests
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
