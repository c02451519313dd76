//! The state machine and the schedule against a small reference model (proptest-state-machine).
//!
//! The model speaks in site-local *dates*: a notice kind is due once today's local date has
//! reached its due date, and the state follows from `expiration date − today`. The system
//! under test speaks in *instants* (`start_of_day`, `due_at`). Agreement between the two
//! over random zones, dates, commands and clock jumps is the property.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};
use registration_core::testkit::{SeededRandom, shared_secret_hash};
use registration_core::{
    ClientId, ClientSecret, Disposition, ExpirationDate, NoticeKey, NoticeKind, Registration,
    RegistrationId, RegistrationName, RegistrationRecord, Rejections, Site, State, StoredSecret,
    due_notices, next_due_at,
};
use time::{Date, Duration, Month, OffsetDateTime};

use crate::zones::{reference_local_date, reference_start_of_day};
use crate::{ZONES, site};

#[derive(Debug, Clone)]
struct Model {
    zone: &'static str,
    now: OffsetDateTime,
    expiration_date: Date,
    enabled: bool,
    /// Every notice recorded so far, over all cycles: (expiration date, kind) → disposition.
    recorded: BTreeMap<(Date, NoticeKind), Disposition>,
}

#[derive(Debug, Clone)]
enum Command {
    Advance(Duration),
    /// Jump to the next instant at which the model expects a notice to fall due.
    AdvanceToNextDue,
    Sweep,
    /// Renew to `today + days` (negative: a past date, which must be refused).
    Renew(i64),
    Disable,
    Enable,
}

impl Model {
    fn today(&self) -> Date {
        reference_local_date(self.zone, self.now)
    }

    fn state(&self) -> State {
        let days_left = (self.expiration_date - self.today()).whole_days();
        if !self.enabled {
            State::Disabled
        } else if days_left < 0 {
            State::Expired
        } else if days_left <= 7 {
            State::Expiring7
        } else if days_left <= 30 {
            State::Expiring30
        } else {
            State::Active
        }
    }

    fn due_date(&self, kind: NoticeKind) -> Date {
        match kind {
            NoticeKind::ExpiresIn30Days => self.expiration_date - Duration::days(30),
            NoticeKind::ExpiresIn7Days => self.expiration_date - Duration::days(7),
            NoticeKind::Expired => self.expiration_date + Duration::days(1),
        }
    }

    fn unrecorded_kinds(&self) -> impl Iterator<Item = NoticeKind> + '_ {
        NoticeKind::ALL
            .into_iter()
            .filter(|kind| !self.recorded.contains_key(&(self.expiration_date, *kind)))
    }

    /// What a sweep now must record, as the model sees it.
    fn expected_sweep(&self) -> Vec<(NoticeKind, Disposition)> {
        if !self.enabled {
            return Vec::new();
        }
        let today = self.today();
        let latest_due = NoticeKind::ALL
            .into_iter()
            .filter(|kind| self.due_date(*kind) <= today)
            .max();
        self.unrecorded_kinds()
            .filter(|kind| self.due_date(*kind) <= today)
            .map(|kind| {
                let disposition = if Some(kind) == latest_due {
                    Disposition::Deliver
                } else {
                    Disposition::SkippedSuperseded
                };
                (kind, disposition)
            })
            .collect()
    }

    fn next_due(&self) -> Option<OffsetDateTime> {
        if !self.enabled {
            return None;
        }
        self.unrecorded_kinds()
            .map(|kind| reference_start_of_day(self.zone, self.due_date(kind)))
            .filter(|&due_at| due_at > self.now)
            .min()
    }

    fn renewal_allowed(&self, date: Date) -> bool {
        let today = self.today();
        let ten_years = Date::from_calendar_date(today.year() + 10, today.month(), today.day())
            .unwrap_or_else(|_| {
                Date::from_calendar_date(today.year() + 10, Month::February, 28).unwrap()
            });
        today <= date && date <= ten_years
    }
}

struct ModelMachine;

impl ReferenceStateMachine for ModelMachine {
    type State = Model;
    type Transition = Command;

    fn init_state() -> BoxedStrategy<Model> {
        let start = time::macros::datetime!(2024-01-01 0:00 UTC);
        (
            proptest::sample::select(ZONES),
            0..6 * 365 * 86_400i64,
            0..400i64,
            proptest::bool::weighted(0.9),
        )
            .prop_map(move |(zone, seconds, days_ahead, enabled)| {
                let now = start + Duration::seconds(seconds);
                Model {
                    zone,
                    now,
                    expiration_date: reference_local_date(zone, now) + Duration::days(days_ahead),
                    enabled,
                    recorded: BTreeMap::new(),
                }
            })
            .boxed()
    }

    fn transitions(_: &Model) -> BoxedStrategy<Command> {
        prop_oneof![
            2 => (1..=3_600i64).prop_map(|s| Command::Advance(Duration::seconds(s))),
            2 => (1..=72i64).prop_map(|h| Command::Advance(Duration::hours(h))),
            2 => (1..=45i64).prop_map(|d| Command::Advance(Duration::days(d))),
            3 => Just(Command::AdvanceToNextDue),
            4 => Just(Command::Sweep),
            2 => prop_oneof![-3..=60i64, 61..=400i64, 3_640..=3_660i64].prop_map(Command::Renew),
            1 => Just(Command::Disable),
            1 => Just(Command::Enable),
        ]
        .boxed()
    }

