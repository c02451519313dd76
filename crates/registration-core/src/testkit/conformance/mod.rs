//! The storage ports' contract as executable checks, written once for every store.
//!
//! A store crate runs them all with one macro call in its integration tests:
//!
//! ```text
//! registration_core::store_conformance_tests! {
//!     // A new, empty database; the first element lives as long as the test.
//!     fresh: || {
//!         let dir = tempfile::tempdir().unwrap();
//!         let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
//!         (dir, store)
//!     },
//!     // Another handle on the same database, as a second node would open it.
//!     second_handle: |dir: &TempDir| SqliteStore::open(&dir.path().join("t.db")).unwrap(),
//!     // Makes a row unreadable behind the store's back (see `Damage`).
//!     damage: damage_row,
//! }
//! ```
//!
//! Each check panics with a message naming the violated sentence of the port's contract.
//! One file per port; `nodes.rs` holds the cross-node sentences (two handles on one
//! database) and `reads.rs` the "MUST NOT read" sentences.

#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

use std::sync::{Arc, Barrier};

use time::{Duration, OffsetDateTime, macros::datetime};

use crate::{
    AdminAccount, AdminName, AuditEntry, Channel, ClientId, ClientSecret, Delivery,
    DeliveryOutcome, DeliveryState, DeliveryStatus, Disposition, DueNotice, ExpirationDate, Lease,
    NoticeKey, NoticeKind, NoticeRecord, Registration, RegistrationId, RegistrationName,
    RegistrationRecord, Rejections, SigningKeyRecord, Site, SiteName, SitePolicy, SiteSlug,
    SiteZone, Store, StoredSecret, WebhookEndpoint, WebhookSecret, WebhookUrl,
};

use super::SeededRandom;

mod admins;
mod audit;
mod deliveries;
mod expiry;
mod inbox;
mod keys;
mod nodes;
mod notices;
mod reads;
mod registrations;
mod secrets;
mod sessions;
mod sites;
mod templates;
mod webhooks;
pub use audit::{
    audit_pages_are_per_site_newest_first_and_counted, changes_store_their_audit_entries_unaltered,
    refused_changes_store_no_audit_entry, service_audits_every_change_without_secrets,
    traffic_and_notices_write_no_audit_entry,
};

pub use admins::{
    admins_and_tokens_round_trip, calendar_feeds_are_one_per_administrator_and_site,
    subscriptions_are_choices_per_site_user_kind_and_channel,
};
pub use deliveries::{
    concurrent_claims_take_each_delivery_once, deliveries_are_claimed_under_a_lease_and_finished,
};
pub use expiry::{
    expiring_in_takes_each_sites_first_registrations,
    expiry_entries_are_the_filtered_dates_soonest_first,
};
pub use inbox::inboxes_hold_each_administrators_in_app_notices;
pub use keys::signing_keys_are_created_once_and_rotated;
pub use nodes::{
    nodes_claim_each_delivery_once, nodes_end_up_with_the_same_single_key,
    nodes_honour_changes_within_the_freshness_bound, nodes_record_each_notice_once,
    nodes_see_each_others_changes,
};
pub use notices::{
    candidates_are_the_registrations_that_can_be_due, concurrent_recording_records_once,
    log_is_newest_first_and_per_site, log_pages_filter_and_count,
    notices_are_recorded_at_most_once, stale_notices_are_not_recorded,
};
pub use reads::{
    Damage, log_pages_read_only_what_they_return, queries_read_only_the_registrations_they_need,
};
pub use registrations::{
    banner_candidates_are_enabled_and_due_by_the_date, delete_cancels_open_deliveries,
    insert_refuses_duplicates, list_is_sorted_by_name, pages_filter_on_stored_facts,
    pages_search_sort_and_count, registrations_round_trip, sites_are_isolated,
    update_checks_revision_and_names, usage_is_recorded_without_a_new_revision,
};
pub use secrets::{rotated_secrets_round_trip, secret_usage_lands_on_the_secret_it_names};
pub use sessions::{reveal_pads_are_taken_once, sessions_round_trip_and_expire};
pub use sites::{
    fresh_store_has_the_default_site, sites_are_updated_whole,
    sites_round_trip_and_refuse_duplicates,
};
pub use templates::templates_are_saved_per_site_and_kind;
pub use webhooks::webhooks_round_trip_and_removal_cancels_deliveries;

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
        secret: StoredSecret {
            hash: super::shared_secret_hash(),
            hint: secret.hint(),
            created_at: datetime!(2026-11-23 09:15:42.123456789 UTC),
            last_used: None,
        },
        previous_secret: None,
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

/// Keys made at the same instant on purpose: order must follow storage, not timestamps.
fn signing_key(kid: &str, byte: u8) -> SigningKeyRecord {
    SigningKeyRecord {
        kid: kid.into(),
        private_key: zeroize::Zeroizing::new([byte; 32]),
        created_at: NOW,
    }
}

/// Runs `work` on `threads` threads per handle, all released at once, and returns every
/// result. One handle: threads of one process; two: two processes or nodes.
fn race<S: Store + 'static, T: Send + 'static>(
    handles: &[&Arc<S>],
    threads: usize,
    work: impl Fn(&S, usize) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let barrier = Arc::new(Barrier::new(handles.len() * threads));
    let work = Arc::new(work);
    let joins: Vec<_> = handles
        .iter()
        .flat_map(|handle| std::iter::repeat_n(*handle, threads))
        .enumerate()
        .map(|(index, handle)| {
            let (handle, barrier, work) = (handle.clone(), barrier.clone(), work.clone());
            std::thread::spawn(move || {
                barrier.wait();
                work(&handle, index)
            })
        })
        .collect();
    joins.into_iter().map(|join| join.join().unwrap()).collect()
}

