//! `SiteStore`: the default site, adding sites, duplicates.

use crate::{SiteSlug, SiteZone, Store, StoreError};

use super::{audit, site, slug};

/// SiteStore::sites: a fresh store has exactly the site `default`, in UTC.
pub fn fresh_store_has_the_default_site(store: &impl Store) {
    let sites = store.sites().unwrap();
    assert_eq!(
        sites.len(),
        1,
        "a fresh store has exactly one site: {sites:?}"
    );
    assert_eq!(sites[0].slug, SiteSlug::default_site());
    assert_eq!(sites[0].zone, SiteZone::utc());
    assert_eq!(store.site(&SiteSlug::default_site()).unwrap(), sites[0]);
}

/// SiteStore: add, read back, duplicates and unknown sites.
pub fn sites_round_trip_and_refuse_duplicates(store: &impl Store) {
    let eu = site("acme-eu", "Europe/Berlin");
    store.add_site(&eu, &audit()).unwrap();
    assert_eq!(
        store.site(&eu.slug).unwrap(),
        eu,
        "a site reads back as written"
    );
    assert_eq!(
        store.add_site(&site("acme-eu", "UTC"), &audit()),
        Err(StoreError::DuplicateSite("acme-eu".into()))
    );
    assert_eq!(
        store.site(&eu.slug).unwrap(),
        eu,
        "a refused add changes nothing"
    );
    assert_eq!(
        store.site(&slug("nowhere")),
        Err(StoreError::UnknownSite("nowhere".into()))
    );
    store
        .add_site(&site("acme-asia", "Asia/Tokyo"), &audit())
        .unwrap();
    let slugs: Vec<String> = store
        .sites()
        .unwrap()
        .iter()
        .map(|s| s.slug.to_string())
        .collect();
    assert_eq!(
        slugs,
        ["acme-asia", "acme-eu", "default"],
        "sites are sorted by slug"
    );
}

/// SiteStore::update_site: name, zone and policy replaced whole; unknown sites refused.
pub fn sites_are_updated_whole(store: &impl Store) {
    let eu = site("acme-eu", "Europe/Berlin");
    store.add_site(&eu, &audit()).unwrap();
    let mut moved = site("acme-eu", "Pacific/Kiritimati");
    moved.name = crate::SiteName::parse("Acme Pacific").unwrap();
    moved.policy.max_years_ahead = 3;
    store.update_site(&moved, &audit()).unwrap();
    assert_eq!(
        store.site(&eu.slug).unwrap(),
        moved,
        "an update reads back whole"
    );
    assert_eq!(
        store.update_site(&site("nowhere", "UTC"), &audit()),
        Err(StoreError::UnknownSite("nowhere".into()))
    );
    assert_eq!(
        store.site(&slug("nowhere")),
        Err(StoreError::UnknownSite("nowhere".into())),
        "a refused update creates nothing"
    );
}
