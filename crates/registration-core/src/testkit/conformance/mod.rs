//! The storage ports' contract as executable checks, written once for every store.
//!
//! A store crate runs them all with one macro call in its integration tests:
//!
//! ```text
//! registration_core::store_conformance_tests!(|| {
//!     let dir = tempfile::tempdir().unwrap();
//!     let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
//!     (dir, store) // the first element is kept alive for the test's duration
//! });
//! ```
//!
//! Each check panics with a message naming the violated sentence of the port's contract.

#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

use std::sync::{Arc, Barrier};

use time::{Duration, OffsetDateTime, macros::datetime};

use crate::{
    AdminAccount, AdminName, AuditEntry, Channel, ClientId, ClientSecret, ConsoleSession,
    DeliveryOutcome, DeliveryState, DeliveryStatus, Disposition, DueNotice, ExpirationDate, Lease,
    ListQuery, LogQuery, NoticeKey, NoticeKind, NoticeRecord, PendingReveal, Registration,
    RegistrationId, RegistrationName, RegistrationRecord, Rejections, RevealPad, SigningKeyRecord,
    Site, SiteName, SitePolicy, SiteSlug, SiteZone, SortKey, Store, StoreError, TokenDigest,
    UsageUpdate, WebhookEndpoint, WebhookSecret, WebhookUrl,
};

use super::SeededRandom;

mod audit;
pub use audit::{
    audit_pages_are_per_site_newest_first_and_counted, changes_store_their_audit_entries_unaltered,
    refused_changes_store_no_audit_entry, service_audits_every_change_without_secrets,
    traffic_and_notices_write_no_audit_entry,
};

const NOW: OffsetDateTime = datetime!(2026-11-23 09:00 UTC);

/// An entry for a change the check is not about (the audit checks build their own).
fn audit() -> AuditEntry {
    super::audit_entry(NOW)
}

fn slug(text: &str) -> SiteSlug {
    SiteSlug::parse(text).unwrap()
}

fn site(text: &str, zone: &str) -> Site {
    Site {
        slug: slug(text),
        name: SiteName::parse(&format!("Site {text}")).unwrap(),
        zone: SiteZone::parse(zone).unwrap(),
        policy: SitePolicy {
            max_years_ahead: 12,
        },
    }
}

/// A registration with every field set to something a round trip could get wrong.
fn registration(site: &str, name: &str, seed: u64) -> Registration {
    let random = SeededRandom::new(seed);
    let secret = ClientSecret::generate(&random).unwrap();
    Registration::from_record(RegistrationRecord {
        id: RegistrationId::generate(&random).unwrap(),
        site: slug(site),
        client_id: ClientId::generate(&random).unwrap(),
        name: RegistrationName::parse(name).unwrap(),
        expiration_date: ExpirationDate::parse("2027-02-28").unwrap(),
        enabled: true,
        secret_hash: super::shared_secret_hash(),
        secret_hint: secret.hint(),
        registration_date: datetime!(2026-11-23 09:15:42.123456789 UTC),
        last_used: None,
        rejections: Rejections::default(),
        revision: 0,
    })
}

fn with(registration: &Registration, change: impl FnOnce(&mut RegistrationRecord)) -> Registration {
    let mut record = registration.record().clone();
    change(&mut record);
    Registration::from_record(record)
}

fn notice(registration: &Registration, kind: NoticeKind, disposition: Disposition) -> NoticeRecord {
    let expiration_date = registration.expiration_date();
    NoticeRecord {
        notice: DueNotice {
            key: NoticeKey {
                registration_id: registration.id(),
                expiration_date,
                kind,
            },
            disposition,
            due_at: kind.due_at(expiration_date, SiteZone::utc()),
        },
        subject: format!("{}: {}", kind.template_name(), registration.name()),
        body: format!("{} of {} is due.\nSecond line.", kind, registration.name()),
        deliveries: vec![
            DeliveryState::planned("alice", Channel::InApp, DeliveryStatus::Sent),
            DeliveryState::planned("ops@example.com", Channel::Email, DeliveryStatus::Pending),
        ],
    }
}

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

