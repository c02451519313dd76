//! Derived state, days left, the Expires label and the expiry instant (SPEC section 4),
//! with the calendar edge cases named.

use registration_core::testkit::SeededRandom;
use registration_core::{
    Error, ExpirationDate, ExpiresLabel, NewRegistration, Registration, RegistrationName,
    Rejections, SitePolicy, State, StateFilter, Status, expiry_instant,
};

use crate::{created, date, expires, hasher, instant, rfc3339, site};

fn state_at(site_zone: &str, expiration_date: &str, now: &str) -> (State, i64, String) {
    let status = Status::at(
        expires(expiration_date),
        true,
        site(site_zone).zone,
        instant(now),
    );
    (status.state, status.days_left, status.expires.to_string())
}

#[test]
fn thresholds_between_states() {
    let cases = [
        ("2026-12-24", State::Active, 31, "In 31 days"),
        ("2026-12-23", State::Expiring30, 30, "In 30 days"),
        ("2026-12-01", State::Expiring30, 8, "In 8 days"),
        ("2026-11-30", State::Expiring7, 7, "In 7 days"),
        ("2026-11-24", State::Expiring7, 1, "In 1 day"),
        ("2026-11-23", State::Expiring7, 0, "Today"),
        ("2026-11-22", State::Expired, -1, "Expired"),
    ];
    for (expiration_date, state, days_left, label) in cases {
        assert_eq!(
            state_at("UTC", expiration_date, "2026-11-23T12:00:00Z"),
            (state, days_left, label.to_owned()),
            "{expiration_date}"
        );
    }
}

#[test]
fn disabled_wins_over_every_date_based_state() {
    let zone = site("UTC").zone;
    for days in [-5, 0, 3, 20, 400] {
        let expiration_date =
            ExpirationDate::from_date(date("2026-11-23") + time::Duration::days(days));
        let status = Status::at(
            expiration_date,
            false,
            zone,
            instant("2026-11-23T08:00:00Z"),
        );
        assert_eq!(status.state, State::Disabled);
        assert!(!status.state.can_authenticate());
    }
}

#[test]
fn only_active_and_expiring_states_authenticate() {
    let authenticating: Vec<State> = [
        State::Active,
        State::Expiring30,
        State::Expiring7,
        State::Expired,
        State::Disabled,
    ]
    .into_iter()
    .filter(|state| state.can_authenticate())
    .collect();
    assert_eq!(
        authenticating,
        [State::Active, State::Expiring30, State::Expiring7]
    );
}

#[test]
fn expiration_on_the_leap_day() {
    let (berlin, expiration_date) = (site("Europe/Berlin").zone, expires("2028-02-29"));
    assert_eq!(
        rfc3339(expiry_instant(expiration_date, berlin)),
        "2028-02-29T23:00:00Z",
        "start of 1 March, CET"
    );
    assert_eq!(
        state_at("Europe/Berlin", "2028-02-29", "2028-02-29T22:59:59Z"),
        (State::Expiring7, 0, "Today".into())
    );
    assert_eq!(
        state_at("Europe/Berlin", "2028-02-29", "2028-02-29T23:00:00Z"),
        (State::Expired, -1, "Expired".into())
    );
    assert_eq!(
        state_at("UTC", "2028-02-29", "2028-01-30T00:00:00Z"),
        (State::Expiring30, 30, "In 30 days".into()),
        "30 days before a leap day is 30 January"
    );
}

#[test]
fn ten_year_cap_from_a_leap_day_lands_on_28_february() {
    let acme = site("UTC");
    let now = instant("2028-02-29T10:00:00Z");
    let new = |expiration_date| NewRegistration {
        name: RegistrationName::parse("Leap").unwrap(),
        expiration_date: expires(expiration_date),
        enabled: true,
    };
    let random = SeededRandom::new(1);
    assert!(Registration::create(new("2038-02-28"), &acme, now, &random, hasher()).is_ok());
    assert_eq!(
        Registration::create(new("2038-03-01"), &acme, now, &random, hasher()).unwrap_err(),
        Error::DateTooFarAhead {
            date: date("2038-03-01"),
            years: 10,
            latest: date("2038-02-28")
        }
    );
    let mut relaxed = acme.clone();
    relaxed.policy = SitePolicy {
        max_years_ahead: 25,
    };
    assert!(Registration::create(new("2050-01-01"), &relaxed, now, &random, hasher()).is_ok());
}

#[test]
fn dst_change_on_the_expiration_date() {
    // Berlin springs forward on 2027-03-28 and falls back on 2027-10-31: the day is 23 or 25
    // hours long, and the expiry instant is still the next local midnight.
    let berlin = site("Europe/Berlin").zone;
    assert_eq!(
        rfc3339(expiry_instant(expires("2027-03-28"), berlin)),
        "2027-03-28T22:00:00Z"
    );
    assert_eq!(
        rfc3339(expiry_instant(expires("2027-10-31"), berlin)),
        "2027-10-31T23:00:00Z"
    );
    // Santiago springs forward at midnight on 2026-09-06: 00:00 never happens there, so the
    // day starts at 01:00 local (04:00 UTC), the moment of the transition.
    let santiago = site("America/Santiago").zone;
    let expires_at = expiry_instant(expires("2026-09-05"), santiago);
    assert_eq!(rfc3339(expires_at), "2026-09-06T04:00:00Z");
    assert_eq!(
        santiago.display_local(expires_at),
        "2026-09-06 01:00 America/Santiago"
    );
    assert_eq!(
        state_at("America/Santiago", "2026-09-05", "2026-09-06T03:59:59Z"),
        (State::Expiring7, 0, "Today".into())
    );
    assert_eq!(
        state_at("America/Santiago", "2026-09-05", "2026-09-06T04:00:00Z"),
        (State::Expired, -1, "Expired".into())
    );
}

