//! `SiteStore`, and the site lookups the other ports share.

use registration_core::{AuditEntry, Site, SiteSlug, SiteStore, StoreError};
use rusqlite::params;

use crate::connection::{SqliteStore, find_site, query_all, site_exists, write_audit};
use crate::convert::map_error;
use registration_core::stored::parse_site;

impl SiteStore for SqliteStore {
    fn add_site(&self, site: &Site, audit: &AuditEntry) -> Result<(), StoreError> {
        self.write_change(|transaction| {
            if site_exists(transaction, &site.slug)? {
                return Err(StoreError::DuplicateSite(site.slug.to_string()));
            }
            transaction
                .execute(
                    "INSERT INTO sites (slug, name, time_zone, max_years_ahead)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![
                        site.slug.as_str(),
                        site.name.as_str(),
                        site.zone.name(),
                        site.policy.max_years_ahead
                    ],
                )
                .map_err(map_error)?;
            write_audit(transaction, audit)
        })
    }

    fn update_site(&self, site: &Site, audit: &AuditEntry) -> Result<(), StoreError> {
        self.write_change(|transaction| {
            let changed = transaction
                .execute(
                    "UPDATE sites SET name = ?2, time_zone = ?3, max_years_ahead = ?4
                     WHERE slug = ?1",
                    params![
                        site.slug.as_str(),
                        site.name.as_str(),
                        site.zone.name(),
                        site.policy.max_years_ahead
                    ],
                )
                .map_err(map_error)?;
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
                [],
                parse_site,
            )
        })
    }
}
