//! The calendar feed (SPEC 13) through the binary and a real server: `admin calendar-url`,
//! the feed read back by an independent RFC 5545 parser (the `ical` crate), renewals,
//! deletions, revocation, and every wrong token answered like an unknown address.

use ical::parser::ical::component::IcalEvent;
use ical::property::Property;

use crate::serve::{Running, start_with};
use crate::{Appreg, CREATED_AT};

const NOW: &str = "2026-11-25T12:00:00Z";

/// What the command line prints as the public URL when none is configured.
const PRINTED_BASE: &str = "http://127.0.0.1:8080";

fn calendar_url(appreg: &Appreg, user: &str, site: &str) -> String {
    appreg.json(Some(NOW), &["admin", "calendar-url", user, "--site", site])["url"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A printed feed URL fetched from `server`: (status, content type, body).
fn fetch(server: &Running, url: &str) -> (u16, String, String) {
    let path = url.strip_prefix(PRINTED_BASE).unwrap_or(url);
    let response = crate::http_client()
        .get(format!("{}{path}", server.base))
        .send()
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().unwrap())
}

/// The value of the first property `name`.
fn property(properties: &[Property], name: &str) -> String {
    properties
        .iter()
        .find(|property| property.name == name)
        .and_then(|property| property.value.clone())
        .unwrap_or_else(|| panic!("no {name}"))
}

/// The VEVENTs of a feed, parsed by the independent parser: exactly one VCALENDAR, with
/// its version and product, holding events only.
fn events(body: &str) -> Vec<IcalEvent> {
    assert!(body.starts_with("BEGIN:VCALENDAR\r\n") && body.ends_with("END:VCALENDAR\r\n"));
    let calendars: Vec<_> = ical::IcalParser::new(std::io::BufReader::new(body.as_bytes()))
        .map(|calendar| calendar.expect("the feed is valid RFC 5545"))
        .collect();
    assert_eq!(calendars.len(), 1, "one VCALENDAR");
    let calendar = calendars.into_iter().next().unwrap();
    assert_eq!(property(&calendar.properties, "VERSION"), "2.0");
    assert!(!property(&calendar.properties, "PRODID").is_empty());
    assert!(
        calendar.alarms.is_empty() && calendar.todos.is_empty() && calendar.timezones.is_empty()
    );
    calendar.events
}

fn event_of<'a>(events: &'a [IcalEvent], client_id: &str) -> Vec<&'a IcalEvent> {
    events
        .iter()
        .filter(|event| property(&event.properties, "UID").starts_with(client_id))
        .collect()
}

/// Unfolds content lines (RFC 5545 3.1), to look at the text as a parser sees it.
fn unfold(body: &str) -> String {
    body.replace("\r\n ", "")
}

