//! The expiry overview across sites (SPEC 13).

use crate::error::{Error, StoreError};
use crate::overview::ExpiryWindow;
use crate::site::SiteSlug;

use super::{RegistrationService, Snapshot};

impl RegistrationService {
    /// The registrations of `sites` that expire within `window` days (site time) or have
    /// expired, enabled ones only, soonest expiry instant first (then site, name, Client
    /// ID): `limit` of them after skipping `offset`, and how many there are in all. One store
    /// read answers every site's first `offset + limit`; they are merged here by instant.
    pub fn expiring(
        &self,
        sites: &[SiteSlug],
        window: ExpiryWindow,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<Snapshot>, u64), Error> {
        let wanted = u32::try_from(offset.saturating_add(u64::from(limit))).unwrap_or(u32::MAX);
        let known = self.store.sites()?;
        let now = self.clock.now();
        let mut chosen = Vec::with_capacity(sites.len());
        let mut windows = Vec::with_capacity(sites.len());
        for slug in sites {
            let site = known
                .iter()
                .find(|site| &site.slug == slug)
                .ok_or_else(|| StoreError::UnknownSite(slug.to_string()))?;
            windows.push((site.slug.clone(), window.last_day(site.today(now))));
            chosen.push(site);
        }
        let (registrations, total) = self.store.expiring_in(&windows, wanted)?;
        let mut found: Vec<Snapshot> = registrations
            .into_iter()
            .filter_map(|registration| {
                let site = chosen
                    .iter()
                    .find(|site| &site.slug == registration.site())?;
                Some(self.snapshot(registration, (*site).clone()))
            })
            .collect();
        // Keys computed once per registration, not once per comparison.
        found.sort_by_cached_key(|snapshot| {
            (
                snapshot.status.expires_at,
                snapshot.site.slug.clone(),
                snapshot.registration.name().unique_key(),
                snapshot.registration.client_id().clone(),
            )
        });
        let page = found
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(limit as usize)
            .collect();
        Ok((page, total))
    }
}
