//! Snapshots of what people and scripts read: tables and `--json` documents for fixed data
//! at a fixed `APPREG_NOW`. Random values (Client IDs, secrets, hints) and the sub-second
//! part of creation times are replaced by placeholders of the same width.

use serde_json::Value;

use crate::Appreg;

const CREATED_AT: &str = "2026-11-23T09:00:00Z";
const VIEWED_AT: Option<&str> = Some("2026-11-24T08:00:00Z");

struct Fixture {
    appreg: Appreg,
    /// (Client ID, secret) in creation order.
    credentials: Vec<(String, String)>,
}

impl Fixture {
    fn new() -> Self {
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
        let credentials = [
            ("Billing sync", "2027-01-31"),
            ("Ledger export", "2026-12-10"),
            ("payroll bridge", "2026-11-25"),
            ("Zeta monitor", "2026-11-23"),
            ("Archive (paused)", "2027-06-30"),
        ]
        .into_iter()
        .map(|(name, expires)| appreg.create(CREATED_AT, "berlin", name, expires))
        .collect::<Vec<_>>();
        // Ledger export's secret was rotated: its old secret works two more days.
        let ledger = credentials[1].0.clone();
        let rotated = appreg.json(
            Some(CREATED_AT),
            &[
                "reg",
                "rotate",
                "--site",
                "berlin",
                &ledger,
                "--overlap",
                "2d",
            ],
        );
        let mut credentials = credentials;
        credentials.push((
            ledger,
            rotated["client_secret"].as_str().unwrap().to_owned(),
        ));
        appreg.ok(
            None,
            &["reg", "disable", "--site", "berlin", &credentials[4].0],
        );
        appreg.ok(
            None,
            &[
                "admin",
                "add",
                "alice",
                "--site",
                "berlin",
                "--email",
                "alice@example.com",
            ],
        );
        appreg.ok(
            None,
            &[
                "subscribe",
                "alice",
                "--site",
                "berlin",
                "--template",
                "expired",
                "--channel",
                "email",
            ],
        );
        Self {
            appreg,
            credentials,
        }
    }

    /// Replaces every random value with a placeholder of the same width.
    fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for (n, (client_id, secret)) in self.credentials.iter().enumerate() {
            text = text.replace(secret, &format!("{:x<56}", format!("appreg_secret{n}")));
            text = text.replace(client_id, &format!("{:x<20}", format!("clientid{n}")));
            text = text.replace(&format!("…{}", &secret[52..]), &format!("…hin{n}"));
            text = text.replace(&format!("\"{}\"", &secret[52..]), &format!("\"hin{n}\""));
        }
        text
    }

    fn json(&self, args: &[&str]) -> String {
        let mut value = self.appreg.json(VIEWED_AT, args);
        blur_creation_times(&mut value);
        self.redact(&serde_json::to_string_pretty(&value).unwrap())
    }

    fn text(&self, args: &[&str]) -> String {
        self.redact(&self.appreg.ok(VIEWED_AT, args))
    }
}

/// Creating and recording happen at `APPREG_NOW` plus a few real milliseconds: keep only
/// the whole second of those instants.
fn blur_creation_times(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(blur_creation_times),
        Value::Object(fields) => {
            for field in [
                "registration_date",
                "recorded_at",
                "at",
                "secret_created_at",
                "created_at",
            ] {
                if let Some(Value::String(instant)) = fields.get_mut(field)
                    && let Some(dot) = instant.find('.')
                {
                    let offset_at = dot
                        + instant[dot + 1..]
                            .find(|c: char| !c.is_ascii_digit())
                            .unwrap()
                        + 1;
                    instant.replace_range(dot..offset_at, "");
                }
            }
            fields.values_mut().for_each(blur_creation_times);
        }
        _ => {}
    }
}

#[test]
fn grid_and_detail_tables() {
    let fixture = Fixture::new();
    insta::assert_snapshot!(
        "reg_list",
        fixture.text(&["reg", "list", "--site", "berlin"])
    );
    let ledger = fixture.credentials[1].0.clone();
    insta::assert_snapshot!(
        "reg_show",
        fixture.text(&["reg", "show", "--site", "berlin", &ledger])
    );
    insta::assert_snapshot!("site_list", fixture.text(&["site", "list"]));
}

