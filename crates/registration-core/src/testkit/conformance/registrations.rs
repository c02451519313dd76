//! `RegistrationStore`: round trips, duplicates, site isolation, revisions, the grid's
//! pages, banner candidates, traffic, and delete cancelling deliveries.

use time::{Duration, macros::datetime};

use crate::{
    Channel, DeliveryStatus, Disposition, ExpirationDate, FactFilter, ListQuery, NoticeKind,
    Registration, RegistrationName, Rejections, SortKey, Store, StoreError, UsageUpdate,
};

use super::{NOW, audit, notice, registration, site, slug, with};

/// RegistrationStore::insert and get: every stored fact reads back unchanged.
pub fn registrations_round_trip(store: &impl Store) {
    let original = registration("default", "Billing sync", 1);
    store.insert(&original, &audit()).unwrap();
    let read = store.get(&slug("default"), original.client_id()).unwrap();
    assert_eq!(read, original, "every field reads back as written");
    assert_eq!(read.revision(), 0);

    let used = with(&original, |r| {
        r.last_used = Some(datetime!(2026-11-24 10:00:00.5 UTC));
        r.rejections = Rejections {
            count: 412,
            last: Some(datetime!(2026-11-24 10:01 UTC)),
        };
        r.enabled = false;
    });
    let revision = store.update(&used, &audit()).unwrap();
    assert_eq!(revision, 1);
    let read = store.get(&slug("default"), original.client_id()).unwrap();
    assert_eq!(read, with(&used, |r| r.revision = 1));
}

/// insert: names are unique per site ignoring case; Client IDs are unique everywhere.
pub fn insert_refuses_duplicates(store: &impl Store) {
    store.add_site(&site("other", "UTC"), &audit()).unwrap();
    store
        .insert(&registration("default", "Billing Sync", 1), &audit())
        .unwrap();
    assert_eq!(
        store.insert(&registration("default", "billing SYNC", 2), &audit()),
        Err(StoreError::DuplicateName("billing SYNC".into()))
    );
    store
        .insert(&registration("other", "billing sync", 3), &audit())
        .expect("the same name in another site is fine");

    let taken = registration("default", "Another", 1);
    assert_eq!(
        store.insert(
            &with(&taken, |r| r.id = registration("x", "x", 99).id()),
            &audit()
        ),
        Err(StoreError::DuplicateClientId)
    );
    assert_eq!(
        store.insert(&registration("nowhere", "Lost", 4), &audit()),
        Err(StoreError::UnknownSite("nowhere".into()))
    );
    assert_eq!(
        store.list(&slug("default")).unwrap().len(),
        1,
        "refused inserts store nothing"
    );
}

/// get, update, delete: another site's registration is NotFound, never revealed.
pub fn sites_are_isolated(store: &impl Store) {
    store.add_site(&site("other", "UTC"), &audit()).unwrap();
    let theirs = registration("other", "Theirs", 1);
    store.insert(&theirs, &audit()).unwrap();
    let ours = slug("default");
    assert_eq!(
        store.get(&ours, theirs.client_id()),
        Err(StoreError::NotFound)
    );
    assert_eq!(
        store.delete(&ours, theirs.client_id(), 0, &audit()),
        Err(StoreError::NotFound)
    );
    let moved = with(&theirs, |r| r.site = ours.clone());
    assert_eq!(store.update(&moved, &audit()), Err(StoreError::NotFound));
    assert!(store.list(&ours).unwrap().is_empty());
    assert_eq!(
        store.get(&slug("other"), theirs.client_id()).unwrap(),
        theirs
    );
    // Client authentication's one read: the site, and only that site's registration.
    let (site, registration) = store
        .site_and_registration(&ours, Some(theirs.client_id()))
        .unwrap();
    assert_eq!((site.slug, registration), (ours.clone(), None));
    let (site, registration) = store
        .site_and_registration(&slug("other"), Some(theirs.client_id()))
        .unwrap();
    assert_eq!((site.slug, registration), (slug("other"), Some(theirs)));
    assert_eq!(
        store.site_and_registration(&ours, None).unwrap(),
        (store.site(&ours).unwrap(), None)
    );
    assert_eq!(
        store.site_and_registration(&slug("nowhere"), None),
        Err(StoreError::UnknownSite("nowhere".into()))
    );
}

