//! registration-core's storage ports on an embedded SQLite file.
//!
//! - WAL journal, `synchronous = FULL`, foreign keys on, a busy timeout: a crash at any point
//!   leaves the file consistent with every committed transaction in it.
//! - One writer connection (behind a mutex) and a pool of read-only connections: readers see
//!   the last committed snapshot and never wait for a long write.
//! - Every port method is one transaction; writes take the write lock up front
//!   (`BEGIN IMMEDIATE`) so concurrent processes queue instead of failing half-way.

mod admins;
mod audit;
mod connection;
mod convert;
mod deliveries;
mod inbox;
mod keys;
mod notices;
mod registrations;
mod schema;
mod sessions;
mod sites;
mod templates;
mod webhooks;

pub use connection::SqliteStore;
