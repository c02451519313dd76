//! Secret rotation with overlap (SPEC 12): the commands' rules, and client authentication
//! with two secrets through the service over a real SQLite store.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use registration_core::testkit::{FakeClock, SeededRandom, VerbatimRenderer};
use registration_core::{
    Actor, CheckedClient, ClientCheck, ClientSecret, Error, RegistrationId, RegistrationService,
    SecretHasher, SecretMatch, SecretOverlap, SiteSlug, StoreError, VerificationCache,
};
use store_sqlite::SqliteStore;
use time::Duration;

use crate::{created_with_secret, hasher, instant, rfc3339, site};

#[test]
fn overlaps_are_zero_or_a_whole_number_with_a_unit_up_to_ninety_days() {
    for (text, seconds) in [
        ("0", 0),
        ("7d", 7 * 86_400),
        ("36h", 36 * 3_600),
        ("15m", 900),
        ("30s", 30),
        ("90d", 90 * 86_400),
        (" 2160h ", 90 * 86_400),
    ] {
        let overlap = SecretOverlap::parse(text).unwrap();
        assert_eq!(overlap.duration().whole_seconds(), seconds, "{text}");
    }
    assert_eq!(SecretOverlap::parse("36h").unwrap().to_string(), "36h");
    assert_eq!(SecretOverlap::parse("48h").unwrap().to_string(), "2d");
    assert_eq!(SecretOverlap::default().to_string(), "7d");
    for text in ["", "7", "d", "7w", "-1d", "1.5d", "+3d", "7 d", "٣d", "0d0"] {
        assert_eq!(
            SecretOverlap::parse(text),
            Err(Error::InvalidOverlap),
            "{text:?}"
        );
    }
    for text in ["91d", "2161h", "99999999999999999999d"] {
        let refused = SecretOverlap::parse(text).unwrap_err();
        assert_eq!(refused, Error::OverlapTooLong { max_days: 90 }, "{text}");
        assert_eq!(refused.to_string(), "overlap is at most 90 days");
    }
}

#[test]
fn a_rotation_keeps_the_client_id_and_date_and_caps_the_overlap_at_expiry() {
    let acme = site("Europe/Berlin");
    let created = created_with_secret(&acme, "2026-12-31");
    let mut registration = created.registration.clone();
    let now = instant("2026-11-23T09:00:00Z");
    let random = SeededRandom::new(7);

    let new_secret = registration
        .rotate_secret(SecretOverlap::DEFAULT, &acme, now, &random, hasher())
        .unwrap();
    assert_eq!(registration.client_id(), created.registration.client_id());
    assert_eq!(
        registration.expiration_date(),
        created.registration.expiration_date()
    );
    assert_eq!(registration.secret().hint, new_secret.hint());
    assert_eq!(registration.secret().created_at, now);
    assert_ne!(
        new_secret.hint(),
        created.client_secret.hint(),
        "hints tell the two apart"
    );
    let previous = registration.previous_secret().unwrap().clone();
    assert_eq!(previous.secret, created.registration.secret().clone());
    assert_eq!(rfc3339(previous.expires_at), "2026-11-30T09:00:00Z");

    assert_eq!(
        registration
            .rotate_secret(SecretOverlap::DEFAULT, &acme, now, &random, hasher())
            .map(|_| ()),
        Err(Error::TwoLiveSecrets {
            previous_expires_at: previous.expires_at
        }),
        "at most two live secrets"
    );
    let message = registration
        .clone()
        .rotate_secret(SecretOverlap::DEFAULT, &acme, now, &random, hasher())
        .unwrap_err()
        .to_string();
    assert_eq!(
        message,
        "the registration already has two live secrets: the previous one authenticates \
         until 2026-11-30T09:00:00Z; retire it first (retire-secret)"
    );

    registration.retire_previous_secret(now).unwrap();
    assert_eq!(
        registration.retire_previous_secret(now),
        Err(Error::LastSecret),
        "the last secret cannot be retired"
    );
    let longest = SecretOverlap::parse("90d").unwrap();
    registration
        .rotate_secret(longest, &acme, now, &random, hasher())
        .unwrap();
    assert_eq!(
        rfc3339(registration.previous_secret().unwrap().expires_at),
        "2026-12-31T23:00:00Z",
        "never past the expiry instant (midnight after 31 December, Berlin)"
    );
}

#[test]
fn an_overlap_of_zero_retires_at_once() {
    let acme = site("UTC");
    let mut registration = created_with_secret(&acme, "2026-12-31").registration;
    let now = instant("2026-11-23T09:00:00Z");
    registration
        .rotate_secret(
            SecretOverlap::parse("0").unwrap(),
            &acme,
            now,
            &SeededRandom::new(8),
            hasher(),
        )
        .unwrap();
    assert!(!registration.previous_secret().unwrap().is_live(now));
    assert_eq!(
        registration.retire_previous_secret(now),
        Err(Error::LastSecret)
    );
}

/// A verified-secret cache that remembers what it was told, as the server's does.
#[derive(Default)]
struct RememberingCache(Mutex<HashSet<(RegistrationId, u64, String)>>);

impl VerificationCache for RememberingCache {
    fn contains(
        &self,
        registration: RegistrationId,
        revision: u64,
        presented: &ClientSecret,
    ) -> bool {
        let key = (registration, revision, presented.expose_secret().to_owned());
        self.0.lock().unwrap().contains(&key)
    }