/// update: optimistic concurrency and the name rule.
pub fn update_checks_revision_and_names(store: &impl Store) {
    let first = registration("default", "First", 1);
    let second = registration("default", "Second", 2);
    store.insert(&first, &audit()).unwrap();
    store.insert(&second, &audit()).unwrap();

    let renamed = with(&first, |r| {
        r.name = RegistrationName::parse("First, renamed").unwrap()
    });
    assert_eq!(store.update(&renamed, &audit()), Ok(1));
    let stale = with(&first, |r| r.enabled = false);
    assert_eq!(store.update(&stale, &audit()), Err(StoreError::Conflict));
    let read = store.get(&slug("default"), first.client_id()).unwrap();
    assert!(read.enabled(), "a conflicting update changes nothing");
    assert_eq!(read.name().as_str(), "First, renamed");

    let clash = with(&read, |r| {
        r.name = RegistrationName::parse("SECOND").unwrap()
    });
    assert_eq!(
        store.update(&clash, &audit()),
        Err(StoreError::DuplicateName("SECOND".into()))
    );
    store
        .delete(&slug("default"), second.client_id(), 0, &audit())
        .unwrap();
    assert_eq!(store.update(&second, &audit()), Err(StoreError::NotFound));
}

/// list: sorted by name key, then Client ID; unknown sites are an error.
pub fn list_is_sorted_by_name(store: &impl Store) {
    for (seed, name) in [(1, "charlie"), (2, "Alpha"), (3, "bravo")] {
        store
            .insert(&registration("default", name, seed), &audit())
            .unwrap();
    }
    let names: Vec<String> = store
        .list(&slug("default"))
        .unwrap()
        .iter()
        .map(|r| r.name().to_string())
        .collect();
    assert_eq!(names, ["Alpha", "bravo", "charlie"]);
    assert_eq!(
        store.list(&slug("nowhere")),
        Err(StoreError::UnknownSite("nowhere".into()))
    );
}

/// page: search, every sort key both ways, offset and limit, and the total.
pub fn pages_search_sort_and_count(store: &impl Store) {
    let rows = [
        (1, "charlie", "2027-03-01", true, Some(NOW)),
        (2, "Alpha", "2027-01-01", false, None),
        (
            3,
            "bravo",
            "2027-02-01",
            true,
            Some(NOW + Duration::hours(1)),
        ),
        (4, "Alphabet soup", "2027-02-01", true, None),
    ];
    let mut inserted = Vec::new();
    for (seed, name, expires, enabled, last_used) in rows {
        let r = with(&registration("default", name, seed), |record| {
            record.expiration_date = ExpirationDate::parse(expires).unwrap();
            record.enabled = enabled;
            record.last_used = last_used;
            record.registration_date = NOW - Duration::days(i64::try_from(seed).unwrap());
        });
        store.insert(&r, &audit()).unwrap();
        inserted.push(r);
    }
    store.add_site(&site("other", "UTC"), &audit()).unwrap();
    store
        .insert(&registration("other", "Alpha elsewhere", 9), &audit())
        .unwrap();
    let names = |query: ListQuery| -> (Vec<String>, u64) {
        let (page, total) = store.page(&slug("default"), &query).unwrap();
        (page.iter().map(|r| r.name().to_string()).collect(), total)
    };
    let query = |sort: SortKey, descending: bool| ListQuery {
        sort,
        descending,
        ..ListQuery::by_name(10)
    };
    assert_eq!(
        names(ListQuery::by_name(10)).0,
        ["Alpha", "Alphabet soup", "bravo", "charlie"]
    );
    assert_eq!(
        names(query(SortKey::Name, true)).0,
        ["charlie", "bravo", "Alphabet soup", "Alpha"]
    );
    let tie = |a: usize, b: usize| {
        // Equal keys are ordered by Client ID.
        if inserted[a].client_id().as_str() < inserted[b].client_id().as_str() {
            [
                inserted[a].name().to_string(),
                inserted[b].name().to_string(),
            ]
        } else {
            [
                inserted[b].name().to_string(),
                inserted[a].name().to_string(),
            ]
        }
    };
    let by_expiry = names(query(SortKey::ExpirationDate, false)).0;
    assert_eq!(by_expiry[0], "Alpha");
    assert_eq!(by_expiry[1..3], tie(2, 3));
    assert_eq!(by_expiry[3], "charlie");
    assert_eq!(
        names(query(SortKey::RegistrationDate, false)).0,
        ["Alphabet soup", "bravo", "Alpha", "charlie"],
        "oldest first"
    );
    let by_last_used = names(query(SortKey::LastUsed, false)).0;
    assert_eq!(by_last_used[..2], tie(1, 3), "never used sorts first");
    assert_eq!(by_last_used[2..], ["charlie", "bravo"]);
    assert_eq!(names(query(SortKey::Enabled, false)).0[0], "Alpha");
    let mut by_client_id: Vec<&Registration> = inserted.iter().collect();
    by_client_id.sort_by(|a, b| a.client_id().as_str().cmp(b.client_id().as_str()));
    assert_eq!(
        names(query(SortKey::ClientId, true)).0,
        by_client_id
            .iter()
            .rev()
            .map(|r| r.name().to_string())
            .collect::<Vec<_>>()
    );

    let search = |needle: &str| ListQuery {
        search: Some(needle.into()),
        ..ListQuery::by_name(10)
    };
    assert_eq!(
        names(search("ALPHA")),
        (vec!["Alpha".to_owned(), "Alphabet soup".to_owned()], 2),
        "case-insensitive, this site only"
    );
    let client_id = inserted[2].client_id().as_str()[3..9].to_owned();
    assert_eq!(names(search(&client_id)).0, ["bravo"], "by Client ID");
    assert_eq!(names(search("nothing like it")), (vec![], 0));
    assert_eq!(
        names(ListQuery {
            offset: 1,
            limit: 2,
            ..ListQuery::by_name(0)
        }),
        (vec!["Alphabet soup".to_owned(), "bravo".to_owned()], 4),
        "the total counts every match, not the page"
    );
    assert_eq!(
        store.page(&slug("nowhere"), &ListQuery::by_name(10)),
        Err(StoreError::UnknownSite("nowhere".into()))
    );

    // A search is a literal substring: SQL's wildcards in it match only themselves.
    let literal = registration("default", "Fifty% off_peak", 90);
    store.insert(&literal, &audit()).unwrap();
    for needle in ["%", "_", "y% o", "f_p"] {
        assert_eq!(
            names(search(needle)).0,
            ["Fifty% off_peak"],
            "{needle:?} is matched literally"
        );
    }
}

