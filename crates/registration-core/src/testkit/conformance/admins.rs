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
