//! `TemplateStore`: per-site notification templates.

use registration_core::{AuditEntry, NotificationTemplate, SiteSlug, StoreError, TemplateStore};
use rusqlite::params;

use crate::connection::{SqliteStore, query_all, require_site, write_audit};
use crate::convert::map_error;
use registration_core::stored::parse_template;

impl TemplateStore for SqliteStore {
    fn templates(&self, site: &SiteSlug) -> Result<Vec<NotificationTemplate>, StoreError> {
        self.read(|transaction| {
            require_site(transaction, site)?;
            query_all(
                transaction,
                "SELECT kind, subject, body, enabled, banner FROM notification_templates
                 WHERE site = ?1",
                [site.as_str()],
                parse_template,
            )
        })
    }

    fn save_template(
        &self,
        site: &SiteSlug,
        template: &NotificationTemplate,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        self.write(|transaction| {
            require_site(transaction, site)?;
            transaction
                .execute(
                    "INSERT INTO notification_templates (site, kind, subject, body, enabled, banner)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (site, kind) DO UPDATE SET subject = excluded.subject,
                        body = excluded.body, enabled = excluded.enabled, banner = excluded.banner",
                    params![
                        site.as_str(),
                        template.kind.as_str(),
                        template.subject,
                        template.body,
                        template.enabled,
                        template.banner.as_str()
                    ],
                )
                .map_err(map_error)?;
            write_audit(transaction, audit)
        })
    }
}
