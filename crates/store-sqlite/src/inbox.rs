//! `Inbox`: each administrator's in-app deliveries, read or unread.

use registration_core::{AdminName, Inbox, InboxPage, InboxQuery, NoticeKey, SiteSlug, StoreError};
use rusqlite::params_from_iter;
use rusqlite::types::Value;
use time::OffsetDateTime;

use crate::connection::{SqliteStore, query_all};
use crate::convert::map_error;
use registration_core::stored::{counter, instant_text, parse_inbox_item};

/// `?first, ?first+1, …` for `count` values: the sites of an `IN (…)`.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("?{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The recipient, then the sites: the leading parameters of every inbox statement.
fn recipient_and_sites(username: &AdminName, sites: &[SiteSlug]) -> Vec<Value> {
    std::iter::once(Value::Text(username.as_str().to_owned()))
        .chain(
            sites
                .iter()
                .map(|site| Value::Text(site.as_str().to_owned())),
        )
        .collect()
}

/// The in-app deliveries to `?1` (sent: in the inbox) in the sites that follow it.
fn inbox_rows(sites: usize) -> String {
    format!(
        "FROM deliveries d JOIN notices n ON n.id = d.notice_id
         WHERE d.recipient = ?1 AND d.channel = 'in_app' AND d.status = 'sent'
           AND n.site IN ({})",
        placeholders(2, sites)
    )
}

impl Inbox for SqliteStore {
    fn inbox_page(
        &self,
        username: &AdminName,
        sites: &[SiteSlug],
        query: &InboxQuery,
    ) -> Result<InboxPage, StoreError> {
        if sites.is_empty() {
            return Ok(InboxPage::new(Vec::new(), 0, 0));
        }
        let rows = inbox_rows(sites.len());
        let values = recipient_and_sites(username, sites);
        let unread_only = if query.unread_only {
            " AND d.read_at IS NULL"
        } else {
            ""
        };
        self.read(|transaction| {
            let count = |filter: &str| -> Result<u64, StoreError> {
                transaction
                    .prepare_cached(&format!("SELECT COUNT(*) {rows}{filter}"))
                    .map_err(map_error)?
                    .query_row(params_from_iter(&values), |row| row.get::<_, i64>(0))
                    .map(i64::unsigned_abs)
                    .map_err(map_error)
            };
            let total = count(unread_only)?;
            // Counting only unread notices already counted the unread ones (the console's
            // header badge asks exactly that on every page).
            let unread = if query.unread_only {
                total
            } else {
                count(" AND d.read_at IS NULL")?
            };
            let paging = [
                Value::Integer(i64::from(query.limit)),
                Value::Integer(counter(query.offset)?),
            ];
            let items = query_all(
                transaction,
                &format!(
                    "SELECT n.registration_id, n.expiration_date, n.kind, n.site,
                            n.registration_name, n.client_id, n.subject, n.body, n.due_at,
                            n.recorded_at, d.read_at
                     {rows}{unread_only}
                     ORDER BY n.recorded_at DESC, n.due_at DESC, n.kind DESC
                     LIMIT ?{} OFFSET ?{}",
                    values.len() + 1,
                    values.len() + 2
                ),
                params_from_iter(values.iter().chain(&paging)),
                parse_inbox_item,
            )?;
            Ok(InboxPage::new(items, total, unread))
        })
    }

    fn mark_read(
        &self,
        username: &AdminName,
        sites: &[SiteSlug],
        notice: &NoticeKey,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        if sites.is_empty() {
            return Ok(false);
        }
        let mut values = recipient_and_sites(username, sites);
        let key_at = values.len() + 1;
        values.extend([
            Value::Text(instant_text(at)),
            Value::Text(notice.registration_id.to_string()),
            Value::Text(notice.expiration_date.to_string()),
            Value::Text(notice.kind.as_str().to_owned()),
        ]);
        let sql = format!(
            "UPDATE deliveries SET read_at = COALESCE(read_at, ?{key_at})
             WHERE recipient = ?1 AND channel = 'in_app' AND status = 'sent'
               AND notice_id IN (
                   SELECT id FROM notices
                   WHERE site IN ({}) AND registration_id = ?{} AND expiration_date = ?{}
                     AND kind = ?{})",
            placeholders(2, sites.len()),
            key_at + 1,
            key_at + 2,
            key_at + 3
        );
        self.write(|transaction| {
            let changed = transaction
                .execute(&sql, params_from_iter(&values))
                .map_err(map_error)?;
            Ok(changed > 0)
        })
    }

    fn mark_all_read(
        &self,
        username: &AdminName,
        sites: &[SiteSlug],
        at: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        if sites.is_empty() {
            return Ok(0);
        }
        let mut values = recipient_and_sites(username, sites);
        values.push(Value::Text(instant_text(at)));
        let sql = format!(
            "UPDATE deliveries SET read_at = ?{}
             WHERE recipient = ?1 AND channel = 'in_app' AND status = 'sent'
               AND read_at IS NULL
               AND notice_id IN (SELECT id FROM notices WHERE site IN ({}))",
            values.len(),
            placeholders(2, sites.len())
        );
        self.write(|transaction| {
            let changed = transaction
                .execute(&sql, params_from_iter(&values))
                .map_err(map_error)?;
            Ok(changed as u64)
        })
    }
}
