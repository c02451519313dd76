//! `SiteStore`.

use registration_core::stored::parse_site;
use registration_core::{AuditEntry, Site, SiteSlug, SiteStore, StoreError};

use crate::connection::{PostgresStore, execute, find_site, query_all, write_audit};

impl SiteStore for PostgresStore {
    fn add_site(&self, site: &Site, audit: &AuditEntry) -> Result<(), StoreError> {
        self.write_change(|transaction| {
            let added = execute(
                transaction,
                "INSERT INTO sites (slug, name, time_zone, max_years_ahead)
                 VALUES ($1, $2, $3, $4) ON CONFLICT (slug) DO NOTHING",
                &[
                    &site.slug.as_str(),
                    &site.name.as_str(),
                    &site.zone.name(),
                    &i16::from(site.policy.max_years_ahead),
                ],
            )?;
            if added == 0 {
                return Err(StoreError::DuplicateSite(site.slug.to_string()));
            }
            write_audit(transaction, audit)
        })
    }

    fn update_site(&self, site: &Site, audit: &AuditEntry) -> Result<(), StoreError> {
        self.write_change(|transaction| {
            let changed = execute(
                transaction,
                "UPDATE sites SET name = $2, time_zone = $3, max_years_ahead = $4
                 WHERE slug = $1",
                &[
                    &site.slug.as_str(),
                    &site.name.as_str(),
                    &site.zone.name(),
                    &i16::from(site.policy.max_years_ahead),
                ],
            )?;
            if changed == 0 {
                return Err(StoreError::UnknownSite(site.slug.to_string()));
            }
            write_audit(transaction, audit)
        })
    }

    fn site(&self, slug: &SiteSlug) -> Result<Site, StoreError> {
        self.read(|transaction| find_site(transaction, slug))
    }

    fn sites(&self) -> Result<Vec<Site>, StoreError> {
        self.read(|transaction| {
            query_all(
                transaction,
                "SELECT slug, name, time_zone, max_years_ahead FROM sites ORDER BY slug",
                &[],
                parse_site,
            )
        })
    }
}
