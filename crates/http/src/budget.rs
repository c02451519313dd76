//! Failure budgets: how many failed verifications an account (a Client ID, a console
//! username) and a source address may cause per window before further attempts are refused
//! *before* any hashing. Only failures spend budget, a spent account budget holds back only
//! the sources that failed for that account, and requests answered from the verified-secret
//! cache never reach the check: a flood of bad secrets cannot lock the account's owner out.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

#[derive(Debug, Clone, Copy)]
pub struct BudgetPolicy {
    pub failures_per_client: u32,
    pub failures_per_source: u32,
    pub window: Duration,
}

impl Default for BudgetPolicy {
    fn default() -> Self {
        Self {
            failures_per_client: 20,
            failures_per_source: 100,
            window: Duration::minutes(1),
        }
    }
}

/// The budget keys of one attempt: its account, its source, and the pair.
pub(crate) struct AttemptKeys {
    account: String,
    source: String,
    pair: String,
}

impl AttemptKeys {
    /// `surface` keeps the token endpoint's and the console's budgets apart.
    pub(crate) fn new(surface: &str, account: &str, source: IpAddr) -> Self {
        let source = source_unit(source);
        // Accounts are what the client typed (any username): a digest keeps every key small.
        let account = URL_SAFE_NO_PAD.encode(Sha256::digest(account.as_bytes()));
        Self {
            account: format!("{surface}:{account}"),
            source: format!("{surface}-source:{source}"),
            pair: format!("{surface}-pair:{account}:{source}"),
        }
    }
}

/// What a source is counted as: an IPv4 address, or an IPv6 /64, the network of one end
/// site, where a single host can take any of 2^64 addresses to dodge a per-address budget.
fn source_unit(source: IpAddr) -> String {
    match source.to_canonical() {
        IpAddr::V4(address) => address.to_string(),
        IpAddr::V6(address) => {
            let [a, b, c, d, ..] = address.segments();
            format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
        }
    }
}

/// Beyond this many keys, finished windows are forgotten; if every window is still running
/// the budgets start over, so a flood from very many sources cannot grow memory without
/// bound.
const MAX_KEYS: usize = 100_000;

/// Fixed windows per key: (window start, failures in it).
#[derive(Debug, Default)]
pub(crate) struct FailureBudgets {
    windows: Mutex<HashMap<String, (OffsetDateTime, u32)>>,
}

impl FailureBudgets {
    /// `Err(retry_after)` when `key` has spent `limit` failures in the current window.
    fn check(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
        now: OffsetDateTime,
    ) -> Result<(), Duration> {
        let windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        match windows.get(key) {
            Some(&(start, failures)) if now < start + window && failures >= limit => {
                Err(start + window - now)
            }
            _ => Ok(()),
        }
    }

    /// `Err(retry_after)` when the attempt must wait: its source spent its budget, or its
    /// account did and this source failed for that account in the window. A flood from
    /// elsewhere thus never holds back the account's own traffic, while each other source
    /// gets one try per window; the verification semaphore and the per-source budget bound
    /// what those tries cost.
    ///
    /// `Err` holds the whole seconds to wait (at least 1), for `Retry-After`.
    pub(crate) fn admit(
        &self,
        keys: &AttemptKeys,
        policy: &BudgetPolicy,
        now: OffsetDateTime,
    ) -> Result<(), u64> {
        let spent = |key: &str, limit| self.check(key, limit, policy.window, now).err();
        let wait = spent(&keys.source, policy.failures_per_source).or_else(|| {
            let account_wait = spent(&keys.account, policy.failures_per_client)?;
            spent(&keys.pair, 1).map(|pair_wait| account_wait.min(pair_wait))
        });
        wait.map_or(Ok(()), |wait: Duration| {
            Err(u64::try_from(wait.whole_seconds()).unwrap_or(1).max(1))
        })
    }

    /// Spends one failure of each of the attempt's budgets.
    pub(crate) fn record_failed(
        &self,
        keys: &AttemptKeys,
        policy: &BudgetPolicy,
        now: OffsetDateTime,
    ) {
        for key in [&keys.account, &keys.source, &keys.pair] {
            self.record_failure(key, policy.window, now);
        }
    }

    fn record_failure(&self, key: &str, window: Duration, now: OffsetDateTime) {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() >= MAX_KEYS {
            windows.retain(|_, (start, _)| now < *start + window);
            if windows.len() >= MAX_KEYS {
                tracing::warn!(keys = MAX_KEYS, "failure budgets full: starting over");
                windows.clear();
            }
        }
        let entry = windows.entry(key.to_owned()).or_insert((now, 0));
        if now >= entry.0 + window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}