/// Adds administrator `alice` of the default site.
/// An administrator of `sites` (without an e-mail address).
fn admin(name: &str, sites: &[&str]) -> AdminAccount {
    AdminAccount {
        username: AdminName::parse(name).unwrap(),
        password_hash: super::shared_secret_hash(),
        email: None,
        sites: sites.iter().map(|s| slug(s)).collect(),
        created_at: NOW,
    }
}

fn add_alice(store: &impl Store) -> AdminAccount {
    let alice = admin("alice", &["default"]);
    store.add_admin(&alice, &[audit()]).unwrap();
    alice
}

/// SessionStore: sessions by digest, removed on sign-out, expired ones forgotten.
pub fn sessions_round_trip_and_expire(store: &impl Store) {
    let admin = add_alice(store);
    let session = |byte: u8, created_at: OffsetDateTime| ConsoleSession {
        digest: TokenDigest([byte; 32]),
        username: admin.username.clone(),
        created_at,
        expires_at: created_at + Duration::hours(8),
    };
    let old = session(1, NOW);
    store.create_session(&old).unwrap();
    assert_eq!(store.session(&old.digest).unwrap(), Some(old.clone()));
    assert_eq!(store.session(&TokenDigest([9; 32])).unwrap(), None);
    let later = session(2, NOW + Duration::hours(9));
    store.create_session(&later).unwrap();
    assert_eq!(
        store.session(&old.digest).unwrap(),
        None,
        "sessions expired before a new one starts are forgotten"
    );
    store.delete_session(&later.digest).unwrap();
    assert_eq!(store.session(&later.digest).unwrap(), None);
    store.delete_session(&later.digest).unwrap();
}

/// keep_reveal / take_reveal: one pad per session and Client ID, taken once, never after it
/// expired, and gone with its session.
pub fn reveal_pads_are_taken_once(store: &impl Store) {
    let admin = add_alice(store);
    let session = |byte: u8| ConsoleSession {
        digest: TokenDigest([byte; 32]),
        username: admin.username.clone(),
        created_at: NOW,
        expires_at: NOW + Duration::hours(8),
    };
    let (ours, theirs) = (session(1), session(2));
    store.create_session(&ours).unwrap();
    store.create_session(&theirs).unwrap();
    let client_id = |seed| ClientId::generate(&SeededRandom::new(seed)).unwrap();
    let reveal = |session: &ConsoleSession, seed, byte: u8| PendingReveal {
        session: session.digest,
        client_id: client_id(seed),
        pad: RevealPad::from_bytes(vec![byte; 56]),
        created_at: NOW,
        expires_at: NOW + Duration::minutes(10),
    };
    let take = |session: &ConsoleSession, seed, at| {
        store
            .take_reveal(&session.digest, &client_id(seed), at)
            .unwrap()
            .map(|pad| pad.as_bytes().to_vec())
    };
    store.keep_reveal(&reveal(&ours, 1, 7)).unwrap();
    store.keep_reveal(&reveal(&ours, 2, 8)).unwrap();
    store.keep_reveal(&reveal(&ours, 3, 9)).unwrap();
    assert_eq!(take(&theirs, 1, NOW), None, "another session's pad");
    assert_eq!(take(&ours, 1, NOW), Some(vec![7; 56]));
    assert_eq!(take(&ours, 1, NOW), None, "taken once");
    assert_eq!(take(&ours, 2, NOW + Duration::minutes(10)), None, "expired");
    assert_eq!(
        take(&ours, 2, NOW),
        None,
        "an expired pad is gone, not kept"
    );
    store.delete_session(&ours.digest).unwrap();
    assert_eq!(take(&ours, 3, NOW), None, "signing out forgets the pads");
}

/// The kinds a store reports as recorded for `registration`'s current expiration date.
fn recorded(store: &impl Store, registration: &Registration) -> Vec<NoticeKind> {
    let horizon = ExpirationDate::parse("2099-12-31").unwrap();
    let mut kinds = store
        .notice_candidates(registration.site(), horizon)
        .unwrap()
        .into_iter()
        .find(|candidate| candidate.subject.registration_id == registration.id())
        .map(|candidate| candidate.recorded)
        .unwrap_or_default();
    kinds.sort();
    kinds
}

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

