//! `NoticeOutbox` (notices recorded at most once, sweep candidates) and `NoticeLog`.

use std::collections::HashMap;

use postgres::Transaction;
use registration_core::stored::{
    StoredRow, counter, disposition_str, instant_text, parse_candidate, parse_delivery,
    parse_log_entry,
};
use registration_core::{
    DeliveryState, DeliveryStatus, ExpirationDate, LogQuery, NoticeCandidate, NoticeKind,
    NoticeLog, NoticeLogEntry, NoticeOutbox, NoticeRecord, SiteSlug, StoreError,
};
use time::OffsetDateTime;

use crate::connection::{PostgresStore, count, map_error, query_all, require_site};

/// The log's columns after the notice's id, in the order `parse_log_entry` reads them.
const LOG_COLUMNS: &str = "n.registration_id, n.expiration_date, n.kind, n.site, \
    n.registration_name, n.client_id, n.disposition, n.subject, n.due_at, n.recorded_at, n.body";

/// A log entry and its notice's id (column 0, which `parse_log_entry` skips).
fn id_and_entry(row: &dyn StoredRow) -> Result<(i64, NoticeLogEntry), StoreError> {
    Ok((row.integer(0)?, parse_log_entry(row)?))
}

/// The deliveries of the notices `ids`, in their recorded order, by notice.
fn deliveries_of(
    transaction: &mut Transaction<'_>,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<DeliveryState>>, StoreError> {
    let rows = query_all(
        transaction,
        "SELECT notice_id, recipient, channel, status, attempts, next_attempt_at, last_error
         FROM deliveries WHERE notice_id = ANY($1) ORDER BY notice_id, position",
        &[&ids],
        |row| Ok((row.integer(0)?, parse_delivery(row)?)),
    )?;
    let mut by_notice = HashMap::<i64, Vec<_>>::new();
    for (notice_id, delivery) in rows {
        by_notice.entry(notice_id).or_default().push(delivery);
    }
    Ok(by_notice)
}

fn with_deliveries(
    transaction: &mut Transaction<'_>,
    entries: Vec<(i64, NoticeLogEntry)>,
) -> Result<Vec<NoticeLogEntry>, StoreError> {
    let ids: Vec<i64> = entries.iter().map(|(id, _)| *id).collect();
    let mut by_notice = deliveries_of(transaction, &ids)?;
    Ok(entries
        .into_iter()
        .map(|(id, mut entry)| {
            entry.deliveries = by_notice.remove(&id).unwrap_or_default();
            entry
        })
        .collect())
}

impl NoticeOutbox for PostgresStore {
    fn notice_candidates(
        &self,
        site: &SiteSlug,
        horizon: ExpirationDate,
    ) -> Result<Vec<NoticeCandidate>, StoreError> {
        self.read(|transaction| {
            // Uses registrations_due (site, enabled, expiration_date): only the range that can
            // be due is read, however many registrations the site has.
            let candidates = query_all(
                transaction,
                "SELECT r.id, r.client_id, r.name, r.expiration_date,
                    (SELECT string_agg(n.kind, ',') FROM notices n
                     WHERE n.registration_id = r.id AND n.expiration_date = r.expiration_date)
                 FROM registrations r
                 WHERE r.site = $1 AND r.enabled AND r.expiration_date <= $2
                 ORDER BY r.expiration_date, r.id",
                &[&site.as_str(), &horizon.to_string()],
                parse_candidate,
            )?;
            Ok(candidates
                .into_iter()
                .filter(|candidate| candidate.recorded.len() < NoticeKind::ALL.len())
                .collect())
        })
    }

