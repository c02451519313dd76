//! The "MUST NOT read" sentences: a page, the banner candidates and the sweep candidates are
//! served without reading the rows they do not return (sites have 100,000 registrations,
//! sweeps a million). A store cannot be watched reading, so the checks damage the rows a
//! query must not need, behind the store's back ([`Damage`]): a store that reads them
//! anyway fails with [`StoreError::Corrupt`].

use time::Duration;

use crate::{
    AuditEntry, AuditQuery, Disposition, ExpirationDate, FactFilter, ListQuery, LogQuery,
    NoticeKind, Registration, Store, StoreError,
};

use super::{NOW, audit, notice, registration, site, slug, with};

/// A row a check damages behind the store's back so that reading it fails with
/// [`StoreError::Corrupt`]. A store's test suite implements it on its own storage (for
/// SQLite, one `UPDATE` on a second connection) and passes it to
/// [`store_conformance_tests!`](crate::store_conformance_tests).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Damage<'a> {
    /// The registration with this Client ID: every method that reads it (get, list, page,
    /// banner or sweep candidates) fails.
    Registration(&'a crate::ClientId),
    /// Every notice recorded for the registration with this ID: a log page holding one fails.
    NoticesOf(crate::RegistrationId),
    /// Every audit entry with this subject: an audit page holding one fails.
    AuditEntriesAbout(&'a str),
}

fn corrupt<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Corrupt(_)))
}

fn expiring(site: &str, name: &str, seed: u64, date: &str) -> Registration {
    with(&registration(site, name, seed), |record| {
        record.expiration_date = ExpirationDate::parse(date).unwrap();
    })
}