const HOOK: &str = "https://hooks.example.com/appreg";

fn endpoint(url: &str, seed: u64) -> WebhookEndpoint {
    WebhookEndpoint {
        url: WebhookUrl::parse(url).unwrap(),
        secret: WebhookSecret::generate(&SeededRandom::new(seed)).unwrap(),
        created_at: NOW,
    }
}

fn lease(id: &str, until: OffsetDateTime) -> Lease {
    Lease {
        id: id.into(),
        until,
    }
}

fn outcome(status: DeliveryStatus, attempts: u32, next: Option<OffsetDateTime>) -> DeliveryOutcome {
    DeliveryOutcome {
        status,
        attempts,
        next_attempt_at: next,
        last_error: (status != DeliveryStatus::Sent).then(|| "connection refused".into()),
    }
}

/// A 7-day notice with an in-app (sent), an e-mail and a webhook delivery (both pending).
fn notice_with_webhook(registration: &Registration) -> NoticeRecord {
    let mut record = notice(
        registration,
        NoticeKind::ExpiresIn7Days,
        Disposition::Deliver,
    );
    record.deliveries.push(DeliveryState::planned(
        HOOK,
        Channel::Webhook,
        DeliveryStatus::Pending,
    ));
    record
}

/// WebhookStore: endpoints per site, secrets kept, duplicates refused, removal cancels.
pub fn webhooks_round_trip_and_removal_cancels_deliveries(store: &impl Store) {
    store.add_site(&site("other", "UTC"), &audit()).unwrap();
    let hook = endpoint(HOOK, 1);
    store
        .add_webhook(&slug("default"), &hook, &audit())
        .unwrap();
    store
        .add_webhook(
            &slug("default"),
            &endpoint("http://127.0.0.1:9/a", 2),
            &audit(),
        )
        .unwrap();
    assert_eq!(
        store.add_webhook(&slug("default"), &endpoint(HOOK, 3), &audit()),
        Err(StoreError::DuplicateWebhook {
            site: "default".into(),
            url: HOOK.into()
        })
    );
    assert_eq!(
        store.add_webhook(&slug("nowhere"), &endpoint(HOOK, 3), &audit()),
        Err(StoreError::UnknownSite("nowhere".into()))
    );
    let listed = store.webhooks(&slug("default")).unwrap();
    let urls: Vec<&str> = listed.iter().map(|e| e.url.as_str()).collect();
    assert_eq!(urls, ["http://127.0.0.1:9/a", HOOK], "sorted by URL");
    assert_eq!(listed[1], hook, "the secret and creation time round-trip");
    assert!(
        store.webhooks(&slug("other")).unwrap().is_empty(),
        "per site"
    );
    assert_eq!(
        store.remove_webhook(&slug("other"), &hook.url, &audit()),
        Err(StoreError::UnknownWebhook {
            site: "other".into(),
            url: HOOK.into()
        }),
        "another site's endpoint is not found"
    );

    let registration = registration("default", "Billing sync", 1);
    store.insert(&registration, &audit()).unwrap();
    store
        .record(&[notice_with_webhook(&registration)], NOW)
        .unwrap();
    store
        .remove_webhook(&slug("default"), &hook.url, &audit())
        .unwrap();
    assert_eq!(store.webhooks(&slug("default")).unwrap().len(), 1);
    let log = store.log(&slug("default")).unwrap();
    let webhook = log[0]
        .deliveries
        .iter()
        .find(|d| d.channel == Channel::Webhook)
        .unwrap();
    assert_eq!(webhook.status, DeliveryStatus::Cancelled);
}

