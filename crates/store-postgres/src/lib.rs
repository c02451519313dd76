//! registration-core's storage ports on PostgreSQL, for several `appreg` nodes on one
//! database (SPEC 11).
//!
//! - Versioned migrations, applied once however many nodes start together: a
//!   transaction-scoped advisory lock serialises them.
//! - Every port method is one transaction. Writes run at READ COMMITTED and lock the rows a
//!   rule reads before it writes (`FOR UPDATE`); notices are recorded with `ON CONFLICT DO
//!   NOTHING` on their unique key; deliveries are claimed with `FOR UPDATE SKIP LOCKED`.
//!   Reads run in one REPEATABLE READ snapshot.
//! - Rows are the SQLite store's, in the same stored forms (`registration_core::stored`).
//! - The token path (`site_and_registration`) answers from a copy in memory, forgotten when
//!   the database's change stamp moves (read at most every 250 ms): SPEC 7's freshness
//!   bound across nodes without a database read per request.
//!
//! The client is the synchronous `postgres` crate: callers on an async runtime must call
//! the store from blocking threads only (a client dropped on a runtime thread panics).

mod admins;
mod audit;
mod connection;
mod copy;
mod deliveries;
mod inbox;
mod keys;
mod notices;
mod registrations;
mod schema;
mod sessions;
mod sites;
mod templates;
#[cfg(feature = "testkit")]
pub mod testkit;
mod tls;
mod webhooks;

pub use connection::PostgresStore;
