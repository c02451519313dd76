//! The two inputs the domain never makes itself: the current instant and randomness. Both
//! are injected, so tests drive the domain with a fake clock and a seeded generator, and
//! only the binaries' `system` module reads the OS clock and RNG.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::Error;

/// The current instant.
pub trait Clock: Send + Sync {
    /// MUST be monotone non-decreasing for a given clock (a fake clock is moved only forward
    /// by tests that care).
    fn now(&self) -> OffsetDateTime;
}

/// Randomness for Client IDs, secrets, salts and UUIDs.
pub trait RandomSource: Send + Sync {
    /// Fills `dest` from a cryptographically secure generator (the OS RNG in production).
    /// MUST return [`Error::EntropyUnavailable`] rather than weaker bytes when it cannot.
    fn fill_bytes(&self, dest: &mut [u8]) -> Result<(), Error>;
}

/// A random (version 4) UUID from `random`: registration IDs, token IDs (`jti`), key IDs.
pub(crate) fn random_uuid(random: &dyn RandomSource) -> Result<Uuid, Error> {
    let mut bytes = [0u8; 16];
    random.fill_bytes(&mut bytes)?;
    Ok(uuid::Builder::from_random_bytes(bytes).into_uuid())
}