/// claim_deliveries / finish_delivery: leases, retries, takeover after a lease runs out.
pub fn deliveries_are_claimed_under_a_lease_and_finished(store: &impl Store) {
    let hook = endpoint(HOOK, 1);
    store
        .add_webhook(&slug("default"), &hook, &audit())
        .unwrap();
    let registration = registration("default", "Billing sync", 1);
    store.insert(&registration, &audit()).unwrap();
    store
        .record(&[notice_with_webhook(&registration)], NOW)
        .unwrap();
    let both = [Channel::Email, Channel::Webhook];
    assert_eq!(store.due_delivery_count(&both, NOW).unwrap(), 2);
    assert_eq!(
        store.due_delivery_count(&[Channel::InApp], NOW).unwrap(),
        0,
        "in-app deliveries are sent when recorded"
    );

    let first = lease("lease-1", NOW + Duration::minutes(5));
    let claimed = store
        .claim_deliveries(&[Channel::Email], NOW, &first, 10)
        .unwrap();
    assert_eq!(claimed.len(), 1, "only the channels asked for");
    let email = &claimed[0];
    assert_eq!(email.attempts_made, 0);
    assert_eq!(email.delivery.recipient, "ops@example.com");
    assert_eq!(email.delivery.site, slug("default"));
    assert_eq!(email.delivery.client_id, *registration.client_id());
    assert_eq!(email.delivery.registration_name, "Billing sync");
    assert_eq!(
        email.delivery.subject,
        "App registration expires in 7 days: Billing sync"
    );
    assert!(email.delivery.body.contains("Second line."));
    assert_eq!(email.delivery.signing_secret, None);
    assert!(
        store
            .claim_deliveries(
                &both,
                NOW,
                &lease("lease-2", NOW + Duration::minutes(5)),
                10
            )
            .unwrap()
            .iter()
            .all(|c| c.delivery.channel == Channel::Webhook),
        "a leased delivery is not claimed again while the lease runs"
    );

    let retry_at = NOW + Duration::minutes(1);
    assert!(
        store
            .finish_delivery(
                &email.delivery.target(),
                "lease-1",
                &outcome(DeliveryStatus::Retrying, 1, Some(retry_at)),
            )
            .unwrap()
    );
    assert!(
        store
            .claim_deliveries(
                &both,
                NOW + Duration::seconds(30),
                &lease("lease-3", NOW + Duration::minutes(6)),
                10
            )
            .unwrap()
            .is_empty(),
        "not before its next attempt"
    );
    let retry = lease("lease-4", retry_at + Duration::minutes(5));
    let again = store.claim_deliveries(&both, retry_at, &retry, 10).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts_made, 1);
    assert!(
        !store
            .finish_delivery(
                &email.delivery.target(),
                "lease-1",
                &outcome(DeliveryStatus::Sent, 2, None)
            )
            .unwrap(),
        "an old lease cannot record an outcome"
    );

    let takeover_at = retry.until + Duration::seconds(1);
    let takeover = store
        .claim_deliveries(
            &both,
            takeover_at,
            &lease("lease-5", takeover_at + Duration::minutes(5)),
            10,
        )
        .unwrap();
    let channels: Vec<Channel> = takeover.iter().map(|c| c.delivery.channel).collect();
    assert_eq!(
        channels,
        [Channel::Email, Channel::Webhook],
        "expired leases are taken over"
    );
    let webhook = &takeover[1];
    assert_eq!(webhook.delivery.signing_secret.as_ref(), Some(&hook.secret));
    assert!(
        !store
            .finish_delivery(
                &email.delivery.target(),
                "lease-4",
                &outcome(DeliveryStatus::Sent, 2, None)
            )
            .unwrap(),
        "the worker whose lease ran out lost it"
    );
    assert!(
        store
            .finish_delivery(
                &email.delivery.target(),
                "lease-5",
                &outcome(DeliveryStatus::Dead, 2, None)
            )
            .unwrap()
    );
    assert!(
        store
            .finish_delivery(
                &webhook.delivery.target(),
                "lease-5",
                &outcome(DeliveryStatus::Sent, 1, None)
            )
            .unwrap()
    );
    assert_eq!(
        store
            .due_delivery_count(&both, takeover_at + Duration::days(1))
            .unwrap(),
        0
    );

    let log = store.log(&slug("default")).unwrap();
    let states: Vec<(Channel, DeliveryStatus, u32, Option<&str>)> = log[0]
        .deliveries
        .iter()
        .map(|d| (d.channel, d.status, d.attempts, d.last_error.as_deref()))
        .collect();
    assert_eq!(
        states,
        [
            (Channel::InApp, DeliveryStatus::Sent, 1, None),
            (
                Channel::Email,
                DeliveryStatus::Dead,
                2,
                Some("connection refused")
            ),
            (Channel::Webhook, DeliveryStatus::Sent, 1, None),
        ],
        "the log shows outcomes, attempts and the last error"
    );
}

