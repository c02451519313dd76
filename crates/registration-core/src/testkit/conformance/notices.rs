//! `NoticeOutbox` and `NoticeLog`: sweep candidates, notices recorded at most once (also
//! by concurrent callers), stale notices skipped, the log and its pages.

use std::sync::Arc;

use time::Duration;

use crate::{
    DeliveryStatus, Disposition, ExpirationDate, LogQuery, NoticeKind, NoticeRecord, Registration,
    Store, StoreError,
};

use super::{
    NOW, audit, notice, race, recorded, registration, site, slug, twenty_with_two_notices_each,
    with,
};

/// notice_candidates: only enabled registrations up to the horizon with something left.
pub fn candidates_are_the_registrations_that_can_be_due(store: &impl Store) {
    store.add_site(&site("other", "UTC"), &audit()).unwrap();
    let expiring = |name: &str, seed, date: &str| {
        with(&registration("default", name, seed), |r| {
            r.expiration_date = ExpirationDate::parse(date).unwrap();
        })
    };
    let soon = expiring("Soon", 1, "2026-12-10");
    let later = expiring("Later", 2, "2027-06-30");
    let paused = with(&expiring("Paused", 3, "2026-12-01"), |r| r.enabled = false);
    let done = expiring("Done", 4, "2026-11-01");
    let theirs = with(&registration("other", "Theirs", 5), |r| {
        r.expiration_date = ExpirationDate::parse("2026-12-01").unwrap();
    });
    for registration in [&soon, &later, &paused, &done, &theirs] {
        store.insert(registration, &audit()).unwrap();
    }
    let all_kinds: Vec<NoticeRecord> = NoticeKind::ALL
        .into_iter()
        .map(|kind| notice(&done, kind, Disposition::Deliver))
        .collect();
    store.record(&all_kinds, NOW).unwrap();
    store
        .record(
            &[notice(
                &soon,
                NoticeKind::ExpiresIn30Days,
                Disposition::Deliver,
            )],
            NOW,
        )
        .unwrap();

    let horizon = ExpirationDate::parse("2026-12-24").unwrap();
    let candidates = store.notice_candidates(&slug("default"), horizon).unwrap();
    let found: Vec<(&str, Vec<NoticeKind>)> = candidates
        .iter()
        .map(|c| (c.name.as_str(), c.recorded.clone()))
        .collect();
    assert_eq!(
        found,
        [("Soon", vec![NoticeKind::ExpiresIn30Days])],
        "not disabled, not past the horizon, not finished, not another site's"
    );
    assert_eq!(candidates[0].subject, soon.schedule_subject());
    assert_eq!(&candidates[0].client_id, soon.client_id());
}

/// record: each notice identity at most once; the recorded kinds follow the cycle.
pub fn notices_are_recorded_at_most_once(store: &impl Store) {
    let registration = registration("default", "Billing sync", 1);
    store.insert(&registration, &audit()).unwrap();
    let thirty = notice(
        &registration,
        NoticeKind::ExpiresIn30Days,
        Disposition::SkippedSuperseded,
    );
    let seven = notice(
        &registration,
        NoticeKind::ExpiresIn7Days,
        Disposition::Deliver,
    );

    assert_eq!(store.record(&[thirty.clone(), seven.clone()], NOW), Ok(2));
    assert_eq!(store.record(&[thirty.clone(), seven.clone()], NOW), Ok(0));
    let changed = NoticeRecord {
        subject: "a different subject".into(),
        ..seven.clone()
    };
    assert_eq!(store.record(&[changed], NOW + Duration::hours(1)), Ok(0));
    assert_eq!(
        recorded(store, &registration),
        [NoticeKind::ExpiresIn30Days, NoticeKind::ExpiresIn7Days]
    );

    let log = store.log(&slug("default")).unwrap();
    assert_eq!(log.len(), 2);
    let entry = log.iter().find(|e| e.key == seven.notice.key).unwrap();
    assert_eq!(
        entry.subject, seven.subject,
        "a key already present is left unchanged"
    );
    assert_eq!(entry.body, seven.body, "the rendered body reads back whole");
    assert_eq!(entry.disposition, Disposition::Deliver);
    assert_eq!(entry.registration_name, "Billing sync");
    assert_eq!(&entry.client_id, registration.client_id());
    assert_eq!(entry.recorded_at, NOW);
    assert_eq!(entry.due_at, seven.notice.due_at);
    assert_eq!(entry.deliveries, seven.deliveries);

    let renewed = with(&registration, |r| {
        r.expiration_date = ExpirationDate::parse("2027-06-30").unwrap();
    });
    assert_eq!(store.update(&renewed, &audit()), Ok(1));
    assert!(
        recorded(store, &renewed).is_empty(),
        "a new expiration date is a new cycle"
    );
}

/// record: notices computed from facts that have changed since are not recorded.
pub fn stale_notices_are_not_recorded(store: &impl Store) {
    let registration = registration("default", "Billing sync", 1);
    store.insert(&registration, &audit()).unwrap();
    let expired = notice(&registration, NoticeKind::Expired, Disposition::Deliver);

    let disabled = with(&registration, |r| r.enabled = false);
    store.update(&disabled, &audit()).unwrap();
    assert_eq!(
        store.record(std::slice::from_ref(&expired), NOW),
        Ok(0),
        "disabled since"
    );

    let renewed = with(&disabled, |r| {
        r.revision = 1;
        r.enabled = true;
        r.expiration_date = ExpirationDate::parse("2027-06-30").unwrap();
    });
    store.update(&renewed, &audit()).unwrap();
    assert_eq!(
        store.record(std::slice::from_ref(&expired), NOW),
        Ok(0),
        "renewed since"
    );

    store
        .delete(&slug("default"), registration.client_id(), 2, &audit())
        .unwrap();
    let current = notice(&renewed, NoticeKind::Expired, Disposition::Deliver);
    assert_eq!(store.record(&[current], NOW), Ok(0), "deleted since");
    assert!(store.log(&slug("default")).unwrap().is_empty());
}

