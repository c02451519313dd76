//! `AuditLog`: entries written in the changing transaction, read a page at a time.

use registration_core::{AuditEntry, AuditLog, AuditQuery, SiteSlug, StoreError};
use rusqlite::{Transaction, params};

use crate::connection::{SqliteStore, query_all};
use crate::convert::{counter, image_json, instant_text, map_error, parse_audit_entry};
use crate::sites::require_site;

/// Stores `entry` as given, in the caller's transaction.
pub(crate) fn write_audit(
    transaction: &Transaction<'_>,
    entry: &AuditEntry,
) -> Result<(), StoreError> {
    transaction
        .prepare_cached(
            "INSERT INTO audit_log (at, actor, site, action, subject, before, after)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(map_error)?
        .execute(params![
            instant_text(entry.at),
            entry.actor.label(),
            entry.site.as_str(),
            entry.action.as_str(),
            entry.subject,
            image_json(entry.before.as_ref()),
            image_json(entry.after.as_ref()),
        ])
        .map_err(map_error)?;
    Ok(())
}

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
