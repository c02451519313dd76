//! The expiry overview across sites (SPEC 13).

use crate::error::{Error, StoreError};
use crate::overview::ExpiryWindow;
use crate::site::SiteSlug;
use crate::values::ExpirationDate;

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
        let wanted = u32::try_from(offset.saturating_add(u64::from(limit))).unwrap_or(u32::MAX);
        // Every site in one read, rather than one read per site.
        let known = self.store.sites()?;
        let now = self.clock.now();
        let mut chosen = Vec::with_capacity(sites.len());
        for slug in sites {
            let site = known
                .iter()
                .find(|site| &site.slug == slug)
                .ok_or_else(|| StoreError::UnknownSite(slug.to_string()))?;
            chosen.push((site.clone(), window.last_day(site.today(now))));
        }
        let windows: Vec<(SiteSlug, ExpirationDate)> = chosen
            .iter()
            .map(|(site, until)| (site.slug.clone(), *until))
            .collect();
        let (registrations, total) = self.store.expiring_in(&windows, wanted)?;
        let mut found: Vec<Snapshot> = registrations
            .into_iter()
            .filter_map(|registration| {
                let site = chosen
                    .iter()
                    .find(|(site, _)| &site.slug == registration.site())?
                    .0
                    .clone();
                Some(self.snapshot(registration, site))
            })
            .collect();
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