#[test]
fn json_documents() {
    let fixture = Fixture::new();
    insta::assert_snapshot!(
        "reg_list_json",
        fixture.json(&["reg", "list", "--site", "berlin"])
    );
    insta::assert_snapshot!("site_list_json", fixture.json(&["site", "list"]));
}

#[test]
fn create_output() {
    let appreg = Appreg::new();
    let output = appreg.ok(
        Some(CREATED_AT),
        &[
            "reg",
            "create",
            "--site",
            "default",
            "--name",
            "Billing sync",
            "--expires",
            "2027-01-31",
        ],
    );
    let list = appreg.json(None, &["reg", "list", "--site", "default"]);
    let client_id = list[0]["client_id"].as_str().unwrap().to_owned();
    let secret = output
        .lines()
        .find_map(|line| line.trim().strip_prefix("Client secret"))
        .unwrap()
        .trim()
        .to_owned();
    let rotation = appreg.ok(
        Some(CREATED_AT),
        &[
            "reg",
            "rotate",
            "--site",
            "default",
            &client_id,
            "--overlap",
            "36h",
        ],
    );
    let rotated_secret = rotation
        .lines()
        .find_map(|line| line.trim().strip_prefix("Client secret"))
        .unwrap()
        .trim()
        .to_owned();
    let fixture = Fixture {
        appreg,
        credentials: vec![(client_id.clone(), secret), (client_id, rotated_secret)],
    };
    insta::assert_snapshot!("reg_create", fixture.redact(&output));
    insta::assert_snapshot!("reg_rotate", fixture.redact(&rotation));
}

#[test]
fn sweep_and_notification_log() {
    let fixture = Fixture::new();
    insta::assert_snapshot!("sweep_json", fixture.json(&["sweep"]));
    insta::assert_snapshot!(
        "notices_list",
        fixture.text(&["notices", "list", "--site", "berlin"])
    );
    insta::assert_snapshot!(
        "notices_list_json",
        fixture.json(&["notices", "list", "--site", "berlin"])
    );
}

#[test]
fn audit_log_table_json_and_pages() {
    let appreg = Appreg::new();
    let now = Some(CREATED_AT);
    appreg.ok(
        now,
        &["site", "add", "berlin", "--time-zone", "Europe/Berlin"],
    );
    let (client_id, secret) = appreg.create(CREATED_AT, "berlin", "Billing sync", "2027-01-31");
    appreg.ok(
        now,
        &[
            "reg",
            "renew",
            "--site",
            "berlin",
            &client_id,
            "--expires",
            "2027-03-31",
        ],
    );
    appreg.ok(now, &["reg", "disable", "--site", "berlin", &client_id]);
    appreg.ok(
        now,
        &[
            "admin",
            "add",
            "alice",
            "--site",
            "berlin",
            "--email",
            "alice@example.com",
        ],
    );
    appreg.ok(
        now,
        &["templates", "edit", "--site", "berlin", "expired", "--off"],
    );
    appreg.ok(now, &["reg", "delete", "--site", "berlin", &client_id]);
    let fixture = Fixture {
        appreg,
        credentials: vec![(client_id, secret)],
    };
    let json = |args: &[&str]| {
        let mut value = fixture.appreg.json(now, args);
        blur_creation_times(&mut value);
        fixture.redact(&serde_json::to_string_pretty(&value).unwrap())
    };
    insta::assert_snapshot!(
        "audit_list",
        fixture.redact(&fixture.appreg.ok(
            now,
            &["audit", "list", "--site", "berlin", "--per-page", "5"]
        ))
    );
    insta::assert_snapshot!(
        "audit_list_json",
        json(&[
            "audit",
            "list",
            "--site",
            "berlin",
            "--per-page",
            "4",
            "--page",
            "2"
        ])
    );
    assert_eq!(
        fixture
            .appreg
            .fails(now, &["audit", "list", "--site", "nowhere"]),
        "site \"nowhere\" does not exist"
    );
    let output = fixture.appreg.run(
        now,
        &["audit", "list", "--site", "berlin", "--per-page", "0"],
    );
    assert_eq!(
        output.status.code(),
        Some(2),
        "out-of-range paging is a usage error"
    );
}
