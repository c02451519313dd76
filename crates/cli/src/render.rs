//! What the command line prints: JSON documents (stable field names, documented in
//! docs/cli.md) and aligned tables for people. Domain types do not derive `Serialize`; the
//! wire shapes live here.

use registration_core::{
    AuditEntry, ClientSecret, DeliveryReport, NoticeLogEntry, Site, SiteZone, Snapshot, SweepReport,
};
use registration_http::wire::rfc3339;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub(crate) struct SweepJson {
    sites: usize,
    registrations_evaluated: usize,
    notices_recorded: usize,
    deliveries: DeliveriesJson,
    /// E-mail deliveries due that no SMTP server was given for.
    waiting_for_smtp: u64,
}

#[derive(Debug, Serialize)]
struct DeliveriesJson {
    attempted: usize,
    sent: usize,
    retrying: usize,
    dead: usize,
}

impl SweepJson {
    pub(crate) fn new(
        report: SweepReport,
        deliveries: DeliveryReport,
        waiting_for_smtp: u64,
    ) -> Self {
        Self {
            sites: report.sites,
            registrations_evaluated: report.registrations_evaluated,
            notices_recorded: report.notices_recorded,
            deliveries: DeliveriesJson {
                attempted: deliveries.attempted,
                sent: deliveries.sent,
                retrying: deliveries.retrying,
                dead: deliveries.dead,
            },
            waiting_for_smtp,
        }
    }
}

/// What `appreg db copy` copied, table by table (verified before it was kept).
pub(crate) fn copied(from: &std::path::Path, counts: &[(String, u64)], json: bool) -> String {
    if json {
        let counts: serde_json::Map<String, serde_json::Value> = counts
            .iter()
            .map(|(table, rows)| (table.clone(), (*rows).into()))
            .collect();
        return serde_json::to_string_pretty(&serde_json::json!({ "copied": counts }))
            .unwrap_or_else(|_| unreachable!("a map of numbers serializes"));
    }
    let rows: Vec<Vec<String>> = counts
        .iter()
        .map(|(table, rows)| vec![table.clone(), rows.to_string()])
        .collect();
    format!(
        "Copied {} into the PostgreSQL database; every table's count was verified.\n\n{}",
        from.display(),
        table(&["Table", "Rows"], &rows)
    )
}

/// Left-aligned columns separated by two spaces, with a header row.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let padded: Vec<String> = cells
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    let mut out = vec![line(&mut header.iter().copied())];
    out.extend(
        rows.iter()
            .map(|row| line(&mut row.iter().map(String::as_str))),
    );
    out.join("\n")
}

fn yes_no(value: bool) -> String {
    if value { "Yes" } else { "No" }.to_owned()
}

/// `2026-11-23 14:05` in the site's zone.
/// The grid: Name, Client ID, Registration date, Enabled, Last used, Expires.
pub(crate) fn registrations_table(snapshots: &[Snapshot]) -> String {
    let rows: Vec<Vec<String>> = snapshots
        .iter()
        .map(|snapshot| {
            let record = snapshot.registration.record();
            let zone = snapshot.site.zone;
            vec![
                record.name.to_string(),
                record.client_id.to_string(),
                zone.date_at(record.registration_date).to_string(),
                yes_no(record.enabled),
                record
                    .last_used
                    .map_or_else(|| "Never".to_owned(), |at| zone.local_minute(at)),
                snapshot.status.expires.to_string(),
            ]
        })
        .collect();
    table(
        &[
            "Name",
            "Client ID",
            "Registration date",
            "Enabled",
            "Last used",
            "Expires",
        ],
        &rows,
    )
}

/// `reg expiring`: soonest first, with the site and the instant each stops authenticating.
pub(crate) fn expiring_table(snapshots: &[Snapshot]) -> String {
    let rows: Vec<Vec<String>> = snapshots
        .iter()
        .map(|snapshot| {
            let record = snapshot.registration.record();
            let zone = snapshot.site.zone;
            vec![
                record.site.to_string(),
                record.name.to_string(),
                record.client_id.to_string(),
                snapshot.status.expires.to_string(),
                zone.display_local(snapshot.status.expires_at),
                record
                    .last_used
                    .map_or_else(|| "Never".to_owned(), |at| zone.local_minute(at)),
            ]
        })
        .collect();
    table(
        &[
            "Site",
            "Name",
            "Client ID",
            "Expires",
            "Expires at",
            "Last used",
        ],
        &rows,
    )
}