#[test]
fn zones_east_and_west_of_utc_see_different_days_at_one_instant() {
    let now = "2026-06-10T12:00:00Z";
    // Kiritimati (UTC+14) is already on 11 June; Pago Pago (UTC-11) still on 10 June.
    assert_eq!(
        state_at("Pacific/Kiritimati", "2026-06-10", now),
        (State::Expired, -1, "Expired".into())
    );
    assert_eq!(
        state_at("Pacific/Pago_Pago", "2026-06-10", now),
        (State::Expiring7, 0, "Today".into())
    );
    assert_eq!(
        rfc3339(expiry_instant(
            expires("2026-06-10"),
            site("Pacific/Kiritimati").zone
        )),
        "2026-06-10T10:00:00Z"
    );
    assert_eq!(
        rfc3339(expiry_instant(
            expires("2026-06-10"),
            site("Pacific/Pago_Pago").zone
        )),
        "2026-06-11T11:00:00Z"
    );
}

#[test]
fn creation_with_todays_date_is_allowed_and_expires_tonight() {
    let acme = site("America/New_York");
    let now = instant("2026-11-23T23:30:00Z"); // 18:30 in New York
    let registration = created(&acme, "2026-11-23", now);
    let status = registration.status(&acme, now);
    assert_eq!(status.state, State::Expiring7);
    assert_eq!(status.expires, ExpiresLabel::Today);
    assert_eq!(rfc3339(status.expires_at), "2026-11-24T05:00:00Z");
    assert_eq!(
        acme.zone.display_local(status.expires_at),
        "2026-11-24 00:00 America/New_York"
    );
    assert_eq!(registration.record().registration_date, now);
    assert_eq!(
        registration
            .status(&acme, instant("2026-11-24T05:00:00Z"))
            .state,
        State::Expired
    );
}

#[test]
fn past_dates_are_refused_in_site_time() {
    let acme = site("Pacific/Kiritimati");
    let now = instant("2026-06-10T12:00:00Z"); // already 11 June in Kiritimati
    let new = NewRegistration {
        name: RegistrationName::parse("Late").unwrap(),
        expiration_date: expires("2026-06-10"),
        enabled: true,
    };
    assert_eq!(
        Registration::create(new, &acme, now, &SeededRandom::new(1), hasher()).unwrap_err(),
        Error::DateInPast {
            date: date("2026-06-10"),
            today: date("2026-06-11")
        }
    );
}

#[test]
fn renew_while_expired_keeps_identity_and_authenticates_again() {
    let acme = site("UTC");
    let registration = created(&acme, "2026-12-01", instant("2026-11-23T09:00:00Z"));
    let (client_id, secret_hash) = (
        registration.client_id().clone(),
        registration.secret_hash().clone(),
    );
    let later = instant("2026-12-05T09:00:00Z");
    let mut record = registration.into_record();
    record.rejections = Rejections {
        count: 1,
        last: Some(later),
    };
    let mut registration = Registration::from_record(record);
    assert_eq!(registration.status(&acme, later).state, State::Expired);
    assert_eq!(registration.record().rejections.count, 1);

    assert_eq!(
        registration.renew(expires("2026-12-04"), &acme, later),
        Err(Error::DateInPast {
            date: date("2026-12-04"),
            today: date("2026-12-05")
        })
    );
    registration
        .renew(expires("2027-03-01"), &acme, later)
        .unwrap();
    let status = registration.status(&acme, later);
    assert_eq!(status.state, State::Active);
    assert!(status.state.can_authenticate());
    assert_eq!(registration.client_id(), &client_id);
    assert_eq!(registration.secret_hash(), &secret_hash);
    assert_eq!(
        registration.record().rejections.count,
        0,
        "a new expiry, a new count"
    );
}

#[test]
fn expires_labels_and_states_around_the_thresholds() {
    let zone = site("UTC").zone;
    let now = instant("2026-11-23T15:00:00Z");
    let table: Vec<String> = [-400, -2, -1, 0, 1, 2, 6, 7, 8, 29, 30, 31, 3650]
        .into_iter()
        .map(|days| {
            let expiration_date =
                ExpirationDate::from_date(date("2026-11-23") + time::Duration::days(days));
            let status = Status::at(expiration_date, true, zone, now);
            format!(
                "{expiration_date} | days_left {:>4} | {:<11} | {:<12} | expires_at {}",
                status.days_left,
                status.state.as_str(),
                status.expires.to_string(),
                rfc3339(status.expires_at)
            )
        })
        .collect();
    insta::assert_snapshot!(table.join("\n"));
}

proptest::proptest! {
    /// The grid's state filter as stored facts (what a store can query) selects exactly the
    /// registrations whose derived state it names, in every zone, at any instant.
    #[test]
    fn state_filters_as_facts_select_exactly_their_states(
        zone in proptest::sample::select(crate::ZONES),
        now_seconds in 1_700_000_000i64..1_900_000_000,
        days_from_today in -45i64..45,
        enabled in proptest::bool::ANY,
    ) {
        let site = site(zone);
        let now = time::OffsetDateTime::from_unix_timestamp(now_seconds).unwrap();
        let today = site.today(now);
        let expiration_date = ExpirationDate::from_date(today + time::Duration::days(days_from_today));
        let state = Status::at(expiration_date, enabled, site.zone, now).state;
        for filter in StateFilter::ALL {
            proptest::prop_assert_eq!(
                filter.facts(today).matches(enabled, expiration_date),
                filter.matches(state),
                "{:?} for {:?} ({} days from today)", filter, state, days_from_today
            );
        }
    }
}
