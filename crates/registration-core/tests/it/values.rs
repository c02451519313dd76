//! Validation of the value types: a value that exists is valid.

use registration_core::{
    ClientId, Error, ExpirationDate, RegistrationName, SiteName, SiteSlug, SiteZone, WebhookUrl,
};

use crate::date;

#[test]
fn site_slugs() {
    for good in ["default", "a", "acme-eu-2", &"x".repeat(40)] {
        assert_eq!(SiteSlug::parse(good).unwrap().as_str(), good);
    }
    for bad in ["", "Acme", "acme_eu", "acme eu", "ä", &"x".repeat(41)] {
        assert_eq!(SiteSlug::parse(bad), Err(Error::InvalidSiteSlug), "{bad:?}");
    }
}

#[test]
fn registration_names_are_trimmed_and_bounded() {
    assert_eq!(
        RegistrationName::parse("  Billing sync \t")
            .unwrap()
            .as_str(),
        "Billing sync"
    );
    let hundred_wide = "é".repeat(100);
    assert_eq!(
        RegistrationName::parse(&hundred_wide).unwrap().as_str(),
        hundred_wide
    );
    assert_eq!(
        RegistrationName::parse(&"é".repeat(101)),
        Err(Error::TextTooLong {
            field: "name",
            max: 100
        })
    );
    assert_eq!(
        RegistrationName::parse(" \n "),
        Err(Error::EmptyText { field: "name" })
    );
    assert_eq!(
        RegistrationName::parse("line\nbreak"),
        Err(Error::ControlCharacter { field: "name" })
    );
    assert_eq!(
        RegistrationName::parse("bell\u{7}"),
        Err(Error::ControlCharacter { field: "name" })
    );
    assert!(SiteName::parse("").is_err());
}

#[test]
fn name_uniqueness_ignores_case() {
    let a = RegistrationName::parse("Billing Sync").unwrap();
    let b = RegistrationName::parse("billing SYNC").unwrap();
    assert_eq!(a.unique_key(), b.unique_key());
    assert_ne!(a, b, "the name keeps its spelling");
}

#[test]
fn expiration_dates_are_strict_iso_calendar_dates() {
    assert_eq!(date("2028-02-29").to_string(), "2028-02-29");
    for bad in [
        "2027-02-29",
        "2026-13-01",
        "2026-1-01",
        "26-01-01",
        "2026-01-01T00:00",
        " 2026-01-01",
        "20260101",
        "",
        "+2026-01-01",
    ] {
        assert_eq!(
            ExpirationDate::parse(bad),
            Err(Error::MalformedDate),
            "{bad:?}"
        );
    }
}

#[test]
fn client_ids_are_twenty_base32_characters() {
    assert!(ClientId::parse("abcdefghijklmnopqr27").is_ok());
    for bad in [
        "abcdefghijklmnopqr2",
        "abcdefghijklmnopqr271",
        "Abcdefghijklmnopqr27",
        "abcdefghijklmnopqr18",
        "abcdefghijklmnopqr2 ",
    ] {
        assert_eq!(
            ClientId::parse(bad),
            Err(Error::MalformedClientId),
            "{bad:?}"
        );
    }
}

#[test]
fn time_zones_resolve_to_canonical_iana_names() {
    assert_eq!(
        SiteZone::parse("europe/berlin").unwrap().name(),
        "Europe/Berlin"
    );
    assert_eq!(SiteZone::utc().name(), "UTC");
    assert_eq!(
        SiteZone::parse("Mars/Olympus_Mons"),
        Err(Error::UnknownTimeZone("Mars/Olympus_Mons".into()))
    );
    assert!(SiteZone::parse("").is_err());
}

#[test]
fn error_messages_tell_what_to_do() {
    insta::assert_snapshot!(
        [
            Error::InvalidSiteSlug,
            Error::UnknownTimeZone("Mars/Base".into()),
            Error::EmptyText { field: "name" },
            Error::TextTooLong {
                field: "name",
                max: 100
            },
            Error::ControlCharacter { field: "name" },
            Error::MalformedDate,
            Error::DateInPast {
                date: date("2026-01-01"),
                today: date("2026-01-02")
            },
            Error::DateTooFarAhead {
                date: date("2037-01-01"),
                years: 10,
                latest: date("2036-01-02")
            },
            Error::MalformedClientId,
        ]
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
    );
}

#[test]
fn webhook_destinations_are_classified_by_network() {
    use registration_core::WebhookNetworks::{AllowPrivate, PublicOnly};
    use std::net::IpAddr;
    // (address, refused by default, refused even with --allow-private-network)
    let table = [
        ("93.184.216.34", false, false),
        ("2606:2800:220:1:248:1893:25c8:1946", false, false),
        ("127.0.0.1", true, false),
        ("127.8.9.10", true, false),
        ("::1", true, false),
        ("10.1.2.3", true, false),
        ("172.16.0.1", true, false),
        ("172.31.255.255", true, false),
        ("172.32.0.1", false, false),
        ("192.168.1.1", true, false),
        ("100.64.0.1", true, false),
        ("100.128.0.1", false, false),
        ("fd00::1", true, false),
        ("fec0::1", true, false),
        ("169.254.169.254", true, true),
        ("::ffff:169.254.169.254", true, true),
        ("::ffff:127.0.0.1", true, false),
        ("fe80::1", true, true),
        ("0.0.0.0", true, true),
        ("0.1.2.3", true, true),
        ("::", true, true),
        ("224.0.0.1", true, true),
        ("255.255.255.255", true, true),
        ("ff02::1", true, true),
    ];
    for (address, by_default, always) in table {
        let ip: IpAddr = address.parse().unwrap();
        assert_eq!(
            (
                PublicOnly.refusal(ip).is_some(),
                AllowPrivate.refusal(ip).is_some()
            ),
            (by_default, always),
            "{address}"
        );
    }
    let literal = |url: &str| WebhookUrl::parse(url).unwrap().host_refusal(PublicOnly);
    assert_eq!(
        literal("http://2130706433/").as_deref(),
        Some(
            "127.0.0.1: loopback and private-network addresses are refused unless the \
             operator allows them (--allow-private-network)"
        ),
        "the URL parser's decimal form is the address it names"
    );
    assert_eq!(
        literal("https://hooks.example.com/x"),
        None,
        "names are resolved later"
    );
}