#[test]
fn a_feed_has_one_all_day_event_per_registration_and_follows_renewals_and_deletions() {
    let appreg = Appreg::new();
    appreg.ok(
        None,
        &[
            "site",
            "add",
            "berlin",
            "--name",
            "Berlin office",
            "--time-zone",
            "Europe/Berlin",
        ],
    );
    appreg.ok(None, &["admin", "add", "ana", "--site", "berlin"]);
    let long_name = format!("Großer Abgleich {}", "é".repeat(60));
    let mut secrets = Vec::new();
    let mut create = |name: &str, expires: &str| {
        let (client_id, secret) = appreg.create(CREATED_AT, "berlin", name, expires);
        secrets.push(secret);
        client_id
    };
    let billing = create("Billing, sync; v2", "2027-01-31");
    let long = create(&long_name, "2026-12-24");
    let lapsed = create("Lapsed yesterday", "2026-11-23");
    let far = create("Far away", "2028-06-30");
    let paused = create("Paused", "2026-12-01");
    appreg.ok(None, &["reg", "disable", "--site", "berlin", &paused]);
    let (elsewhere, _) = appreg.create(CREATED_AT, "default", "Other site", "2026-12-10");
    let (old, _) = appreg.create(
        "2026-08-01T00:00:00Z",
        "berlin",
        "Lapsed long ago",
        "2026-09-01",
    );

    let url = calendar_url(&appreg, "ana", "berlin");
    let token = url
        .strip_prefix(&format!("{PRINTED_BASE}/sites/berlin/calendar/"))
        .and_then(|rest| rest.strip_suffix(".ics"))
        .unwrap_or_else(|| panic!("{url}"))
        .to_owned();
    assert!(
        token.starts_with("appregcal_") && token.len() == 59,
        "{token}"
    );

    let server = start_with(&appreg, NOW, &["--public-url", PRINTED_BASE]);
    let (status, content_type, body) = fetch(&server, &url);
    assert_eq!(status, 200);
    assert_eq!(content_type, "text/calendar; charset=utf-8");
    assert!(body.ends_with("\r\n") && !body.replace("\r\n", "").contains('\n'));
    for line in body.split("\r\n") {
        assert!(line.len() <= 75, "a line over 75 octets: {line:?}");
    }
    for secret in secrets.iter().chain([&token]) {
        assert!(!body.contains(secret.as_str()), "no secret in the feed");
    }
    let found = events(&body);
    assert_eq!(
        found.len(),
        3,
        "billing, long and lapsed; not old, far, paused or another site's"
    );
    for absent in [&old, &far, &paused, &elsewhere] {
        assert!(event_of(&found, absent).is_empty());
    }
    let billing_events = event_of(&found, &billing);
    let event = billing_events[0];
    assert_eq!(
        property(&event.properties, "UID"),
        format!("{billing}-2027-01-31@127.0.0.1")
    );
    assert_eq!(
        property(&event.properties, "DTSTART"),
        "20270131",
        "all day on the last valid day"
    );
    assert_eq!(property(&event.properties, "DTEND"), "20270201");
    assert!(body.contains("DTSTART;VALUE=DATE:20270131"));
    assert_eq!(
        property(&event.properties, "URL"),
        format!("{PRINTED_BASE}/sites/berlin/app-registrations/{billing}")
    );
    assert!(
        unfold(&body)
            .contains("SUMMARY:App registration \"Billing\\, sync\\; v2\": last valid day"),
        "TEXT escaped"
    );
    let summary = property(&event.properties, "SUMMARY");
    assert!(
        summary.contains("Billing") && summary.contains("v2"),
        "{summary}"
    );
    assert!(property(&event.properties, "DESCRIPTION").contains("2027-02-01 00:00 Europe/Berlin"));
    let alarms: Vec<String> = event
        .alarms
        .iter()
        .map(|alarm| {
            assert_eq!(property(&alarm.properties, "ACTION"), "DISPLAY");
            property(&alarm.properties, "TRIGGER")
        })
        .collect();
    assert_eq!(alarms, ["-P30D", "-P7D"]);
    let long_event = event_of(&found, &long)[0];
    assert!(
        property(&long_event.properties, "SUMMARY").contains(&long_name),
        "folded and unfolded whole"
    );
    assert_eq!(
        property(&event_of(&found, &lapsed)[0].properties, "DTSTART"),
        "20261123"
    );

    appreg.ok(
        Some(NOW),
        &[
            "reg",
            "renew",
            "--site",
            "berlin",
            &billing,
            "--expires",
            "2027-06-30",
        ],
    );
    appreg.ok(None, &["reg", "delete", "--site", "berlin", &long]);
    std::thread::sleep(std::time::Duration::from_millis(1100)); // SPEC 7's freshness bound
    let renewed = events(&fetch(&server, &url).2);
    let billing_events = event_of(&renewed, &billing);
    assert_eq!(
        billing_events.len(),
        1,
        "a renewal moves the event, never duplicates it"
    );
    assert_eq!(
        property(&billing_events[0].properties, "UID"),
        format!("{billing}-2027-06-30@127.0.0.1")
    );
    assert_eq!(
        property(&billing_events[0].properties, "DTSTART"),
        "20270630"
    );
    assert!(
        event_of(&renewed, &long).is_empty(),
        "a deleted registration leaves the feed"
    );

    let (_, log) = server.stop();
    assert!(!log.contains(&token), "the feed token is never logged");
    assert!(
        log.contains("/sites/berlin/calendar/<token>"),
        "the path is, without it"
    );
}

