//! The expiry overview (SPEC 13) through the binary: `reg expiring` as a table, JSON and
//! RFC 4180 CSV (read back by the `csv` crate), and `GET /api/v1/expiring` per caller.

use serde_json::Value;

use crate::serve::start_with;
use crate::{Appreg, CREATED_AT};

const VIEWED_AT: &str = "2026-11-25T12:00:00Z";

/// Two sites in different zones: Berlin (two soon, one expired, one far, one disabled) and
/// Auckland (one soon, one far). Returns the Client IDs by name.
fn fixture() -> (Appreg, Vec<(String, String)>) {
    let appreg = Appreg::new();
    appreg.ok(
        None,
        &["site", "add", "berlin", "--time-zone", "Europe/Berlin"],
    );
    appreg.ok(
        None,
        &["site", "add", "auckland", "--time-zone", "Pacific/Auckland"],
    );
    let mut ids = Vec::new();
    for (site, name, expires) in [
        ("berlin", "=HYPERLINK(\"x\")", "2026-12-05"),
        ("berlin", "Ledger, export", "2026-12-20"),
        ("berlin", "Expired feed", "2026-11-24"),
        ("berlin", "Far away", "2027-06-30"),
        ("berlin", "Paused", "2026-11-30"),
        ("auckland", "Kiwi sync", "2026-12-05"),
        ("auckland", "Kiwi far", "2028-01-01"),
    ] {
        let (client_id, _) = appreg.create(CREATED_AT, site, name, expires);
        ids.push((name.to_owned(), client_id));
    }
    appreg.ok(None, &["reg", "disable", "--site", "berlin", &ids[4].1]);
    (appreg, ids)
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item["name"].as_str().unwrap())
        .collect()
}

#[test]
fn reg_expiring_lists_soonest_first_across_sites_as_a_table_json_and_csv() {
    let (appreg, _) = fixture();
    let at = Some(VIEWED_AT);
    let all = appreg.json(at, &["reg", "expiring"]);
    assert_eq!(
        names(&all),
        [
            "Expired feed",
            "Kiwi sync",
            "=HYPERLINK(\"x\")",
            "Ledger, export"
        ],
        "expired first, then by the instant each stops (Auckland's 5 December ends first); \
         disabled and far ones left out: {all}"
    );
    assert_eq!(all[0]["state"], "expired");
    assert_eq!(all[0]["site"], "berlin");
    assert_eq!(all[1]["expires_at"], "2026-12-06T00:00:00+13:00");
    assert_eq!(appreg.json(at, &["reg", "expiring", "--all-sites"]), all);
    let berlin = appreg.json(at, &["reg", "expiring", "--site", "berlin"]);
    assert_eq!(names(&berlin).len(), 3);
    let wide = appreg.json(at, &["reg", "expiring", "--within", "3660"]);
    assert_eq!(names(&wide).len(), 6, "everything enabled: {wide}");
    let today = appreg.json(at, &["reg", "expiring", "--within", "0"]);
    assert_eq!(names(&today), ["Expired feed"]);

    let table = appreg.ok(at, &["reg", "expiring"]);
    let header = table.lines().next().unwrap();
    for column in [
        "Site",
        "Name",
        "Client ID",
        "Expires",
        "Expires at",
        "Last used",
    ] {
        assert!(header.contains(column), "{header}");
    }
    assert_eq!(table.lines().count(), 5, "{table}");

    let csv_text = appreg.ok(at, &["reg", "expiring", "--csv"]);
    assert!(csv_text.ends_with("\r\n") && !csv_text.replace("\r\n", "").contains('\n'));
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "site",
            "name",
            "client_id",
            "registration_date",
            "enabled",
            "last_used",
            "expires",
            "state",
            "days_left",
            "expiration_date",
            "expires_at"
        ]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 4);
    for (record, json) in records.iter().zip(all.as_array().unwrap()) {
        assert_eq!(&record[2], json["client_id"].as_str().unwrap());
        assert_eq!(&record[7], json["state"].as_str().unwrap());
        assert_eq!(record[8], json["days_left"].to_string());
        assert_eq!(&record[10], json["expires_at"].as_str().unwrap());
        assert_eq!(&record[3], json["registration_date"].as_str().unwrap());
        assert_eq!(&record[5], "", "never used");
    }
    assert_eq!(
        &records[2][1], "'=HYPERLINK(\"x\")",
        "a name a spreadsheet would run is kept as text"
    );
    assert_eq!(&records[3][1], "Ledger, export", "a comma survives quoting");
}

#[test]
fn reg_expiring_refuses_bad_input_with_one_line() {
    let (appreg, _) = fixture();
    let at = Some(VIEWED_AT);
    for within in ["-1", "3661", "99999999999", "soon", ""] {
        assert_eq!(
            appreg.fails(at, &["reg", "expiring", &format!("--within={within}")]),
            "the window is a whole number of days from 0 to 3660",
            "--within {within:?}"
        );
    }
    assert_eq!(
        appreg.fails(at, &["reg", "expiring", "--site", "nowhere"]),
        "site \"nowhere\" does not exist"
    );
    assert_eq!(
        appreg.fails(at, &["--json", "reg", "expiring", "--csv"]),
        "choose one of --csv and --json"
    );
    let both = appreg.run(at, &["reg", "expiring", "--site", "berlin", "--all-sites"]);
    assert_eq!(
        both.status.code(),
        Some(2),
        "--site with --all-sites is a usage error"
    );
}

#[test]
fn the_api_lists_only_the_callers_sites() {
    let (appreg, ids) = fixture();
    appreg.ok(None, &["admin", "add", "bert", "--site", "berlin"]);
    appreg.ok(
        None,
        &[
            "admin", "add", "both", "--site", "berlin", "--site", "auckland",
        ],
    );
    let token_of = |user: &str| {
        appreg.json(None, &["admin", "token", user])["token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let server = start_with(&appreg, VIEWED_AT, &[]);
    let get = |token: Option<&str>, query: &str| {
        let mut request =
            crate::http_client().get(format!("{}/api/v1/expiring{query}", server.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().unwrap();
        (
            response.status().as_u16(),
            response.json::<Value>().unwrap(),
        )
    };
    let (status, page) = get(Some(&token_of("bert")), "");
    assert_eq!(status, 200);
    assert_eq!(page["total"], 3);
    assert_eq!(
        names(&page["items"]),
        ["Expired feed", "=HYPERLINK(\"x\")", "Ledger, export"],
        "Auckland's registrations never appear for Berlin's administrator"
    );
    let kiwi = &ids[5].1;
    assert!(!page.to_string().contains(kiwi.as_str()));
    let (_, page) = get(Some(&token_of("both")), "?within=30&per_page=2&page=2");
    assert_eq!(page["total"], 4);
    assert_eq!(
        names(&page["items"]),
        ["=HYPERLINK(\"x\")", "Ledger, export"]
    );
    let (_, wide) = get(Some(&token_of("both")), "?within=3660");
    assert_eq!(wide["total"], 6);
    for query in ["?within=-1", "?within=3661", "?within=abc", "?per_page=0"] {
        let (status, problem) = get(Some(&token_of("both")), query);
        assert_eq!(status, 422, "{query}: {problem}");
    }
    assert_eq!(get(None, "").0, 401);
    server.stop();
}