    fn insert(&self, registration: RegistrationId, revision: u64, presented: &ClientSecret) {
        let key = (registration, revision, presented.expose_secret().to_owned());
        self.0.lock().unwrap().insert(key);
    }
}

struct Setting {
    service: RegistrationService,
    clock: Arc<FakeClock>,
    cache: RememberingCache,
    _dir: tempfile::TempDir,
}

impl Setting {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).unwrap());
        let clock = Arc::new(FakeClock::at(instant("2026-11-23T09:00:00Z")));
        let service = RegistrationService::new(
            store,
            clock.clone(),
            Arc::new(SeededRandom::new(11)),
            SecretHasher::recommended().unwrap(),
            Arc::new(VerbatimRenderer),
            "https://appreg.example.com",
        );
        Self {
            service,
            clock,
            cache: RememberingCache::default(),
            _dir: dir,
        }
    }

    /// A registration "Billing" of the default site: its Client ID and secret.
    fn create_billing(&self, ops: &Actor) -> (registration_core::ClientId, ClientSecret) {
        let (created, secret) = self
            .service
            .create(
                &SiteSlug::default_site(),
                registration_core::NewRegistration {
                    name: registration_core::RegistrationName::parse("Billing").unwrap(),
                    expiration_date: crate::expires("2027-06-30"),
                    enabled: true,
                },
                ops,
            )
            .unwrap();
        (created.registration.client_id().clone(), secret)
    }

    fn authenticate(&self, client_id: &str, secret: &ClientSecret) -> CheckedClient {
        self.service
            .authenticate(
                &SiteSlug::default_site(),
                client_id,
                secret.expose_secret(),
                &self.cache,
            )
            .unwrap()
    }

    /// Whether the first, cheap step answers from the cache (no argon2).
    fn answered_from_cache(&self, client_id: &str, secret: &ClientSecret) -> bool {
        matches!(
            self.service
                .check_client(
                    &SiteSlug::default_site(),
                    client_id,
                    secret.expose_secret(),
                    &self.cache
                )
                .unwrap(),
            ClientCheck::Decided(_)
        )
    }
}

#[test]
fn both_secrets_authenticate_during_the_overlap_and_the_old_one_is_refused_after_it() {
    let setting = Setting::new();
    let ops = Actor::Cli("ops".into());
    let site = SiteSlug::default_site();
    let (client_id, old_secret) = setting.create_billing(&ops);
    let id = client_id.as_str();
    assert_eq!(
        setting.authenticate(id, &old_secret).secret,
        SecretMatch::Current
    );
    assert!(setting.answered_from_cache(id, &old_secret));

    let (rotated, new_secret) = setting
        .service
        .rotate_secret(&site, &client_id, SecretOverlap::parse("1d").unwrap(), &ops)
        .unwrap();
    assert_eq!(rotated.registration.client_id(), &client_id);
    assert_eq!(
        setting.authenticate(id, &old_secret).secret,
        SecretMatch::Previous
    );
    assert_eq!(
        setting.authenticate(id, &new_secret).secret,
        SecretMatch::Current
    );
    assert!(
        setting
            .authenticate(id, &old_secret)
            .authenticates(setting.service.now())
    );
    assert!(
        setting.answered_from_cache(id, &old_secret),
        "a live old secret is cached"
    );

    setting.clock.advance(Duration::days(1));
    assert!(
        !setting.answered_from_cache(id, &old_secret),
        "the cache never answers for a secret whose overlap ended"
    );
    let refused = setting.authenticate(id, &old_secret);
    assert_eq!(refused.secret, SecretMatch::Retired);
    assert!(!refused.secret_matches() && !refused.authenticates(setting.service.now()));
    assert!(
        setting
            .authenticate(id, &new_secret)
            .authenticates(setting.service.now())
    );

    let wrong = ClientSecret::generate(&SeededRandom::new(99)).unwrap();
    assert_eq!(setting.authenticate(id, &wrong).secret, SecretMatch::None);
}

#[test]
fn a_retirement_is_honoured_at_once_even_by_a_warm_cache() {
    let setting = Setting::new();
    let ops = Actor::Cli("ops".into());
    let site = SiteSlug::default_site();
    let (client_id, old_secret) = setting.create_billing(&ops);
    let id = client_id.as_str();
    setting
        .service
        .rotate_secret(&site, &client_id, SecretOverlap::DEFAULT, &ops)
        .unwrap();
    assert!(setting.authenticate(id, &old_secret).secret_matches());
    assert!(setting.answered_from_cache(id, &old_secret));

    let retired = setting
        .service
        .retire_previous_secret(&site, &client_id, &ops)
        .unwrap();
    assert!(!retired.previous_secret_live());
    assert!(!setting.answered_from_cache(id, &old_secret));
    assert_eq!(
        setting.authenticate(id, &old_secret).secret,
        SecretMatch::Retired
    );
    assert_eq!(
        setting
            .service
            .retire_previous_secret(&site, &client_id, &ops),
        Err(Error::LastSecret)
    );
    assert_eq!(
        setting
            .service
            .rotate_secret(
                &SiteSlug::parse("other").unwrap(),
                &client_id,
                SecretOverlap::DEFAULT,
                &ops
            )
            .map(|_| ()),
        Err(Error::Store(StoreError::UnknownSite("other".into())))
    );
}
