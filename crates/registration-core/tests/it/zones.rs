//! `SiteZone` against a brute-force reference: the start of a site-local day, in every zone.

use proptest::prelude::*;
use registration_core::SiteZone;
use time::{Date, Duration, OffsetDateTime, UtcOffset};

use crate::ZONES;

/// The local date at `instant`, straight from the tz database.
pub(crate) fn reference_local_date(zone: &str, instant: OffsetDateTime) -> Date {
    let offset = tzdb::tz_by_name(zone)
        .unwrap()
        .find_local_time_type(instant.unix_timestamp())
        .unwrap()
        .ut_offset();
    (instant.to_offset(UtcOffset::UTC) + Duration::seconds(offset.into())).date()
}

/// The first instant whose local date is `date` or later, by bisection over seconds: no
/// offset is beyond ±16 h, so the answer lies within 16 hours of midnight UTC.
pub(crate) fn reference_start_of_day(zone: &str, date: Date) -> OffsetDateTime {
    let midnight_utc = date.midnight().assume_utc();
    let (mut before, mut at_or_after) = (
        midnight_utc - Duration::hours(16),
        midnight_utc + Duration::hours(16),
    );
    assert!(
        reference_local_date(zone, before) < date
            && reference_local_date(zone, at_or_after) >= date
    );
    while at_or_after - before > Duration::SECOND {
        let middle = before + (at_or_after - before) / 2;
        if reference_local_date(zone, middle) >= date {
            at_or_after = middle;
        } else {
            before = middle;
        }
    }
    at_or_after
}

fn any_date(from_year: i32, to_year: i32) -> impl Strategy<Value = Date> {
    let first = Date::from_calendar_date(from_year, time::Month::January, 1).unwrap();
    let last = Date::from_calendar_date(to_year, time::Month::December, 31).unwrap();
    (0..=(last - first).whole_days()).prop_map(move |days| first + Duration::days(days))
}

proptest! {
    #[test]
    fn start_of_day_is_the_first_instant_of_the_local_date(
        zone in proptest::sample::select(ZONES),
        date in any_date(1990, 2060),
    ) {
        let site_zone = SiteZone::parse(zone).unwrap();
        let start = site_zone.start_of_day(date);
        prop_assert_eq!(start, reference_start_of_day(zone, date));
        prop_assert!(site_zone.date_at(start) >= date);
        prop_assert!(site_zone.date_at(start - Duration::SECOND) < date);
    }

    #[test]
    fn start_of_day_agrees_with_the_reference_in_any_zone(
        zone in proptest::sample::select(tzdb::TZ_NAMES),
        date in any_date(2000, 2050),
    ) {
        let start = SiteZone::parse(zone).unwrap().start_of_day(date);
        prop_assert_eq!(start, reference_start_of_day(zone, date));
    }
}

#[test]
fn every_zone_resolves_the_whole_calendar() {
    let instants = [
        Date::MIN.midnight().assume_utc(),
        time::macros::datetime!(1900-01-01 0:00 UTC),
        time::macros::datetime!(2026-11-23 12:00 UTC),
        time::macros::datetime!(2100-06-30 12:00 UTC),
        Date::MAX.midnight().assume_utc(),
    ];
    for name in tzdb::TZ_NAMES {
        let zone = tzdb::tz_by_name(name).unwrap();
        assert_eq!(SiteZone::parse(name).unwrap().name(), *name);
        for instant in instants {
            assert!(
                zone.find_local_time_type(instant.unix_timestamp()).is_ok(),
                "{name} at {instant}"
            );
        }
    }
}

#[test]
fn a_day_that_never_happened_starts_with_the_next_one() {
    // Samoa skipped 30 December 2011 when it moved across the date line.
    let apia = SiteZone::parse("Pacific/Apia").unwrap();
    let skipped = time::macros::date!(2011 - 12 - 30);
    let start = apia.start_of_day(skipped);
    assert_eq!(start, apia.start_of_day(skipped.next_day().unwrap()));
    assert_eq!(apia.date_at(start), time::macros::date!(2011 - 12 - 31));
}