    fn apply(mut model: Model, command: &Command) -> Model {
        match command {
            Command::Advance(by) => model.now += *by,
            Command::AdvanceToNextDue => {
                if let Some(next) = model.next_due() {
                    model.now = next;
                }
            }
            Command::Sweep => {
                for (kind, disposition) in model.expected_sweep() {
                    model
                        .recorded
                        .insert((model.expiration_date, kind), disposition);
                }
            }
            Command::Renew(days) => {
                let date = model.today() + Duration::days(*days);
                if model.renewal_allowed(date) {
                    model.expiration_date = date;
                }
            }
            Command::Disable => model.enabled = false,
            Command::Enable => model.enabled = true,
        }
        model
    }
}

/// The real `Registration`, the real schedule functions, and an in-memory notice log.
struct System {
    site: Site,
    now: OffsetDateTime,
    registration: Registration,
    recorded: BTreeMap<NoticeKey, Disposition>,
}

impl System {
    fn recorded_kinds(&self) -> Vec<NoticeKind> {
        self.recorded
            .keys()
            .filter(|key| key.expiration_date == self.registration.expiration_date())
            .map(|key| key.kind)
            .collect()
    }

    fn due_at(&self, now: OffsetDateTime) -> Vec<NoticeKey> {
        due_notices(
            self.registration.schedule_subject(),
            self.site.zone,
            now,
            &self.recorded_kinds(),
        )
        .into_iter()
        .map(|notice| notice.key)
        .collect()
    }
}

impl StateMachineTest for System {
    type SystemUnderTest = Self;
    type Reference = ModelMachine;

    fn init_test(model: &Model) -> Self {
        let random = SeededRandom::new(1);
        let secret = ClientSecret::generate(&random).unwrap();
        let registration = Registration::from_record(RegistrationRecord {
            id: RegistrationId::generate(&random).unwrap(),
            site: site(model.zone).slug,
            client_id: ClientId::generate(&random).unwrap(),
            name: RegistrationName::parse("Model").unwrap(),
            expiration_date: ExpirationDate::from_date(model.expiration_date),
            enabled: model.enabled,
            secret: StoredSecret {
                hash: shared_secret_hash(),
                hint: secret.hint(),
                created_at: model.now,
                last_used: None,
            },
            previous_secret: None,
            registration_date: model.now,
            last_used: None,
            rejections: Rejections::default(),
            revision: 0,
        });
        System {
            site: site(model.zone),
            now: model.now,
            registration,
            recorded: BTreeMap::new(),
        }
    }

    fn apply(mut system: Self, model: &Model, command: Command) -> Self {
        match command {
            Command::Advance(by) => system.now += by,
            Command::AdvanceToNextDue => {
                let next = next_due_at(
                    system.registration.schedule_subject(),
                    system.site.zone,
                    system.now,
                    &system.recorded_kinds(),
                );
                if let Some(next) = next {
                    system.now = next;
                }
                assert_eq!(
                    system.now, model.now,
                    "next_due_at disagrees with the model"
                );
            }
            Command::Sweep => {
                let due = due_notices(
                    system.registration.schedule_subject(),
                    system.site.zone,
                    system.now,
                    &system.recorded_kinds(),
                );
                for notice in due {
                    let previous = system.recorded.insert(notice.key, notice.disposition);
                    assert_eq!(previous, None, "{:?} recorded twice", notice.key);
                }
            }
            Command::Renew(days) => {
                let today = system.site.today(system.now);
                let date = today + Duration::days(days);
                let outcome = system.registration.renew(
                    ExpirationDate::from_date(date),
                    &system.site,
                    system.now,
                );
                // Renewing does not move the clock, so the model's `today` is the same after.
                assert_eq!(outcome.is_ok(), model.renewal_allowed(date), "{outcome:?}");
            }
            Command::Disable => system.registration.disable(),
            Command::Enable => system.registration.enable(),
        }
        system
    }

    fn check_invariants(system: &Self, model: &Model) {
        let status = system.registration.status(&system.site, system.now);
        assert_eq!(status.state, model.state());
        assert_eq!(
            status.state.can_authenticate(),
            model.state().can_authenticate()
        );
        assert_eq!(
            system.registration.expiration_date().date(),
            model.expiration_date
        );

        let recorded: BTreeMap<(Date, NoticeKind), Disposition> = system
            .recorded
            .iter()
            .map(|(key, disposition)| ((key.expiration_date.date(), key.kind), *disposition))
            .collect();
        assert_eq!(recorded, model.recorded);

        // "At the right time": nothing new falls due before the announced deadline, and
        // something does at it.
        let due_now = system.due_at(system.now);
        assert_eq!(
            due_now.iter().map(|key| key.kind).collect::<Vec<_>>(),
            model
                .expected_sweep()
                .into_iter()
                .map(|(kind, _)| kind)
                .collect::<Vec<_>>()
        );
        let next = next_due_at(
            system.registration.schedule_subject(),
            system.site.zone,
            system.now,
            &system.recorded_kinds(),
        );
        assert_eq!(next, model.next_due());
        if let Some(next) = next {
            assert_eq!(system.due_at(next - Duration::SECOND), due_now);
            assert!(system.due_at(next).len() > due_now.len());
        }
    }
}

prop_state_machine! {
    #![proptest_config(ProptestConfig::default())]
    #[test]
    fn registration_and_schedule_follow_the_model(sequential 1..40 => System);
}
