//! `TemplateStore`: per-site notification templates.

use registration_core::stored::parse_template;
use registration_core::{AuditEntry, NotificationTemplate, SiteSlug, StoreError, TemplateStore};

use crate::connection::{PostgresStore, execute, query_all, require_site, write_audit};

impl TemplateStore for PostgresStore {
    fn templates(&self, site: &SiteSlug) -> Result<Vec<NotificationTemplate>, StoreError> {
        self.read(|transaction| {
            require_site(transaction, site)?;
            query_all(
                transaction,
                "SELECT kind, subject, body, enabled, banner FROM notification_templates
                 WHERE site = $1",
                &[&site.as_str()],
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
            execute(
                transaction,
                "INSERT INTO notification_templates (site, kind, subject, body, enabled, banner)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (site, kind) DO UPDATE SET subject = excluded.subject,
                    body = excluded.body, enabled = excluded.enabled, banner = excluded.banner",
                &[
                    &site.as_str(),
                    &template.kind.as_str(),
                    &template.subject,
                    &template.body,
                    &template.enabled,
                    &template.banner.as_str(),
                ],
            )?;
            write_audit(transaction, audit)
        })
    }
}