    fn record(
        &self,
        notices: &[NoticeRecord],
        recorded_at: OffsetDateTime,
    ) -> Result<usize, StoreError> {
        if notices.is_empty() {
            return Ok(0);
        }
        let recorded_at = instant_text(recorded_at);
        // The batch goes in as arrays: one statement for the notices, one for their
        // deliveries, however many there are (a sweep records thousands at once).
        let column = |field: fn(&NoticeRecord) -> String| -> Vec<String> {
            notices.iter().map(field).collect()
        };
        let registration_ids = column(|record| record.notice.key.registration_id.to_string());
        let expiration_dates = column(|record| record.notice.key.expiration_date.to_string());
        let kinds = column(|record| record.notice.key.kind.as_str().to_owned());
        let dispositions = column(|record| disposition_str(record.notice.disposition).to_owned());
        let subjects = column(|record| record.subject.clone());
        let due_ats = column(|record| instant_text(record.notice.due_at));
        let bodies = column(|record| record.body.clone());
        self.write(|transaction| {
            // The join re-checks the facts the sweep computed from and FOR SHARE holds the
            // registrations until commit, so a concurrent disable or renewal waits (or was
            // first, and its notices are skipped). A key another node recorded first is left
            // alone: ON CONFLICT waits for that node's commit, then does nothing. Rows are
            // taken in key order, so two sweeps lock in the same order and never deadlock.
            let inserted = transaction
                .query(
                    "INSERT INTO notices (registration_id, expiration_date, kind, site,
                        registration_name, client_id, disposition, subject, due_at, recorded_at,
                        body)
                     SELECT r.id, r.expiration_date, i.kind, r.site, r.name, r.client_id,
                        i.disposition, i.subject, i.due_at, $8, i.body
                     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                            $6::text[], $7::text[])
                        AS i (registration_id, expiration_date, kind, disposition, subject,
                            due_at, body)
                     JOIN registrations r ON r.id = i.registration_id
                        AND r.expiration_date = i.expiration_date AND r.enabled
                     ORDER BY r.id, i.kind
                     FOR SHARE OF r
                     ON CONFLICT (registration_id, expiration_date, kind) DO NOTHING
                     RETURNING id, registration_id, kind",
                    &[
                        &registration_ids,
                        &expiration_dates,
                        &kinds,
                        &dispositions,
                        &subjects,
                        &due_ats,
                        &bodies,
                        &recorded_at,
                    ],
                )
                .map_err(|error| map_error(&error))?;
            let by_key: HashMap<(&str, &str), &NoticeRecord> = registration_ids
                .iter()
                .zip(&kinds)
                .zip(notices)
                .map(|((id, kind), record)| ((id.as_str(), kind.as_str()), record))
                .collect();
            let mut notice_ids = Vec::new();
            let mut positions = Vec::new();
            let mut recipients = Vec::new();
            let mut channels = Vec::new();
            let mut statuses = Vec::new();
            let mut attempts = Vec::new();
            for row in &inserted {
                let (notice_id, registration_id, kind): (i64, String, String) =
                    (row.get(0), row.get(1), row.get(2));
                // A registration's current expiration date is the one recorded: the
                // registration id and the kind name the record.
                let record = by_key
                    .get(&(registration_id.as_str(), kind.as_str()))
                    .ok_or_else(|| {
                        StoreError::Corrupt(format!(
                            "a recorded notice {registration_id}.{kind} was not asked for"
                        ))
                    })?;
                for (position, delivery) in (0_i32..).zip(&record.deliveries) {
                    notice_ids.push(notice_id);
                    positions.push(position);
                    recipients.push(delivery.recipient.clone());
                    channels.push(delivery.channel.as_str());
                    statuses.push(delivery.status.as_str());
                    attempts.push(i32::try_from(delivery.attempts).map_err(|_| {
                        StoreError::Corrupt(format!("{} attempts overflow", delivery.attempts))
                    })?);
                }
            }
            transaction
                .execute(
                    "INSERT INTO deliveries (notice_id, position, recipient, channel, status,
                        attempts)
                     SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[],
                        $5::text[], $6::int[])",
                    &[
                        &notice_ids,
                        &positions,
                        &recipients,
                        &channels,
                        &statuses,
                        &attempts,
                    ],
                )
                .map_err(|error| map_error(&error))?;
            Ok(inserted.len())
        })
    }
}

impl NoticeLog for PostgresStore {
    fn log(&self, site: &SiteSlug) -> Result<Vec<NoticeLogEntry>, StoreError> {
        self.read(|transaction| {
            let entries = query_all(
                transaction,
                &format!(
                    "SELECT n.id, {LOG_COLUMNS} FROM notices n WHERE n.site = $1
                     ORDER BY n.recorded_at DESC, n.due_at DESC, n.kind DESC"
                ),
                &[&site.as_str()],
                id_and_entry,
            )?;
            with_deliveries(transaction, entries)
        })
    }

    fn log_page(
        &self,
        site: &SiteSlug,
        query: &LogQuery,
    ) -> Result<(Vec<NoticeLogEntry>, u64), StoreError> {
        const MATCHES: &str = "n.site = $1 AND ($2::text IS NULL OR n.kind = $2)
            AND ($3::text IS NULL OR n.client_id = $3)
            AND ($4::text IS NULL OR EXISTS
                (SELECT 1 FROM deliveries d WHERE d.notice_id = n.id AND d.status = $4))";
        let kind = query.kind.map(NoticeKind::as_str);
        let status = query.status.map(DeliveryStatus::as_str);
        let limit = i64::from(query.limit);
        let offset = counter(query.offset)?;
        self.read(|transaction| {
            require_site(transaction, site)?;
            let total = count(
                transaction,
                &format!("SELECT COUNT(*) FROM notices n WHERE {MATCHES}"),
                &[&site.as_str(), &kind, &query.client_id, &status],
            )?;
            // notices_log (site, recorded_at, due_at, kind) serves the order without sorting.
            let entries = query_all(
                transaction,
                &format!(
                    "SELECT n.id, {LOG_COLUMNS} FROM notices n WHERE {MATCHES}
                     ORDER BY n.recorded_at DESC, n.due_at DESC, n.kind DESC
                     LIMIT $5 OFFSET $6"
                ),
                &[
                    &site.as_str(),
                    &kind,
                    &query.client_id,
                    &status,
                    &limit,
                    &offset,
                ],
                id_and_entry,
            )?;
            Ok((with_deliveries(transaction, entries)?, total))
        })
    }
}