/// enabled_expiring_by: enabled, on or before the date, sorted by name.
pub fn banner_candidates_are_enabled_and_due_by_the_date(store: &impl Store) {
    for (seed, name, expires, enabled) in [
        (1, "late", "2027-03-01", true),
        (2, "Off", "2027-01-01", false),
        (3, "early", "2026-12-01", true),
        (4, "Edge", "2027-02-01", true),
    ] {
        let r = with(&registration("default", name, seed), |record| {
            record.expiration_date = ExpirationDate::parse(expires).unwrap();
            record.enabled = enabled;
        });
        store.insert(&r, &audit()).unwrap();
    }
    let names: Vec<String> = store
        .enabled_expiring_by(
            &slug("default"),
            ExpirationDate::parse("2027-02-01").unwrap(),
        )
        .unwrap()
        .iter()
        .map(|r| r.name().to_string())
        .collect();
    assert_eq!(names, ["early", "Edge"]);
}

/// record_usage: traffic moves Last used and the rejection count, never the revision.
pub fn usage_is_recorded_without_a_new_revision(store: &impl Store) {
    let busy = registration("default", "Busy", 1);
    store.insert(&busy, &audit()).unwrap();
    let usage = |last_used, rejections, last_rejected, expiration_date| UsageUpdate {
        registration: busy.id(),
        expiration_date,
        last_used,
        rejections,
        last_rejected,
        secrets: Vec::new(),
    };
    let current = busy.expiration_date();
    let earlier = ExpirationDate::parse("2026-12-31").unwrap();
    let later = NOW + Duration::hours(2);
    store
        .record_usage(&[
            usage(Some(later), 3, Some(later), current),
            usage(Some(NOW), 2, Some(NOW), current),
            usage(None, 5, Some(later + Duration::hours(1)), earlier),
        ])
        .unwrap();
    let read = store.get(&slug("default"), busy.client_id()).unwrap();
    assert_eq!(read.revision(), 0, "usage is not an administrative change");
    assert_eq!(
        read.record().last_used,
        Some(later),
        "Last used only moves forward"
    );
    assert_eq!(
        read.record().rejections,
        Rejections {
            count: 5,
            last: Some(later)
        },
        "rejections of another expiration date are ignored"
    );
    let gone = UsageUpdate {
        registration: registration("default", "Gone", 2).id(),
        ..usage(Some(later), 1, Some(later), current)
    };
    store
        .record_usage(&[gone])
        .expect("a vanished registration is skipped");
}

