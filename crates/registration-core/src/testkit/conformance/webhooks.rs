//! `WebhookStore`: endpoints per site, and removal cancelling their deliveries.

use crate::{Channel, DeliveryStatus, Store, StoreError};

use super::{HOOK, NOW, audit, endpoint, notice_with_webhook, registration, site, slug};

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
