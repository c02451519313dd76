//! Deterministic stand-ins for the clock and the random source, for tests of this crate and
//! of the adapters (feature `testkit`). Never use them in production wiring.

use std::sync::{Mutex, OnceLock};

use time::{Duration, OffsetDateTime};

use crate::audit::{Actor, AuditAction, AuditEntry};
use crate::error::Error;
use crate::secret::{ClientSecret, SecretHash, SecretHasher};
use crate::site::SiteSlug;
use crate::sources::{Clock, RandomSource};
use crate::template::{NoticeVariables, RenderedNotice, TemplateRenderer};

/// A clock that stands still until a test moves it.
#[derive(Debug)]
pub struct FakeClock(Mutex<OffsetDateTime>);

impl FakeClock {
    /// A clock stopped at `now`.
    pub fn at(now: OffsetDateTime) -> Self {
        Self(Mutex::new(now))
    }

    /// Moves the clock to `now`.
    pub fn set(&self, now: OffsetDateTime) {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = now;
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *now += by;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> OffsetDateTime {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A reproducible byte stream (SplitMix64) seeded by the test. Not cryptographic.
#[derive(Debug)]
pub struct SeededRandom(Mutex<u64>);

impl SeededRandom {
    /// A generator whose bytes depend only on `seed`.
    pub fn new(seed: u64) -> Self {
        Self(Mutex::new(seed))
    }
}

impl RandomSource for SeededRandom {
    fn fill_bytes(&self, dest: &mut [u8]) -> Result<(), Error> {
        let mut state = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for chunk in dest.chunks_mut(8) {
            *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = *state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
        Ok(())
    }
}

/// A random source that always fails, to test the error paths.
#[derive(Debug)]
pub struct FailingRandom;

impl RandomSource for FailingRandom {
    fn fill_bytes(&self, _dest: &mut [u8]) -> Result<(), Error> {
        Err(Error::EntropyUnavailable)
    }
}

/// A renderer that returns templates as they are written, for tests that need a
/// [`TemplateRenderer`] but not minijinja (notify's `SandboxedRenderer` is the real one).
#[derive(Debug, Clone, Copy, Default)]
pub struct VerbatimRenderer;

impl TemplateRenderer for VerbatimRenderer {
    fn render(
        &self,
        subject: &str,
        body: &str,
        _variables: &NoticeVariables,
    ) -> Result<RenderedNotice, Error> {
        Ok(RenderedNotice {
            subject: subject.replace(['\r', '\n'], " "),
            body: body.to_owned(),
        })
    }
}

/// An audit entry for tests that change a store directly and are not about the audit log:
/// by `system:test`, on site `default`, at `at`.
pub fn audit_entry(at: OffsetDateTime) -> AuditEntry {
    AuditEntry {
        at,
        actor: Actor::System("test".into()),
        site: SiteSlug::default_site(),
        action: AuditAction::RegistrationUpdate,
        subject: "test".into(),
        before: None,
        after: None,
    }
}

/// One real argon2id hash, computed once per process: for tests that need registrations
/// but not their secrets (a hash costs ~20 ms).
///
/// # Panics
/// If the minimum-cost hasher cannot be built, which would be a bug in this crate.
pub fn shared_secret_hash() -> SecretHash {
    static HASH: OnceLock<SecretHash> = OnceLock::new();
    HASH.get_or_init(|| {
        let random = SeededRandom::new(0);
        let secret = ClientSecret::generate(&random).expect("seeded randomness never fails");
        SecretHasher::recommended()
            .and_then(|hasher| hasher.hash(&secret, &random))
            .expect("the minimum-cost hasher works")
    })
    .clone()
}

pub mod conformance;
