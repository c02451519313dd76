//! `RegistrationStore::expiry_entries`: a calendar feed's rows.

use crate::{ExpirationDate, ExpiryEntry, FactFilter, Store, StoreError};

use super::{audit, registration, site, slug, with};

/// expiry_entries: the registrations that pass the filter (bounds inclusive), soonest
/// expiration date first, ties by Client ID, with their name and date; unknown site refused.
pub fn expiry_entries_are_the_filtered_dates_soonest_first(store: &impl Store) {
    store.add_site(&site("other", "UTC"), &audit()).unwrap();
    let date = |text: &str| ExpirationDate::parse(text).unwrap();
    let rows = [
        ("default", "Late", 1, "2027-03-01", true),
        ("default", "Early", 2, "2026-12-01", true),
        ("default", "Tie one", 3, "2027-01-15", true),
        ("default", "Tie two", 4, "2027-01-15", true),
        ("default", "Paused", 5, "2027-01-10", false),
        ("default", "Before", 6, "2026-11-30", true),
        ("default", "After", 7, "2027-03-02", true),
        ("other", "Theirs", 8, "2027-01-01", true),
    ];
    let mut stored = Vec::new();
    for (site, name, seed, expires, enabled) in rows {
        let registration = with(&registration(site, name, seed), |record| {
            record.expiration_date = date(expires);
            record.enabled = enabled;
        });
        store.insert(&registration, &audit()).unwrap();
        stored.push(registration);
    }
    let filter = FactFilter {
        enabled: Some(true),
        expires_on_or_after: Some(date("2026-12-01")),
        expires_on_or_before: Some(date("2027-03-01")),
    };
    let entry = |index: usize| ExpiryEntry {
        client_id: stored[index].client_id().clone(),
        name: stored[index].name().clone(),
        expiration_date: stored[index].expiration_date(),
    };
    let mut ties = [entry(2), entry(3)];
    ties.sort_by(|a, b| a.client_id.cmp(&b.client_id));
    let expected = [vec![entry(1)], ties.to_vec(), vec![entry(0)]].concat();
    assert_eq!(
        store.expiry_entries(&slug("default"), &filter),
        Ok(expected),
        "enabled, within both bounds, soonest first, ties by Client ID"
    );
    assert_eq!(
        store
            .expiry_entries(&slug("default"), &FactFilter::default())
            .unwrap()
            .len(),
        7,
        "no filter: every registration of the site"
    );
    assert_eq!(
        store.expiry_entries(&slug("nowhere"), &filter),
        Err(StoreError::UnknownSite("nowhere".into()))
    );
}

/// expiring_in: each site's enabled registrations up to its date, soonest first, at most
/// `limit` per site, all sites' together, with the count of all; unknown site refused.
pub fn expiring_in_takes_each_sites_first_registrations(store: &impl Store) {
    store.add_site(&site("other", "UTC"), &audit()).unwrap();
    let date = |text: &str| ExpirationDate::parse(text).unwrap();
    let mut stored = Vec::new();
    for (site, name, seed, expires, enabled) in [
        ("default", "D3", 1, "2027-01-03", true),
        ("default", "D1", 2, "2027-01-01", true),
        ("default", "D2", 3, "2027-01-02", true),
        ("default", "Off", 4, "2026-12-01", false),
        ("default", "Beyond", 5, "2027-02-01", true),
        ("other", "O1", 6, "2026-12-15", true),
        ("other", "Beyond too", 7, "2027-01-20", true),
    ] {
        let registration = with(&registration(site, name, seed), |record| {
            record.expiration_date = date(expires);
            record.enabled = enabled;
        });
        store.insert(&registration, &audit()).unwrap();
        stored.push(registration);
    }
    let windows = [
        (slug("default"), date("2027-01-31")),
        (slug("other"), date("2027-01-10")),
    ];
    let (found, total) = store.expiring_in(&windows, 2).unwrap();
    let mut names: Vec<String> = found.iter().map(|r| r.name().to_string()).collect();
    names.sort();
    assert_eq!(
        names,
        ["D1", "D2", "O1"],
        "each site's first two by date, enabled, within its own date"
    );
    assert_eq!(total, 4, "all that match are counted, read or not");
    assert_eq!(
        found.iter().find(|r| r.name().as_str() == "D1"),
        Some(&stored[1]),
        "whole registrations"
    );
    assert_eq!(
        store
            .expiring_in(&[(slug("nowhere"), date("2027-01-31"))], 10)
            .map(|_| ()),
        Err(StoreError::UnknownSite("nowhere".into()))
    );
    assert_eq!(store.expiring_in(&[], 10), Ok((Vec::new(), 0)));
}
