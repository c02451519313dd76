//! `DeliveryQueue`: claims under a lease, finishing by the lease holder only, concurrent
//! claims.

use std::sync::Arc;

use time::Duration;

use crate::{Channel, DeliveryStatus, Store};

use super::{
    HOOK, NOW, audit, claim_until_none_left, endpoint, lease, notice_with_webhook, outcome, race,
    registration, slug, twenty_pending_emails,
};

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
    twenty_pending_emails(store.as_ref());
    let claimed: Vec<_> = race(&[&store], 4, claim_until_none_left)
        .into_iter()
        .flatten()
        .collect();
    let mut client_ids: Vec<&str> = claimed
        .iter()
        .map(|(delivery, _)| delivery.client_id.as_str())
        .collect();
    assert_eq!(client_ids.len(), 20, "every delivery claimed exactly once");
    client_ids.sort_unstable();
    client_ids.dedup();
    assert_eq!(client_ids.len(), 20, "no delivery claimed twice");
}
