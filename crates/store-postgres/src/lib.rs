//! registration-core's storage ports on PostgreSQL, for several `appreg` nodes on one
//! database (SPEC 11).
//!
//! What exists so far: the connection pool, the versioned migrations (applied once however
//! many nodes start together: a transaction-scoped advisory lock serialises them) and clear
//! errors for a bad URL, an unreachable server or a database of a newer schema. The storage
//! ports come next (issue 12), checked by the same `store_conformance_tests!` as SQLite.
//!
//! The client is the synchronous `postgres` crate: callers on an async runtime must call
//! the store from blocking threads only (a client dropped on a runtime thread panics).

mod schema;

use std::time::Duration;

use postgres::NoTls;
use r2d2_postgres::PostgresConnectionManager;
use registration_core::StoreError;

/// At most this many connections per node; each runs one port method at a time.
const POOL_SIZE: u32 = 8;
/// How long a port method waits for a free connection (or a new one) before `Busy`.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(5);
/// The advisory lock key migrations hold ("appreg" in ASCII).
const MIGRATION_LOCK: i64 = 0x6170_7072_6567;

/// The PostgreSQL store. Cheap to share behind an `Arc`; every method is thread-safe.
pub struct PostgresStore {
    pool: r2d2::Pool<PostgresConnectionManager<NoTls>>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The pool's configuration holds the URL, password included: never printed.
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// The schema version this binary creates and understands.
    #[allow(clippy::cast_possible_truncation)] // a handful of migrations
    pub const SCHEMA_VERSION: u32 = schema::MIGRATIONS.len() as u32;

    /// Connects to the database at `url` (`postgres://user:password@host:port/database`)
    /// and brings its schema up to date.
    ///
    /// Returns [`StoreError::Unavailable`] for a malformed URL, an unreachable server,
    /// refused credentials or a missing database (the message never holds the password),
    /// and [`StoreError::SchemaTooNew`] for a database written by a newer appreg, which is
    /// left unchanged.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let config: postgres::Config = url.parse().map_err(|error| {
            StoreError::Unavailable(format!(
                "the database URL is not a PostgreSQL URL ({error}): expected \
                 postgres://user:password@host:port/database"
            ))
        })?;
        // A first connection of our own: its error says what is wrong, where a pool would
        // only report a timeout.
        let mut client = config.connect(NoTls).map_err(|error| map_error(&error))?;
        migrate(&mut client)?;
        let pool = r2d2::Pool::builder()
            .max_size(POOL_SIZE)
            .min_idle(Some(0))
            .connection_timeout(CHECKOUT_TIMEOUT)
            .build_unchecked(PostgresConnectionManager::new(config, NoTls));
        Ok(Self { pool })
    }

    /// The schema version the database is at.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        let mut client = self
            .pool
            .get()
            .map_err(|error| StoreError::Busy(error.to_string()))?;
        let version: i32 = client
            .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
            .map_err(|error| map_error(&error))?
            .get(0);
        u32::try_from(version)
            .map_err(|_| StoreError::Corrupt(format!("schema version {version} is invalid")))
    }
}

/// Applies the missing migrations in one transaction, under the advisory lock, so that
/// nodes starting together wait for the first and then find nothing left to do.
fn migrate(client: &mut postgres::Client) -> Result<(), StoreError> {
    let mut transaction = client.transaction().map_err(|error| map_error(&error))?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(|error| map_error(&error))?;
    transaction
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_version (
                 version INTEGER PRIMARY KEY,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )
        .map_err(|error| map_error(&error))?;
    let current: i32 = transaction
        .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
        .map_err(|error| map_error(&error))?
        .get(0);
    let supported = PostgresStore::SCHEMA_VERSION;
    let found = u32::try_from(current)
        .map_err(|_| StoreError::Corrupt(format!("schema version {current} is invalid")))?;
    if found > supported {
        return Err(StoreError::SchemaTooNew { found, supported });
    }
    for (version, migration) in (1..).zip(schema::MIGRATIONS).skip(found as usize) {
        transaction
            .batch_execute(migration)
            .map_err(|error| map_error(&error))?;
        transaction
            .execute(
                "INSERT INTO schema_version (version) VALUES ($1)",
                &[&version],
            )
            .map_err(|error| map_error(&error))?;
    }
    transaction.commit().map_err(|error| map_error(&error))
}

/// PostgreSQL's errors, as the port's contract names them.
fn map_error(error: &postgres::Error) -> StoreError {
    use postgres::error::SqlState;
    // A server error's Display is only "db error": its message says what happened.
    let what = error
        .as_db_error()
        .map_or_else(|| error.to_string(), |db| db.message().to_owned());
    match error.code() {
        Some(code)
            if *code == SqlState::T_R_SERIALIZATION_FAILURE
                || *code == SqlState::T_R_DEADLOCK_DETECTED
                || *code == SqlState::LOCK_NOT_AVAILABLE =>
        {
            StoreError::Busy(what)
        }
        Some(code)
            if *code == SqlState::INVALID_PASSWORD
                || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
        {
            StoreError::Unavailable(format!("the database refused the credentials: {what}"))
        }
        Some(_) => StoreError::Unavailable(format!("the database failed: {what}")),
        None => StoreError::Unavailable(format!("the database is unreachable: {what}")),
    }
}