/// delete: open deliveries are cancelled, the notices stay in the log.
pub fn delete_cancels_open_deliveries(store: &impl Store) {
    let registration = registration("default", "Billing sync", 1);
    store.insert(&registration, &audit()).unwrap();
    let seven = notice(
        &registration,
        NoticeKind::ExpiresIn7Days,
        Disposition::Deliver,
    );
    store.record(&[seven], NOW).unwrap();
    store
        .delete(
            &slug("default"),
            registration.client_id(),
            registration.revision(),
            &audit(),
        )
        .unwrap();
    assert_eq!(
        store.get(&slug("default"), registration.client_id()),
        Err(StoreError::NotFound)
    );
    let log = store.log(&slug("default")).unwrap();
    assert_eq!(log.len(), 1, "the log outlives the registration");
    let statuses: Vec<(Channel, DeliveryStatus)> = log[0]
        .deliveries
        .iter()
        .map(|d| (d.channel, d.status))
        .collect();
    assert_eq!(
        statuses,
        [
            (Channel::InApp, DeliveryStatus::Sent),
            (Channel::Email, DeliveryStatus::Cancelled)
        ]
    );
    let mut counts = store.delivery_counts().unwrap();
    counts.sort_unstable();
    assert_eq!(
        counts,
        [
            (NoticeKind::ExpiresIn7Days, DeliveryStatus::Sent, 1),
            (NoticeKind::ExpiresIn7Days, DeliveryStatus::Cancelled, 1),
        ],
        "counts per kind and status, for metrics"
    );
}

/// RegistrationStore::page: the fact filter (Enabled, inclusive date bounds) narrows the page
/// and the count, alone and with a search.
pub fn pages_filter_on_stored_facts(store: &impl Store) {
    let facts = [
        ("Alpha", true, "2026-12-01"),
        ("Bravo", true, "2026-12-10"),
        ("Charlie", false, "2026-12-10"),
        ("Delta", true, "2026-12-31"),
        ("Echo", false, "2027-06-30"),
    ];
    for (seed, (name, enabled, date)) in (1..).zip(facts) {
        let registration = with(&registration("default", name, seed), |record| {
            record.enabled = enabled;
            record.expiration_date = ExpirationDate::parse(date).unwrap();
        });
        store.insert(&registration, &audit()).unwrap();
    }
    let date = |text| Some(ExpirationDate::parse(text).unwrap());
    let page = |filter: FactFilter, search: Option<&str>| {
        let query = ListQuery {
            filter,
            search: search.map(str::to_owned),
            ..ListQuery::by_name(2)
        };
        let (page, total) = store.page(&slug("default"), &query).unwrap();
        let names: Vec<String> = page.iter().map(|r| r.name().to_string()).collect();
        (names, total)
    };
    assert_eq!(
        page(FactFilter::default(), None),
        (vec!["Alpha".into(), "Bravo".into()], 5),
        "the default filter passes everything"
    );
    let enabled_between = FactFilter {
        enabled: Some(true),
        expires_on_or_after: date("2026-12-10"),
        expires_on_or_before: date("2026-12-31"),
    };
    assert_eq!(
        page(enabled_between, None),
        (vec!["Bravo".into(), "Delta".into()], 2),
        "both bounds are inclusive and Enabled is matched"
    );
    let disabled = FactFilter {
        enabled: Some(false),
        ..FactFilter::default()
    };
    assert_eq!(
        page(disabled, None),
        (vec!["Charlie".into(), "Echo".into()], 2)
    );
    let before = FactFilter {
        expires_on_or_before: date("2026-12-09"),
        ..FactFilter::default()
    };
    assert_eq!(page(before, None), (vec!["Alpha".into()], 1));
    assert_eq!(
        page(disabled, Some("ECH")),
        (vec!["Echo".into()], 1),
        "a filter and a search together"
    );
    assert_eq!(page(enabled_between, Some("charlie")), (vec![], 0));
}
