//! `WebhookStore`: each site's webhook endpoints.

use registration_core::stored::{instant_text, parse_webhook};
use registration_core::{
    AuditEntry, SiteSlug, StoreError, WebhookEndpoint, WebhookStore, WebhookUrl,
};

use crate::connection::{PostgresStore, execute, query_all, require_site, write_audit};

impl WebhookStore for PostgresStore {
    fn add_webhook(
        &self,
        site: &SiteSlug,
        endpoint: &WebhookEndpoint,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        self.write(|transaction| {
            require_site(transaction, site)?;
            let inserted = execute(
                transaction,
                "INSERT INTO webhooks (site, url, secret, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (site, url) DO NOTHING",
                &[
                    &site.as_str(),
                    &endpoint.url.as_str(),
                    &endpoint.secret.expose(),
                    &instant_text(endpoint.created_at),
                ],
            )?;
            if inserted == 0 {
                return Err(StoreError::DuplicateWebhook {
                    site: site.to_string(),
                    url: endpoint.url.to_string(),
                });
            }
            write_audit(transaction, audit)
        })
    }

    fn webhooks(&self, site: &SiteSlug) -> Result<Vec<WebhookEndpoint>, StoreError> {
        self.read(|transaction| {
            require_site(transaction, site)?;
            query_all(
                transaction,
                "SELECT url, secret, created_at FROM webhooks WHERE site = $1 ORDER BY url",
                &[&site.as_str()],
                parse_webhook,
            )
        })
    }

    fn remove_webhook(
        &self,
        site: &SiteSlug,
        url: &WebhookUrl,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        self.write(|transaction| {
            let removed = execute(
                transaction,
                "DELETE FROM webhooks WHERE site = $1 AND url = $2",
                &[&site.as_str(), &url.as_str()],
            )?;
            if removed == 0 {
                return Err(StoreError::UnknownWebhook {
                    site: site.to_string(),
                    url: url.to_string(),
                });
            }
            execute(
                transaction,
                "UPDATE deliveries SET status = 'cancelled', lease_id = NULL, lease_until = NULL
                 WHERE status IN ('pending', 'retrying') AND channel = 'webhook'
                   AND recipient = $2
                   AND notice_id IN (SELECT id FROM notices WHERE site = $1)",
                &[&site.as_str(), &url.as_str()],
            )?;
            write_audit(transaction, audit)
        })
    }
}
