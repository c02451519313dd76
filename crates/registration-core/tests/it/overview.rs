//! The expiry overview across sites (SPEC 13) through the service over a real SQLite store.

use std::sync::Arc;

use registration_core::testkit::{FakeClock, SeededRandom, VerbatimRenderer};
use registration_core::{
    Actor, Error, ExpiryWindow, NewRegistration, RegistrationName, RegistrationService,
    SecretHasher, SiteName, SiteSlug, SiteZone,
};
use store_sqlite::SqliteStore;

use crate::{expires, instant};

#[test]
fn windows_are_whole_days_from_zero_to_ten_years() {
    assert_eq!(ExpiryWindow::parse("30").unwrap(), ExpiryWindow::DEFAULT);
    assert_eq!(ExpiryWindow::parse(" 0 ").unwrap().as_days(), 0);
    assert_eq!(ExpiryWindow::parse("3660").unwrap().as_days(), 3660);
    for text in ["", "-1", "3661", "1.5", "30d", "99999999999999999999", "+3"] {
        assert_eq!(
            ExpiryWindow::parse(text),
            Err(Error::InvalidWindow { max_days: 3660 }),
            "{text:?}"
        );
    }
    assert_eq!(
        ExpiryWindow::days(-1).unwrap_err().to_string(),
        "the window is a whole number of days from 0 to 3660"
    );
}

#[test]
fn the_overview_lists_enabled_registrations_in_the_window_soonest_instant_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).unwrap());
    let clock = Arc::new(FakeClock::at(instant("2026-11-23T09:00:00Z")));
    let service = RegistrationService::new(
        store,
        clock.clone(),
        Arc::new(SeededRandom::new(5)),
        SecretHasher::recommended().unwrap(),
        Arc::new(VerbatimRenderer),
        "https://appreg.example.com",
    );
    let ops = Actor::Cli("ops".into());
    let site = |slug: &str, zone: &str| {
        service
            .add_site(
                SiteSlug::parse(slug).unwrap(),
                Some(SiteName::parse(slug).unwrap()),
                Some(SiteZone::parse(zone).unwrap()),
                &ops,
            )
            .unwrap()
            .slug
    };
    let (auckland, berlin) = (
        site("auckland", "Pacific/Auckland"),
        site("berlin", "Europe/Berlin"),
    );
    let create = |site: &SiteSlug, name: &str, date: &str, enabled: bool| {
        service
            .create(
                site,
                NewRegistration {
                    name: RegistrationName::parse(name).unwrap(),
                    expiration_date: expires(date),
                    enabled,
                },
                &ops,
            )
            .unwrap();
    };
    // The same last day ends 12 hours earlier in Auckland than in Berlin.
    create(&berlin, "Berlin 5 Dec", "2026-12-05", true);
    create(&auckland, "Auckland 5 Dec", "2026-12-05", true);
    create(&berlin, "Berlin today", "2026-11-23", true);
    create(&berlin, "Berlin next year", "2027-11-23", true);
    create(&berlin, "Berlin disabled", "2026-11-24", false);
    create(&auckland, "Auckland 23 Dec", "2026-12-23", true);
    clock.advance(time::Duration::days(2)); // "Berlin today" has expired now
    let names = |sites: &[SiteSlug], days: i64, offset: u64, limit: u32| {
        let (page, total) = service
            .expiring(sites, ExpiryWindow::days(days).unwrap(), offset, limit)
            .unwrap();
        let names: Vec<String> = page
            .iter()
            .map(|snapshot| snapshot.registration.name().to_string())
            .collect();
        (names, total)
    };
    let both = [berlin.clone(), auckland.clone()];
    assert_eq!(
        names(&both, 30, 0, 10),
        (
            vec![
                "Berlin today".to_owned(),
                "Auckland 5 Dec".to_owned(),
                "Berlin 5 Dec".to_owned(),
                "Auckland 23 Dec".to_owned(),
            ],
            4
        ),
        "expired first, then by the instant each stops; disabled and far ones left out"
    );
    assert_eq!(
        names(&both, 30, 1, 2),
        (
            vec!["Auckland 5 Dec".to_owned(), "Berlin 5 Dec".to_owned()],
            4
        ),
        "pages are cut after merging the sites"
    );
    assert_eq!(
        names(&both, 0, 0, 10).1,
        1,
        "0 days: expired and today only"
    );
    assert_eq!(names(std::slice::from_ref(&berlin), 3660, 0, 10).1, 3);
    assert_eq!(
        service
            .expiring(
                &[SiteSlug::parse("nowhere").unwrap()],
                ExpiryWindow::DEFAULT,
                0,
                10
            )
            .map(|_| ()),
        Err(Error::Store(registration_core::StoreError::UnknownSite(
            "nowhere".into()
        )))
    );
}
