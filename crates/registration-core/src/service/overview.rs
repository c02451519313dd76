//! The expiry overview across sites (SPEC 13).

use crate::console::{ListQuery, SortKey};
use crate::error::{Error, StoreError};
use crate::overview::ExpiryWindow;
use crate::site::SiteSlug;

use super::{RegistrationService, Snapshot};

impl RegistrationService {
    /// The registrations of `sites` that expire within `window` days (site time) or have
    /// expired, enabled ones only, soonest expiry instant first (then site, name, Client
    /// ID): `limit` of them after skipping `offset`, and how many there are in all. Each
    /// site's store reads only its matching registrations, at most `offset + limit`.
    pub fn expiring(
        &self,
        sites: &[SiteSlug],
        window: ExpiryWindow,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<Snapshot>, u64), Error> {
        let wanted = offset.saturating_add(u64::from(limit));
        // Every site in one read, rather than one read per site.
        let known = self.store.sites()?;
        let mut found = Vec::new();
        let mut total = 0;
        for slug in sites {
            let site = known
                .iter()
                .find(|site| &site.slug == slug)
                .cloned()
                .ok_or_else(|| StoreError::UnknownSite(slug.to_string()))?;
            let query = ListQuery {
                filter: window.facts(site.today(self.clock.now())),
                sort: SortKey::ExpirationDate,
                limit: u32::try_from(wanted).unwrap_or(u32::MAX),
                ..ListQuery::by_name(0)
            };
            let (registrations, count) = self.store.page(&site.slug, &query)?;
            total += count;
            found.extend(
                registrations
                    .into_iter()
                    .map(|registration| self.snapshot(registration, site.clone())),
            );
        }
        found.sort_by(|a, b| {
            (
                a.status.expires_at,
                &a.site.slug,
                a.registration.name().unique_key(),
            )
                .cmp(&(
                    b.status.expires_at,
                    &b.site.slug,
                    b.registration.name().unique_key(),
                ))
                .then_with(|| a.registration.client_id().cmp(b.registration.client_id()))
        });
        let page = found
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(limit as usize)
            .collect();
        Ok((page, total))
    }
}
