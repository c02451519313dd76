//! appreg's domain embedded in another Rust service: a `RegistrationService` over the SQLite
//! store and the sandboxed template renderer, with the service's own clock and randomness.
//! It creates a registration, verifies its secret (and a wrong one), then moves the clock
//! to the 7-day deadline and sweeps, the way a host service's scheduler would.
//!
//! `cargo run -p registration-core --example embed`

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::sync::Arc;

use notify::SandboxedRenderer;
use registration_core::testkit::FakeClock;
use registration_core::{
    Actor, Clock, Error, ExpirationDate, NewRegistration, NoVerificationCache, RandomSource,
    RegistrationName, RegistrationService, SecretHasher, SiteSlug,
};
use store_sqlite::SqliteStore;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// The host's random source: the operating system's generator.
struct OsRandom;

impl RandomSource for OsRandom {
    fn fill_bytes(&self, dest: &mut [u8]) -> Result<(), Error> {
        #[allow(clippy::disallowed_methods)] // this is the adapter the rule points to
        getrandom::fill(dest).map_err(|_| Error::EntropyUnavailable)
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = Arc::new(SqliteStore::open(&dir.path().join("appreg.db"))?);
    // A host service passes its own clock; this one is moved by hand to show the sweep.
    let start: OffsetDateTime = datetime!(2026-12-01 09:00 UTC);
    let clock = Arc::new(FakeClock::at(start));
    let service = RegistrationService::new(
        store,
        clock.clone(),
        Arc::new(OsRandom),
        SecretHasher::recommended()?,
        Arc::new(SandboxedRenderer::default()),
        "https://appreg.example",
    );
    let site = SiteSlug::default_site();
    let actor = Actor::System("embed-example".into());

    let (created, secret) = service.create(
        &site,
        NewRegistration {
            name: RegistrationName::parse("Billing sync")?,
            expiration_date: ExpirationDate::parse("2026-12-31")?,
            enabled: true,
        },
        &actor,
    )?;
    let client_id = created.registration.client_id().to_string();
    println!(
        "created {client_id}, state {:?}, {} days left",
        created.status.state, created.status.days_left
    );

    let checked = service.authenticate(
        &site,
        &client_id,
        secret.expose_secret(),
        &NoVerificationCache,
    )?;
    println!(
        "the right secret authenticates: {}",
        checked.authenticates(clock.now())
    );
    let wrong = service.authenticate(&site, &client_id, "not the secret", &NoVerificationCache)?;
    println!(
        "a wrong secret authenticates: {}",
        wrong.authenticates(clock.now())
    );

    clock.advance(Duration::days(24));
    let report = service.sweep()?;
    println!(
        "sweep at {}: {} candidate(s), {} notice(s) recorded",
        clock.now().date(),
        report.registrations_evaluated,
        report.notices_recorded
    );
    for notice in service.notices(&site)? {
        println!(
            "  {} {:?}: {}",
            notice.key.kind, notice.disposition, notice.subject
        );
    }
    let again = service.sweep()?;
    println!("a second sweep records {} more", again.notices_recorded);
    Ok(())
}
