//! Failure budgets: how many failed verifications a Client ID, and a source address, may
//! cause per window before further attempts are refused with 429 *before* any hashing.
//! Only failures spend budget, and requests answered from the verified-secret cache never
//! reach the check, so a flood of bad secrets cannot lock a valid client out.

use std::collections::HashMap;
use std::sync::Mutex;

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

/// Fixed windows per key: (window start, failures in it).
#[derive(Debug, Default)]
pub(crate) struct FailureBudgets {
    windows: Mutex<HashMap<String, (OffsetDateTime, u32)>>,
}

impl FailureBudgets {
    /// `Err(retry_after)` when `key` has spent `limit` failures in the current window.
    pub(crate) fn check(
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

    pub(crate) fn record_failure(&self, key: &str, window: Duration, now: OffsetDateTime) {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        // Forget finished windows now and then so memory follows active attackers only.
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now < *start + window);
        }
        let entry = windows.entry(key.to_owned()).or_insert((now, 0));
        if now >= entry.0 + window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}
