//! registration-core's storage ports on an embedded SQLite file.
//!
//! - WAL journal, `synchronous = FULL`, foreign keys on, a busy timeout: a crash at any point
//!   leaves the file consistent with every committed transaction in it.
//! - One writer connection (behind a mutex) and a pool of read-only connections: readers see
//!   the last committed snapshot and never wait for a long write.
//! - Every port method is one transaction; writes take the write lock up front
//!   (`BEGIN IMMEDIATE`) so concurrent processes queue instead of failing half-way.

mod convert;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use registration_core::{
    AdminAccount, AdminName, AdminStore, AuditEntry, AuditLog, AuditQuery, Channel,
    ClaimedDelivery, ClientId, ConsoleSession, DeliveryOutcome, DeliveryStatus, DeliveryTarget,
    ExpirationDate, KeyStore, Lease, ListQuery, LogQuery, NoticeCandidate, NoticeKind,
    NoticeLogEntry, NoticeOutbox, NoticeRecord, NotificationTemplate, PendingReveal, Registration,
    RegistrationName, RegistrationStore, RevealPad, SessionStore, SigningKeyRecord, Site, SiteSlug,
    SiteStore, SortKey, StoreError, Subscription, TemplateStore, TokenDigest, UsageUpdate,
    WebhookEndpoint, WebhookStore, WebhookUrl,
};
use rusqlite::{
    Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params,
};
use time::OffsetDateTime;

use crate::convert::{
    CLAIM_COLUMNS, REGISTRATION_COLUMNS, counter, disposition_str, image_json, instant_text,
    map_error, parse_admin, parse_audit_entry, parse_candidate, parse_claimed, parse_delivery,
    parse_log_entry, parse_registration, parse_session, parse_signing_key, parse_site,
    parse_subscription, parse_template, parse_webhook, registration_columns,
};

/// How long a statement waits for another process's lock before reporting `Busy`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The SQLite store. Cheap to share behind an `Arc`; every method is thread-safe.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    idle_readers: Mutex<Vec<Connection>>,
}

