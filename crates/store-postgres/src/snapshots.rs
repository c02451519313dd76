//! The token path's copy of sites and registrations, kept fresh across nodes.
//!
//! Every change to a site or a registration, through any node, bumps the one-row
//! `change_stamp` in the same transaction. A node reads the stamp at most every
//! [`POLL_INTERVAL`], lazily, on the token path itself, and forgets its whole copy when the
//! stamp moved; its own changes forget the copy at once. So a change committed anywhere is
//! honoured by every node within one interval plus one round trip, well inside SPEC 7's one
//! second, and a warm token request reads nothing from the database
//! (docs/decisions/0010-freshness-across-nodes.md).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use registration_core::{Registration, Site};

/// How often a node reads the change stamp (when it serves token requests at all).
pub(crate) const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// A bound on the copy: registrations of a site number 100,000 at most in practice; past
/// this the copy starts over rather than grow.
const MAX_REGISTRATIONS: usize = 200_000;

#[derive(Default)]
pub(crate) struct Snapshots {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The stamp the copy is as of.
    stamp: Option<i64>,
    /// When the stamp was last read (or is being read); `None`: read it now.
    polled_at: Option<Instant>,
    /// Moves on every forgetting, so a read that began before it is not kept after it.
    generation: u64,
    sites: HashMap<String, Site>,
    /// By site slug, then Client ID. Only registrations that exist: unknown Client IDs are
    /// looked up each time, so guessing cannot fill memory.
    registrations: HashMap<String, HashMap<String, Registration>>,
    /// How many registrations are kept, over all sites.
    kept: usize,
}

impl State {
    fn forget(&mut self) {
        self.generation += 1;
        self.sites.clear();
        self.registrations.clear();
        self.kept = 0;
    }
}

impl Snapshots {
    fn state(&self) -> MutexGuard<'_, State> {
        // The state is a cache: whatever a panicking thread left in it is still a copy.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether this caller should read the stamp now; at most one caller per interval does.
    pub(crate) fn claim_poll(&self) -> bool {
        let mut state = self.state();
        #[allow(clippy::disallowed_methods)] // a poll interval, not domain time
        let now = Instant::now();
        let due = state
            .polled_at
            .is_none_or(|polled| now.duration_since(polled) >= POLL_INTERVAL);
        if due {
            state.polled_at = Some(now);
        }
        due
    }

    /// Records the stamp just read; forgets the copy when it moved.
    pub(crate) fn observe(&self, stamp: i64) {
        let mut state = self.state();
        if state.stamp != Some(stamp) {
            state.forget();
            state.stamp = Some(stamp);
        }
    }

    /// The stamp could not be read: the next caller tries again, and until then nothing is
    /// answered from a copy that may be stale.
    pub(crate) fn poll_failed(&self) {
        let mut state = self.state();
        state.polled_at = None;
        state.stamp = None;
        state.forget();
    }

    /// A change through this node: forget at once.
    pub(crate) fn forget(&self) {
        self.state().forget();
    }

    pub(crate) fn generation(&self) -> u64 {
        self.state().generation
    }

    pub(crate) fn site(&self, slug: &str) -> Option<Site> {
        self.state().sites.get(slug).cloned()
    }

    pub(crate) fn registration(&self, site: &str, client_id: &str) -> Option<Registration> {
        self.state()
            .registrations
            .get(site)?
            .get(client_id)
            .cloned()
    }

    /// Keeps what a read that began at `generation` found, unless the copy was forgotten
    /// since (the read may predate the change that made it forget).
    pub(crate) fn keep(&self, generation: u64, site: &Site, registration: Option<&Registration>) {
        let mut state = self.state();
        if state.generation != generation || state.stamp.is_none() {
            return;
        }
        if state.kept >= MAX_REGISTRATIONS {
            state.forget();
            return;
        }
        state
            .sites
            .insert(site.slug.as_str().to_owned(), site.clone());
        if let Some(registration) = registration {
            let replaced = state
                .registrations
                .entry(registration.site().as_str().to_owned())
                .or_default()
                .insert(
                    registration.client_id().as_str().to_owned(),
                    registration.clone(),
                );
            if replaced.is_none() {
                state.kept += 1;
            }
        }
    }
}
