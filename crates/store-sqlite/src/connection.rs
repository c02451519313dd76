//! The store's connections: one writer behind a mutex, a pool of read-only readers, the
//! pragmas every connection gets, migrations on open, and the one-transaction helpers
//! every port implementation goes through.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use registration_core::snapshots::Snapshots;
use registration_core::{AuditEntry, Site, SiteSlug, StoreError};
use rusqlite::types::ValueRef;
use rusqlite::{
    Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params,
};

use crate::convert::{Row, map_error};
use crate::schema;
use registration_core::stored::{
    COPIED_TABLES, RowSink, StoredRow, StoredValue, TableSource, image_json, instant_text,
    parse_site,
};

/// How long a statement waits for another process's lock before reporting `Busy`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The SQLite store. Cheap to share behind an `Arc`; every method is thread-safe.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    idle_readers: Mutex<Vec<Connection>>,
    /// The token path's copy of sites and registrations (`registration_core::snapshots`).
    pub(crate) snapshots: Snapshots,
}

impl SqliteStore {
    /// The schema version this binary creates and understands.
    #[allow(clippy::cast_possible_truncation)] // a handful of migrations
    pub const SCHEMA_VERSION: u32 = schema::MIGRATIONS.len() as u32;

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// Returns [`StoreError::SchemaTooNew`] for a database written by a newer appreg,
    /// [`StoreError::Corrupt`] for a file that is not a SQLite database, and
    /// [`StoreError::Unavailable`] when the file cannot be opened or created, and for
    /// `:memory:` or an empty path: SQLite would give each of the store's connections its
    /// own private database, so writes would be invisible to reads. Tests and embedders use
    /// a file in a temporary directory.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if path.as_os_str().is_empty() || path == Path::new(":memory:") {
            return Err(StoreError::Unavailable(format!(
                "{:?} is not a file: the store's connections must share one database, so \
                 give it a file path (for tests, a file in a temporary directory)",
                path.display().to_string()
            )));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut writer = Connection::open_with_flags(path, flags)
            .map_err(|e| StoreError::Unavailable(format!("{}: {e}", path.display())))?;
        configure(&writer).map_err(map_error)?;
        writer
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(map_error)?;
        writer
            .pragma_update(None, "synchronous", "FULL")
            .map_err(map_error)?;
        migrate(&mut writer)?;
        Ok(Self {
            path: path.to_owned(),
            writer: Mutex::new(writer),
            idle_readers: Mutex::new(Vec::new()),
            snapshots: Snapshots::default(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` in one write transaction (`BEGIN IMMEDIATE`), committing on `Ok`.
    pub(crate) fn write<T>(
        &self,
        work: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut connection = lock(&self.writer);
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(map_error)?;
        let value = work(&transaction)?;
        transaction.commit().map_err(map_error)?;
        Ok(value)
    }

    /// Runs `work`, a change to sites or registrations, like [`Self::write`], and bumps the
    /// change stamp in the same transaction: every process forgets its copy within one
    /// poll, this one at once.
    pub(crate) fn write_change<T>(
        &self,
        work: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let value = self.write(|transaction| {
            let value = work(transaction)?;
            transaction
                .prepare_cached("UPDATE change_stamp SET stamp = stamp + 1")
                .map_err(map_error)?
                .execute([])
                .map_err(map_error)?;
            Ok(value)
        })?;
        self.snapshots.forget();
        Ok(value)
    }

    /// Runs `work` on a read-only connection inside one read transaction (one snapshot).
    pub(crate) fn read<T>(
        &self,
        work: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = lock(&self.idle_readers).pop();
        let mut connection = match pooled {
            Some(connection) => connection,
            None => self.open_reader()?,
        };
        let value = {
            let transaction = connection
                .transaction_with_behavior(TransactionBehavior::Deferred)
                .map_err(map_error)?;
            let value = work(&transaction)?;
            transaction.commit().map_err(map_error)?;
            value
        };
        lock(&self.idle_readers).push(connection);
        Ok(value)
    }

    fn open_reader(&self) -> Result<Connection, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(&self.path, flags).map_err(map_error)?;
        configure(&connection).map_err(map_error)?;
        Ok(connection)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock dropped its transaction, which rolled back.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn configure(connection: &Connection) -> rusqlite::Result<()> {
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.pragma_update(None, "foreign_keys", true)
}

/// Applies the missing migrations, each in its own immediate transaction so two processes
/// opening a fresh file at once do not both apply one.
fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    connection
        .execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_version (
                version INTEGER PRIMARY KEY,
                applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
            ) STRICT;",
        )
        .map_err(map_error)?;
    loop {
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(map_error)?;
        let current: u32 = transaction
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM schema_version",
                [],
                |row| row.get(0),
            )
            .map_err(map_error)?;
        if current > SqliteStore::SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                found: current,
                supported: SqliteStore::SCHEMA_VERSION,
            });
        }
        let Some(migration) = schema::MIGRATIONS.get(current as usize) else {
            return Ok(());
        };
        transaction.execute_batch(migration).map_err(map_error)?;
        transaction
            .execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                params![current + 1],
            )
            .map_err(map_error)?;
        transaction.commit().map_err(map_error)?;
    }
}

/// Runs `sql` (prepared once per connection) with `params` and parses every row.
pub(crate) fn query_all<T>(
    transaction: &Transaction<'_>,
    sql: &str,
    params: impl rusqlite::Params,
    parse: impl Fn(&dyn StoredRow) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut statement = transaction.prepare_cached(sql).map_err(map_error)?;
    let rows = statement
        .query_map(params, |row| Ok(parse(&Row(row))))
        .map_err(map_error)?;
    rows.map(|row| row.map_err(map_error)?).collect()
}

pub(crate) fn site_exists(
    transaction: &Transaction<'_>,
    site: &SiteSlug,
) -> Result<bool, StoreError> {
    transaction
        .query_row(
            "SELECT 1 FROM sites WHERE slug = ?1",
            [site.as_str()],
            |_| Ok(()),
        )
        .optional()
        .map(|found| found.is_some())
        .map_err(map_error)
}

/// `StoreError::UnknownSite` unless `site` exists.
pub(crate) fn require_site(
    transaction: &Transaction<'_>,
    site: &SiteSlug,
) -> Result<(), StoreError> {
    if site_exists(transaction, site)? {
        Ok(())
    } else {
        Err(StoreError::UnknownSite(site.to_string()))
    }
}

pub(crate) fn find_site(
    transaction: &Transaction<'_>,
    slug: &SiteSlug,
) -> Result<Site, StoreError> {
    // On every token request: the statement is prepared once per connection.
    transaction
        .prepare_cached("SELECT slug, name, time_zone, max_years_ahead FROM sites WHERE slug = ?1")
        .map_err(map_error)?
        .query_row([slug.as_str()], |row| Ok(parse_site(&Row(row))))
        .optional()
        .map_err(map_error)?
        .unwrap_or_else(|| Err(StoreError::UnknownSite(slug.to_string())))
}

/// Stores `entry` as given, in the caller's transaction.
pub(crate) fn write_audit(
    transaction: &Transaction<'_>,
    entry: &AuditEntry,
) -> Result<(), StoreError> {
    transaction
        .prepare_cached(
            "INSERT INTO audit_log (at, actor, site, action, subject, before, after)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(map_error)?
        .execute(params![
            instant_text(entry.at),
            entry.actor.label(),
            entry.site.as_str(),
            entry.action.as_str(),
            entry.subject,
            image_json(entry.before.as_ref()),
            image_json(entry.after.as_ref()),
        ])
        .map_err(map_error)?;
    Ok(())
}

impl SqliteStore {
    /// Runs `work` with this store's rows as a [`TableSource`], all from one read
    /// transaction (one snapshot), for `appreg db copy`.
    pub fn export<T>(
        &self,
        work: impl FnOnce(&dyn TableSource) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.read(|transaction| work(&Snapshot(transaction)))
    }
}

/// The rows of one read transaction.
struct Snapshot<'a, 'b>(&'a Transaction<'b>);

impl TableSource for Snapshot<'_, '_> {
    fn rows(&self, table: &str, each: &mut RowSink<'_>) -> Result<u64, StoreError> {
        if !COPIED_TABLES.contains(&table) {
            return Err(StoreError::Unavailable(format!(
                "{table} is not a copied table"
            )));
        }
        let mut statement = self
            .0
            .prepare(&format!("SELECT * FROM {table} ORDER BY rowid"))
            .map_err(map_error)?;
        let columns: Vec<String> = statement.column_names().map(str::to_owned).collect();
        let mut rows = statement.query([]).map_err(map_error)?;
        let mut count = 0;
        while let Some(row) = rows.next().map_err(map_error)? {
            let values = (0..columns.len())
                .map(|index| {
                    Ok(match row.get_ref(index).map_err(map_error)? {
                        ValueRef::Null => StoredValue::Null,
                        ValueRef::Integer(value) => StoredValue::Integer(value),
                        ValueRef::Text(text) => {
                            StoredValue::Text(String::from_utf8(text.to_vec()).map_err(|_| {
                                StoreError::Corrupt(format!("{table}: text that is not UTF-8"))
                            })?)
                        }
                        ValueRef::Blob(bytes) => StoredValue::Bytes(bytes.to_vec()),
                        ValueRef::Real(_) => {
                            return Err(StoreError::Corrupt(format!(
                                "{table}: a REAL value, which no appreg column holds"
                            )));
                        }
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            each(&columns, values)?;
            count += 1;
        }
        Ok(count)
    }
}

/// The monotonic clock the change stamp's poll interval is measured on (not domain time).
pub(crate) fn monotonic_now() -> std::time::Instant {
    #[allow(clippy::disallowed_methods)] // a poll interval, not domain time
    std::time::Instant::now()
}

/// The change stamp every change bumps (`registration_core::snapshots`).
pub(crate) fn read_change_stamp(transaction: &Transaction<'_>) -> Result<i64, StoreError> {
    transaction
        .prepare_cached("SELECT stamp FROM change_stamp")
        .map_err(map_error)?
        .query_row([], |row| row.get(0))
        .map_err(map_error)
}
