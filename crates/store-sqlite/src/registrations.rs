//! `RegistrationStore`: registrations, the grid's pages, banner candidates, coalesced usage.

use std::sync::LazyLock;

use registration_core::{
    AuditEntry, ClientId, ExpirationDate, ExpiryEntry, FactFilter, ListQuery, Registration,
    RegistrationStore, Site, SiteSlug, StoreError, UsageUpdate,
};
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Transaction, params, params_from_iter};

use crate::connection::{
    SqliteStore, find_site, monotonic_now, query_all, read_change_stamp, require_site, write_audit,
};
use crate::convert::{Row, map_error};
use registration_core::stored::{
    REGISTRATION_COLUMNS, counter, instant_text, parse_expiry_entry, parse_registration,
    sort_column,
};

static FIND_REGISTRATION: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {REGISTRATION_COLUMNS} FROM registrations WHERE site = ?1 AND client_id = ?2")
});

fn find_registration(
    transaction: &Transaction<'_>,
    site: &SiteSlug,
    client_id: &ClientId,
) -> Result<Option<Registration>, StoreError> {
    // On every token request: the statement is prepared once per connection.
    transaction
        .prepare_cached(&FIND_REGISTRATION)
        .map_err(map_error)?
        .query_row([site.as_str(), client_id.as_str()], |row| {
            Ok(parse_registration(&Row(row)))
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

/// `site = ?1` and a condition per bound of `filter`, with their values in placeholder
/// order (each shape of statement is prepared once per connection).
fn fact_conditions(site: &SiteSlug, filter: &FactFilter) -> (String, Vec<Value>) {
    let mut conditions = String::from("site = ?1");
    let mut values: Vec<Value> = vec![Value::Text(site.as_str().to_owned())];
    let mut bind = |condition: &str, value: Value| {
        values.push(value);
        conditions.push_str(&format!(" AND {condition} ?{}", values.len()));
    };
    if let Some(enabled) = filter.enabled {
        bind("enabled =", Value::Integer(i64::from(enabled)));
    }
    if let Some(from) = filter.expires_on_or_after {
        bind("expiration_date >=", Value::Text(from.to_string()));
    }
    if let Some(until) = filter.expires_on_or_before {
        bind("expiration_date <=", Value::Text(until.to_string()));
    }
    (conditions, values)
}

/// How many columns [`REGISTRATION_COLUMNS`] names.
const REGISTRATION_COLUMN_COUNT: usize = 23;

/// `?first, ?first+1, …` for every registrations column.
fn placeholders(first: usize) -> String {
    (first..first + REGISTRATION_COLUMN_COUNT)
        .map(|index| format!("?{index}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A registration's column values in [`REGISTRATION_COLUMNS`] order, at `revision`.
fn registration_values(
    registration: &Registration,
    revision: u64,
) -> Result<Vec<Value>, StoreError> {
    let record = registration.record();
    let text = |text: &str| Value::Text(text.to_owned());
    let instant = |instant| Value::Text(instant_text(instant));
    let optional_instant =
        |instant: Option<_>| instant.map_or(Value::Null, |at| Value::Text(instant_text(at)));
    let previous = record.previous_secret.as_ref();
    let values = vec![
        Value::Text(record.id.to_string()),
        text(record.site.as_str()),
        text(record.client_id.as_str()),
        text(record.name.as_str()),
        Value::Text(record.name.unique_key()),
        Value::Text(record.expiration_date.to_string()),
        Value::Integer(i64::from(record.enabled)),
        text(record.secret.hash.as_phc()),
        text(record.secret.hint.as_str()),
        instant(record.registration_date),
        optional_instant(record.last_used),
        Value::Integer(counter(record.rejections.count)?),
        optional_instant(record.rejections.last),
        Value::Integer(counter(revision)?),
        instant(record.secret.created_at),
        optional_instant(record.secret.last_used),
        previous.map_or(Value::Null, |p| text(p.secret.hash.as_phc())),
        previous.map_or(Value::Null, |p| text(p.secret.hint.as_str())),
        previous.map_or(Value::Null, |p| instant(p.secret.created_at)),
        optional_instant(previous.and_then(|p| p.secret.last_used)),
        previous.map_or(Value::Null, |p| instant(p.expires_at)),
        Value::Integer(counter(previous.map_or(0, |p| p.rejections.count))?),
        optional_instant(previous.and_then(|p| p.rejections.last)),
    ];
    debug_assert_eq!(values.len(), REGISTRATION_COLUMN_COUNT);
    Ok(values)
}

impl RegistrationStore for SqliteStore {
    fn insert(&self, registration: &Registration, audit: &AuditEntry) -> Result<(), StoreError> {
        let record = registration.record();
        self.write_change(|transaction| {
            require_site(transaction, &record.site)?;
            transaction
                .execute(
                    &format!(
                        "INSERT INTO registrations ({REGISTRATION_COLUMNS}) VALUES ({})",
                        placeholders(1)
                    ),
                    params_from_iter(registration_values(registration, record.revision)?),
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
        // Every token request asks this: the answer comes from the copy when it can.
        self.snapshots.site_and_registration(
            site,
            client_id,
            monotonic_now(),
            || self.read(read_change_stamp),
            || {
                self.read(|transaction| {
                    let found = find_site(transaction, site)?;
                    let registration = match client_id {
                        Some(client_id) => find_registration(transaction, site, client_id)?,
                        None => None,
                    };
                    Ok((found, registration))
                })
            },
        )
    }

    fn site_and_registration_in_memory(
        &self,
        site: &SiteSlug,
        client_id: &ClientId,
    ) -> Option<(Site, Registration)> {
        self.snapshots
            .fresh(site.as_str(), client_id.as_str(), monotonic_now())
    }

    fn update(&self, registration: &Registration, audit: &AuditEntry) -> Result<u64, StoreError> {
        let record = registration.record();
        self.write_change(|transaction| {
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
            let mut values = registration_values(registration, revision)?;
            values.push(Value::Text(record.id.to_string()));
            transaction
                .execute(
                    &format!(
                        "UPDATE registrations SET ({REGISTRATION_COLUMNS}) = ({})
                         WHERE id = ?{}",
                        placeholders(1),
                        REGISTRATION_COLUMN_COUNT + 1
                    ),
                    params_from_iter(values),
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
        self.write_change(|transaction| {
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
        let column = sort_column(query.sort);
        let direction = if query.descending { "DESC" } else { "ASC" };
        let search = query.search_needle();
        // The state filter, as conditions on stored facts; the statement text varies with
        // which bounds are set, so each shape is prepared once per connection.
        let filter = query.filter;
        let (conditions, mut values) = fact_conditions(site, &filter);
        // Narrow pages (a search, a state filter) collect the matching rows' ids in order
        // from the narrowest index, then read the page's rows: the total and the page at once,
        // and never a scan of a sort index hoping to meet a rare match (decision 0005).
        let narrowed = match search {
            Some(needle) => {
                let needle_at = values.len() + 1;
                values.push(Value::Text(needle));
                Some(format!(
                    "FROM registrations INDEXED BY registrations_search
                     WHERE {conditions}
                       AND (instr(name_key, ?{needle_at}) > 0 OR instr(client_id, ?{needle_at}) > 0)"
                ))
            }
            None if filter != FactFilter::default() => Some(format!(
                "FROM registrations INDEXED BY registrations_due WHERE {conditions}"
            )),
            None => None,
        };
        self.read(|transaction| {
            require_site(transaction, site)?;
            let Some(from_where) = &narrowed else {
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
                return Ok((registrations, total.unsigned_abs()));
            };
            let matching: Vec<i64> = transaction
                .prepare_cached(&format!(
                    "SELECT rowid {from_where}
                     ORDER BY {column} {direction}, client_id {direction}"
                ))
                .map_err(map_error)?
                .query_map(params_from_iter(&values), |row| row.get(0))
                .map_err(map_error)?
                .collect::<Result<_, _>>()
                .map_err(map_error)?;
            let start = usize::try_from(query.offset).unwrap_or(usize::MAX);
            let mut by_rowid = transaction
                .prepare_cached(&format!(
                    "SELECT {REGISTRATION_COLUMNS} FROM registrations WHERE rowid = ?1"
                ))
                .map_err(map_error)?;
            let registrations = matching
                .iter()
                .skip(start)
                .take(query.limit as usize)
                .map(|rowid| {
                    by_rowid
                        .query_row([rowid], |row| Ok(parse_registration(&Row(row))))
                        .map_err(map_error)?
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok((registrations, matching.len() as u64))
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

    fn expiring_in(
        &self,
        windows: &[(SiteSlug, ExpirationDate)],
        limit: u32,
    ) -> Result<(Vec<Registration>, u64), StoreError> {
        self.read(|transaction| {
            let mut found = Vec::new();
            let mut total: i64 = 0;
            for (site, until) in windows {
                require_site(transaction, site)?;
                let bounds = params![site.as_str(), until.to_string()];
                total += transaction
                    .prepare_cached(
                        "SELECT COUNT(*) FROM registrations INDEXED BY registrations_due
                         WHERE site = ?1 AND enabled = 1 AND expiration_date <= ?2",
                    )
                    .map_err(map_error)?
                    .query_row(bounds, |row| row.get::<_, i64>(0))
                    .map_err(map_error)?;
                found.extend(query_all(
                    transaction,
                    &format!(
                        "SELECT {REGISTRATION_COLUMNS}
                         FROM registrations INDEXED BY registrations_due
                         WHERE site = ?1 AND enabled = 1 AND expiration_date <= ?2
                         ORDER BY expiration_date, client_id LIMIT ?3"
                    ),
                    params![site.as_str(), until.to_string(), limit],
                    parse_registration,
                )?);
            }
            Ok((found, total.unsigned_abs()))
        })
    }

    fn expiry_entries(
        &self,
        site: &SiteSlug,
        filter: &FactFilter,
    ) -> Result<Vec<ExpiryEntry>, StoreError> {
        let (conditions, values) = fact_conditions(site, filter);
        self.read(|transaction| {
            require_site(transaction, site)?;
            // registrations_due (site, enabled, expiration_date) bounds the read; three
            // columns of each row, no more.
            query_all(
                transaction,
                &format!(
                    "SELECT client_id, name, expiration_date
                     FROM registrations INDEXED BY registrations_due WHERE {conditions}
                     ORDER BY expiration_date, client_id"
                ),
                params_from_iter(values),
                parse_expiry_entry,
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
            let mut current_secret = transaction
                .prepare_cached(
                    "UPDATE registrations SET secret_last_used = ?3
                     WHERE id = ?1 AND secret_hint = ?2
                       AND (secret_last_used IS NULL OR secret_last_used < ?3)",
                )
                .map_err(map_error)?;
            let mut previous_secret = transaction
                .prepare_cached(
                    "UPDATE registrations SET
                        previous_secret_last_used = CASE
                            WHEN ?3 IS NOT NULL AND (previous_secret_last_used IS NULL
                                OR previous_secret_last_used < ?3) THEN ?3
                            ELSE previous_secret_last_used END,
                        previous_secret_rejected_count = previous_secret_rejected_count + ?4,
                        previous_secret_last_rejected = CASE
                            WHEN ?5 IS NOT NULL AND (previous_secret_last_rejected IS NULL
                                OR previous_secret_last_rejected < ?5) THEN ?5
                            ELSE previous_secret_last_rejected END
                     WHERE id = ?1 AND previous_secret_hint = ?2",
                )
                .map_err(map_error)?;
            for update in updates {
                let id = update.registration.to_string();
                for secret in &update.secrets {
                    if let Some(at) = secret.last_used {
                        current_secret
                            .execute(params![id, secret.hint.as_str(), instant_text(at)])
                            .map_err(map_error)?;
                    }
                    previous_secret
                        .execute(params![
                            id,
                            secret.hint.as_str(),
                            secret.last_used.map(instant_text),
                            counter(secret.rejections.count)?,
                            secret.rejections.last.map(instant_text),
                        ])
                        .map_err(map_error)?;
                }
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
