//! The notification schedule (SPEC section 5) with simulated time: tests jump from one
//! deadline to the next with `next_due_at`, never sleep.

use std::collections::BTreeMap;

use registration_core::{
    Disposition, NoticeKey, NoticeKind, Registration, RegistrationId, Site, due_notices,
    next_due_at,
};
use time::{Duration, OffsetDateTime};

use crate::{created, expires, instant, rfc3339, site};

/// A stand-in for the outbox: what has been recorded, keyed by notice identity.
#[derive(Default)]
struct Log(BTreeMap<NoticeKey, Disposition>);

impl Log {
    fn recorded(&self, registration: &Registration) -> Vec<NoticeKind> {
        self.0
            .keys()
            .filter(|key| {
                key.registration_id == registration.id()
                    && key.expiration_date == registration.expiration_date()
            })
            .map(|key| key.kind)
            .collect()
    }

    /// One sweep: records what is due and returns it as `kind disposition` words.
    fn sweep(
        &mut self,
        registration: &Registration,
        site: &Site,
        now: OffsetDateTime,
    ) -> Vec<String> {
        let due = due_notices(
            registration.schedule_subject(),
            site.zone,
            now,
            &self.recorded(registration),
        );
        due.iter()
            .map(|notice| {
                let previous = self.0.insert(notice.key, notice.disposition);
                assert!(previous.is_none(), "{:?} recorded twice", notice.key);
                format!("{} {:?}", notice.key.kind, notice.disposition)
            })
            .collect()
    }

    fn next_due(
        &self,
        registration: &Registration,
        site: &Site,
        now: OffsetDateTime,
    ) -> Option<OffsetDateTime> {
        next_due_at(
            registration.schedule_subject(),
            site.zone,
            now,
            &self.recorded(registration),
        )
    }
}

/// Sweeps at creation and then at each deadline the schedule announces, describing each.
fn timeline(zone: &str, expiration_date: &str, created_at: &str) -> String {
    let site = site(zone);
    let mut now = instant(created_at);
    let registration = created(&site, expiration_date, now);
    let mut log = Log::default();
    let mut lines = vec![format!(
        "{zone}, expires {expiration_date}, created {created_at}"
    )];
    loop {
        let recorded = log.sweep(&registration, &site, now);
        let local = site.zone.local(now);
        lines.push(format!(
            "  sweep {} (local {} {}): {}",
            rfc3339(now),
            local.date(),
            local.time(),
            if recorded.is_empty() {
                "nothing".into()
            } else {
                recorded.join(", ")
            }
        ));
        // Nothing may fall due between two deadlines.
        let Some(next) = log.next_due(&registration, &site, now) else {
            break;
        };
        assert!(
            log.sweep(&registration, &site, next - Duration::NANOSECOND)
                .is_empty()
        );
        now = next;
    }
    lines.join("\n")
}

#[test]
fn schedules_of_fixed_examples() {
    let timelines = [
        timeline("UTC", "2027-03-01", "2026-11-23T09:00:00Z"),
        timeline("Europe/Berlin", "2027-03-28", "2026-11-23T09:00:00Z"),
        timeline("America/Santiago", "2026-09-05", "2026-06-01T12:00:00Z"),
        timeline("Pacific/Kiritimati", "2026-12-31", "2026-11-23T09:00:00Z"),
        timeline("Pacific/Pago_Pago", "2028-02-29", "2028-02-20T09:00:00Z"),
        // Created late: 30- and 7-day notices are both due at once; only the 7-day one goes out.
        timeline("UTC", "2026-11-26", "2026-11-23T09:00:00Z"),
        // Created with today's date.
        timeline("Asia/Kolkata", "2026-11-23", "2026-11-23T09:00:00Z"),
    ];
    insta::assert_snapshot!(timelines.join("\n\n"));
}

#[test]
fn catch_up_sends_only_the_latest_due_kind() {
    let acme = site("UTC");
    let registration = created(&acme, "2026-12-01", instant("2026-11-01T09:00:00Z"));
    let mut log = Log::default();
    // The server was down from before the 30-day point until after expiry.
    assert_eq!(
        log.sweep(&registration, &acme, instant("2026-12-10T00:00:00Z")),
        [
            "expires_in_30_days SkippedSuperseded",
            "expires_in_7_days SkippedSuperseded",
            "expired Deliver"
        ]
    );
    assert!(
        log.sweep(&registration, &acme, instant("2026-12-11T00:00:00Z"))
            .is_empty()
    );
    assert_eq!(
        log.next_due(&registration, &acme, instant("2026-12-11T00:00:00Z")),
        None
    );
}

