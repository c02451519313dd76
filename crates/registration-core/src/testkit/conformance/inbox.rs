//! `Inbox`: each administrator sees the in-app notices delivered to them in their sites,
//! newest first, and marks them read for themselves only.

use time::Duration;

use crate::{Channel, DeliveryState, DeliveryStatus, Disposition, InboxQuery, NoticeKind, Store};

use super::{NOW, admin, audit, notice, registration, site, slug};

/// Inbox: in-app `sent` deliveries only, per recipient and site, newest first, counted;
/// read marks are the reader's own.
pub fn inboxes_hold_each_administrators_in_app_notices(store: &impl Store) {
    store.add_site(&site("other", "UTC"), &audit()).unwrap();
    let alice = admin("alice", &["default", "other"]);
    let bob = admin("bob", &["default"]);
    store.add_admin(&alice, &[audit(), audit()]).unwrap();
    store.add_admin(&bob, &[audit()]).unwrap();
    let ours = registration("default", "Ours", 1);
    let theirs = registration("other", "Theirs", 2);
    store.insert(&ours, &audit()).unwrap();
    store.insert(&theirs, &audit()).unwrap();
    let in_app = |who: &str, status| DeliveryState::planned(who, Channel::InApp, status);
    let mut soon = notice(&ours, NoticeKind::ExpiresIn30Days, Disposition::Deliver);
    soon.deliveries = vec![
        in_app("alice", DeliveryStatus::Sent),
        in_app("bob", DeliveryStatus::Sent),
        DeliveryState::planned("alice@example.com", Channel::Email, DeliveryStatus::Pending),
    ];
    let mut skipped = notice(
        &ours,
        NoticeKind::ExpiresIn7Days,
        Disposition::SkippedSuperseded,
    );
    skipped.deliveries = vec![in_app("alice", DeliveryStatus::Skipped)];
    let mut gone = notice(&theirs, NoticeKind::Expired, Disposition::Deliver);
    gone.deliveries = vec![in_app("alice", DeliveryStatus::Sent)];
    store.record(&[soon.clone(), skipped], NOW).unwrap();
    store
        .record(&[gone.clone()], NOW + Duration::hours(1))
        .unwrap();

    let all = InboxQuery {
        unread_only: false,
        offset: 0,
        limit: 10,
    };
    let both = [slug("default"), slug("other")];
    let page = store.inbox_page(&alice.username, &both, &all).unwrap();
    let keys: Vec<_> = page.items.iter().map(|item| item.key).collect();
    assert_eq!(
        keys,
        [gone.notice.key, soon.notice.key],
        "sent in-app deliveries only, newest first"
    );
    assert_eq!((page.total, page.unread), (2, 2));
    let first = &page.items[1];
    assert_eq!(
        (
            first.site.as_str(),
            first.registration_name.as_str(),
            &first.client_id,
            first.subject.as_str(),
            first.body.as_str(),
            first.due_at,
            first.recorded_at,
            first.read_at
        ),
        (
            "default",
            "Ours",
            ours.client_id(),
            soon.subject.as_str(),
            soon.body.as_str(),
            soon.notice.due_at,
            NOW,
            None
        ),
        "an item reads back as recorded"
    );
    let only_default = store
        .inbox_page(&alice.username, &[slug("default")], &all)
        .unwrap();
    assert_eq!(
        only_default.items.len(),
        1,
        "another site's notices never appear"
    );
    let counts = InboxQuery { limit: 0, ..all };
    let bobs = store.inbox_page(&bob.username, &both, &counts).unwrap();
    assert_eq!((bobs.items.len(), bobs.total, bobs.unread), (0, 1, 1));
    assert_eq!(
        store.inbox_page(&alice.username, &[], &all).unwrap().total,
        0,
        "no sites, no inbox"
    );

    let read_at = NOW + Duration::hours(2);
    assert!(
        store
            .mark_read(&alice.username, &both, &soon.notice.key, read_at)
            .unwrap()
    );
    assert!(
        !store
            .mark_read(
                &alice.username,
                &[slug("default")],
                &gone.notice.key,
                read_at
            )
            .unwrap(),
        "not in the sites given"
    );
    assert!(
        !store
            .mark_read(&bob.username, &both, &gone.notice.key, read_at)
            .unwrap(),
        "not bob's"
    );
    let page = store.inbox_page(&alice.username, &both, &all).unwrap();
    assert_eq!((page.total, page.unread), (2, 1));
    assert_eq!(page.items[1].read_at, Some(read_at));
    assert_eq!(
        store
            .inbox_page(&bob.username, &both, &counts)
            .unwrap()
            .unread,
        1,
        "alice's read mark is hers alone"
    );
    let unread_only = InboxQuery {
        unread_only: true,
        ..all
    };
    let unread = store
        .inbox_page(&alice.username, &both, &unread_only)
        .unwrap();
    assert_eq!(
        (
            unread.items.len(),
            unread.total,
            unread.unread,
            unread.items[0].key
        ),
        (1, 1, 1, gone.notice.key)
    );
    let second = InboxQuery {
        offset: 1,
        limit: 1,
        ..all
    };
    assert_eq!(
        store
            .inbox_page(&alice.username, &both, &second)
            .unwrap()
            .items[0]
            .key,
        soon.notice.key,
        "paged"
    );

    let later = NOW + Duration::hours(3);
    assert_eq!(
        store.mark_all_read(&alice.username, &both, later).unwrap(),
        1
    );
    let page = store.inbox_page(&alice.username, &both, &all).unwrap();
    assert_eq!(page.unread, 0);
    assert_eq!(
        page.items
            .iter()
            .map(|item| item.read_at)
            .collect::<Vec<_>>(),
        [Some(later), Some(read_at)],
        "a read mark is kept, not moved"
    );
    assert_eq!(
        store.mark_all_read(&alice.username, &both, later).unwrap(),
        0
    );
}