impl SqliteStore {
    /// The schema version this binary creates and understands.
    #[allow(clippy::cast_possible_truncation)] // a handful of migrations
    pub const SCHEMA_VERSION: u32 = schema::MIGRATIONS.len() as u32;

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// Returns [`StoreError::SchemaTooNew`] for a database written by a newer appreg,
    /// [`StoreError::Corrupt`] for a file that is not a SQLite database, and
    /// [`StoreError::Unavailable`] when the file cannot be opened or created.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
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
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` in one write transaction (`BEGIN IMMEDIATE`), committing on `Ok`.
    fn write<T>(
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

    /// Runs `work` on a read-only connection inside one read transaction (one snapshot).
    fn read<T>(
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

/// Stores `entry` as given, in the caller's transaction.
fn write_audit(transaction: &Transaction<'_>, entry: &AuditEntry) -> Result<(), StoreError> {
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

/// Runs `sql` (prepared once per connection) with `params` and parses every row.
fn query_all<T>(
    transaction: &Transaction<'_>,
    sql: &str,
    params: impl rusqlite::Params,
    parse: impl Fn(&rusqlite::Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut statement = transaction.prepare_cached(sql).map_err(map_error)?;
    let rows = statement
        .query_map(params, |row| Ok(parse(row)))
        .map_err(map_error)?;
    rows.map(|row| row.map_err(map_error)?).collect()
}

fn site_exists(transaction: &Transaction<'_>, site: &SiteSlug) -> Result<bool, StoreError> {
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

const FIND_REGISTRATION: &str = concat!(
    "SELECT ",
    registration_columns!(),
    " FROM registrations WHERE site = ?1 AND client_id = ?2"
);

/// `StoreError::UnknownSite` unless `site` exists.
fn require_site(transaction: &Transaction<'_>, site: &SiteSlug) -> Result<(), StoreError> {
    if site_exists(transaction, site)? {
        Ok(())
    } else {
        Err(StoreError::UnknownSite(site.to_string()))
    }
}

fn find_site(transaction: &Transaction<'_>, slug: &SiteSlug) -> Result<Site, StoreError> {
    // On every token request: the statement is prepared once per connection.
    transaction
        .prepare_cached("SELECT slug, name, time_zone, max_years_ahead FROM sites WHERE slug = ?1")
        .map_err(map_error)?
        .query_row([slug.as_str()], |row| Ok(parse_site(row)))
        .optional()
        .map_err(map_error)?
        .unwrap_or_else(|| Err(StoreError::UnknownSite(slug.to_string())))
}

fn find_registration(
    transaction: &Transaction<'_>,
    site: &SiteSlug,
    client_id: &ClientId,
) -> Result<Option<Registration>, StoreError> {
    // On every token request: the statement is prepared once per connection.
    transaction
        .prepare_cached(FIND_REGISTRATION)
        .map_err(map_error)?
        .query_row([site.as_str(), client_id.as_str()], |row| {
            Ok(parse_registration(row))
        })
        .optional()
        .map_err(map_error)?
        .transpose()
}

/// Maps a UNIQUE violation on `registrations` to the port's error; others pass through.
fn unique_violation(error: rusqlite::Error, registration: &Registration) -> StoreError {
    if let rusqlite::Error::SqliteFailure(failure, Some(message)) = &error
        && failure.code == rusqlite::ErrorCode::ConstraintViolation
    {
        if message.contains("name_key") {
            return StoreError::DuplicateName(registration.name().to_string());
        }
        if message.contains("client_id") || message.contains("registrations.id") {
            return StoreError::DuplicateClientId;
        }
    }
    map_error(error)
}

impl SiteStore for SqliteStore {
    fn add_site(&self, site: &Site, audit: &AuditEntry) -> Result<(), StoreError> {
        self.write(|transaction| {
            if site_exists(transaction, &site.slug)? {
                return Err(StoreError::DuplicateSite(site.slug.to_string()));
            }
            transaction
                .execute(
                    "INSERT INTO sites (slug, name, time_zone, max_years_ahead)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![
                        site.slug.as_str(),
                        site.name.as_str(),
                        site.zone.name(),
                        site.policy.max_years_ahead
                    ],
                )
                .map_err(map_error)?;
            write_audit(transaction, audit)
        })
    }

    fn site(&self, slug: &SiteSlug) -> Result<Site, StoreError> {
        self.read(|transaction| find_site(transaction, slug))
    }

    fn sites(&self) -> Result<Vec<Site>, StoreError> {
        self.read(|transaction| {
            query_all(
                transaction,
                "SELECT slug, name, time_zone, max_years_ahead FROM sites ORDER BY slug",
                [],
                parse_site,
            )
        })
    }
}

impl RegistrationStore for SqliteStore {
    fn insert(&self, registration: &Registration, audit: &AuditEntry) -> Result<(), StoreError> {
        let record = registration.record();
        self.write(|transaction| {
            require_site(transaction, &record.site)?;
            transaction
                .execute(
                    &format!(
                        "INSERT INTO registrations ({REGISTRATION_COLUMNS})
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
                    ),
                    params![
                        record.id.to_string(),
                        record.site.as_str(),
                        record.client_id.as_str(),
                        record.name.as_str(),
                        record.name.unique_key(),
                        record.expiration_date.to_string(),
                        record.enabled,
                        record.secret_hash.as_phc(),
                        record.secret_hint.as_str(),
                        instant_text(record.registration_date),
                        record.last_used.map(instant_text),
                        counter(record.rejections.count)?,
                        record.rejections.last.map(instant_text),
                        counter(record.revision)?,
                    ],
                )
                .map_err(|error| unique_violation(error, registration))?;
            write_audit(transaction, audit)
        })
    }

    fn get(&self, site: &SiteSlug, client_id: &ClientId) -> Result<Registration, StoreError> {
        self.read(|transaction| {
            find_registration(transaction, site, client_id)?.ok_or(StoreError::NotFound)
        })
    }

    fn site_and_registration(
        &self,
        site: &SiteSlug,
        client_id: Option<&ClientId>,
    ) -> Result<(Site, Option<Registration>), StoreError> {
        self.read(|transaction| {
            let found = find_site(transaction, site)?;
            let registration = match client_id {
                Some(client_id) => find_registration(transaction, site, client_id)?,
                None => None,
            };
            Ok((found, registration))
        })
    }

    fn update(&self, registration: &Registration, audit: &AuditEntry) -> Result<u64, StoreError> {
        let record = registration.record();
        self.write(|transaction| {
            let Some(before) = find_registration(transaction, &record.site, &record.client_id)?
            else {
                return Err(StoreError::NotFound);
            };
            if before.id() != record.id {
                return Err(StoreError::NotFound);
            }
            if before.revision() != record.revision {
                return Err(StoreError::Conflict);
            }
            let revision = record.revision + 1;
            transaction
                .execute(
                    "UPDATE registrations SET name = ?1, name_key = ?2, expiration_date = ?3,
                        enabled = ?4, secret_hash = ?5, secret_hint = ?6, last_used = ?7,
                        rejected_count = ?8, last_rejected = ?9, revision = ?10
                     WHERE id = ?11",
                    params![
                        record.name.as_str(),
                        record.name.unique_key(),
                        record.expiration_date.to_string(),
                        record.enabled,
                        record.secret_hash.as_phc(),
                        record.secret_hint.as_str(),
                        record.last_used.map(instant_text),
                        counter(record.rejections.count)?,
                        record.rejections.last.map(instant_text),
                        counter(revision)?,
                        record.id.to_string(),
                    ],
                )
                .map_err(|error| unique_violation(error, registration))?;
            write_audit(transaction, audit)?;
            Ok(revision)
        })
    }

    fn delete(
        &self,
        site: &SiteSlug,
        client_id: &ClientId,
        revision: u64,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        self.write(|transaction| {
            let Some(before) = find_registration(transaction, site, client_id)? else {
                return Err(StoreError::NotFound);
            };
            if before.revision() != revision {
                return Err(StoreError::Conflict);
            }
            let id = before.id().to_string();
            transaction
                .execute(
                    "UPDATE deliveries SET status = 'cancelled'
                     WHERE status IN ('pending', 'retrying')
                       AND notice_id IN (SELECT id FROM notices WHERE registration_id = ?1)",
                    [&id],
                )
                .map_err(map_error)?;
            transaction
                .execute("DELETE FROM registrations WHERE id = ?1", [&id])
                .map_err(map_error)?;
            write_audit(transaction, audit)
        })
    }

    fn list(&self, site: &SiteSlug) -> Result<Vec<Registration>, StoreError> {
        self.read(|transaction| {
            require_site(transaction, site)?;
            query_all(
                transaction,
                &format!(
                    "SELECT {REGISTRATION_COLUMNS} FROM registrations
                     WHERE site = ?1 ORDER BY name_key, client_id"
                ),
                [site.as_str()],
                parse_registration,
            )
        })
    }

    fn page(
        &self,
        site: &SiteSlug,
        query: &ListQuery,
    ) -> Result<(Vec<Registration>, u64), StoreError> {
        let column = match query.sort {
            SortKey::Name => "name_key",
            SortKey::ClientId => "client_id",
            SortKey::RegistrationDate => "registration_date",
            SortKey::Enabled => "enabled",
            SortKey::LastUsed => "last_used",
            SortKey::ExpirationDate => "expiration_date",
        };
        let direction = if query.descending { "DESC" } else { "ASC" };
        // Names and Client IDs are matched on their lower-case forms (name_key is one).
        let search = query
            .search
            .as_deref()
            .map(str::trim)
            .filter(|needle| !needle.is_empty())
            .map(|needle| {
                RegistrationName::parse(needle)
                    .map_or_else(|_| needle.to_lowercase(), |name| name.unique_key())
            });
        self.read(|transaction| {
            require_site(transaction, site)?;
            match search {
                None => {
                    let total: i64 = transaction
                        .prepare_cached("SELECT COUNT(*) FROM registrations WHERE site = ?1")
                        .map_err(map_error)?
                        .query_row([site.as_str()], |row| row.get(0))
                        .map_err(map_error)?;
                    let registrations = query_all(
                        transaction,
                        &format!(
                            "SELECT {REGISTRATION_COLUMNS} FROM registrations WHERE site = ?1
                             ORDER BY {column} {direction}, client_id {direction}
                             LIMIT ?2 OFFSET ?3"
                        ),
                        params![site.as_str(), query.limit, counter(query.offset)?],
                        parse_registration,
                    )?;
                    Ok((registrations, total.unsigned_abs()))
                }
                Some(needle) => {
                    // One scan of the narrow index registrations_search (site, name_key,
                    // client_id) yields every match in order: the total and the page at once.
                    let matching: Vec<i64> = transaction
                        .prepare_cached(&format!(
                            "SELECT rowid FROM registrations INDEXED BY registrations_search
                             WHERE site = ?1
                               AND (instr(name_key, ?2) > 0 OR instr(client_id, ?2) > 0)
                             ORDER BY {column} {direction}, client_id {direction}"
                        ))
                        .map_err(map_error)?
                        .query_map(params![site.as_str(), needle], |row| row.get(0))
                        .map_err(map_error)?
                        .collect::<Result<_, _>>()
                        .map_err(map_error)?;
                    let start = usize::try_from(query.offset).unwrap_or(usize::MAX);
                    let page: Vec<i64> = matching
                        .iter()
                        .skip(start)
                        .take(query.limit as usize)
                        .copied()
                        .collect();
                    let mut registrations = Vec::with_capacity(page.len());
                    let mut by_rowid = transaction
                        .prepare_cached(&format!(
                            "SELECT {REGISTRATION_COLUMNS} FROM registrations WHERE rowid = ?1"
                        ))
                        .map_err(map_error)?;
                    for rowid in page {
                        registrations.push(
                            by_rowid
                                .query_row([rowid], |row| Ok(parse_registration(row)))
                                .map_err(map_error)??,
                        );
                    }
                    Ok((registrations, matching.len() as u64))
                }
            }
        })
    }

    fn enabled_expiring_by(
        &self,
        site: &SiteSlug,
        until: ExpirationDate,
    ) -> Result<Vec<Registration>, StoreError> {
        self.read(|transaction| {
            // registrations_due (site, enabled, expiration_date) bounds the read.
            query_all(
                transaction,
                &format!(
                    "SELECT {REGISTRATION_COLUMNS} FROM registrations
                     WHERE site = ?1 AND enabled = 1 AND expiration_date <= ?2
                     ORDER BY name_key, client_id"
                ),
                [site.as_str(), &until.to_string()],
                parse_registration,
            )
        })
    }

    fn record_usage(&self, updates: &[UsageUpdate]) -> Result<(), StoreError> {
        if updates.is_empty() {
            return Ok(());
        }
        self.write(|transaction| {
            let mut last_used = transaction
                .prepare_cached(
                    "UPDATE registrations SET last_used = ?2
                     WHERE id = ?1 AND (last_used IS NULL OR last_used < ?2)",
                )
                .map_err(map_error)?;
            let mut rejected = transaction
                .prepare_cached(
                    "UPDATE registrations SET rejected_count = rejected_count + ?3,
                        last_rejected = CASE
                            WHEN last_rejected IS NULL OR last_rejected < ?4 THEN ?4
                            ELSE last_rejected END
                     WHERE id = ?1 AND expiration_date = ?2",
                )
                .map_err(map_error)?;
            for update in updates {
                let id = update.registration.to_string();
                if let Some(at) = update.last_used {
                    last_used
                        .execute(params![id, instant_text(at)])
                        .map_err(map_error)?;
                }
                if let (1.., Some(at)) = (update.rejections, update.last_rejected) {
                    rejected
                        .execute(params![
                            id,
                            update.expiration_date.to_string(),
                            counter(update.rejections)?,
                            instant_text(at)
                        ])
                        .map_err(map_error)?;
                }
            }
            Ok(())
        })
    }
}

fn signing_keys(transaction: &Transaction<'_>) -> Result<Vec<SigningKeyRecord>, StoreError> {
    query_all(
        transaction,
        "SELECT kid, private_key, created_at FROM signing_keys ORDER BY id DESC",
        [],
        parse_signing_key,
    )
}

fn insert_signing_key(
    transaction: &Transaction<'_>,
    key: &SigningKeyRecord,
) -> Result<(), StoreError> {
    transaction
        .execute(
            "INSERT INTO signing_keys (kid, private_key, created_at) VALUES (?1, ?2, ?3)",
            params![
                key.kid,
                key.private_key.as_slice(),
                instant_text(key.created_at)
            ],
        )
        .map_err(map_error)?;
    Ok(())
}

impl KeyStore for SqliteStore {
    fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
        self.read(signing_keys)
    }

    fn ensure_signing_key(
        &self,
        candidate: &SigningKeyRecord,
    ) -> Result<Vec<SigningKeyRecord>, StoreError> {
        self.write(|transaction| {
            if signing_keys(transaction)?.is_empty() {
                insert_signing_key(transaction, candidate)?;
            }
            signing_keys(transaction)
        })
    }

    fn rotate_signing_key(
        &self,
        key: &SigningKeyRecord,
        keep: usize,
    ) -> Result<Vec<SigningKeyRecord>, StoreError> {
        self.write(|transaction| {
            insert_signing_key(transaction, key)?;
            transaction
                .execute(
                    "DELETE FROM signing_keys WHERE kid NOT IN (
                        SELECT kid FROM signing_keys ORDER BY id DESC LIMIT ?1
                     )",
                    [counter(keep as u64)?],
                )
                .map_err(map_error)?;
            signing_keys(transaction)
        })
    }
}

fn find_admin(
    transaction: &Transaction<'_>,
    username: &str,
) -> Result<Option<AdminAccount>, StoreError> {
    let found = transaction
        .query_row(
            "SELECT username, password_hash, email, created_at FROM admins WHERE username = ?1",
            [username],
            |row| Ok(parse_admin(row)),
        )
        .optional()
        .map_err(map_error)?
        .transpose()?;
    let Some(mut admin) = found else {
        return Ok(None);
    };
    let mut statement = transaction
        .prepare_cached("SELECT site FROM admin_sites WHERE username = ?1 ORDER BY site")
        .map_err(map_error)?;
    let sites = statement
        .query_map([username], |row| row.get::<_, String>(0))
        .map_err(map_error)?;
    for site in sites {
        let site = site.map_err(map_error)?;
        admin.sites.push(
            SiteSlug::parse(&site).map_err(|_| {
                StoreError::Corrupt(format!("stored site slug {site:?} is invalid"))
            })?,
        );
    }
    Ok(Some(admin))
}

impl AdminStore for SqliteStore {
    fn add_admin(&self, admin: &AdminAccount, audit: &[AuditEntry]) -> Result<(), StoreError> {
        self.write(|transaction| {
            if find_admin(transaction, admin.username.as_str())?.is_some() {
                return Err(StoreError::DuplicateAdmin(admin.username.to_string()));
            }
            for site in &admin.sites {
                require_site(transaction, site)?;
            }
            transaction
                .execute(
                    "INSERT INTO admins (username, password_hash, email, created_at)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![
                        admin.username.as_str(),
                        admin.password_hash.as_phc(),
                        admin.email,
                        instant_text(admin.created_at)
                    ],
                )
                .map_err(map_error)?;
            for site in &admin.sites {
                transaction
                    .execute(
                        "INSERT INTO admin_sites (username, site) VALUES (?1, ?2)",
                        [admin.username.as_str(), site.as_str()],
                    )
                    .map_err(map_error)?;
            }
            for entry in audit {
                write_audit(transaction, entry)?;
            }
            Ok(())
        })
    }

    fn admin_count(&self) -> Result<u64, StoreError> {
        self.read(|transaction| {
            let count: i64 = transaction
                .query_row("SELECT COUNT(*) FROM admins", [], |row| row.get(0))
                .map_err(map_error)?;
            u64::try_from(count).map_err(|_| StoreError::Corrupt("negative count".into()))
        })
    }

    fn admin(&self, username: &AdminName) -> Result<AdminAccount, StoreError> {
        self.read(|transaction| {
            find_admin(transaction, username.as_str())?
                .ok_or_else(|| StoreError::UnknownAdmin(username.to_string()))
        })
    }

    fn add_admin_token(
        &self,
        username: &AdminName,
        digest: &TokenDigest,
        created_at: OffsetDateTime,
        audit: &[AuditEntry],
    ) -> Result<(), StoreError> {
        self.write(|transaction| {
            if find_admin(transaction, username.as_str())?.is_none() {
                return Err(StoreError::UnknownAdmin(username.to_string()));
            }
            transaction
                .execute(
                    "INSERT INTO admin_tokens (digest, username, created_at) VALUES (?1, ?2, ?3)",
                    params![
                        digest.0.as_slice(),
                        username.as_str(),
                        instant_text(created_at)
                    ],
                )
                .map_err(map_error)?;
            for entry in audit {
                write_audit(transaction, entry)?;
            }
            Ok(())
        })
    }

    fn admin_by_token(&self, digest: &TokenDigest) -> Result<Option<AdminAccount>, StoreError> {
        self.read(|transaction| {
            let username: Option<String> = transaction
                .query_row(
                    "SELECT username FROM admin_tokens WHERE digest = ?1",
                    [digest.0.as_slice()],
                    |row| row.get(0),
                )
                .optional()
                .map_err(map_error)?;
            match username {
                Some(username) => find_admin(transaction, &username),
                None => Ok(None),
            }
        })
    }

    fn admins_of(&self, site: &SiteSlug) -> Result<Vec<AdminAccount>, StoreError> {
        self.read(|transaction| {
            let mut statement = transaction
                .prepare_cached(
                    "SELECT username FROM admin_sites WHERE site = ?1 ORDER BY username",
                )
                .map_err(map_error)?;
            let usernames: Vec<String> = statement
                .query_map([site.as_str()], |row| row.get(0))
                .map_err(map_error)?
                .collect::<Result<_, _>>()
                .map_err(map_error)?;
            usernames
                .iter()
                .filter_map(|username| find_admin(transaction, username).transpose())
                .collect()
        })
    }

    fn subscriptions(&self, site: &SiteSlug) -> Result<Vec<Subscription>, StoreError> {
        self.read(|transaction| {
            query_all(
                transaction,
                "SELECT username, kind, channel, enabled FROM subscriptions WHERE site = ?1",
                [site.as_str()],
                parse_subscription,
            )
        })
    }

    fn set_subscription(
        &self,
        site: &SiteSlug,
        subscription: &Subscription,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        self.write(|transaction| {
            require_site(transaction, site)?;
            if find_admin(transaction, subscription.username.as_str())?.is_none() {
                return Err(StoreError::UnknownAdmin(subscription.username.to_string()));
            }
            transaction
                .execute(
                    "INSERT INTO subscriptions (site, username, kind, channel, enabled)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (site, username, kind, channel)
                     DO UPDATE SET enabled = excluded.enabled",
                    params![
                        site.as_str(),
                        subscription.username.as_str(),
                        subscription.kind.as_str(),
                        subscription.channel.as_str(),
                        subscription.enabled
                    ],
                )
                .map_err(map_error)?;
            write_audit(transaction, audit)
        })
    }
}

impl TemplateStore for SqliteStore {
    fn templates(&self, site: &SiteSlug) -> Result<Vec<NotificationTemplate>, StoreError> {
        self.read(|transaction| {
            require_site(transaction, site)?;
            query_all(
                transaction,
                "SELECT kind, subject, body, enabled, banner FROM notification_templates
                 WHERE site = ?1",
                [site.as_str()],
                parse_template,
            )
        })
    }

    fn save_template(
        &self,
        site: &SiteSlug,
        template: &NotificationTemplate,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        self.write(|transaction| {
            require_site(transaction, site)?;
            transaction
                .execute(
                    "INSERT INTO notification_templates (site, kind, subject, body, enabled, banner)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (site, kind) DO UPDATE SET subject = excluded.subject,
                        body = excluded.body, enabled = excluded.enabled, banner = excluded.banner",
                    params![
                        site.as_str(),
                        template.kind.as_str(),
                        template.subject,
                        template.body,
                        template.enabled,
                        template.banner.as_str()
                    ],
                )
                .map_err(map_error)?;
            write_audit(transaction, audit)
        })
    }
}

impl NoticeOutbox for SqliteStore {
    fn notice_candidates(
        &self,
        site: &SiteSlug,
        horizon: ExpirationDate,
    ) -> Result<Vec<NoticeCandidate>, StoreError> {
        self.read(|transaction| {
            // Uses registrations_due (site, enabled, expiration_date): only the range that can
            // be due is read, however many registrations the site has.
            let mut statement = transaction
                .prepare_cached(
                    "SELECT r.id, r.client_id, r.name, r.expiration_date,
                        (SELECT group_concat(n.kind) FROM notices n
                         WHERE n.registration_id = r.id AND n.expiration_date = r.expiration_date)
                     FROM registrations r
                     WHERE r.site = ?1 AND r.enabled = 1 AND r.expiration_date <= ?2
                     ORDER BY r.expiration_date",
                )
                .map_err(map_error)?;
            let rows = statement
                .query_map([site.as_str(), &horizon.to_string()], |row| {
                    Ok(parse_candidate(row))
                })
                .map_err(map_error)?;
            let mut candidates = Vec::new();
            for row in rows {
                let candidate = row.map_err(map_error)??;
                if candidate.recorded.len() < NoticeKind::ALL.len() {
                    candidates.push(candidate);
                }
            }
            Ok(candidates)
        })
    }

    fn record(
        &self,
        notices: &[NoticeRecord],
        recorded_at: OffsetDateTime,
    ) -> Result<usize, StoreError> {
        if notices.is_empty() {
            return Ok(0);
        }
        self.write(|transaction| {
            let mut insert_notice = transaction
                .prepare_cached(
                    // The SELECT re-checks the facts the sweep computed from, atomically.
                    "INSERT INTO notices (registration_id, expiration_date, kind, site,
                        registration_name, client_id, disposition, subject, due_at, recorded_at,
                        body)
                     SELECT id, expiration_date, ?3, site, name, client_id, ?4, ?5, ?6, ?7, ?8
                     FROM registrations
                     WHERE id = ?1 AND expiration_date = ?2 AND enabled = 1
                     ON CONFLICT (registration_id, expiration_date, kind) DO NOTHING",
                )
                .map_err(map_error)?;
            let mut insert_delivery = transaction
                .prepare_cached(
                    "INSERT INTO deliveries (notice_id, position, recipient, channel, status, attempts)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(map_error)?;
            let mut recorded = 0;
            for record in notices {
                let key = record.notice.key;
                let inserted = insert_notice
                    .execute(params![
                        key.registration_id.to_string(),
                        key.expiration_date.to_string(),
                        key.kind.as_str(),
                        disposition_str(record.notice.disposition),
                        record.subject,
                        instant_text(record.notice.due_at),
                        instant_text(recorded_at),
                        record.body,
                    ])
                    .map_err(map_error)?;
                if inserted == 0 {
                    continue;
                }
                recorded += 1;
                let notice_id = transaction.last_insert_rowid();
                for (position, delivery) in record.deliveries.iter().enumerate() {
                    insert_delivery
                        .execute(params![
                            notice_id,
                            counter(position as u64)?,
                            delivery.recipient,
                            delivery.channel.as_str(),
                            delivery.status.as_str(),
                            delivery.attempts,
                        ])
                        .map_err(map_error)?;
                }
            }
            Ok(recorded)
        })
    }

    fn delivery_counts(&self) -> Result<Vec<(NoticeKind, DeliveryStatus, u64)>, StoreError> {
        self.read(|transaction| {
            let mut statement = transaction
                .prepare_cached(
                    "SELECT n.kind, d.status, COUNT(*) FROM deliveries d
                     JOIN notices n ON n.id = d.notice_id
                     GROUP BY n.kind, d.status ORDER BY n.kind, d.status",
                )
                .map_err(map_error)?;
            let rows = statement
                .query_map([], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, i64>(2)?,
                    ))
                })
                .map_err(map_error)?;
            rows.map(|row| {
                let (kind, status, count) = row.map_err(map_error)?;
                let corrupt = |what: &str, text: &str| {
                    StoreError::Corrupt(format!("stored {what} {text:?} is invalid"))
                };
                Ok((
                    NoticeKind::parse(&kind).ok_or_else(|| corrupt("notice kind", &kind))?,
                    DeliveryStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
                    u64::try_from(count).map_err(|_| corrupt("count", &count.to_string()))?,
                ))
            })
            .collect()
        })
    }

    fn log(&self, site: &SiteSlug) -> Result<Vec<NoticeLogEntry>, StoreError> {
        self.read(|transaction| {
            let mut notices = transaction
                .prepare(
                    "SELECT id, registration_id, expiration_date, kind, site, registration_name,
                        client_id, disposition, subject, due_at, recorded_at, body
                     FROM notices WHERE site = ?1
                     ORDER BY recorded_at DESC, due_at DESC, kind DESC",
                )
                .map_err(map_error)?;
            let mut entries: Vec<(i64, NoticeLogEntry)> = notices
                .query_map([site.as_str()], |row| {
                    Ok(row.get::<_, i64>(0).map(|id| (id, parse_log_entry(row))))
                })
                .map_err(map_error)?
                .map(|row| {
                    let (id, entry) = row.map_err(map_error)?.map_err(map_error)?;
                    Ok((id, entry?))
                })
                .collect::<Result<_, StoreError>>()?;
            let mut deliveries = transaction
                .prepare(
                    "SELECT d.notice_id, d.recipient, d.channel, d.status, d.attempts,
                        d.next_attempt_at, d.last_error
                     FROM deliveries d JOIN notices n ON n.id = d.notice_id
                     WHERE n.site = ?1 ORDER BY d.notice_id, d.position",
                )
                .map_err(map_error)?;
            let rows = deliveries
                .query_map([site.as_str()], |row| {
                    Ok((row.get::<_, i64>(0)?, parse_delivery(row)))
                })
                .map_err(map_error)?;
            let mut by_notice = std::collections::HashMap::<i64, Vec<_>>::new();
            for row in rows {
                let (notice_id, delivery) = row.map_err(map_error)?;
                by_notice.entry(notice_id).or_default().push(delivery?);
            }
            for (id, entry) in &mut entries {
                entry.deliveries = by_notice.remove(id).unwrap_or_default();
            }
            Ok(entries.into_iter().map(|(_, entry)| entry).collect())
        })
    }

    fn log_page(
        &self,
        site: &SiteSlug,
        query: &LogQuery,
    ) -> Result<(Vec<NoticeLogEntry>, u64), StoreError> {
        const MATCHES: &str = "n.site = ?1 AND (?2 IS NULL OR n.kind = ?2)
            AND (?3 IS NULL OR n.client_id = ?3)
            AND (?4 IS NULL OR EXISTS
                (SELECT 1 FROM deliveries d WHERE d.notice_id = n.id AND d.status = ?4))";
        let kind = query.kind.map(NoticeKind::as_str);
        let status = query.status.map(DeliveryStatus::as_str);
        self.read(|transaction| {
            require_site(transaction, site)?;
            let filter = params![site.as_str(), kind, query.client_id, status];
            let total: i64 = transaction
                .prepare_cached(&format!("SELECT COUNT(*) FROM notices n WHERE {MATCHES}"))
                .map_err(map_error)?
                .query_row(filter, |row| row.get(0))
                .map_err(map_error)?;
            // notices_log (site, recorded_at, due_at, kind) serves the order without sorting.
            let mut page = transaction
                .prepare_cached(&format!(
                    "SELECT n.id, n.registration_id, n.expiration_date, n.kind, n.site,
                        n.registration_name, n.client_id, n.disposition, n.subject, n.due_at,
                        n.recorded_at, n.body
                     FROM notices n WHERE {MATCHES}
                     ORDER BY n.recorded_at DESC, n.due_at DESC, n.kind DESC
                     LIMIT ?5 OFFSET ?6"
                ))
                .map_err(map_error)?;
            let entries: Vec<(i64, NoticeLogEntry)> = page
                .query_map(
                    params![
                        site.as_str(),
                        kind,
                        query.client_id,
                        status,
                        query.limit,
                        counter(query.offset)?
                    ],
                    |row| Ok(row.get::<_, i64>(0).map(|id| (id, parse_log_entry(row)))),
                )
                .map_err(map_error)?
                .map(|row| {
                    let (id, entry) = row.map_err(map_error)?.map_err(map_error)?;
                    Ok((id, entry?))
                })
                .collect::<Result<_, StoreError>>()?;
            let mut paged = Vec::with_capacity(entries.len());
            for (id, mut entry) in entries {
                entry.deliveries = query_all(
                    transaction,
                    "SELECT notice_id, recipient, channel, status, attempts, next_attempt_at,
                        last_error
                     FROM deliveries WHERE notice_id = ?1 ORDER BY position",
                    [id],
                    parse_delivery,
                )?;
                paged.push(entry);
            }
            Ok((paged, total.unsigned_abs()))
        })
    }

    fn claim_deliveries(
        &self,
        channels: &[Channel],
        now: OffsetDateTime,
        lease: &Lease,
        limit: usize,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        if channels.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let now = instant_text(now);
        // The write lock is taken first (BEGIN IMMEDIATE): two workers cannot both read a
        // delivery as unleased before either leases it.
        self.write(|transaction| {
            let mut select = transaction
                .prepare_cached(&format!(
                    "SELECT {CLAIM_COLUMNS}, d.notice_id
                     FROM deliveries d JOIN notices n ON n.id = d.notice_id
                     LEFT JOIN webhooks w
                        ON d.channel = 'webhook' AND w.site = n.site AND w.url = d.recipient
                     WHERE d.status IN ('pending', 'retrying') AND d.channel IN ({})
                       AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?1)
                       AND (d.lease_until IS NULL OR d.lease_until <= ?1)
                       AND (d.channel <> 'webhook' OR w.secret IS NOT NULL)
                     ORDER BY d.notice_id, d.position
                     LIMIT ?2",
                    channel_list(channels)
                ))
                .map_err(map_error)?;
            let rows = select
                .query_map(params![now, counter(limit as u64)?], |row| {
                    Ok(row.get::<_, i64>(13).map(|id| (id, parse_claimed(row))))
                })
                .map_err(map_error)?;
            let mut lease_one = transaction
                .prepare_cached(
                    "UPDATE deliveries SET lease_id = ?4, lease_until = ?5
                     WHERE notice_id = ?1 AND channel = ?2 AND recipient = ?3",
                )
                .map_err(map_error)?;
            let mut claimed = Vec::new();
            for row in rows {
                let (notice_id, claim) = row.map_err(map_error)?.map_err(map_error)?;
                let claim = claim?;
                let delivery = &claim.delivery;
                lease_one
                    .execute(params![
                        notice_id,
                        delivery.channel.as_str(),
                        delivery.recipient,
                        lease.id,
                        instant_text(lease.until),
                    ])
                    .map_err(map_error)?;
                claimed.push(claim);
            }
            Ok(claimed)
        })
    }

    fn finish_delivery(
        &self,
        target: &DeliveryTarget,
        lease_id: &str,
        outcome: &DeliveryOutcome,
    ) -> Result<bool, StoreError> {
        self.write(|transaction| {
            let changed = transaction
                .prepare_cached(
                    "UPDATE deliveries SET status = ?1, attempts = ?2, next_attempt_at = ?3,
                        last_error = ?4, lease_id = NULL, lease_until = NULL
                     WHERE notice_id = (SELECT id FROM notices
                            WHERE registration_id = ?5 AND expiration_date = ?6 AND kind = ?7)
                       AND channel = ?8 AND recipient = ?9 AND lease_id = ?10
                       AND status IN ('pending', 'retrying')",
                )
                .map_err(map_error)?
                .execute(params![
                    outcome.status.as_str(),
                    outcome.attempts,
                    outcome.next_attempt_at.map(instant_text),
                    outcome.last_error,
                    target.notice.registration_id.to_string(),
                    target.notice.expiration_date.to_string(),
                    target.notice.kind.as_str(),
                    target.channel.as_str(),
                    target.recipient,
                    lease_id,
                ])
                .map_err(map_error)?;
            Ok(changed == 1)
        })
    }

    fn due_delivery_count(
        &self,
        channels: &[Channel],
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        if channels.is_empty() {
            return Ok(0);
        }
        self.read(|transaction| {
            let count: i64 = transaction
                .prepare_cached(&format!(
                    "SELECT COUNT(*) FROM deliveries
                     WHERE status IN ('pending', 'retrying') AND channel IN ({})
                       AND (next_attempt_at IS NULL OR next_attempt_at <= ?1)",
                    channel_list(channels)
                ))
                .map_err(map_error)?
                .query_row([instant_text(now)], |row| row.get(0))
                .map_err(map_error)?;
            Ok(count.unsigned_abs())
        })
    }
}

/// `'email', 'webhook'`: channel names are fixed identifiers, safe to inline.
fn channel_list(channels: &[Channel]) -> String {
    channels
        .iter()
        .map(|channel| format!("'{}'", channel.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl SessionStore for SqliteStore {
    fn create_session(&self, session: &ConsoleSession) -> Result<(), StoreError> {
        self.write(|transaction| {
            forget_reveals(
                transaction,
                "session IN (SELECT digest FROM console_sessions WHERE expires_at < ?1)",
                params![instant_text(session.created_at)],
            )?;
            transaction
                .execute(
                    "DELETE FROM console_sessions WHERE expires_at < ?1",
                    [instant_text(session.created_at)],
                )
                .map_err(map_error)?;
            transaction
                .execute(
                    "INSERT INTO console_sessions (digest, username, created_at, expires_at)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![
                        session.digest.0.as_slice(),
                        session.username.as_str(),
                        instant_text(session.created_at),
                        instant_text(session.expires_at)
                    ],
                )
                .map_err(map_error)?;
            Ok(())
        })
    }

    fn session(&self, digest: &TokenDigest) -> Result<Option<ConsoleSession>, StoreError> {
        self.read(|transaction| {
            transaction
                .prepare_cached(
                    "SELECT digest, username, created_at, expires_at FROM console_sessions
                     WHERE digest = ?1",
                )
                .map_err(map_error)?
                .query_row([digest.0.as_slice()], |row| Ok(parse_session(row)))
                .optional()
                .map_err(map_error)?
                .transpose()
        })
    }

    fn delete_session(&self, digest: &TokenDigest) -> Result<(), StoreError> {
        self.write(|transaction| {
            forget_reveals(transaction, "session = ?1", params![digest.0.as_slice()])?;
            transaction
                .execute(
                    "DELETE FROM console_sessions WHERE digest = ?1",
                    [digest.0.as_slice()],
                )
                .map_err(map_error)?;
            Ok(())
        })
    }

    fn keep_reveal(&self, reveal: &PendingReveal) -> Result<(), StoreError> {
        self.write(|transaction| {
            forget_reveals(
                transaction,
                "expires_at < ?1",
                params![instant_text(reveal.created_at)],
            )?;
            transaction
                .execute(
                    "INSERT OR REPLACE INTO console_reveals (session, client_id, pad, expires_at)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![
                        reveal.session.0.as_slice(),
                        reveal.client_id.as_str(),
                        reveal.pad.as_bytes(),
                        instant_text(reveal.expires_at)
                    ],
                )
                .map_err(map_error)?;
            Ok(())
        })
    }

    fn take_reveal(
        &self,
        session: &TokenDigest,
        client_id: &ClientId,
        now: OffsetDateTime,
    ) -> Result<Option<RevealPad>, StoreError> {
        self.write(|transaction| {
            let key = params![session.0.as_slice(), client_id.as_str()];
            let pad: Option<Vec<u8>> = transaction
                .query_row(
                    "SELECT pad FROM console_reveals
                     WHERE session = ?1 AND client_id = ?2 AND expires_at > ?3",
                    params![session.0.as_slice(), client_id.as_str(), instant_text(now)],
                    |row| row.get(0),
                )
                .optional()
                .map_err(map_error)?;
            forget_reveals(transaction, "session = ?1 AND client_id = ?2", key)?;
            Ok(pad.map(RevealPad::from_bytes))
        })
    }
}

/// Deletes the reveal pads `condition` selects, zeroing them first: a plain DELETE can leave
/// the bytes in the page's free space, where they would outlive the reveal.
fn forget_reveals(
    transaction: &Transaction<'_>,
    condition: &str,
    parameters: &[&dyn rusqlite::ToSql],
) -> Result<(), StoreError> {
    transaction
        .execute(
            &format!("UPDATE console_reveals SET pad = zeroblob(length(pad)) WHERE {condition}"),
            parameters,
        )
        .map_err(map_error)?;
    transaction
        .execute(
            &format!("DELETE FROM console_reveals WHERE {condition}"),
            parameters,
        )
        .map_err(map_error)?;
    Ok(())
}

impl WebhookStore for SqliteStore {
    fn add_webhook(
        &self,
        site: &SiteSlug,
        endpoint: &WebhookEndpoint,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        self.write(|transaction| {
            require_site(transaction, site)?;
            let inserted = transaction
                .execute(
                    "INSERT INTO webhooks (site, url, secret, created_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (site, url) DO NOTHING",
                    params![
                        site.as_str(),
                        endpoint.url.as_str(),
                        endpoint.secret.expose(),
                        instant_text(endpoint.created_at)
                    ],
                )
                .map_err(map_error)?;
            if inserted == 0 {
                return Err(StoreError::DuplicateWebhook {
                    site: site.to_string(),
                    url: endpoint.url.to_string(),
                });
            }
            write_audit(transaction, audit)
        })
    }

    fn webhooks(&self, site: &SiteSlug) -> Result<Vec<WebhookEndpoint>, StoreError> {
        self.read(|transaction| {
            require_site(transaction, site)?;
            query_all(
                transaction,
                "SELECT url, secret, created_at FROM webhooks WHERE site = ?1 ORDER BY url",
                [site.as_str()],
                parse_webhook,
            )
        })
    }

    fn remove_webhook(
        &self,
        site: &SiteSlug,
        url: &WebhookUrl,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        self.write(|transaction| {
            let removed = transaction
                .execute(
                    "DELETE FROM webhooks WHERE site = ?1 AND url = ?2",
                    [site.as_str(), url.as_str()],
                )
                .map_err(map_error)?;
            if removed == 0 {
                return Err(StoreError::UnknownWebhook {
                    site: site.to_string(),
                    url: url.to_string(),
                });
            }
            transaction
                .execute(
                    "UPDATE deliveries SET status = 'cancelled', lease_id = NULL, lease_until = NULL
                     WHERE status IN ('pending', 'retrying') AND channel = 'webhook'
                       AND recipient = ?2
                       AND notice_id IN (SELECT id FROM notices WHERE site = ?1)",
                    [site.as_str(), url.as_str()],
                )
                .map_err(map_error)?;
            write_audit(transaction, audit)
        })
    }
}

impl AuditLog for SqliteStore {
    fn audit_page(
        &self,
        site: &SiteSlug,
        query: &AuditQuery,
    ) -> Result<(Vec<AuditEntry>, u64), StoreError> {
        self.read(|transaction| {
            require_site(transaction, site)?;
            // audit_log_by_site (site, id) serves both the count and the page.
            let total: i64 = transaction
                .prepare_cached("SELECT COUNT(*) FROM audit_log WHERE site = ?1")
                .map_err(map_error)?
                .query_row([site.as_str()], |row| row.get(0))
                .map_err(map_error)?;
            let entries = query_all(
                transaction,
                "SELECT at, actor, site, action, subject, before, after FROM audit_log
                 WHERE site = ?1 ORDER BY id DESC LIMIT ?2 OFFSET ?3",
                params![site.as_str(), query.limit, counter(query.offset)?],
                parse_audit_entry,
            )?;
            Ok((entries, total.unsigned_abs()))
        })
    }
}