/// Twenty registrations of `default`, and for each the notices a catch-up sweep computes
/// (30-day superseded, 7-day delivered), not yet recorded.
fn twenty_with_two_notices_each(store: &impl Store) -> Vec<NoticeRecord> {
    (0..20)
        .flat_map(|i| {
            let registration = registration("default", &format!("Registration {i}"), i);
            store.insert(&registration, &audit()).unwrap();
            [
                notice(
                    &registration,
                    NoticeKind::ExpiresIn30Days,
                    Disposition::SkippedSuperseded,
                ),
                notice(
                    &registration,
                    NoticeKind::ExpiresIn7Days,
                    Disposition::Deliver,
                ),
            ]
        })
        .collect()
}

/// Twenty registrations of `default`, each with a recorded `expired` notice whose e-mail
/// delivery is pending.
fn twenty_pending_emails(store: &impl Store) {
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
}

/// Claims e-mail deliveries three at a time as `worker` until none is left; each with the
/// lease it was claimed under.
fn claim_until_none_left(store: &impl Store, worker: usize) -> Vec<(Delivery, String)> {
    let mut mine = Vec::new();
    loop {
        let lease = lease(&format!("worker-{worker}"), NOW + Duration::minutes(5));
        let claimed = store
            .claim_deliveries(&[Channel::Email], NOW, &lease, 3)
            .unwrap();
        if claimed.is_empty() {
            return mine;
        }
        mine.extend(
            claimed
                .into_iter()
                .map(|claim| (claim.delivery, lease.id.clone())),
        );
    }
}

/// Generates one `#[test]` per conformance check.
///
/// - `fresh` returns `(guard, store)` on a new, empty database; the guard (e.g. a temporary
///   directory, or a database to drop) lives as long as the test.
/// - `second_handle` opens another handle on the guard's database, as a second process or
///   node would: the cross-node checks run one side on each handle.
/// - `damage` damages a row behind the store's back (see
///   [`Damage`](crate::testkit::conformance::Damage)), for the "MUST NOT read" checks.
#[macro_export]
macro_rules! store_conformance_tests {
    (fresh: $make:expr, second_handle: $reopen:expr, damage: $damage:expr $(,)?) => {
        $crate::store_conformance_tests!(@each $make;
            fresh_store_has_the_default_site,
            sites_round_trip_and_refuse_duplicates,
            sites_are_updated_whole,
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
            rotated_secrets_round_trip,
            expiry_entries_are_the_filtered_dates_soonest_first,
            expiring_in_takes_each_sites_first_registrations,
            secret_usage_lands_on_the_secret_it_names,
            signing_keys_are_created_once_and_rotated,
            admins_and_tokens_round_trip,
            calendar_feeds_are_one_per_administrator_and_site,
            templates_are_saved_per_site_and_kind,
            candidates_are_the_registrations_that_can_be_due,
            subscriptions_are_choices_per_site_user_kind_and_channel,
            webhooks_round_trip_and_removal_cancels_deliveries,
            deliveries_are_claimed_under_a_lease_and_finished,
            pages_search_sort_and_count,
            pages_filter_on_stored_facts,
            banner_candidates_are_enabled_and_due_by_the_date,
            sessions_round_trip_and_expire,
            reveal_pads_are_taken_once,
            log_pages_filter_and_count,
            inboxes_hold_each_administrators_in_app_notices,
            changes_store_their_audit_entries_unaltered,
            refused_changes_store_no_audit_entry,
            traffic_and_notices_write_no_audit_entry,
            audit_pages_are_per_site_newest_first_and_counted,
        );
        $crate::store_conformance_tests!(@shared $make;
            service_audits_every_change_without_secrets,
            concurrent_claims_take_each_delivery_once,
            concurrent_recording_records_once,
        );
        $crate::store_conformance_tests!(@nodes $make, $reopen;
            nodes_record_each_notice_once,
            nodes_claim_each_delivery_once,
            nodes_end_up_with_the_same_single_key,
            nodes_honour_changes_within_the_freshness_bound,
        );
        #[test]
        fn nodes_see_each_others_changes() {
            let (guard, first) = ($make)();
            let second = ($reopen)(&guard);
            $crate::testkit::conformance::nodes_see_each_others_changes(&first, &second);
        }
        $crate::store_conformance_tests!(@damaged $make, $damage;
            queries_read_only_the_registrations_they_need,
            log_pages_read_only_what_they_return,
        );
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
    (@shared $make:expr; $($check:ident),* $(,)?) => {
        $(
            #[test]
            fn $check() {
                let (_guard, store) = ($make)();
                $crate::testkit::conformance::$check(::std::sync::Arc::new(store));
            }
        )*
    };
    (@nodes $make:expr, $reopen:expr; $($check:ident),* $(,)?) => {
        $(
            #[test]
            fn $check() {
                let (guard, first) = ($make)();
                let second = ($reopen)(&guard);
                $crate::testkit::conformance::$check(
                    ::std::sync::Arc::new(first),
                    ::std::sync::Arc::new(second),
                );
            }
        )*
    };
    (@damaged $make:expr, $damage:expr; $($check:ident),* $(,)?) => {
        $(
            #[test]
            fn $check() {
                let (guard, store) = ($make)();
                $crate::testkit::conformance::$check(&store, &|damage| ($damage)(&guard, damage));
            }
        )*
    };
}
