//! The verified-secret cache: valid traffic skips argon2 after its first verification.
//!
//! Entries are keyed by the registration and an HMAC-SHA256 of the presented secret under a
//! random per-process key, and remember the registration's revision: any administrative
//! change (rename, renew, enable, disable) bumps the revision and so invalidates them. The
//! secret itself is never kept.

use std::collections::HashMap;
use std::sync::Mutex;

use hmac::{Hmac, KeyInit, Mac};
use registration_core::{ClientSecret, RegistrationId, VerificationCache};
use sha2::Sha256;

/// Beyond this many entries the cache starts over: a flood of distinct valid secrets cannot
/// grow memory without bound.
const MAX_ENTRIES: usize = 100_000;

pub(crate) struct SecretCache {
    key: [u8; 32],
    entries: Mutex<HashMap<(RegistrationId, [u8; 32]), u64>>,
}

impl std::fmt::Debug for SecretCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretCache").finish_non_exhaustive()
    }
}

impl SecretCache {
    pub(crate) fn new(key: [u8; 32]) -> Self {
        Self {
            key,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn fingerprint(&self, presented: &ClientSecret) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(presented.expose_secret().as_bytes());
        mac.finalize().into_bytes().into()
    }
}

impl VerificationCache for SecretCache {
    fn contains(
        &self,
        registration: RegistrationId,
        revision: u64,
        presented: &ClientSecret,
    ) -> bool {
        let key = (registration, self.fingerprint(presented));
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(&key) == Some(&revision)
    }

    fn insert(&self, registration: RegistrationId, revision: u64, presented: &ClientSecret) {
        let key = (registration, self.fingerprint(presented));
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, revision);
    }
}
