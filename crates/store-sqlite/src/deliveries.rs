//! `DeliveryQueue`: deliveries claimed under a lease and finished by the lease holder.

use registration_core::{
    Channel, ClaimedDelivery, DeliveryOutcome, DeliveryQueue, DeliveryStatus, DeliveryTarget,
    Lease, NoticeKind, StoreError,
};
use rusqlite::params;
use time::OffsetDateTime;

use crate::connection::SqliteStore;
use crate::convert::{Row, map_error};
use registration_core::stored::{
    CLAIM_COLUMNS, counter, instant_text, parse_claimed, parse_delivery_count,
};

impl DeliveryQueue for SqliteStore {
    fn claim_deliveries(
        &self,
        channels: &[Channel],
        now: OffsetDateTime,
        lease: &Lease,
        limit: usize,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        if channels.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let now = instant_text(now);
        // The write lock is taken first (BEGIN IMMEDIATE): two workers cannot both read a
        // delivery as unleased before either leases it.
        self.write(|transaction| {
            let mut select = transaction
                .prepare_cached(&format!(
                    "SELECT {CLAIM_COLUMNS}, d.notice_id
                     FROM deliveries d JOIN notices n ON n.id = d.notice_id
                     LEFT JOIN webhooks w
                        ON d.channel = 'webhook' AND w.site = n.site AND w.url = d.recipient
                     WHERE d.status IN ('pending', 'retrying') AND d.channel IN ({})
                       AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?1)
                       AND (d.lease_until IS NULL OR d.lease_until <= ?1)
                       AND (d.channel <> 'webhook' OR w.secret IS NOT NULL)
                     ORDER BY d.notice_id, d.position
                     LIMIT ?2",
                    channel_list(channels)
                ))
                .map_err(map_error)?;
            let rows = select
                .query_map(params![now, counter(limit as u64)?], |row| {
                    Ok(row
                        .get::<_, i64>(13)
                        .map(|id| (id, parse_claimed(&Row(row)))))
                })
                .map_err(map_error)?;
            let mut lease_one = transaction
                .prepare_cached(
                    "UPDATE deliveries SET lease_id = ?4, lease_until = ?5
                     WHERE notice_id = ?1 AND channel = ?2 AND recipient = ?3",
                )
                .map_err(map_error)?;
            let mut claimed = Vec::new();
            for row in rows {
                let (notice_id, claim) = row.map_err(map_error)?.map_err(map_error)?;
                let claim = claim?;
                let delivery = &claim.delivery;
                lease_one
                    .execute(params![
                        notice_id,
                        delivery.channel.as_str(),
                        delivery.recipient,
                        lease.id,
                        instant_text(lease.until),
                    ])
                    .map_err(map_error)?;
                claimed.push(claim);
            }
            Ok(claimed)
        })
    }

    fn finish_delivery(
        &self,
        target: &DeliveryTarget,
        lease_id: &str,
        outcome: &DeliveryOutcome,
    ) -> Result<bool, StoreError> {
        self.write(|transaction| {
            let changed = transaction
                .prepare_cached(
                    "UPDATE deliveries SET status = ?1, attempts = ?2, next_attempt_at = ?3,
                        last_error = ?4, lease_id = NULL, lease_until = NULL
                     WHERE notice_id = (SELECT id FROM notices
                            WHERE registration_id = ?5 AND expiration_date = ?6 AND kind = ?7)
                       AND channel = ?8 AND recipient = ?9 AND lease_id = ?10
                       AND status IN ('pending', 'retrying')",
                )
                .map_err(map_error)?
                .execute(params![
                    outcome.status.as_str(),
                    outcome.attempts,
                    outcome.next_attempt_at.map(instant_text),
                    outcome.last_error,
                    target.notice.registration_id.to_string(),
                    target.notice.expiration_date.to_string(),
                    target.notice.kind.as_str(),
                    target.channel.as_str(),
                    target.recipient,
                    lease_id,
                ])
                .map_err(map_error)?;
            Ok(changed == 1)
        })
    }

    fn due_delivery_count(
        &self,
        channels: &[Channel],
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        if channels.is_empty() {
            return Ok(0);
        }
        self.read(|transaction| {
            let count: i64 = transaction
                .prepare_cached(&format!(
                    "SELECT COUNT(*) FROM deliveries
                     WHERE status IN ('pending', 'retrying') AND channel IN ({})
                       AND (next_attempt_at IS NULL OR next_attempt_at <= ?1)",
                    channel_list(channels)
                ))
                .map_err(map_error)?
                .query_row([instant_text(now)], |row| row.get(0))
                .map_err(map_error)?;
            Ok(count.unsigned_abs())
        })
    }

    fn delivery_counts(&self) -> Result<Vec<(NoticeKind, DeliveryStatus, u64)>, StoreError> {
        self.read(|transaction| {
            let mut statement = transaction
                .prepare_cached(
                    "SELECT n.kind, d.status, COUNT(*) FROM deliveries d
                     JOIN notices n ON n.id = d.notice_id
                     GROUP BY n.kind, d.status ORDER BY n.kind, d.status",
                )
                .map_err(map_error)?;
            let rows = statement
                .query_map([], |row| Ok(parse_delivery_count(&Row(row))))
                .map_err(map_error)?;
            rows.map(|row| row.map_err(map_error)?).collect()
        })
    }
}

/// `'email', 'webhook'`: channel names are fixed identifiers, safe to inline.
pub(crate) fn channel_list(channels: &[Channel]) -> String {
    channels
        .iter()
        .map(|channel| format!("'{}'", channel.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}
