//! The token path's copy of sites and registrations, kept fresh across processes and nodes
//! (feature `stored`; both stores use it, decision 0010).
//!
//! Every change to a site or a registration, through any process or node, bumps the one-row
//! `change_stamp` in the same transaction. A store reads the stamp at most every
//! [`POLL_INTERVAL`], lazily, on the token path itself, and forgets its whole copy when the
//! stamp moved; its own changes forget the copy at once. So a change committed anywhere is
//! honoured everywhere within one interval plus one read, well inside
//! [`FRESHNESS_BOUND`](crate::FRESHNESS_BOUND), and a warm token request reads nothing from
//! the database. The store passes the current monotonic instant in (this crate reads no
//! clock).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::{ClientId, Registration, Site, SiteSlug, StoreError};

/// How often a store reads the change stamp (when it serves token requests at all).
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// A bound on the copy: registrations of a site number 100,000 at most in practice; past
/// this the copy starts over rather than grow.
const MAX_REGISTRATIONS: usize = 200_000;

/// The copy, shared by a store's threads.
#[derive(Default)]
pub struct Snapshots {
    state: Mutex<State>,
}

impl std::fmt::Debug for Snapshots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state();
        f.debug_struct("Snapshots")
            .field("stamp", &state.stamp)
            .field("kept", &state.kept)
            .finish_non_exhaustive()
    }
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
    /// What the copy holds for `site` and `client_id`: the site (and no registration) when no
    /// Client ID is asked for, the site and the registration when both are kept, else `None`.
    fn answer(&self, site: &str, client_id: Option<&str>) -> Option<(Site, Option<Registration>)> {
        let known = self.sites.get(site)?.clone();
        let Some(client_id) = client_id else {
            return Some((known, None));
        };
        let registration = self.registrations.get(site)?.get(client_id)?.clone();
        Some((known, Some(registration)))
    }

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

    /// `RegistrationStore::site_and_registration` through the copy: reads the stamp with
    /// `read_stamp` when a poll is due (`now` is the store's monotonic clock), answers from
    /// the copy when it holds the answer, else `read`s the database and keeps what it found.
    pub fn site_and_registration(
        &self,
        site: &SiteSlug,
        client_id: Option<&ClientId>,
        now: Instant,
        read_stamp: impl FnOnce() -> Result<i64, StoreError>,
        read: impl FnOnce() -> Result<(Site, Option<Registration>), StoreError>,
    ) -> Result<(Site, Option<Registration>), StoreError> {
        if self.claim_poll(now) {
            match read_stamp() {
                Ok(stamp) => self.observe(stamp),
                Err(error) => {
                    self.poll_failed();
                    return Err(error);
                }
            }
        }
        // One look at the copy: its answer, or the generation a read must be kept under.
        let generation = {
            let state = self.state();
            if let Some(answer) = state.answer(site.as_str(), client_id.map(ClientId::as_str)) {
                return Ok(answer);
            }
            state.generation
        };
        let (found, registration) = read()?;
        self.keep(generation, &found, registration.as_ref());
        Ok((found, registration))
    }

    /// Whether this caller should read the stamp now (`now` is the store's monotonic
    /// clock); at most one caller per interval does.
    fn claim_poll(&self, now: Instant) -> bool {
        let mut state = self.state();
        let due = state
            .polled_at
            .is_none_or(|polled| now.duration_since(polled) >= POLL_INTERVAL);
        if due {
            state.polled_at = Some(now);
        }
        due
    }

    /// The site and registration, if both are in the copy and the copy is not due for a
    /// poll: an answer that needs no database round trip and no waiting.
    pub fn fresh(&self, site: &str, client_id: &str, now: Instant) -> Option<(Site, Registration)> {
        let state = self.state();
        let polled = state.polled_at?;
        if state.stamp.is_none() || now.duration_since(polled) >= POLL_INTERVAL {
            return None;
        }
        match state.answer(site, Some(client_id))? {
            (known, Some(registration)) => Some((known, registration)),
            (_, None) => None,
        }
    }

    /// Records the stamp just read; forgets the copy when it moved.
    fn observe(&self, stamp: i64) {
        let mut state = self.state();
        if state.stamp != Some(stamp) {
            state.forget();
            state.stamp = Some(stamp);
        }
    }

    /// The stamp could not be read: the next caller tries again, and until then nothing is
    /// answered from a copy that may be stale.
    fn poll_failed(&self) {
        let mut state = self.state();
        state.polled_at = None;
        state.stamp = None;
        state.forget();
    }

    /// A change through this node: forget at once.
    pub fn forget(&self) {
        self.state().forget();
    }

    /// Keeps what a read that began at `generation` found, unless the copy was forgotten
    /// since (the read may predate the change that made it forget).
    fn keep(&self, generation: u64, site: &Site, registration: Option<&Registration>) {
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