/// claim_deliveries: concurrent workers never hold the same delivery.
pub fn concurrent_claims_take_each_delivery_once<S: Store + 'static>(store: Arc<S>) {
    for i in 0..20 {
        let registration = registration("default", &format!("Registration {i}"), i);
        store.insert(&registration, &audit()).unwrap();
        store
            .record(
                &[notice(
                    &registration,
                    NoticeKind::Expired,
                    Disposition::Deliver,
                )],
                NOW,
            )
            .unwrap();
    }
    let threads = 4;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|worker| {
            let (store, barrier) = (store.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let mut mine = Vec::new();
                loop {
                    let lease = lease(&format!("worker-{worker}"), NOW + Duration::minutes(5));
                    let claimed = store
                        .claim_deliveries(&[Channel::Email], NOW, &lease, 3)
                        .unwrap();
                    if claimed.is_empty() {
                        return mine;
                    }
                    mine.extend(claimed.into_iter().map(|c| c.delivery.client_id));
                }
            })
        })
        .collect();
    let mut claimed: Vec<ClientId> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert_eq!(claimed.len(), 20, "every delivery claimed exactly once");
    claimed.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
    claimed.dedup();
    assert_eq!(claimed.len(), 20, "no delivery claimed twice");
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

/// record: concurrent callers with the same notices record each identity once.
pub fn concurrent_recording_records_once<S: Store + 'static>(store: Arc<S>) {
    let registrations: Vec<Registration> = (0..20)
        .map(|i| registration("default", &format!("Registration {i}"), i))
        .collect();
    for registration in &registrations {
        store.insert(registration, &audit()).unwrap();
    }
    let notices: Arc<Vec<NoticeRecord>> = Arc::new(
        registrations
            .iter()
            .flat_map(|r| {
                [
                    notice(
                        r,
                        NoticeKind::ExpiresIn30Days,
                        Disposition::SkippedSuperseded,
                    ),
                    notice(r, NoticeKind::ExpiresIn7Days, Disposition::Deliver),
                ]
            })
            .collect(),
    );
    let threads = 4;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (store, notices, barrier) = (store.clone(), notices.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                store.record(&notices, NOW).unwrap()
            })
        })
        .collect();
    let recorded: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(
        recorded,
        notices.len(),
        "all callers together record each key once"
    );
    assert_eq!(store.log(&slug("default")).unwrap().len(), notices.len());
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

/// Keys made at the same instant on purpose: order must follow storage, not timestamps.
fn signing_key(kid: &str, byte: u8) -> SigningKeyRecord {
    SigningKeyRecord {
        kid: kid.into(),
        private_key: zeroize::Zeroizing::new([byte; 32]),
        created_at: NOW,
    }
}

/// KeyStore: the first key is created once; rotation keeps the newest `keep`.
pub fn signing_keys_are_created_once_and_rotated(store: &impl Store) {
    assert!(store.signing_keys().unwrap().is_empty());
    let kids = |keys: Vec<SigningKeyRecord>| keys.into_iter().map(|k| k.kid).collect::<Vec<_>>();
    assert_eq!(
        kids(store.ensure_signing_key(&signing_key("k1", 1)).unwrap()),
        ["k1"]
    );
    assert_eq!(
        kids(store.ensure_signing_key(&signing_key("k2", 2)).unwrap()),
        ["k1"],
        "a second first start keeps the existing key"
    );
    assert_eq!(
        kids(store.rotate_signing_key(&signing_key("k3", 3), 2).unwrap()),
        ["k3", "k1"]
    );
    assert_eq!(
        kids(store.rotate_signing_key(&signing_key("a4", 4), 2).unwrap()),
        ["a4", "k3"]
    );
    let keys = store.signing_keys().unwrap();
    assert_eq!(keys[0], signing_key("a4", 4), "keys read back as written");
    assert_eq!(keys[1], signing_key("k3", 3));
}