/// record: concurrent callers with the same notices record each identity once.
pub fn concurrent_recording_records_once<S: Store + 'static>(store: Arc<S>) {
    let notices = Arc::new(twenty_with_two_notices_each(store.as_ref()));
    let batch = notices.clone();
    let recorded: usize = race(&[&store], 4, move |store, _| {
        store.record(&batch, NOW).unwrap()
    })
    .into_iter()
    .sum();
    assert_eq!(
        recorded,
        notices.len(),
        "all callers together record each key once"
    );
    assert_eq!(store.log(&slug("default")).unwrap().len(), notices.len());
}

/// log: newest first, per site.
pub fn log_is_newest_first_and_per_site(store: &impl Store) {
    store.add_site(&site("other", "UTC"), &audit()).unwrap();
    let ours = registration("default", "Ours", 1);
    let theirs = registration("other", "Theirs", 2);
    store.insert(&ours, &audit()).unwrap();
    store.insert(&theirs, &audit()).unwrap();
    store
        .record(
            &[notice(
                &ours,
                NoticeKind::ExpiresIn30Days,
                Disposition::Deliver,
            )],
            NOW,
        )
        .unwrap();
    store
        .record(
            &[notice(
                &ours,
                NoticeKind::ExpiresIn7Days,
                Disposition::Deliver,
            )],
            NOW + Duration::days(23),
        )
        .unwrap();
    store
        .record(
            &[notice(&theirs, NoticeKind::Expired, Disposition::Deliver)],
            NOW,
        )
        .unwrap();
    let kinds: Vec<NoticeKind> = store
        .log(&slug("default"))
        .unwrap()
        .iter()
        .map(|entry| entry.key.kind)
        .collect();
    assert_eq!(
        kinds,
        [NoticeKind::ExpiresIn7Days, NoticeKind::ExpiresIn30Days]
    );
    assert_eq!(store.log(&slug("other")).unwrap().len(), 1);
}

/// log_page: the log's order, filtered by kind, Client ID and delivery status, cut, counted.
pub fn log_pages_filter_and_count(store: &impl Store) {
    let first = registration("default", "First", 1);
    let second = registration("default", "Second", 2);
    store.insert(&first, &audit()).unwrap();
    store.insert(&second, &audit()).unwrap();
    let mut skipped = notice(
        &first,
        NoticeKind::ExpiresIn30Days,
        Disposition::SkippedSuperseded,
    );
    for delivery in &mut skipped.deliveries {
        delivery.status = DeliveryStatus::Skipped;
        delivery.attempts = 0;
    }
    store
        .record(
            &[
                skipped,
                notice(&first, NoticeKind::ExpiresIn7Days, Disposition::Deliver),
            ],
            NOW,
        )
        .unwrap();
    store
        .record(
            &[notice(&second, NoticeKind::Expired, Disposition::Deliver)],
            NOW + Duration::hours(1),
        )
        .unwrap();
    let query = |kind, client_id: Option<&Registration>, status, offset, limit| LogQuery {
        kind,
        client_id: client_id.map(|r| r.client_id().to_string()),
        status,
        offset,
        limit,
    };
    let page = |query: LogQuery| -> (Vec<(NoticeKind, String)>, u64) {
        let (entries, total) = store.log_page(&slug("default"), &query).unwrap();
        (
            entries
                .iter()
                .map(|e| (e.key.kind, e.registration_name.clone()))
                .collect(),
            total,
        )
    };
    let everything = page(query(None, None, None, 0, 10));
    let whole: Vec<(NoticeKind, String)> = store
        .log(&slug("default"))
        .unwrap()
        .iter()
        .map(|e| (e.key.kind, e.registration_name.clone()))
        .collect();
    assert_eq!(everything, (whole, 3), "the same order as the whole log");
    let (entries, _) = store
        .log_page(&slug("default"), &query(None, None, None, 0, 10))
        .unwrap();
    assert_eq!(
        entries[0].deliveries.len(),
        2,
        "deliveries come with each notice"
    );
    assert_eq!(
        page(query(Some(NoticeKind::ExpiresIn7Days), None, None, 0, 10)),
        (vec![(NoticeKind::ExpiresIn7Days, "First".into())], 1)
    );
    assert_eq!(page(query(None, Some(&first), None, 0, 10)).1, 2);
    assert_eq!(
        page(query(None, None, Some(DeliveryStatus::Skipped), 0, 10)),
        (vec![(NoticeKind::ExpiresIn30Days, "First".into())], 1)
    );
    assert_eq!(
        page(query(None, None, Some(DeliveryStatus::Pending), 0, 10)).1,
        2
    );
    assert_eq!(
        page(query(None, None, None, 1, 1)),
        (vec![(NoticeKind::ExpiresIn7Days, "First".into())], 3),
        "offset and limit cut the page, the total counts all"
    );
    assert_eq!(
        store.log_page(&slug("nowhere"), &query(None, None, None, 0, 10)),
        Err(StoreError::UnknownSite("nowhere".into()))
    );
}
