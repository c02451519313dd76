//! Coalesced token traffic: Last used and rejected requests are gathered in memory and
//! written in one transaction per flush, off the request path.

use std::collections::HashMap;
use std::sync::Mutex;

use registration_core::{ExpirationDate, RegistrationId, UsageUpdate};
use time::OffsetDateTime;

#[derive(Debug, Default)]
pub(crate) struct UsageRecorder {
    pending: Mutex<HashMap<RegistrationId, UsageUpdate>>,
}

impl UsageRecorder {
    fn with(
        &self,
        registration: RegistrationId,
        expiration_date: ExpirationDate,
        change: impl FnOnce(&mut UsageUpdate),
    ) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let update = pending.entry(registration).or_insert(UsageUpdate {
            registration,
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
        change(update);
    }

    pub(crate) fn used(
        &self,
        registration: RegistrationId,
        expiration_date: ExpirationDate,
        at: OffsetDateTime,
    ) {
        self.with(registration, expiration_date, |update| {
            update.last_used = update.last_used.max(Some(at));
        });
    }

    pub(crate) fn rejected(
        &self,
        registration: RegistrationId,
        expiration_date: ExpirationDate,
        at: OffsetDateTime,
    ) {
        self.with(registration, expiration_date, |update| {
            update.rejections = update.rejections.saturating_add(1);
            update.last_rejected = update.last_rejected.max(Some(at));
        });
    }

    /// Everything gathered since the last call.
    pub(crate) fn take(&self) -> Vec<UsageUpdate> {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.drain().map(|(_, update)| update).collect()
    }
}