/// AdminStore: accounts with their sites, duplicates, and tokens found by digest only.
pub fn admins_and_tokens_round_trip(store: &impl Store) {
    store.add_site(&site("acme-eu", "UTC"), &audit()).unwrap();
    assert_eq!(store.admin_count(), Ok(0));
    let alice = crate::AdminAccount {
        username: crate::AdminName::parse("alice").unwrap(),
        password_hash: super::shared_secret_hash(),
        email: Some("alice@example.com".into()),
        sites: vec![slug("acme-eu"), slug("default")],
        created_at: NOW,
    };
    store.add_admin(&alice, &[audit()]).unwrap();
    assert_eq!(
        store.admin(&alice.username).unwrap(),
        alice,
        "reads back with its sites"
    );
    assert_eq!(store.admin_count(), Ok(1));
    assert_eq!(
        store.add_admin(&alice, &[audit()]),
        Err(StoreError::DuplicateAdmin("alice".into()))
    );
    let lost = crate::AdminAccount {
        username: crate::AdminName::parse("bob").unwrap(),
        sites: vec![slug("nowhere")],
        ..alice.clone()
    };
    assert_eq!(
        store.add_admin(&lost, &[audit()]),
        Err(StoreError::UnknownSite("nowhere".into()))
    );
    assert_eq!(
        store.admin(&lost.username),
        Err(StoreError::UnknownAdmin("bob".into())),
        "a refused add stores nothing"
    );

    let digest = crate::TokenDigest([7; 32]);
    store
        .add_admin_token(&alice.username, &digest, NOW, &[audit()])
        .unwrap();
    assert_eq!(store.admin_by_token(&digest), Ok(Some(alice.clone())));
    assert_eq!(store.admin_by_token(&crate::TokenDigest([8; 32])), Ok(None));
    assert_eq!(
        store.add_admin_token(
            &lost.username,
            &crate::TokenDigest([9; 32]),
            NOW,
            &[audit()]
        ),
        Err(StoreError::UnknownAdmin("bob".into()))
    );
}

/// TemplateStore: saved templates read back whole; saving again replaces; sites are checked.
pub fn templates_are_saved_per_site_and_kind(store: &impl Store) {
    store.add_site(&site("other", "UTC"), &audit()).unwrap();
    assert_eq!(
        store.templates(&slug("default")),
        Ok(Vec::new()),
        "nothing saved yet"
    );
    let mut template = crate::NotificationTemplate::default_for(NoticeKind::ExpiresIn7Days);
    template.subject = "Heads-up: {{ registration.name }}".into();
    template.enabled = false;
    template.banner = crate::BannerSetting::None;
    store
        .save_template(&slug("default"), &template, &audit())
        .unwrap();
    assert_eq!(
        store.templates(&slug("default")),
        Ok(vec![template.clone()])
    );
    assert_eq!(store.templates(&slug("other")), Ok(Vec::new()), "per site");
    template.enabled = true;
    store
        .save_template(&slug("default"), &template, &audit())
        .unwrap();
    assert_eq!(
        store.templates(&slug("default")),
        Ok(vec![template.clone()]),
        "replaced"
    );
    assert_eq!(
        store.save_template(&slug("nowhere"), &template, &audit()),
        Err(StoreError::UnknownSite("nowhere".into()))
    );
    assert_eq!(
        store.templates(&slug("nowhere")),
        Err(StoreError::UnknownSite("nowhere".into()))
    );
}

