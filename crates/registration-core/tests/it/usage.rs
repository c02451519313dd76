//! Coalesced token traffic (SPEC section 8): `UsageLedger` against a reference model that
//! keeps every event.

use std::sync::OnceLock;

use proptest::prelude::*;
use registration_core::{
    ExpirationDate, Registration, RegistrationId, Rejections, SecretSlot, SecretUsage, UsageLedger,
    UsageUpdate,
};
use time::{Duration, OffsetDateTime};

use crate::{created, expires, instant, site};

#[derive(Debug, Clone)]
enum Event {
    Used {
        registration: usize,
        second: i64,
    },
    Rejected {
        registration: usize,
        second: i64,
    },
    /// The registration's expiration date moves one day later.
    Renewed {
        registration: usize,
    },
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        (0..2usize, 0..600i64).prop_map(|(registration, second)| Event::Used {
            registration,
            second
        }),
        (0..2usize, 0..600i64).prop_map(|(registration, second)| Event::Rejected {
            registration,
            second
        }),
        (0..2usize).prop_map(|registration| Event::Renewed { registration }),
    ]
}

fn renewed(registration: &Registration) -> Registration {
    let mut record = registration.record().clone();
    record.expiration_date =
        ExpirationDate::from_date(record.expiration_date.date().next_day().unwrap());
    Registration::from_record(record)
}

/// What the update of one registration must say after `events`: the latest use, and the
/// rejections recorded under the expiration date of its last recorded event (they count per
/// expiry; an older date's rejections are stale).
fn model(
    registration: &Registration,
    index: usize,
    events: &[Event],
    t0: OffsetDateTime,
) -> Option<UsageUpdate> {
    let mut current = registration.clone();
    // (rejected?, expiration date, instant) of every recorded event, in order.
    let mut recorded = Vec::new();
    for event in events {
        match *event {
            Event::Used {
                registration,
                second,
            } if registration == index => {
                recorded.push((
                    false,
                    current.expiration_date(),
                    t0 + Duration::seconds(second),
                ));
            }
            Event::Rejected {
                registration,
                second,
            } if registration == index => {
                recorded.push((
                    true,
                    current.expiration_date(),
                    t0 + Duration::seconds(second),
                ));
            }
            Event::Renewed { registration } if registration == index => current = renewed(&current),
            _ => {}
        }
    }
    let &(_, expiration_date, _) = recorded.last()?;
    let rejected = || {
        recorded
            .iter()
            .filter(move |(rejected, date, _)| *rejected && *date == expiration_date)
    };
    let last_used = recorded
        .iter()
        .filter(|(rejected, ..)| !rejected)
        .map(|&(.., at)| at)
        .max();
    Some(UsageUpdate {
        registration: current.id(),
        expiration_date,
        last_used,
        rejections: rejected().count() as u64,
        last_rejected: rejected().map(|&(.., at)| at).max(),
        // Every use is of the current secret here (these registrations never rotate).
        secrets: last_used
            .map(|at| SecretUsage {
                hint: registration.secret().hint.clone(),
                last_used: Some(at),
                rejections: Rejections::default(),
            })
            .into_iter()
            .collect(),
    })
}

proptest! {
    #[test]
    fn ledger_agrees_with_a_model_that_keeps_every_event(events in prop::collection::vec(event(), 0..40)) {
        let t0 = instant("2026-11-23T09:00:00Z");
        let originals = two_registrations();
        let mut current = originals.clone();
        let mut ledger = UsageLedger::default();
        for event in &events {
            match *event {
                Event::Used { registration, second } => {
                    ledger.record_use(&current[registration], SecretSlot::Current, t0 + Duration::seconds(second));
                }
                Event::Rejected { registration, second } => {
                    ledger.record_rejection(&current[registration], t0 + Duration::seconds(second));
                }
                Event::Renewed { registration } => current[registration] = renewed(&current[registration]),
            }
        }
        let mut taken = ledger.take();
        taken.sort_by_key(|update| update.registration);
        let mut expected: Vec<UsageUpdate> = (0..2)
            .filter_map(|index| model(&originals[index], index, &events, t0))
            .collect();
        expected.sort_by_key(|update| update.registration);
        prop_assert_eq!(taken, expected);
        prop_assert!(ledger.take().is_empty(), "take forgets what it returned");
    }
}

/// Two registrations with distinct IDs, made once (creating one costs an argon2 hash).
fn two_registrations() -> &'static [Registration; 2] {
    static REGISTRATIONS: OnceLock<[Registration; 2]> = OnceLock::new();
    REGISTRATIONS.get_or_init(|| {
        let acme = site("UTC");
        let t0 = instant("2026-11-23T09:00:00Z");
        let mut second = created(&acme, "2027-02-01", t0).into_record();
        second.id = RegistrationId::from_uuid(uuid::Uuid::from_bytes([2; 16]));
        [
            created(&acme, "2027-01-01", t0),
            Registration::from_record(second),
        ]
    })
}

#[test]
fn a_renewal_between_rejections_starts_the_count_over() {
    let acme = site("UTC");
    let t0 = instant("2026-11-23T09:00:00Z");
    let registration = created(&acme, "2026-12-01", t0);
    let mut ledger = UsageLedger::default();
    ledger.record_rejection(&registration, t0);
    ledger.record_rejection(&registration, t0 + Duration::seconds(5));
    ledger.record_use(
        &registration,
        SecretSlot::Current,
        t0 + Duration::seconds(1),
    );
    let renewed = renewed(&registration);
    ledger.record_rejection(&renewed, t0 + Duration::seconds(3));
    assert_eq!(
        ledger.take(),
        vec![UsageUpdate {
            registration: registration.id(),
            expiration_date: expires("2026-12-02"),
            last_used: Some(t0 + Duration::seconds(1)),
            rejections: 1,
            last_rejected: Some(t0 + Duration::seconds(3)),
            secrets: vec![SecretUsage {
                hint: registration.secret().hint.clone(),
                last_used: Some(t0 + Duration::seconds(1)),
                rejections: Rejections::default(),
            }],
        }]
    );
}
