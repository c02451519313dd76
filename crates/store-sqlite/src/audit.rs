//! `AuditLog`: entries written in the changing transaction, read a page at a time.

use registration_core::{AuditEntry, AuditLog, AuditQuery, SiteSlug, StoreError};
use rusqlite::params;

use crate::connection::{SqliteStore, query_all, require_site};
use crate::convert::map_error;
use registration_core::stored::{counter, parse_audit_entry};

impl AuditLog for SqliteStore {
    fn audit_page(
        &self,
        site: &SiteSlug,
        query: &AuditQuery,
    ) -> Result<(Vec<AuditEntry>, u64), StoreError> {
        self.read(|transaction| {
            require_site(transaction, site)?;
            // audit_log_by_site (site, id) serves both the count and the page.
            let total: i64 = transaction
                .prepare_cached("SELECT COUNT(*) FROM audit_log WHERE site = ?1")
                .map_err(map_error)?
                .query_row([site.as_str()], |row| row.get(0))
                .map_err(map_error)?;
            let entries = query_all(
                transaction,
                "SELECT at, actor, site, action, subject, before, after FROM audit_log
                 WHERE site = ?1 ORDER BY id DESC LIMIT ?2 OFFSET ?3",
                params![site.as_str(), query.limit, counter(query.offset)?],
                parse_audit_entry,
            )?;
            Ok((entries, total.unsigned_abs()))
        })
    }
}
