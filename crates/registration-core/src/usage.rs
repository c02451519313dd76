//! Token traffic (SPEC sections 3 and 12): Last used, the requests rejected since expiry,
//! and per secret its Last used and the presentations after it was retired, gathered in
//! memory per registration and written coalesced, off the request path.

use std::collections::HashMap;

use time::OffsetDateTime;

use crate::registration::Registration;
use crate::rotation::{SecretMatch, SecretSlot};
use crate::secret::SecretHint;
use crate::token::{Refusal, TokenDecision};
use crate::values::Rejections;
use crate::values::{ExpirationDate, RegistrationId};

/// Token traffic of one registration since the last flush.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// Traffic per presented secret, for each secret that had any, sorted by hint.
    pub secrets: Vec<SecretUsage>,
}

/// Token traffic of one of a registration's secrets, named by its hint (the two stored
/// secrets never share one): a store applies it to whichever stored secret has that hint
/// now, so traffic seen just before a rotation lands on the secret it was for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretUsage {
    /// The secret's hint.
    pub hint: SecretHint,
    /// The latest token issued against it, if any.
    pub last_used: Option<OffsetDateTime>,
    /// Requests that presented it after its overlap ended (only the previous secret).
    pub rejections: Rejections,
}

/// Coalesces token traffic: any number of uses and rejections of a registration between two
/// flushes become one [`UsageUpdate`]. Instants only move forward; rejections seen under an
/// older expiration date are dropped when the registration was renewed meanwhile, because
/// they count per expiry.
#[derive(Debug, Default)]
pub struct UsageLedger {
    pending: HashMap<RegistrationId, UsageUpdate>,
}

impl UsageLedger {
    /// Notes what a decided token request means for the registration its Client ID named
    /// (`CheckedClient::registration`, with `matched` its `secret`): a use of the secret it
    /// presented, a rejection of a correct secret of a registration that cannot
    /// authenticate, or a presentation of a retired secret. Nothing for anything else.
    pub fn record_outcome(
        &mut self,
        registration: Option<&Registration>,
        matched: SecretMatch,
        decision: &TokenDecision,
        at: OffsetDateTime,
    ) {
        let Some(registration) = registration else {
            return;
        };
        match (decision, matched) {
            (TokenDecision::Issue(_), matched) => {
                if let Some(slot) = matched.slot() {
                    self.record_use(registration, slot, at);
                }
            }
            (TokenDecision::Refuse(Refusal::NotAuthenticating), _) => {
                self.record_rejection(registration, at);
            }
            (TokenDecision::Refuse(Refusal::BadCredentials), SecretMatch::Retired) => {
                self.record_retired_presentation(registration, at);
            }
            (TokenDecision::Refuse(Refusal::BadCredentials), _) => {}
        }
    }

    /// Notes a token issued at `at` to `registration` against its secret in `slot`.
    pub fn record_use(
        &mut self,
        registration: &Registration,
        slot: SecretSlot,
        at: OffsetDateTime,
    ) {
        let update = self.entry(registration);
        update.last_used = update.last_used.max(Some(at));
        if let Some(secret) = secret_entry(update, registration, slot) {
            secret.last_used = secret.last_used.max(Some(at));
        }
    }

    /// Notes a token request refused at `at` although the secret matched, because
    /// `registration` was expired or disabled.
    pub fn record_rejection(&mut self, registration: &Registration, at: OffsetDateTime) {
        let update = self.entry(registration);
        update.rejections = update.rejections.saturating_add(1);
        update.last_rejected = update.last_rejected.max(Some(at));
    }

    /// Notes a token request refused at `at` because it presented `registration`'s previous
    /// secret after its overlap ended.
    pub fn record_retired_presentation(&mut self, registration: &Registration, at: OffsetDateTime) {
        let update = self.entry(registration);
        if let Some(secret) = secret_entry(update, registration, SecretSlot::Previous) {
            secret.rejections.count = secret.rejections.count.saturating_add(1);
            secret.rejections.last = secret.rejections.last.max(Some(at));
        }
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
                secrets: Vec::new(),
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

/// The entry of the secret in `slot` (by its hint), made when missing; `None` when there is
/// no previous secret to name.
fn secret_entry<'a>(
    update: &'a mut UsageUpdate,
    registration: &Registration,
    slot: SecretSlot,
) -> Option<&'a mut SecretUsage> {
    let hint = match slot {
        SecretSlot::Current => &registration.secret().hint,
        SecretSlot::Previous => &registration.previous_secret()?.secret.hint,
    };
    let index = match update
        .secrets
        .binary_search_by(|secret| secret.hint.as_str().cmp(hint.as_str()))
    {
        Ok(found) => found,
        Err(free) => {
            update.secrets.insert(
                free,
                SecretUsage {
                    hint: hint.clone(),
                    last_used: None,
                    rejections: Rejections::default(),
                },
            );
            free
        }
    };
    update.secrets.get_mut(index)
}
