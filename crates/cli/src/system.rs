//! The production clock and random source: the only places that read the OS clock or RNG.

use std::time::Instant;

use anyhow::Result;
use registration_core::{Clock, Error, RandomSource};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The operating system's cryptographically secure generator.
#[derive(Debug)]
pub(crate) struct OsRandom;

impl RandomSource for OsRandom {
    fn fill_bytes(&self, dest: &mut [u8]) -> Result<(), Error> {
        #[allow(clippy::disallowed_methods)] // the production RandomSource
        getrandom::fill(dest).map_err(|_| Error::EntropyUnavailable)
    }
}

/// Wall-clock time, optionally started at another instant (`APPREG_NOW`) and advancing in
/// real time from there.
#[derive(Debug)]
pub(crate) struct SystemClock {
    start: OffsetDateTime,
    started: Instant,
    /// Set when `APPREG_NOW` moved the start, so the binary can say so.
    pub(crate) shifted: bool,
}

impl SystemClock {
    /// The instant the clock started at, as RFC 3339.
    pub(crate) fn start_text(&self) -> String {
        self.start.format(&Rfc3339).unwrap_or_default()
    }
}

impl SystemClock {
    /// The real clock, whatever `APPREG_NOW` says: for what other systems check against
    /// their own clocks (a webhook's timestamp).
    pub(crate) fn real() -> Self {
        #[allow(clippy::disallowed_methods)] // the production Clock
        let (start, started) = (OffsetDateTime::now_utc(), Instant::now());
        Self {
            start,
            started,
            shifted: false,
        }
    }

    /// The real clock, or one starting at `APPREG_NOW` when the variable is set.
    pub(crate) fn from_env() -> Result<Self> {
        #[allow(clippy::disallowed_methods)] // the production Clock
        let (real_now, started) = (OffsetDateTime::now_utc(), Instant::now());
        let (start, shifted) = match std::env::var("APPREG_NOW") {
            Ok(text) => {
                let start = OffsetDateTime::parse(&text, &Rfc3339).map_err(|_| {
                    anyhow::anyhow!(
                        "APPREG_NOW={text:?} is not an RFC 3339 instant such as \
                         2026-03-16T00:00:00Z"
                    )
                })?;
                (start, true)
            }
            Err(std::env::VarError::NotPresent) => (real_now, false),
            Err(std::env::VarError::NotUnicode(_)) => {
                anyhow::bail!("APPREG_NOW is not valid UTF-8")
            }
        };
        Ok(Self {
            start,
            started,
            shifted,
        })
    }
}

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        self.start + self.started.elapsed()
    }
}
