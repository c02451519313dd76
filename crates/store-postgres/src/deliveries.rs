//! `DeliveryQueue`: deliveries claimed under a lease and finished by the lease holder.

use registration_core::stored::{
    CLAIM_COLUMNS, counter, instant_text, parse_claimed, parse_delivery_count,
};
use registration_core::{
    Channel, ClaimedDelivery, DeliveryOutcome, DeliveryQueue, DeliveryStatus, DeliveryTarget,
    Lease, NoticeKind, StoreError,
};
use time::OffsetDateTime;

use crate::connection::{PostgresStore, count, execute, map_error, query_all};

fn channel_names(channels: &[Channel]) -> Vec<&'static str> {
    channels.iter().map(|channel| channel.as_str()).collect()
}

fn attempts(value: u32) -> Result<i32, StoreError> {
    i32::try_from(value).map_err(|_| StoreError::Corrupt(format!("{value} attempts overflow")))
}

impl DeliveryQueue for PostgresStore {
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
        let channels = channel_names(channels);
        let limit = counter(limit as u64)?;
        self.write(|transaction| {
            // SKIP LOCKED: a delivery another node is claiming right now is left to it, and
            // one it leased and committed no longer matches (its lease runs).
            let claimed = query_all(
                transaction,
                &format!(
                    "SELECT {CLAIM_COLUMNS}, d.notice_id
                     FROM deliveries d JOIN notices n ON n.id = d.notice_id
                     LEFT JOIN webhooks w
                        ON d.channel = 'webhook' AND w.site = n.site AND w.url = d.recipient
                     WHERE d.status IN ('pending', 'retrying') AND d.channel = ANY($3)
                       AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= $1)
                       AND (d.lease_until IS NULL OR d.lease_until <= $1)
                       AND (d.channel <> 'webhook' OR w.secret IS NOT NULL)
                     ORDER BY d.notice_id, d.position
                     LIMIT $2
                     FOR UPDATE OF d SKIP LOCKED"
                ),
                &[&now, &limit, &channels],
                |row| Ok((row.integer(13)?, parse_claimed(row)?)),
            )?;
            let lease_one = transaction
                .prepare(
                    "UPDATE deliveries SET lease_id = $4, lease_until = $5
                     WHERE notice_id = $1 AND channel = $2 AND recipient = $3",
                )
                .map_err(|error| map_error(&error))?;
            let until = instant_text(lease.until);
            let mut leased = Vec::with_capacity(claimed.len());
            for (notice_id, claim) in claimed {
                let delivery = &claim.delivery;
                transaction
                    .execute(
                        &lease_one,
                        &[
                            &notice_id,
                            &delivery.channel.as_str(),
                            &delivery.recipient,
                            &lease.id,
                            &until,
                        ],
                    )
                    .map_err(|error| map_error(&error))?;
                leased.push(claim);
            }
            Ok(leased)
        })
    }

    fn finish_delivery(
        &self,
        target: &DeliveryTarget,
        lease_id: &str,
        outcome: &DeliveryOutcome,
    ) -> Result<bool, StoreError> {
        self.write(|transaction| {
            // The lease id fences: a worker whose lease ran out and was claimed again
            // changes nothing.
            let changed = execute(
                transaction,
                "UPDATE deliveries SET status = $1, attempts = $2, next_attempt_at = $3,
                    last_error = $4, lease_id = NULL, lease_until = NULL
                 WHERE notice_id = (SELECT id FROM notices
                        WHERE registration_id = $5 AND expiration_date = $6 AND kind = $7)
                   AND channel = $8 AND recipient = $9 AND lease_id = $10
                   AND status IN ('pending', 'retrying')",
                &[
                    &outcome.status.as_str(),
                    &attempts(outcome.attempts)?,
                    &outcome.next_attempt_at.map(instant_text),
                    &outcome.last_error,
                    &target.notice.registration_id.to_string(),
                    &target.notice.expiration_date.to_string(),
                    &target.notice.kind.as_str(),
                    &target.channel.as_str(),
                    &target.recipient,
                    &lease_id,
                ],
            )?;
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
        let channels = channel_names(channels);
        self.read(|transaction| {
            count(
                transaction,
                "SELECT COUNT(*) FROM deliveries
                 WHERE status IN ('pending', 'retrying') AND channel = ANY($2)
                   AND (next_attempt_at IS NULL OR next_attempt_at <= $1)",
                &[&instant_text(now), &channels],
            )
        })
    }

    fn delivery_counts(&self) -> Result<Vec<(NoticeKind, DeliveryStatus, u64)>, StoreError> {
        self.read(|transaction| {
            query_all(
                transaction,
                "SELECT n.kind, d.status, COUNT(*) FROM deliveries d
                 JOIN notices n ON n.id = d.notice_id
                 GROUP BY n.kind, d.status ORDER BY n.kind, d.status",
                &[],
                parse_delivery_count,
            )
        })
    }
}
