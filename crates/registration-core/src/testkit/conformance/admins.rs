//! `AdminStore`: administrators, API token digests, subscriptions.

use crate::{Channel, NoticeKind, Store, StoreError};

use super::{NOW, admin, audit, site, slug};

/// AdminStore: accounts with their sites, duplicates, and tokens found by digest only.
pub fn admins_and_tokens_round_trip(store: &impl Store) {
    store.add_site(&site("acme-eu", "UTC"), &audit()).unwrap();
    assert_eq!(store.admin_count(), Ok(0));
    let alice = crate::AdminAccount {
        username: crate::AdminName::parse("alice").unwrap(),
        password_hash: crate::testkit::shared_secret_hash(),
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

/// AdminStore: calendar feeds, one per administrator and site, found by digest only; a new
/// one replaces the old; revocation is audited only when there was a feed.
pub fn calendar_feeds_are_one_per_administrator_and_site(store: &impl Store) {
    use crate::{AdminName, AuditQuery, CalendarFeed, TokenDigest};
    store.add_site(&site("acme-eu", "UTC"), &audit()).unwrap();
    let alice = admin("alice", &["acme-eu", "default"]);
    store.add_admin(&alice, &[audit()]).unwrap();
    let feed = |digest: u8, site: &str| CalendarFeed {
        username: alice.username.clone(),
        site: slug(site),
        digest: TokenDigest([digest; 32]),
        created_at: NOW,
    };
    let audited = |site: &str| {
        store
            .audit_page(
                &slug(site),
                &AuditQuery {
                    offset: 0,
                    limit: 100,
                },
            )
            .unwrap()
            .1
    };
    let before = audited("acme-eu");
    store
        .set_calendar_feed(&feed(1, "acme-eu"), &audit_in("acme-eu"))
        .unwrap();
    store
        .set_calendar_feed(&feed(2, "default"), &audit())
        .unwrap();
    assert_eq!(
        store.calendar_feed(&TokenDigest([1; 32])),
        Ok(Some(feed(1, "acme-eu")))
    );
    assert_eq!(store.calendar_feed(&TokenDigest([9; 32])), Ok(None));
    store
        .set_calendar_feed(&feed(3, "acme-eu"), &audit_in("acme-eu"))
        .unwrap();
    assert_eq!(
        store.calendar_feed(&TokenDigest([1; 32])),
        Ok(None),
        "a new feed for the same site replaces the old one"
    );
    assert_eq!(
        store.calendar_feed(&TokenDigest([3; 32])),
        Ok(Some(feed(3, "acme-eu")))
    );
    assert_eq!(
        store.calendar_feed(&TokenDigest([2; 32])),
        Ok(Some(feed(2, "default"))),
        "the other site's feed stays"
    );
    assert_eq!(audited("acme-eu"), before + 2, "each issue is audited");

    assert_eq!(
        store.revoke_calendar_feed(&alice.username, &slug("acme-eu"), &audit_in("acme-eu")),
        Ok(true)
    );
    assert_eq!(store.calendar_feed(&TokenDigest([3; 32])), Ok(None));
    assert_eq!(
        store.revoke_calendar_feed(&alice.username, &slug("acme-eu"), &audit_in("acme-eu")),
        Ok(false),
        "nothing left to revoke"
    );
    assert_eq!(
        audited("acme-eu"),
        before + 3,
        "only a real revocation is audited"
    );

    let nobody = CalendarFeed {
        username: AdminName::parse("nobody").unwrap(),
        ..feed(4, "acme-eu")
    };
    assert_eq!(
        store.set_calendar_feed(&nobody, &audit()),
        Err(StoreError::UnknownAdmin("nobody".into()))
    );
    assert_eq!(
        store.set_calendar_feed(&feed(5, "nowhere"), &audit()),
        Err(StoreError::UnknownSite("nowhere".into()))
    );
    assert_eq!(store.calendar_feed(&TokenDigest([4; 32])), Ok(None));
}

/// An entry for a change in `site`.
fn audit_in(site: &str) -> crate::AuditEntry {
    crate::AuditEntry {
        site: slug(site),
        ..audit()
    }
}