/// `reg expiring --csv`: RFC 4180 (CRLF line ends, fields quoted when they hold a comma,
/// quote or line break, quotes doubled) with a header row: the grid's columns plus site,
/// state, days_left and expires_at. Instants as in `--json`.
pub(crate) fn expiring_csv(snapshots: &[Snapshot]) -> String {
    const HEADER: [&str; 11] = [
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
        "expires_at",
    ];
    let mut out = csv_line(HEADER.iter().map(|field| (*field).to_owned()));
    for snapshot in snapshots {
        let record = snapshot.registration.record();
        let zone = snapshot.site.zone;
        let instant = |at| rfc3339(zone.local(at));
        out.push_str(&csv_line([
            record.site.to_string(),
            spreadsheet_safe(record.name.as_str()),
            record.client_id.to_string(),
            instant(record.registration_date),
            record.enabled.to_string(),
            record.last_used.map(instant).unwrap_or_default(),
            snapshot.status.expires.to_string(),
            snapshot.status.state.as_str().to_owned(),
            snapshot.status.days_left.to_string(),
            record.expiration_date.to_string(),
            instant(snapshot.status.expires_at),
        ]));
    }
    out
}

fn csv_line(fields: impl IntoIterator<Item = String>) -> String {
    let fields: Vec<String> = fields
        .into_iter()
        .map(|field| {
            if field.contains([',', '"', '\r', '\n']) {
                format!("\"{}\"", field.replace('"', "\"\""))
            } else {
                field
            }
        })
        .collect();
    format!("{}\r\n", fields.join(","))
}

