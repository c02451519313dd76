//! `AuditLog`: entries written in the changing transaction, read a page at a time.

use registration_core::stored::{counter, parse_audit_entry};
use registration_core::{AuditEntry, AuditLog, AuditQuery, SiteSlug, StoreError};

use crate::connection::{PostgresStore, count, query_all, require_site};

impl AuditLog for PostgresStore {
    fn audit_page(
        &self,
        site: &SiteSlug,
        query: &AuditQuery,
    ) -> Result<(Vec<AuditEntry>, u64), StoreError> {
        self.read(|transaction| {
            require_site(transaction, site)?;
            // audit_log_by_site (site, id) serves both the count and the page.
            let total = count(
                transaction,
                "SELECT COUNT(*) FROM audit_log WHERE site = $1",
                &[&site.as_str()],
            )?;
            let entries = query_all(
                transaction,
                "SELECT at, actor, site, action, subject, before, after FROM audit_log
                 WHERE site = $1 ORDER BY id DESC LIMIT $2 OFFSET $3",
                &[
                    &site.as_str(),
                    &i64::from(query.limit),
                    &counter(query.offset)?,
                ],
                parse_audit_entry,
            )?;
            Ok((entries, total))
        })
    }
}