#[test]
fn wrong_revoked_and_other_sites_tokens_get_the_unknown_address_404() {
    let appreg = Appreg::new();
    appreg.ok(None, &["site", "add", "berlin"]);
    appreg.ok(
        None,
        &[
            "admin", "add", "ana", "--site", "berlin", "--site", "default",
        ],
    );
    appreg.ok(None, &["admin", "add", "otto", "--site", "default"]);
    appreg.create(CREATED_AT, "berlin", "Billing", "2027-01-31");
    let first = calendar_url(&appreg, "ana", "berlin");
    let second = calendar_url(&appreg, "ana", "berlin");
    let default_feed = calendar_url(&appreg, "ana", "default");
    let server = start_with(&appreg, NOW, &[]);
    let unknown = fetch(&server, "/no/such/address");
    assert_eq!(unknown.0, 404);
    let token_of = |url: &str| url.rsplit('/').next().unwrap().to_owned();
    let well_formed_wrong = format!("/sites/berlin/calendar/appregcal_{}.ics", "A".repeat(49));
    for (what, path) in [
        ("replaced by a newer URL", first.clone()),
        ("well-formed, unknown", well_formed_wrong),
        (
            "malformed",
            "/sites/berlin/calendar/nonsense.ics".to_owned(),
        ),
        (
            "without .ics",
            second.trim_end_matches(".ics").replace(".ics", ""),
        ),
        (
            "another site's token on this site",
            format!("/sites/berlin/calendar/{}", token_of(&default_feed)),
        ),
        (
            "this site's token on another site",
            format!("/sites/default/calendar/{}", token_of(&second)),
        ),
    ] {
        let (status, content_type, body) = fetch(&server, &path);
        assert_eq!(
            (status, content_type.as_str(), body.as_str()),
            (unknown.0, unknown.1.as_str(), unknown.2.as_str()),
            "{what}: the same answer as an unknown address"
        );
    }
    assert_eq!(fetch(&server, &second).0, 200);
    assert_eq!(fetch(&server, &default_feed).0, 200);

    let revoked = appreg.json(
        Some(NOW),
        &[
            "admin",
            "calendar-url",
            "ana",
            "--site",
            "berlin",
            "--revoke",
        ],
    );
    assert_eq!(revoked["revoked"], true);
    assert_eq!(fetch(&server, &second).2, unknown.2, "a revoked URL");
    assert_eq!(
        fetch(&server, &default_feed).0,
        200,
        "the other site's feed stays"
    );
    let again = appreg.json(
        Some(NOW),
        &[
            "admin",
            "calendar-url",
            "ana",
            "--site",
            "berlin",
            "--revoke",
        ],
    );
    assert_eq!(again["revoked"], false);
    server.stop();

    // Stored hashed: the database file never holds a feed token.
    let bytes = std::fs::read(appreg.db()).unwrap();
    let haystack = String::from_utf8_lossy(&bytes);
    for url in [&first, &second, &default_feed] {
        assert!(!haystack.contains(&token_of(url).replace(".ics", "")));
    }
}

#[test]
fn calendar_url_refuses_bad_input_with_one_line() {
    let appreg = Appreg::new();
    appreg.ok(None, &["site", "add", "berlin"]);
    appreg.ok(None, &["admin", "add", "otto", "--site", "default"]);
    assert_eq!(
        appreg.fails(None, &["admin", "calendar-url", "otto", "--site", "berlin"]),
        "administrator otto does not manage site berlin"
    );
    assert_eq!(
        appreg.fails(
            None,
            &["admin", "calendar-url", "otto", "--site", "nowhere"]
        ),
        "site \"nowhere\" does not exist"
    );
    assert_eq!(
        appreg.fails(
            None,
            &["admin", "calendar-url", "nobody", "--site", "default"]
        ),
        "administrator \"nobody\" does not exist"
    );
    let audit = appreg.json(None, &["audit", "list", "--site", "default"]);
    assert!(
        !audit.to_string().contains("calendar."),
        "refused requests change nothing: {audit}"
    );
    let human = appreg.ok(
        None,
        &["admin", "calendar-url", "otto", "--site", "default"],
    );
    assert!(
        human.contains("/sites/default/calendar/appregcal_"),
        "{human}"
    );
    assert!(human.contains("shown only this once"));
    let audit = appreg.json(None, &["audit", "list", "--site", "default"]);
    assert_eq!(audit[0]["action"], "calendar.issue");
    assert_eq!(audit[0]["subject"], "otto");
}

/// The overview and the feed on PostgreSQL: the same answers as on SQLite.
#[test]
fn the_overview_and_the_feed_work_on_postgres() {
    let appreg = Appreg::on_postgres();
    appreg.ok(None, &["admin", "add", "ana", "--site", "default"]);
    let (soon, _) = appreg.create(CREATED_AT, "default", "Soon", "2026-12-10");
    appreg.create(CREATED_AT, "default", "Later", "2027-10-01");
    let listed = appreg.json(Some(NOW), &["reg", "expiring"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["client_id"], soon.as_str());
    let url = calendar_url(&appreg, "ana", "default");
    let server = start_with(&appreg, NOW, &["--public-url", PRINTED_BASE]);
    let (status, _, body) = fetch(&server, &url);
    assert_eq!(status, 200);
    let found = events(&body);
    assert_eq!(found.len(), 2, "both are within a year");
    assert_eq!(
        property(&event_of(&found, &soon)[0].properties, "DTSTART"),
        "20261210"
    );
    appreg.ok(
        Some(NOW),
        &[
            "admin",
            "calendar-url",
            "ana",
            "--site",
            "default",
            "--revoke",
        ],
    );
    assert_eq!(fetch(&server, &url).0, 404);
    server.stop();
}
