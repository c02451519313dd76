//! The cross-node sentences: two handles on the same database stand for two `appreg`
//! processes or nodes. Whatever one commits, the other sees; the at-most-once and lease
//! guarantees hold between them, not only between threads of one handle.

use std::sync::Arc;

use time::Duration;

use crate::{
    AuditQuery, Channel, ClientId, ConsoleSession, DeliveryStatus, FRESHNESS_BOUND, PendingReveal,
    RegistrationName, RevealPad, Store, StoreError, TokenDigest,
};

use super::{
    NOW, add_alice, audit, claim_until_none_left, lease, outcome, race, registration, signing_key,
    site, slug, twenty_pending_emails, twenty_with_two_notices_each, with,
};

/// The token path's read (`site_and_registration`) honours a change made through the other
/// handle within [`FRESHNESS_BOUND`], and one made through its own handle at once, even when
/// it was just read (a store may answer it from memory).
pub fn nodes_honour_changes_within_the_freshness_bound<S: Store>(first: Arc<S>, second: Arc<S>) {
    let (first, second) = (first.as_ref(), second.as_ref());
    let eu = site("acme-eu", "Europe/Berlin");
    first.add_site(&eu, &audit()).unwrap();
    let original = registration("acme-eu", "Billing sync", 1);
    first.insert(&original, &audit()).unwrap();
    // As the token endpoint reads: from memory when the store can, else from the database.
    let read = |store: &S| {
        store
            .site_and_registration_in_memory(&eu.slug, original.client_id())
            .map(|(site, registration)| (site, Some(registration)))
            .unwrap_or_else(|| {
                store
                    .site_and_registration(&eu.slug, Some(original.client_id()))
                    .unwrap()
            })
    };
    // Warm both, twice: a store that keeps copies now holds them.
    for _ in 0..2 {
        assert_eq!(read(first).1.as_ref(), Some(&original));
        assert_eq!(read(second).1.as_ref(), Some(&original));
    }

    let disabled = with(&original, |record| record.enabled = false);
    first.update(&disabled, &audit()).unwrap();
    let on_first = read(first).1.unwrap();
    assert!(
        !on_first.record().enabled && on_first.revision() == 1,
        "the changing handle sees its own change at once"
    );
    #[allow(clippy::disallowed_methods)] // the real time the bound is about
    let changed_at = std::time::Instant::now();
    loop {
        let seen = read(second).1.unwrap();
        if !seen.record().enabled {
            assert_eq!(seen.revision(), 1);
            break;
        }
        assert!(
            changed_at.elapsed() < FRESHNESS_BOUND,
            "the other handle still reads the registration enabled after {:?}",
            changed_at.elapsed()
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }

    let mut moved = eu.clone();
    moved.zone = crate::SiteZone::parse("Pacific/Auckland").unwrap();
    second.update_site(&moved, &audit()).unwrap();
    #[allow(clippy::disallowed_methods)] // the real time the bound is about
    let moved_at = std::time::Instant::now();
    while read(first).0 != moved {
        assert!(
            moved_at.elapsed() < FRESHNESS_BOUND,
            "the other handle still reads the site's old zone"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }

    let with_previous = with(&read(second).1.unwrap(), |record| {
        record.previous_secret = Some(crate::PreviousSecret {
            secret: record.secret.clone(),
            expires_at: NOW + Duration::days(7),
            rejections: crate::Rejections::default(),
        });
    });
    second.update(&with_previous, &audit()).unwrap();
    let retired = with(&read(second).1.unwrap(), |record| {
        if let Some(previous) = record.previous_secret.as_mut() {
            previous.expires_at = NOW;
        }
    });
    assert_eq!(
        retired.revision(),
        2,
        "the rotating handle sees its own rotation at once"
    );
    second.update(&retired, &audit()).unwrap();
    #[allow(clippy::disallowed_methods)] // the real time the bound is about
    let retired_at = std::time::Instant::now();
    while read(first)
        .1
        .unwrap()
        .previous_secret()
        .map(|p| p.expires_at)
        != Some(NOW)
    {
        assert!(
            retired_at.elapsed() < FRESHNESS_BOUND,
            "the other handle still reads the previous secret live"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }

    first
        .delete(&eu.slug, original.client_id(), 3, &audit())
        .unwrap();
    #[allow(clippy::disallowed_methods)] // the real time the bound is about
    let deleted_at = std::time::Instant::now();
    while read(second).1.is_some() {
        assert!(
            deleted_at.elapsed() < FRESHNESS_BOUND,
            "the other handle still reads a deleted registration"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Whatever one handle commits, the other reads: sites, registrations, revisions, audit
/// entries, sessions and one-time secret pads (the console works on any node).
pub fn nodes_see_each_others_changes<S: Store>(first: &S, second: &S) {
    let eu = site("acme-eu", "Europe/Berlin");
    first.add_site(&eu, &audit()).unwrap();
    assert_eq!(
        second.site(&eu.slug).unwrap(),
        eu,
        "a site added on one node"
    );

    let original = registration("acme-eu", "Billing sync", 1);
    first.insert(&original, &audit()).unwrap();
    let seen = second.get(&eu.slug, original.client_id()).unwrap();
    assert_eq!(seen, original, "a registration inserted on another node");
    let (site_seen, registration_seen) = second
        .site_and_registration(&eu.slug, Some(original.client_id()))
        .unwrap();
    assert_eq!(
        (site_seen, registration_seen),
        (eu.clone(), Some(original.clone()))
    );

    let renamed = with(&original, |record| {
        record.name = RegistrationName::parse("Ledger export").unwrap();
    });
    assert_eq!(second.update(&renamed, &audit()).unwrap(), 1);
    let stale = with(&original, |record| record.enabled = false);
    assert_eq!(
        first.update(&stale, &audit()),
        Err(StoreError::Conflict),
        "a revision conflict is seen across nodes"
    );
    assert_eq!(
        first.delete(&eu.slug, original.client_id(), 0, &audit()),
        Err(StoreError::Conflict),
        "a delete at a revision another node changed deletes nothing"
    );
    let current = first.get(&eu.slug, original.client_id()).unwrap();
    assert_eq!(current.name().as_str(), "Ledger export");
    assert_eq!(current.revision(), 1);
    assert!(
        current.record().enabled,
        "the refused update changed nothing"
    );

    let mut entry = audit();
    entry.site = eu.slug.clone();
    entry.subject = "written on the second node".into();
    second
        .delete(&eu.slug, original.client_id(), 1, &entry)
        .unwrap();
    assert_eq!(
        first.get(&eu.slug, original.client_id()),
        Err(StoreError::NotFound)
    );
    let (entries, _) = first
        .audit_page(
            &eu.slug,
            &AuditQuery {
                offset: 0,
                limit: 1,
            },
        )
        .unwrap();
    assert_eq!(
        entries,
        vec![entry],
        "an audit entry written on one node reads back on the other"
    );

    let alice = add_alice(first);
    let session = ConsoleSession {
        digest: TokenDigest([3; 32]),
        username: alice.username.clone(),
        created_at: NOW,
        expires_at: NOW + Duration::hours(8),
    };
    first.create_session(&session).unwrap();
    assert_eq!(
        second.session(&session.digest).unwrap(),
        Some(session.clone())
    );
    let client_id = ClientId::generate(&crate::testkit::SeededRandom::new(7)).unwrap();
    first
        .keep_reveal(&PendingReveal {
            session: session.digest,
            client_id: client_id.clone(),
            pad: RevealPad::from_bytes(vec![5; 56]),
            created_at: NOW,
            expires_at: NOW + Duration::minutes(10),
        })
        .unwrap();
    let taken = second
        .take_reveal(&session.digest, &client_id, NOW)
        .unwrap()
        .map(|pad| pad.as_bytes().to_vec());
    assert_eq!(taken, Some(vec![5; 56]), "a pad kept on one node");
    assert!(
        first
            .take_reveal(&session.digest, &client_id, NOW)
            .unwrap()
            .is_none(),
        "and taken once, across nodes"
    );
    second.delete_session(&session.digest).unwrap();
    assert_eq!(first.session(&session.digest).unwrap(), None);
}

/// NoticeOutbox::record: nodes sweeping at the same time record each notice once.
pub fn nodes_record_each_notice_once<S: Store + 'static>(first: Arc<S>, second: Arc<S>) {
    let notices = Arc::new(twenty_with_two_notices_each(first.as_ref()));
    let batch = notices.clone();
    let recorded: usize = race(&[&first, &second], 2, move |store, _| {
        store.record(&batch, NOW).unwrap()
    })
    .into_iter()
    .sum();
    assert_eq!(
        recorded,
        notices.len(),
        "nodes together record each notice once"
    );
    let on_first = first.log(&slug("default")).unwrap();
    assert_eq!(on_first.len(), notices.len());
    assert_eq!(
        second.log(&slug("default")).unwrap(),
        on_first,
        "both nodes read the same log"
    );
    let pending = first.due_delivery_count(&[Channel::Email], NOW).unwrap();
    assert_eq!(
        pending,
        notices.len() as u64,
        "each recorded notice's e-mail delivery exists once"
    );
}

/// DeliveryQueue: nodes claiming at the same time never hold the same delivery, and only
/// the lease holder, on whichever node, records an outcome.
pub fn nodes_claim_each_delivery_once<S: Store + 'static>(first: Arc<S>, second: Arc<S>) {
    twenty_pending_emails(first.as_ref());
    let claims = race(&[&first, &second], 2, claim_until_none_left);
    let claimed: Vec<_> = claims.into_iter().flatten().collect();
    let mut client_ids: Vec<&str> = claimed
        .iter()
        .map(|(delivery, _)| delivery.client_id.as_str())
        .collect();
    client_ids.sort_unstable();
    client_ids.dedup();
    assert_eq!(claimed.len(), 20, "every delivery claimed exactly once");
    assert_eq!(client_ids.len(), 20, "no delivery claimed by two nodes");

    let (delivery, holder) = &claimed[0];
    let sent = outcome(DeliveryStatus::Sent, 1, None);
    assert!(
        !second
            .finish_delivery(&delivery.target(), "not-the-holder", &sent)
            .unwrap(),
        "another lease cannot finish a claimed delivery"
    );
    assert!(
        second
            .finish_delivery(&delivery.target(), holder, &sent)
            .unwrap(),
        "the lease holder finishes it through any node"
    );

    // A node that died: its lease runs out, another node takes the delivery over, and the
    // late outcome of the first holder is refused (fencing).
    let (orphan, dead_holder) = &claimed[1];
    let later = NOW + Duration::minutes(6);
    let taken_over = second
        .claim_deliveries(
            &[Channel::Email],
            later,
            &lease("survivor", later + Duration::minutes(5)),
            20,
        )
        .unwrap();
    assert_eq!(
        taken_over.len(),
        19,
        "every delivery whose lease ran out is claimed again"
    );
    assert!(
        !first
            .finish_delivery(&orphan.target(), dead_holder, &sent)
            .unwrap(),
        "an expired lease cannot finish a delivery another node took over"
    );
    assert!(
        first
            .finish_delivery(&orphan.target(), "survivor", &sent)
            .unwrap()
    );
}

/// KeyStore: nodes starting together on an empty store MUST end up with the same single
/// key; a rotation on one node is what every node reads next.
pub fn nodes_end_up_with_the_same_single_key<S: Store + 'static>(first: Arc<S>, second: Arc<S>) {
    let results = race(&[&first, &second], 2, |store, node| {
        let byte = u8::try_from(node + 1).unwrap();
        store
            .ensure_signing_key(&signing_key(&format!("candidate-{node}"), byte))
            .unwrap()
    });
    let kept = &results[0];
    assert_eq!(kept.len(), 1, "one key: {kept:?}");
    assert!(
        results.iter().all(|keys| keys == kept),
        "every node got the same key"
    );
    assert_eq!(&first.signing_keys().unwrap(), kept);
    assert_eq!(&second.signing_keys().unwrap(), kept);

    let rotated = first
        .rotate_signing_key(&signing_key("rotated", 42), 2)
        .unwrap();
    let on_second = second.signing_keys().unwrap();
    assert_eq!(on_second, rotated, "a rotation is seen by the other node");
    assert_eq!(on_second[0].kid, "rotated");
    assert_eq!(on_second[1], kept[0], "the previous key is kept");
}
