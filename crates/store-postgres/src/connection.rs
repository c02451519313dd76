//! The store's connection pool, migrations on connect, and the one-transaction helpers
//! every port implementation goes through.

use std::time::Duration;

use postgres::types::{ToSql, Type};
use postgres::{IsolationLevel, Transaction};
use r2d2_postgres::PostgresConnectionManager;
use registration_core::snapshots::Snapshots;
use registration_core::stored::{StoredRow, image_json, instant_text, parse_site};
use registration_core::{AuditEntry, Site, SiteSlug, StoreError};

use tokio_postgres_rustls::MakeRustlsConnect;

use crate::{schema, tls};

/// At most this many connections per node; each runs one port method at a time.
const POOL_SIZE: u32 = 8;
/// How long a port method waits for a free connection (or a new one) before `Busy`, and
/// how long a new connection may take: while the database is down, `/readyz` answers 503
/// within this, and token requests fail as fast.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(3);
/// The advisory lock key migrations hold ("appreg" in ASCII).
const MIGRATION_LOCK: i64 = 0x6170_7072_6567;

/// A statement's parameters.
pub(crate) type Params<'a> = [&'a (dyn ToSql + Sync)];

/// The PostgreSQL store. Cheap to share behind an `Arc`; every method is thread-safe.
pub struct PostgresStore {
    pool: r2d2::Pool<PostgresConnectionManager<MakeRustlsConnect>>,
    /// The token path's copy of sites and registrations (`registration_core::snapshots`).
    pub(crate) snapshots: Snapshots,
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
        let (mut config, tls) = tls::parse(url)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CHECKOUT_TIMEOUT);
        }
        // A first connection of our own: its error says what is wrong, where a pool would
        // only report a timeout.
        let mut client = config
            .connect(tls.clone())
            .map_err(|error| map_error(&error))?;
        migrate(&mut client)?;
        let pool = r2d2::Pool::builder()
            .max_size(POOL_SIZE)
            .min_idle(Some(0))
            .connection_timeout(CHECKOUT_TIMEOUT)
            // No round trip per checkout: a connection the server dropped reports its
            // error once, and the pool discards it (it is closed) on its return.
            .test_on_check_out(false)
            .connection_customizer(Box::new(SessionSettings))
            .build_unchecked(PostgresConnectionManager::new(config, tls));
        Ok(Self {
            pool,
            snapshots: Snapshots::default(),
        })
    }

    /// The schema version the database is at.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        self.read(|transaction| {
            let version: i32 = transaction
                .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
                .map_err(|error| map_error(&error))?
                .get(0);
            u32::try_from(version)
                .map_err(|_| StoreError::Corrupt(format!("schema version {version} is invalid")))
        })
    }

    fn client(
        &self,
    ) -> Result<r2d2::PooledConnection<PostgresConnectionManager<MakeRustlsConnect>>, StoreError>
    {
        self.pool
            .get()
            .map_err(|error| StoreError::Busy(format!("no database connection available: {error}")))
    }

    /// Runs `work` in one READ COMMITTED transaction, committing on `Ok`.
    pub(crate) fn write<T>(
        &self,
        work: impl FnOnce(&mut Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut client = self.client()?;
        let mut transaction = client.transaction().map_err(|error| map_error(&error))?;
        let value = work(&mut transaction)?;
        transaction.commit().map_err(|error| map_error(&error))?;
        Ok(value)
    }

    /// Runs `work`, a change to sites or registrations, like [`Self::write`], and bumps the
    /// change stamp in the same transaction: every node forgets its copy within one poll,
    /// this one at once.
    pub(crate) fn write_change<T>(
        &self,
        work: impl FnOnce(&mut Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let value = self.write(|transaction| {
            let value = work(transaction)?;
            execute(
                transaction,
                "UPDATE change_stamp SET stamp = stamp + 1",
                &[],
            )?;
            Ok(value)
        })?;
        self.snapshots.forget();
        Ok(value)
    }

    /// Runs `work` in one read-only REPEATABLE READ transaction (one snapshot).
    ///
    /// A connection the server closed (a restart, `pg_terminate_backend`) is found out only
    /// when used; a read that failed on one is run once more on a fresh connection, since
    /// reading twice changes nothing. Writes are not retried: whether a lost COMMIT
    /// committed is unknown, and the caller reports the failure.
    pub(crate) fn read<T>(
        &self,
        work: impl Fn(&mut Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut client = self.client()?;
        match read_once(&mut client, &work) {
            Err(_) if client.is_closed() => {
                drop(client);
                read_once(&mut *self.client()?, &work)
            }
            outcome => outcome,
        }
    }
}

fn read_once<T>(
    client: &mut postgres::Client,
    work: &impl Fn(&mut Transaction<'_>) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut transaction = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(|error| map_error(&error))?;
    let value = work(&mut transaction)?;
    transaction.commit().map_err(|error| map_error(&error))?;
    Ok(value)
}

/// What every pooled connection sets for its session.
#[derive(Debug)]
struct SessionSettings;

impl r2d2::CustomizeConnection<postgres::Client, postgres::Error> for SessionSettings {
    fn on_acquire(&self, client: &mut postgres::Client) -> Result<(), postgres::Error> {
        // Random reads cost little more than sequential ones on SSDs (the server's default
        // of 4 assumes spinning disks): with it, the planner counts a broad grid search from
        // the B-tree index alone instead of scanning the table (decision 0010).
        client.batch_execute("SET random_page_cost = 1.1")
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
pub(crate) fn map_error(error: &postgres::Error) -> StoreError {
    use postgres::error::SqlState;
    // A server error's Display is only "db error": its message says what happened.
    let what = error.as_db_error().map_or_else(
        || {
            // A client-side error's Display leaves out its cause ("error performing TLS
            // handshake"): the chain says which.
            let mut what = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                what.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            what
        },
        |db| db.message().to_owned(),
    );
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
        None if what.contains("TLS") => {
            StoreError::Unavailable(format!("the database's TLS connection failed: {what}"))
        }
        None => StoreError::Unavailable(format!("the database is unreachable: {what}")),
    }
}

/// The name of the unique constraint `error` violated, if that is what it is.
pub(crate) fn violated_constraint(error: &postgres::Error) -> Option<&str> {
    let db = error.as_db_error()?;
    (*db.code() == postgres::error::SqlState::UNIQUE_VIOLATION)
        .then(|| db.constraint())
        .flatten()
}

/// A `postgres` row, read through the stored forms' parsers.
pub(crate) struct Row<'a>(pub(crate) &'a postgres::Row);

fn unreadable(column: usize, error: &postgres::Error) -> StoreError {
    StoreError::Corrupt(format!("column {column} is unreadable: {error}"))
}

impl StoredRow for Row<'_> {
    fn text(&self, column: usize) -> Result<String, StoreError> {
        self.0
            .try_get(column)
            .map_err(|error| unreadable(column, &error))
    }

    fn optional_text(&self, column: usize) -> Result<Option<String>, StoreError> {
        self.0
            .try_get(column)
            .map_err(|error| unreadable(column, &error))
    }

    fn integer(&self, column: usize) -> Result<i64, StoreError> {
        let width = self.0.columns().get(column).map(|c| c.type_().clone());
        let value = match width {
            Some(Type::INT2) => self.0.try_get::<_, i16>(column).map(i64::from),
            Some(Type::INT4) => self.0.try_get::<_, i32>(column).map(i64::from),
            _ => self.0.try_get::<_, i64>(column),
        };
        value.map_err(|error| unreadable(column, &error))
    }

    fn flag(&self, column: usize) -> Result<bool, StoreError> {
        self.0
            .try_get(column)
            .map_err(|error| unreadable(column, &error))
    }

    fn bytes(&self, column: usize) -> Result<Vec<u8>, StoreError> {
        self.0
            .try_get(column)
            .map_err(|error| unreadable(column, &error))
    }
}

/// Runs `sql` with `params` and parses every row.
pub(crate) fn query_all<T>(
    transaction: &mut Transaction<'_>,
    sql: &str,
    params: &Params<'_>,
    parse: impl Fn(&dyn StoredRow) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    transaction
        .query(sql, params)
        .map_err(|error| map_error(&error))?
        .iter()
        .map(|row| parse(&Row(row)))
        .collect()
}

/// Runs `sql` with `params` and parses the row it returns, if any.
pub(crate) fn query_optional<T>(
    transaction: &mut Transaction<'_>,
    sql: &str,
    params: &Params<'_>,
    parse: impl Fn(&dyn StoredRow) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    transaction
        .query_opt(sql, params)
        .map_err(|error| map_error(&error))?
        .map(|row| parse(&Row(&row)))
        .transpose()
}

/// A statement's one number (a `COUNT(*)`), as a count.
pub(crate) fn count(
    transaction: &mut Transaction<'_>,
    sql: &str,
    params: &Params<'_>,
) -> Result<u64, StoreError> {
    let count: i64 = transaction
        .query_one(sql, params)
        .map_err(|error| map_error(&error))?
        .get(0);
    Ok(count.unsigned_abs())
}

/// Runs a changing statement and returns how many rows it changed.
pub(crate) fn execute(
    transaction: &mut Transaction<'_>,
    sql: &str,
    params: &Params<'_>,
) -> Result<u64, StoreError> {
    transaction
        .execute(sql, params)
        .map_err(|error| map_error(&error))
}

/// `StoreError::UnknownSite` unless `site` exists.
pub(crate) fn require_site(
    transaction: &mut Transaction<'_>,
    site: &SiteSlug,
) -> Result<(), StoreError> {
    find_site(transaction, site).map(|_| ())
}

pub(crate) fn find_site(
    transaction: &mut Transaction<'_>,
    slug: &SiteSlug,
) -> Result<Site, StoreError> {
    query_optional(
        transaction,
        "SELECT slug, name, time_zone, max_years_ahead FROM sites WHERE slug = $1",
        &[&slug.as_str()],
        parse_site,
    )?
    .ok_or_else(|| StoreError::UnknownSite(slug.to_string()))
}

/// Stores `entry` as given, in the caller's transaction.
pub(crate) fn write_audit(
    transaction: &mut Transaction<'_>,
    entry: &AuditEntry,
) -> Result<(), StoreError> {
    execute(
        transaction,
        "INSERT INTO audit_log (at, actor, site, action, subject, before, after)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &instant_text(entry.at),
            &entry.actor.label(),
            &entry.site.as_str(),
            &entry.action.as_str(),
            &entry.subject,
            &image_json(entry.before.as_ref()),
            &image_json(entry.after.as_ref()),
        ],
    )?;
    Ok(())
}

/// The monotonic clock the change stamp's poll interval is measured on (not domain time).
pub(crate) fn monotonic_now() -> std::time::Instant {
    #[allow(clippy::disallowed_methods)] // a poll interval, not domain time
    std::time::Instant::now()
}

/// The change stamp every change bumps (`registration_core::snapshots`).
pub(crate) fn read_change_stamp(transaction: &mut Transaction<'_>) -> Result<i64, StoreError> {
    transaction
        .query_one("SELECT stamp FROM change_stamp", &[])
        .map(|row| row.get(0))
        .map_err(|error| map_error(&error))
}