/// RegistrationStore::page, enabled_expiring_by and NoticeOutbox::notice_candidates read
/// only the registrations they return (and count the rest without reading them).
pub fn queries_read_only_the_registrations_they_need(
    store: &impl Store,
    damage: &dyn Fn(Damage<'_>),
) {
    store.add_site(&site("other", "UTC"), &audit()).unwrap();
    let alpha = expiring("default", "Alpha", 1, "2026-12-10");
    let beta = expiring("default", "Beta", 2, "2026-12-20");
    // Damaged: last by name, past every horizon below; disabled; in another site.
    let zulu = expiring("default", "Zulu", 3, "2028-01-01");
    let paused = with(&expiring("default", "Paused", 4, "2026-12-01"), |record| {
        record.enabled = false;
    });
    let theirs = expiring("other", "Theirs", 5, "2026-12-01");
    for registration in [&alpha, &beta, &zulu, &paused, &theirs] {
        store.insert(registration, &audit()).unwrap();
    }
    for damaged in [&zulu, &paused, &theirs] {
        damage(Damage::Registration(damaged.client_id()));
    }
    assert!(
        corrupt(store.get(&slug("default"), zulu.client_id())),
        "the damaged row cannot be read (else this check proves nothing)"
    );
    assert!(corrupt(store.list(&slug("default"))));

    let feed = FactFilter {
        enabled: Some(true),
        expires_on_or_after: None,
        expires_on_or_before: Some(ExpirationDate::parse("2027-01-01").unwrap()),
    };
    assert_eq!(
        store
            .expiry_entries(&slug("default"), &feed)
            .unwrap()
            .into_iter()
            .map(|entry| entry.client_id)
            .collect::<Vec<_>>(),
        [alpha.client_id().clone(), beta.client_id().clone()],
        "expiry_entries MUST NOT read the registrations outside its filter"
    );
    let (soonest, matching) = store
        .expiring_in(
            &[(
                slug("default"),
                ExpirationDate::parse("2028-12-31").unwrap(),
            )],
            2,
        )
        .unwrap();
    assert_eq!(
        (soonest, matching),
        (vec![alpha.clone(), beta.clone()], 3),
        "expiring_in MUST NOT read the registrations after a site's first `limit`"
    );
    let (first_page, total) = store
        .page(&slug("default"), &ListQuery::by_name(2))
        .unwrap();
    assert_eq!(
        (first_page, total),
        (vec![alpha.clone(), beta.clone()], 4),
        "a page MUST NOT read the registrations after it (they are counted, not read)"
    );
    let search = ListQuery {
        search: Some("ALP".into()),
        ..ListQuery::by_name(10)
    };
    assert_eq!(
        store.page(&slug("default"), &search).unwrap(),
        (vec![alpha.clone()], 1),
        "a search MUST NOT read the registrations it does not match"
    );
    let expiring_soon = ListQuery {
        filter: FactFilter {
            enabled: Some(true),
            expires_on_or_after: None,
            expires_on_or_before: Some(ExpirationDate::parse("2027-12-31").unwrap()),
        },
        ..ListQuery::by_name(10)
    };
    assert_eq!(
        store.page(&slug("default"), &expiring_soon).unwrap(),
        (vec![alpha.clone(), beta.clone()], 2),
        "a filtered page MUST NOT read the registrations the filter leaves out"
    );
    assert_eq!(
        store
            .enabled_expiring_by(
                &slug("default"),
                ExpirationDate::parse("2026-12-31").unwrap()
            )
            .unwrap(),
        vec![alpha.clone(), beta.clone()],
        "banner candidates MUST NOT read disabled, later or other sites' registrations"
    );
    let candidates = store
        .notice_candidates(
            &slug("default"),
            ExpirationDate::parse("2026-12-24").unwrap(),
        )
        .unwrap();
    assert_eq!(
        candidates
            .iter()
            .map(|candidate| &candidate.client_id)
            .collect::<Vec<_>>(),
        vec![alpha.client_id(), beta.client_id()],
        "sweep candidates MUST NOT read the registrations that cannot be due"
    );
    assert_eq!(
        store
            .site_and_registration(&slug("default"), Some(alpha.client_id()))
            .unwrap()
            .1,
        Some(alpha),
        "client authentication reads its one registration"
    );
}

/// NoticeLog::log_page and AuditLog::audit_page MUST NOT read the whole log to serve a page.
pub fn log_pages_read_only_what_they_return(store: &impl Store, damage: &dyn Fn(Damage<'_>)) {
    let old = registration("default", "Old", 1);
    let new = registration("default", "New", 2);
    let entry = |subject: &str, minutes: i64| AuditEntry {
        subject: subject.into(),
        ..super::super::audit_entry(NOW + Duration::minutes(minutes))
    };
    store.insert(&old, &entry("old", 0)).unwrap();
    store.insert(&new, &entry("new", 1)).unwrap();
    store.update(&new, &entry("new", 2)).unwrap();
    let kinds = [NoticeKind::ExpiresIn30Days, NoticeKind::ExpiresIn7Days];
    let notices = |registration| kinds.map(|kind| notice(registration, kind, Disposition::Deliver));
    store.record(&notices(&old), NOW).unwrap();
    store
        .record(&notices(&new), NOW + Duration::hours(1))
        .unwrap();
    damage(Damage::NoticesOf(old.id()));
    damage(Damage::AuditEntriesAbout("old"));

    let log_query = |limit| LogQuery {
        kind: None,
        client_id: None,
        status: None,
        offset: 0,
        limit,
    };
    assert!(
        corrupt(store.log_page(&slug("default"), &log_query(4))),
        "the damaged notices cannot be read (else this check proves nothing)"
    );
    let (page, total) = store.log_page(&slug("default"), &log_query(2)).unwrap();
    assert_eq!(total, 4, "the older notices are counted");
    assert!(
        page.iter().all(|entry| entry.client_id == *new.client_id()) && page.len() == 2,
        "the newest page MUST NOT read older notices: {page:?}"
    );

    let audit_query = |limit| AuditQuery { offset: 0, limit };
    assert!(corrupt(store.audit_page(&slug("default"), &audit_query(3))));
    let (entries, total) = store.audit_page(&slug("default"), &audit_query(2)).unwrap();
    assert_eq!(total, 3, "the older entry is counted");
    assert_eq!(
        entries,
        vec![entry("new", 2), entry("new", 1)],
        "the newest page MUST NOT read older entries"
    );
}