#[test]
fn a_later_kind_already_recorded_is_never_followed_by_an_earlier_delivery() {
    let acme = site("UTC");
    let registration = created(&acme, "2026-12-01", instant("2026-11-01T09:00:00Z"));
    let due = due_notices(
        registration.schedule_subject(),
        acme.zone,
        instant("2026-12-10T00:00:00Z"),
        &[NoticeKind::Expired],
    );
    assert!(
        due.iter()
            .all(|notice| notice.disposition == Disposition::SkippedSuperseded)
    );
    assert_eq!(due.len(), 2);
}

#[test]
fn renew_into_the_seven_day_window_starts_a_new_cycle() {
    let acme = site("Europe/Berlin");
    let mut now = instant("2026-11-23T09:00:00Z");
    let mut registration = created(&acme, "2027-03-01", now);
    let mut log = Log::default();
    now = instant("2027-01-30T00:00:00Z"); // 30-day notice (due 23:00 UTC the day before)
    assert_eq!(
        log.sweep(&registration, &acme, now),
        ["expires_in_30_days Deliver"]
    );

    registration
        .renew(expires("2027-02-02"), &acme, now)
        .unwrap();
    assert_eq!(
        log.sweep(&registration, &acme, now),
        [
            "expires_in_30_days SkippedSuperseded",
            "expires_in_7_days Deliver"
        ],
        "a new date is a new cycle: its 30-day notice is superseded by its 7-day one"
    );
    let expiry = log.next_due(&registration, &acme, now).unwrap();
    assert_eq!(rfc3339(expiry), "2027-02-02T23:00:00Z");
    assert_eq!(log.sweep(&registration, &acme, expiry), ["expired Deliver"]);
    assert_eq!(
        log.0.len(),
        4,
        "one from the first cycle, three from the second"
    );
}

#[test]
fn disable_then_re_enable_inside_a_window() {
    let acme = site("UTC");
    let mut registration = created(&acme, "2026-12-13", instant("2026-11-01T09:00:00Z"));
    let mut log = Log::default();
    assert!(
        log.sweep(&registration, &acme, instant("2026-11-12T00:00:00Z"))
            .is_empty()
    );

    registration.disable();
    // Inside the 30-day and then the 7-day window: nothing while disabled.
    for now in [
        "2026-11-13T00:00:00Z",
        "2026-12-06T00:00:00Z",
        "2026-12-07T12:00:00Z",
    ] {
        assert!(
            log.sweep(&registration, &acme, instant(now)).is_empty(),
            "{now}"
        );
        assert_eq!(log.next_due(&registration, &acme, instant(now)), None);
    }

    registration.enable();
    assert_eq!(
        log.sweep(&registration, &acme, instant("2026-12-07T12:00:00Z")),
        [
            "expires_in_30_days SkippedSuperseded",
            "expires_in_7_days Deliver"
        ]
    );
    assert_eq!(
        log.next_due(&registration, &acme, instant("2026-12-07T12:00:00Z"))
            .map(rfc3339),
        Some("2026-12-14T00:00:00Z".into())
    );
}

#[test]
fn notice_kinds_have_stable_names_and_due_dates() {
    let expiration_date = expires("2026-03-15");
    let described: Vec<String> = NoticeKind::ALL
        .into_iter()
        .map(|kind| {
            assert_eq!(NoticeKind::parse(kind.as_str()), Some(kind));
            format!(
                "{} | {} | due {}",
                kind,
                kind.template_name(),
                kind.due_date(expiration_date)
            )
        })
        .collect();
    assert_eq!(
        described,
        [
            "expires_in_30_days | App registration expires in 30 days | due 2026-02-13",
            "expires_in_7_days | App registration expires in 7 days | due 2026-03-08",
            "expired | App registration has expired | due 2026-03-16",
        ]
    );
    assert_eq!(NoticeKind::parse("expires_in_1_day"), None);
}

#[test]
fn notice_keys_read_back_from_their_text() {
    let key = NoticeKey {
        registration_id: RegistrationId::from_uuid(uuid::Uuid::from_bytes([7; 16])),
        expiration_date: expires("2027-01-31"),
        kind: NoticeKind::ExpiresIn7Days,
    };
    let text = key.to_string();
    assert_eq!(
        text,
        "07070707-0707-0707-0707-070707070707.2027-01-31.expires_in_7_days"
    );
    assert_eq!(NoticeKey::parse(&text), Some(key));
    for bad in [
        "",
        "07070707-0707-0707-0707-070707070707.2027-01-31",
        "07070707-0707-0707-0707-070707070707.2027-01-31.expires_in_1_day",
        "not-a-uuid.2027-01-31.expired",
        "07070707-0707-0707-0707-070707070707.2027-02-30.expired",
        "07070707-0707-0707-0707-070707070707.2027-01-31.expired.extra",
    ] {
        assert_eq!(NoticeKey::parse(bad), None, "{bad:?}");
    }
}
