//! `NoticeOutbox` (notices recorded at most once, sweep candidates) and `NoticeLog`.

use registration_core::{
    DeliveryStatus, ExpirationDate, LogQuery, NoticeCandidate, NoticeKind, NoticeLog,
    NoticeLogEntry, NoticeOutbox, NoticeRecord, SiteSlug, StoreError,
};
use rusqlite::params;
use time::OffsetDateTime;

use crate::connection::{SqliteStore, query_all, require_site};
use crate::convert::{Row, map_error};
use registration_core::stored::{
    counter, disposition_str, instant_text, parse_candidate, parse_delivery, parse_log_entry,
};

impl NoticeOutbox for SqliteStore {
    fn notice_candidates(
        &self,
        site: &SiteSlug,
        horizon: ExpirationDate,
    ) -> Result<Vec<NoticeCandidate>, StoreError> {
        self.read(|transaction| {
            // Uses registrations_due (site, enabled, expiration_date): only the range that can
            // be due is read, however many registrations the site has.
            let mut statement = transaction
                .prepare_cached(
                    "SELECT r.id, r.client_id, r.name, r.expiration_date,
                        (SELECT group_concat(n.kind) FROM notices n
                         WHERE n.registration_id = r.id AND n.expiration_date = r.expiration_date)
                     FROM registrations r
                     WHERE r.site = ?1 AND r.enabled = 1 AND r.expiration_date <= ?2
                     ORDER BY r.expiration_date",
                )
                .map_err(map_error)?;
            let rows = statement
                .query_map([site.as_str(), &horizon.to_string()], |row| {
                    Ok(parse_candidate(&Row(row)))
                })
                .map_err(map_error)?;
            let mut candidates = Vec::new();
            for row in rows {
                let candidate = row.map_err(map_error)??;
                if candidate.recorded.len() < NoticeKind::ALL.len() {
                    candidates.push(candidate);
                }
            }
            Ok(candidates)
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
        self.write(|transaction| {
            let mut insert_notice = transaction
                .prepare_cached(
                    // The SELECT re-checks the facts the sweep computed from, atomically.
                    "INSERT INTO notices (registration_id, expiration_date, kind, site,
                        registration_name, client_id, disposition, subject, due_at, recorded_at,
                        body)
                     SELECT id, expiration_date, ?3, site, name, client_id, ?4, ?5, ?6, ?7, ?8
                     FROM registrations
                     WHERE id = ?1 AND expiration_date = ?2 AND enabled = 1
                     ON CONFLICT (registration_id, expiration_date, kind) DO NOTHING",
                )
                .map_err(map_error)?;
            let mut insert_delivery = transaction
                .prepare_cached(
                    "INSERT INTO deliveries (notice_id, position, recipient, channel, status, attempts)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(map_error)?;
            let mut recorded = 0;
            for record in notices {
                let key = record.notice.key;
                let inserted = insert_notice
                    .execute(params![
                        key.registration_id.to_string(),
                        key.expiration_date.to_string(),
                        key.kind.as_str(),
                        disposition_str(record.notice.disposition),
                        record.subject,
                        instant_text(record.notice.due_at),
                        instant_text(recorded_at),
                        record.body,
                    ])
                    .map_err(map_error)?;
                if inserted == 0 {
                    continue;
                }
                recorded += 1;
                let notice_id = transaction.last_insert_rowid();
                for (position, delivery) in record.deliveries.iter().enumerate() {
                    insert_delivery
                        .execute(params![
                            notice_id,
                            counter(position as u64)?,
                            delivery.recipient,
                            delivery.channel.as_str(),
                            delivery.status.as_str(),
                            delivery.attempts,
                        ])
                        .map_err(map_error)?;
                }
            }
            Ok(recorded)
        })
    }
}

impl NoticeLog for SqliteStore {
    fn log(&self, site: &SiteSlug) -> Result<Vec<NoticeLogEntry>, StoreError> {
        self.read(|transaction| {
            let mut notices = transaction
                .prepare(
                    "SELECT id, registration_id, expiration_date, kind, site, registration_name,
                        client_id, disposition, subject, due_at, recorded_at, body
                     FROM notices WHERE site = ?1
                     ORDER BY recorded_at DESC, due_at DESC, kind DESC",
                )
                .map_err(map_error)?;
            let mut entries: Vec<(i64, NoticeLogEntry)> = notices
                .query_map([site.as_str()], |row| {
                    Ok(row
                        .get::<_, i64>(0)
                        .map(|id| (id, parse_log_entry(&Row(row)))))
                })
                .map_err(map_error)?
                .map(|row| {
                    let (id, entry) = row.map_err(map_error)?.map_err(map_error)?;
                    Ok((id, entry?))
                })
                .collect::<Result<_, StoreError>>()?;
            let mut deliveries = transaction
                .prepare(
                    "SELECT d.notice_id, d.recipient, d.channel, d.status, d.attempts,
                        d.next_attempt_at, d.last_error
                     FROM deliveries d JOIN notices n ON n.id = d.notice_id
                     WHERE n.site = ?1 ORDER BY d.notice_id, d.position",
                )
                .map_err(map_error)?;
            let rows = deliveries
                .query_map([site.as_str()], |row| {
                    Ok((row.get::<_, i64>(0)?, parse_delivery(&Row(row))))
                })
                .map_err(map_error)?;
            let mut by_notice = std::collections::HashMap::<i64, Vec<_>>::new();
            for row in rows {
                let (notice_id, delivery) = row.map_err(map_error)?;
                by_notice.entry(notice_id).or_default().push(delivery?);
            }
            for (id, entry) in &mut entries {
                entry.deliveries = by_notice.remove(id).unwrap_or_default();
            }
            Ok(entries.into_iter().map(|(_, entry)| entry).collect())
        })
    }

    fn log_page(
        &self,
        site: &SiteSlug,
        query: &LogQuery,
    ) -> Result<(Vec<NoticeLogEntry>, u64), StoreError> {
        const MATCHES: &str = "n.site = ?1 AND (?2 IS NULL OR n.kind = ?2)
            AND (?3 IS NULL OR n.client_id = ?3)
            AND (?4 IS NULL OR EXISTS
                (SELECT 1 FROM deliveries d WHERE d.notice_id = n.id AND d.status = ?4))";
        let kind = query.kind.map(NoticeKind::as_str);
        let status = query.status.map(DeliveryStatus::as_str);
        self.read(|transaction| {
            require_site(transaction, site)?;
            let filter = params![site.as_str(), kind, query.client_id, status];
            let total: i64 = transaction
                .prepare_cached(&format!("SELECT COUNT(*) FROM notices n WHERE {MATCHES}"))
                .map_err(map_error)?
                .query_row(filter, |row| row.get(0))
                .map_err(map_error)?;
            // notices_log (site, recorded_at, due_at, kind) serves the order without sorting.
            let mut page = transaction
                .prepare_cached(&format!(
                    "SELECT n.id, n.registration_id, n.expiration_date, n.kind, n.site,
                        n.registration_name, n.client_id, n.disposition, n.subject, n.due_at,
                        n.recorded_at, n.body
                     FROM notices n WHERE {MATCHES}
                     ORDER BY n.recorded_at DESC, n.due_at DESC, n.kind DESC
                     LIMIT ?5 OFFSET ?6"
                ))
                .map_err(map_error)?;
            let entries: Vec<(i64, NoticeLogEntry)> = page
                .query_map(
                    params![
                        site.as_str(),
                        kind,
                        query.client_id,
                        status,
                        query.limit,
                        counter(query.offset)?
                    ],
                    |row| {
                        Ok(row
                            .get::<_, i64>(0)
                            .map(|id| (id, parse_log_entry(&Row(row)))))
                    },
                )
                .map_err(map_error)?
                .map(|row| {
                    let (id, entry) = row.map_err(map_error)?.map_err(map_error)?;
                    Ok((id, entry?))
                })
                .collect::<Result<_, StoreError>>()?;
            let mut paged = Vec::with_capacity(entries.len());
            for (id, mut entry) in entries {
                entry.deliveries = query_all(
                    transaction,
                    "SELECT notice_id, recipient, channel, status, attempts, next_attempt_at,
                        last_error
                     FROM deliveries WHERE notice_id = ?1 ORDER BY position",
                    [id],
                    parse_delivery,
                )?;
                paged.push(entry);
            }
            Ok((paged, total.unsigned_abs()))
        })
    }
}