/// A name that a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) gets a
/// leading `'`, which spreadsheets show as text (OWASP's CSV injection advice).
fn spreadsheet_safe(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// One registration, field by field.
pub(crate) fn registration_details(snapshot: &Snapshot) -> String {
    let record = snapshot.registration.record();
    let zone = snapshot.site.zone;
    let rejected = match record.rejections.last {
        Some(last) => format!(
            "{} since expiry, last {}",
            record.rejections.count,
            zone.local_minute(last)
        ),
        None => "none since expiry".to_owned(),
    };
    let rows = vec![
        vec!["Name".into(), record.name.to_string()],
        vec!["Client ID".into(), record.client_id.to_string()],
        vec!["Site".into(), record.site.to_string()],
        vec![
            "Registration date".into(),
            zone.date_at(record.registration_date).to_string(),
        ],
        vec!["Enabled".into(), yes_no(record.enabled)],
        vec![
            "Last used".into(),
            record
                .last_used
                .map_or_else(|| "Never".to_owned(), |at| zone.local_minute(at)),
        ],
        vec!["Expiration date".into(), record.expiration_date.to_string()],
        vec!["Expires".into(), snapshot.status.expires.to_string()],
        vec![
            "Expires at".into(),
            zone.display_local(snapshot.status.expires_at),
        ],
        vec!["State".into(), snapshot.status.state.to_string()],
        vec!["Secret hint".into(), format!("…{}", record.secret.hint)],
        vec![
            "Secret issued".into(),
            secret_facts(zone, record.secret.created_at, record.secret.last_used),
        ],
        vec!["Rejected requests".into(), rejected],
    ];
    let mut rows = rows;
    if let Some(previous) = &record.previous_secret {
        let until = if snapshot.previous_secret_live() {
            format!(
                "authenticates until {}",
                zone.display_local(previous.expires_at)
            )
        } else {
            format!(
                "stopped authenticating {}; {}",
                zone.display_local(previous.expires_at),
                previous.presented_summary(zone)
            )
        };
        rows.push(vec![
            "Previous secret".into(),
            format!(
                "…{}, {}; {until}",
                previous.secret.hint,
                secret_facts(zone, previous.secret.created_at, previous.secret.last_used)
            ),
        ]);
    }
    // No header: a two-column list.
    table(&["", ""], &rows)
        .lines()
        .skip(1)
        .collect::<Vec<_>>()
        .join("\n")
}

/// What `reg rotate` prints: the new secret (once) and what happens to the previous one.
pub(crate) fn rotated(snapshot: &Snapshot, secret: &ClientSecret) -> String {
    let record = snapshot.registration.record();
    let zone = snapshot.site.zone;
    let previous = match &record.previous_secret {
        Some(previous) if snapshot.previous_secret_live() => format!(
            "The previous secret (…{}) keeps authenticating until {}; then only the new one does.",
            previous.secret.hint,
            zone.display_local(previous.expires_at)
        ),
        Some(previous) => format!(
            "The previous secret (…{}) no longer authenticates.",
            previous.secret.hint
        ),
        None => String::new(),
    };
    format!(
        "Rotated the Client secret of App registration \"{}\" in site {}.\n\n  \
         Client ID      {} (unchanged)\n  \
         Client secret  {}\n\n\
         Copy the Client secret now: it is shown only this once and cannot be retrieved later.\n\
         {previous}",
        record.name,
        record.site,
        record.client_id,
        secret.expose_secret(),
    )
}

/// "2026-11-23 14:05, last used 2026-11-24 10:00" (or "never used"), site time.
fn secret_facts(
    zone: SiteZone,
    created_at: time::OffsetDateTime,
    last_used: Option<time::OffsetDateTime>,
) -> String {
    let used = last_used.map_or_else(
        || "never used".to_owned(),
        |at| format!("last used {}", zone.local_minute(at)),
    );
    format!("{}, {used}", zone.local_minute(created_at))
}

pub(crate) fn sites_table(sites: &[Site]) -> String {
    let rows: Vec<Vec<String>> = sites
        .iter()
        .map(|site| {
            vec![
                site.slug.to_string(),
                site.name.as_str().to_owned(),
                site.zone.name().to_owned(),
            ]
        })
        .collect();
    table(&["Slug", "Name", "Time zone"], &rows)
}

/// The audit log: one row per entry, each changed field as `field: old → new`.
pub(crate) fn audit_table(entries: &[AuditEntry], zone: SiteZone) -> String {
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|entry| {
            let changes: Vec<String> = entry
                .changes()
                .iter()
                .map(|change| {
                    let value = |value: Option<&str>| {
                        value.map_or_else(|| "-".to_owned(), |value| format!("{value:?}"))
                    };
                    format!(
                        "{}: {} → {}",
                        change.field,
                        value(change.before),
                        value(change.after)
                    )
                })
                .collect();
            vec![
                zone.local_minute(entry.at),
                entry.actor.label(),
                entry.action.to_string(),
                entry.subject.clone(),
                changes.join("; "),
            ]
        })
        .collect();
    table(&["Time", "Actor", "Action", "Subject", "Changes"], &rows)
}

pub(crate) fn notices_table(entries: &[NoticeLogEntry], zone: SiteZone) -> String {
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|entry| {
            let deliveries: Vec<String> = entry
                .deliveries
                .iter()
                .map(|d| {
                    let mut text = format!("{} {}: {}", d.channel, d.recipient, d.status);
                    if let Some(next) = d.next_attempt_at {
                        text.push_str(&format!(" (next try {})", zone.local_minute(next)));
                    }
                    if let Some(error) = &d.last_error {
                        text.push_str(&format!(" [{error}]"));
                    }
                    text
                })
                .collect();
            vec![
                zone.local_minute(entry.recorded_at),
                entry.key.kind.to_string(),
                format!("{} ({})", entry.registration_name, entry.client_id),
                entry.subject.clone(),
                registration_http::wire::disposition_label(entry.disposition).to_owned(),
                deliveries.join("; "),
            ]
        })
        .collect();
    table(
        &[
            "Time",
            "Kind",
            "Registration",
            "Subject",
            "Disposition",
            "Deliveries",
        ],
        &rows,
    )
}
