//! The life of one App registration, driven by the domain alone: create it (real OS
//! randomness, real argon2id), then move a simulated clock through its notification
//! deadlines and print what the state machine and the schedule decide at each.
//!
//! `cargo run --release -p registration-core --example lifecycle -- [ZONE] [EXPIRATION_DATE]`

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use registration_core::testkit::FakeClock;
use registration_core::{
    Clock, Error, ExpirationDate, NewRegistration, RandomSource, Registration, RegistrationName,
    SecretHasher, Site, SiteName, SitePolicy, SiteSlug, SiteZone, due_notices, next_due_at,
};
use time::{Duration, OffsetDateTime};

/// The production random source: the operating system's generator.
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

fn run() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let zone = SiteZone::parse(&args.next().unwrap_or_else(|| "Europe/Berlin".into()))?;
    let site = Site {
        slug: SiteSlug::default_site(),
        name: SiteName::parse("Default site")?,
        zone,
        policy: SitePolicy::default(),
    };
    // The walk-through starts now and then jumps from deadline to deadline.
    #[allow(clippy::disallowed_methods)] // example wiring: the start instant of the fake clock
    let clock = FakeClock::at(OffsetDateTime::now_utc());
    let expiration_date = match args.next() {
        Some(text) => ExpirationDate::parse(&text)?,
        None => ExpirationDate::from_date(site.today(clock.now()) + Duration::days(45)),
    };

    let created = Registration::create(
        NewRegistration {
            name: RegistrationName::parse("Billing sync")?,
            expiration_date,
            enabled: true,
        },
        &site,
        clock.now(),
        &OsRandom,
        &SecretHasher::recommended()?,
    )?;
    let registration = created.registration;
    println!("site zone      {}", site.zone.name());
    println!("client id      {}", registration.client_id());
    println!(
        "client secret  {}   (shown once)",
        created.client_secret.expose_secret()
    );
    println!("stored hash    {:?}", registration.secret_hash());
    println!();

    let mut recorded = Vec::new();
    loop {
        let now = clock.now();
        let status = registration.status(&site, now);
        let due = due_notices(registration.schedule_subject(), site.zone, now, &recorded);
        println!(
            "{}  {:<11} {:<12} authenticates: {:<5} expires_at {}",
            site.zone.display_local(now),
            status.state.as_str(),
            status.expires.to_string(),
            status.state.can_authenticate(),
            site.zone.display_local(status.expires_at),
        );
        for notice in &due {
            println!(
                "    record notice {} ({:?})",
                notice.key.kind, notice.disposition
            );
            recorded.push(notice.key.kind);
        }
        match next_due_at(registration.schedule_subject(), site.zone, now, &recorded) {
            Some(next) => clock.set(next),
            None => break,
        }
    }
    Ok(())
}