/// AdminStore: administrators per site, and subscription choices replacing each other.
pub fn subscriptions_are_choices_per_site_user_kind_and_channel(store: &impl Store) {
    store.add_site(&site("other", "UTC"), &audit()).unwrap();
    store
        .add_admin(&admin("zoe", &["default"]), &[audit()])
        .unwrap();
    store
        .add_admin(&admin("adam", &["default", "other"]), &[audit()])
        .unwrap();
    store
        .add_admin(&admin("olga", &["other"]), &[audit()])
        .unwrap();
    let names = |admins: Vec<crate::AdminAccount>| {
        admins
            .into_iter()
            .map(|a| a.username.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(store.admins_of(&slug("default")).unwrap()),
        ["adam", "zoe"]
    );
    assert_eq!(
        names(store.admins_of(&slug("other")).unwrap()),
        ["adam", "olga"]
    );

    let choice = |enabled| crate::Subscription {
        username: crate::AdminName::parse("zoe").unwrap(),
        kind: NoticeKind::Expired,
        channel: Channel::Email,
        enabled,
    };
    assert_eq!(store.subscriptions(&slug("default")), Ok(Vec::new()));
    store
        .set_subscription(&slug("default"), &choice(true), &audit())
        .unwrap();
    store
        .set_subscription(&slug("default"), &choice(false), &audit())
        .unwrap();
    assert_eq!(
        store.subscriptions(&slug("default")),
        Ok(vec![choice(false)]),
        "replaced"
    );
    assert_eq!(
        store.subscriptions(&slug("other")),
        Ok(Vec::new()),
        "per site"
    );
    let stranger = crate::Subscription {
        username: crate::AdminName::parse("nobody").unwrap(),
        ..choice(true)
    };
    assert_eq!(
        store.set_subscription(&slug("default"), &stranger, &audit()),
        Err(StoreError::UnknownAdmin("nobody".into()))
    );
}

/// Generates one `#[test]` per conformance check. `$make` returns `(guard, store)`; the
/// guard (e.g. a temporary directory) lives as long as the test.
#[macro_export]
macro_rules! store_conformance_tests {
    ($make:expr) => {
        $crate::store_conformance_tests!(@each $make;
            fresh_store_has_the_default_site,
            sites_round_trip_and_refuse_duplicates,
            registrations_round_trip,
            insert_refuses_duplicates,
            sites_are_isolated,
            update_checks_revision_and_names,
            list_is_sorted_by_name,
            notices_are_recorded_at_most_once,
            stale_notices_are_not_recorded,
            delete_cancels_open_deliveries,
            log_is_newest_first_and_per_site,
            usage_is_recorded_without_a_new_revision,
            signing_keys_are_created_once_and_rotated,
            admins_and_tokens_round_trip,
            templates_are_saved_per_site_and_kind,
            candidates_are_the_registrations_that_can_be_due,
            subscriptions_are_choices_per_site_user_kind_and_channel,
            webhooks_round_trip_and_removal_cancels_deliveries,
            deliveries_are_claimed_under_a_lease_and_finished,
            pages_search_sort_and_count,
            banner_candidates_are_enabled_and_due_by_the_date,
            sessions_round_trip_and_expire,
            reveal_pads_are_taken_once,
            log_pages_filter_and_count,
            changes_store_their_audit_entries_unaltered,
            refused_changes_store_no_audit_entry,
            traffic_and_notices_write_no_audit_entry,
            audit_pages_are_per_site_newest_first_and_counted,
        );
        #[test]
        fn conformance_service_audits_every_change_without_secrets() {
            let (_guard, store) = ($make)();
            $crate::testkit::conformance::service_audits_every_change_without_secrets(
                ::std::sync::Arc::new(store),
            );
        }
        #[test]
        fn conformance_concurrent_claims_take_each_delivery_once() {
            let (_guard, store) = ($make)();
            $crate::testkit::conformance::concurrent_claims_take_each_delivery_once(
                ::std::sync::Arc::new(store),
            );
        }
        #[test]
        fn conformance_concurrent_recording_records_once() {
            let (_guard, store) = ($make)();
            $crate::testkit::conformance::concurrent_recording_records_once(
                ::std::sync::Arc::new(store),
            );
        }
    };
    (@each $make:expr; $($check:ident),* $(,)?) => {
        $(
            #[test]
            fn $check() {
                let (_guard, store) = ($make)();
                $crate::testkit::conformance::$check(&store);
            }
        )*
    };
}
