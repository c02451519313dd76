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
