//! Token traffic (SPEC section 8): Last used and the requests rejected since expiry, gathered
//! in memory per registration and written coalesced, off the request path.

use std::collections::HashMap;

use time::OffsetDateTime;

use crate::registration::Registration;
use crate::values::{ExpirationDate, RegistrationId};

/// Token traffic of one registration since the last flush.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageUpdate {
    /// Whose traffic this is.
    pub registration: RegistrationId,
    /// The expiration date the rejections count against (they count since the current expiry).
    pub expiration_date: ExpirationDate,
    /// The latest successful token request, if any.
    pub last_used: Option<OffsetDateTime>,
    /// Token requests refused because the registration was expired or disabled.
    pub rejections: u64,
    /// The latest of those refusals, if any.
    pub last_rejected: Option<OffsetDateTime>,
}

/// Coalesces token traffic: any number of uses and rejections of a registration between two
/// flushes become one [`UsageUpdate`]. Last used and Last rejected only move forward;
/// rejections seen under an older expiration date are dropped when the registration was
/// renewed meanwhile, because they count per expiry.
#[derive(Debug, Default)]
pub struct UsageLedger {
    pending: HashMap<RegistrationId, UsageUpdate>,
}

impl UsageLedger {
    /// Notes a token issued to `registration` at `at`.
    pub fn record_use(&mut self, registration: &Registration, at: OffsetDateTime) {
        let update = self.entry(registration);
        update.last_used = update.last_used.max(Some(at));
    }

    /// Notes a token request refused at `at` although the secret matched, because
    /// `registration` was expired or disabled.
    pub fn record_rejection(&mut self, registration: &Registration, at: OffsetDateTime) {
        let update = self.entry(registration);
        update.rejections = update.rejections.saturating_add(1);
        update.last_rejected = update.last_rejected.max(Some(at));
    }

    /// Everything gathered since the last call, one update per registration, and forgets it.
    pub fn take(&mut self) -> Vec<UsageUpdate> {
        self.pending.drain().map(|(_, update)| update).collect()
    }

    fn entry(&mut self, registration: &Registration) -> &mut UsageUpdate {
        let expiration_date = registration.expiration_date();
        let update = self
            .pending
            .entry(registration.id())
            .or_insert(UsageUpdate {
                registration: registration.id(),
                expiration_date,
                last_used: None,
                rejections: 0,
                last_rejected: None,
            });
        if update.expiration_date != expiration_date {
            // Renewed meanwhile: rejections count per expiry, start over.
            update.expiration_date = expiration_date;
            update.rejections = 0;
            update.last_rejected = None;
        }
        update
    }
}
