//! `Inbox`: each administrator's in-app deliveries, read or unread.

use registration_core::stored::{counter, instant_text, parse_inbox_item};
use registration_core::{AdminName, Inbox, InboxPage, InboxQuery, NoticeKey, SiteSlug, StoreError};
use time::OffsetDateTime;

use crate::connection::{PostgresStore, count, execute, query_all};

/// The in-app deliveries to `$1` (sent: in the inbox) in the sites `$2`.
const INBOX_ROWS: &str = "FROM deliveries d JOIN notices n ON n.id = d.notice_id
    WHERE d.recipient = $1 AND d.channel = 'in_app' AND d.status = 'sent'
      AND n.site = ANY($2)";

fn site_names(sites: &[SiteSlug]) -> Vec<&str> {
    sites.iter().map(SiteSlug::as_str).collect()
}

impl Inbox for PostgresStore {
    fn inbox_page(
        &self,
        username: &AdminName,
        sites: &[SiteSlug],
        query: &InboxQuery,
    ) -> Result<InboxPage, StoreError> {
        if sites.is_empty() {
            return Ok(InboxPage::new(Vec::new(), 0, 0));
        }
        let sites = site_names(sites);
        let unread_only = if query.unread_only {
            " AND d.read_at IS NULL"
        } else {
            ""
        };
        let limit = i64::from(query.limit);
        let offset = counter(query.offset)?;
        self.read(|transaction| {
            let recipient = username.as_str();
            let total = count(
                transaction,
                &format!("SELECT COUNT(*) {INBOX_ROWS}{unread_only}"),
                &[&recipient, &sites],
            )?;
            // Counting only unread notices already counted the unread ones (the console's
            // header badge asks exactly that on every page).
            let unread = if query.unread_only {
                total
            } else {
                count(
                    transaction,
                    &format!("SELECT COUNT(*) {INBOX_ROWS} AND d.read_at IS NULL"),
                    &[&recipient, &sites],
                )?
            };
            let items = query_all(
                transaction,
                &format!(
                    "SELECT n.registration_id, n.expiration_date, n.kind, n.site,
                            n.registration_name, n.client_id, n.subject, n.body, n.due_at,
                            n.recorded_at, d.read_at
                     {INBOX_ROWS}{unread_only}
                     ORDER BY n.recorded_at DESC, n.due_at DESC, n.kind DESC
                     LIMIT $3 OFFSET $4"
                ),
                &[&recipient, &sites, &limit, &offset],
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
        let sites = site_names(sites);
        self.write(|transaction| {
            let changed = execute(
                transaction,
                "UPDATE deliveries SET read_at = COALESCE(read_at, $3)
                 WHERE recipient = $1 AND channel = 'in_app' AND status = 'sent'
                   AND notice_id IN (
                       SELECT id FROM notices
                       WHERE site = ANY($2) AND registration_id = $4 AND expiration_date = $5
                         AND kind = $6)",
                &[
                    &username.as_str(),
                    &sites,
                    &instant_text(at),
                    &notice.registration_id.to_string(),
                    &notice.expiration_date.to_string(),
                    &notice.kind.as_str(),
                ],
            )?;
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
        let sites = site_names(sites);
        self.write(|transaction| {
            execute(
                transaction,
                "UPDATE deliveries SET read_at = $3
                 WHERE recipient = $1 AND channel = 'in_app' AND status = 'sent'
                   AND read_at IS NULL
                   AND notice_id IN (SELECT id FROM notices WHERE site = ANY($2))",
                &[&username.as_str(), &sites, &instant_text(at)],
            )
        })
    }
}
