//! `RegistrationStore`: registrations, the grid's pages, banner candidates, coalesced usage.

use postgres::Transaction;
use postgres::types::ToSql;
use registration_core::stored::{
    REGISTRATION_COLUMNS, counter, instant_text, parse_expiry_entry, parse_registration,
    sort_column,
};
use registration_core::{
    AuditEntry, ClientId, ExpirationDate, ExpiryEntry, FactFilter, ListQuery, Registration,
    RegistrationStore, Site, SiteSlug, SortKey, StoreError, UsageUpdate,
};

use crate::connection::{
    PostgresStore, count, execute, find_site, map_error, monotonic_now, query_all, query_optional,
    read_change_stamp, require_site, violated_constraint, write_audit,
};

/// The registration of `site` with `client_id`; `lock` takes its row lock until the end of
/// the transaction, for a rule that reads it and then writes.
fn find_registration(
    transaction: &mut Transaction<'_>,
    site: &SiteSlug,
    client_id: &ClientId,
    lock: bool,
) -> Result<Option<Registration>, StoreError> {
    let for_update = if lock { " FOR UPDATE" } else { "" };
    query_optional(
        transaction,
        &format!(
            "SELECT {REGISTRATION_COLUMNS} FROM registrations
             WHERE site = $1 AND client_id = $2{for_update}"
        ),
        &[&site.as_str(), &client_id.as_str()],
        parse_registration,
    )
}

/// Maps a unique violation on `registrations` to the port's error; others pass through.
fn unique_violation(error: &postgres::Error, registration: &Registration) -> StoreError {
    match violated_constraint(error) {
        Some("registrations_site_name_key_key") => {
            StoreError::DuplicateName(registration.name().to_string())
        }
        Some("registrations_client_id_key" | "registrations_pkey") => StoreError::DuplicateClientId,
        _ => map_error(error),
    }
}

/// `site = $1` and a condition per bound of a [`FactFilter`], with the values they bind in
/// placeholder order.
struct FactConditions {
    sql: String,
    site: String,
    enabled: Option<bool>,
    from: Option<String>,
    until: Option<String>,
}

impl FactConditions {
    fn of(site: &SiteSlug, filter: &FactFilter) -> Self {
        let mut facts = Self {
            sql: String::from("site = $1"),
            site: site.to_string(),
            enabled: filter.enabled,
            from: filter.expires_on_or_after.map(|date| date.to_string()),
            until: filter.expires_on_or_before.map(|date| date.to_string()),
        };
        let bound = [
            ("enabled =", facts.enabled.is_some()),
            ("expiration_date >=", facts.from.is_some()),
            ("expiration_date <=", facts.until.is_some()),
        ];
        let mut placeholder = 1;
        for (condition, set) in bound {
            if set {
                placeholder += 1;
                facts
                    .sql
                    .push_str(&format!(" AND {condition} ${placeholder}"));
            }
        }
        facts
    }

    fn values(&self) -> Vec<&(dyn ToSql + Sync)> {
        let mut values: Vec<&(dyn ToSql + Sync)> = vec![&self.site];
        if let Some(enabled) = &self.enabled {
            values.push(enabled);
        }
        if let Some(from) = &self.from {
            values.push(from);
        }
        if let Some(until) = &self.until {
            values.push(until);
        }
        values
    }
}

/// How many columns [`REGISTRATION_COLUMNS`] names.
const REGISTRATION_COLUMN_COUNT: usize = 23;

/// `$1, …, $23`: one placeholder per registrations column.
fn placeholders() -> String {
    (1..=REGISTRATION_COLUMN_COUNT)
        .map(|index| format!("${index}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A registration's column values, owned, in [`REGISTRATION_COLUMNS`] order.
struct RegistrationValues {
    texts: [String; 6],
    enabled: bool,
    hash: String,
    hint: String,
    instants: [Option<String>; 9],
    counters: [i64; 3],
    previous_hash: Option<String>,
    previous_hint: Option<String>,
}

impl RegistrationValues {
    fn of(registration: &Registration, revision: u64) -> Result<Self, StoreError> {
        let record = registration.record();
        let previous = record.previous_secret.as_ref();
        Ok(Self {
            texts: [
                record.id.to_string(),
                record.site.as_str().to_owned(),
                record.client_id.as_str().to_owned(),
                record.name.as_str().to_owned(),
                record.name.unique_key(),
                record.expiration_date.to_string(),
            ],
            enabled: record.enabled,
            hash: record.secret.hash.as_phc().to_owned(),
            hint: record.secret.hint.as_str().to_owned(),
            instants: [
                Some(instant_text(record.registration_date)),
                record.last_used.map(instant_text),
                record.rejections.last.map(instant_text),
                Some(instant_text(record.secret.created_at)),
                record.secret.last_used.map(instant_text),
                previous.map(|p| instant_text(p.secret.created_at)),
                previous.and_then(|p| p.secret.last_used).map(instant_text),
                previous.map(|p| instant_text(p.expires_at)),
                previous.and_then(|p| p.rejections.last).map(instant_text),
            ],
            counters: [
                counter(record.rejections.count)?,
                counter(revision)?,
                counter(previous.map_or(0, |p| p.rejections.count))?,
            ],
            previous_hash: previous.map(|p| p.secret.hash.as_phc().to_owned()),
            previous_hint: previous.map(|p| p.secret.hint.as_str().to_owned()),
        })
    }

    fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        let [id, site, client_id, name, name_key, expiration_date] = &self.texts;
        let [
            registration_date,
            last_used,
            last_rejected,
            secret_created_at,
            secret_last_used,
            previous_created_at,
            previous_last_used,
            previous_expires_at,
            previous_last_rejected,
        ] = &self.instants;
        let [rejected_count, revision, previous_rejected_count] = &self.counters;
        vec![
            id,
            site,
            client_id,
            name,
            name_key,
            expiration_date,
            &self.enabled,
            &self.hash,
            &self.hint,
            registration_date,
            last_used,
            rejected_count,
            last_rejected,
            revision,
            secret_created_at,
            secret_last_used,
            &self.previous_hash,
            &self.previous_hint,
            previous_created_at,
            previous_last_used,
            previous_expires_at,
            previous_rejected_count,
            previous_last_rejected,
        ]
    }
}

impl RegistrationStore for PostgresStore {
    fn insert(&self, registration: &Registration, audit: &AuditEntry) -> Result<(), StoreError> {
        let record = registration.record();
        self.write_change(|transaction| {
            require_site(transaction, &record.site)?;
            let values = RegistrationValues::of(registration, record.revision)?;
            transaction
                .execute(
                    &format!(
                        "INSERT INTO registrations ({REGISTRATION_COLUMNS}) VALUES ({})",
                        placeholders()
                    ),
                    &values.params(),
                )
                .map_err(|error| unique_violation(&error, registration))?;
            write_audit(transaction, audit)
        })
    }

    fn get(&self, site: &SiteSlug, client_id: &ClientId) -> Result<Registration, StoreError> {
        self.read(|transaction| {
            find_registration(transaction, site, client_id, false)?.ok_or(StoreError::NotFound)
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
                        Some(client_id) => find_registration(transaction, site, client_id, false)?,
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
            let Some(before) =
                find_registration(transaction, &record.site, &record.client_id, true)?
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
            let values = RegistrationValues::of(registration, revision)?;
            let id = record.id.to_string();
            let mut params = values.params();
            params.push(&id);
            transaction
                .execute(
                    &format!(
                        "UPDATE registrations SET ({REGISTRATION_COLUMNS}) = ({})
                         WHERE id = ${}",
                        placeholders(),
                        REGISTRATION_COLUMN_COUNT + 1
                    ),
                    &params,
                )
                .map_err(|error| unique_violation(&error, registration))?;
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
            let Some(before) = find_registration(transaction, site, client_id, true)? else {
                return Err(StoreError::NotFound);
            };
            if before.revision() != revision {
                return Err(StoreError::Conflict);
            }
            let id = before.id().to_string();
            execute(
                transaction,
                "UPDATE deliveries SET status = 'cancelled'
                 WHERE status IN ('pending', 'retrying')
                   AND notice_id IN (SELECT id FROM notices WHERE registration_id = $1)",
                &[&id],
            )?;
            execute(
                transaction,
                "DELETE FROM registrations WHERE id = $1",
                &[&id],
            )?;
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
                     WHERE site = $1 ORDER BY name_key, client_id"
                ),
                &[&site.as_str()],
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
        // No Last used sorts first, as in SQLite (PostgreSQL puts NULL last by default); the
        // index on Last used is ordered that way (migration 3), and the other sort columns
        // hold no NULL, so every order is an index scan, never a sort of the whole site.
        let direction = match (query.sort, query.descending) {
            (SortKey::LastUsed, false) => "ASC NULLS FIRST",
            (SortKey::LastUsed, true) => "DESC NULLS LAST",
            (_, false) => "ASC",
            (_, true) => "DESC",
        };
        let tie_break = if query.descending { "DESC" } else { "ASC" };
        let search = query.search_needle();
        let facts = FactConditions::of(site, &query.filter);
        let mut conditions = facts.sql.clone();
        let mut values = facts.values();
        // A LIKE pattern, so the trigram index serves it (`\\` escapes LIKE's own wildcards).
        let pattern = search.map(|needle| {
            let escaped = needle
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("%{escaped}%")
        });
        if let Some(pattern) = &pattern {
            values.push(pattern);
            let at = values.len();
            conditions.push_str(&format!(
                " AND (name_key LIKE ${at} OR client_id LIKE ${at})"
            ));
        }
        let limit = i64::from(query.limit);
        let offset = counter(query.offset)?;
        self.read(|transaction| {
            require_site(transaction, site)?;
            let total = count(
                transaction,
                &format!("SELECT COUNT(*) FROM registrations WHERE {conditions}"),
                &values,
            )?;
            let mut paged = values.clone();
            paged.extend([&limit as &(dyn ToSql + Sync), &offset]);
            // The page's Client IDs first, from the sort column's index alone (it holds
            // site, the column and the Client ID: an index-only scan skips the rows before
            // the page without reading them), then only those rows.
            let order = format!("{column} {direction}, client_id {tie_break}");
            let registrations = query_all(
                transaction,
                &format!(
                    "SELECT {REGISTRATION_COLUMNS} FROM registrations
                     WHERE client_id IN (
                         SELECT client_id FROM registrations WHERE {conditions}
                         ORDER BY {order} LIMIT ${} OFFSET ${})
                     ORDER BY {order}",
                    values.len() + 1,
                    values.len() + 2
                ),
                &paged,
                parse_registration,
            )?;
            Ok((registrations, total))
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
                     WHERE site = $1 AND enabled AND expiration_date <= $2
                     ORDER BY name_key, client_id"
                ),
                &[&site.as_str(), &until.to_string()],
                parse_registration,
            )
        })
    }

    fn expiring_in(
        &self,
        windows: &[(SiteSlug, ExpirationDate)],
        limit: u32,
    ) -> Result<(Vec<Registration>, u64), StoreError> {
        let sites: Vec<String> = windows.iter().map(|(site, _)| site.to_string()).collect();
        let untils: Vec<String> = windows.iter().map(|(_, until)| until.to_string()).collect();
        let limit = i64::from(limit);
        self.read(|transaction| {
            for (site, _) in windows {
                require_site(transaction, site)?;
            }
            // Every site's window in one statement: each site's first `limit` rows from
            // registrations_due, and the count of all.
            let total = count(
                transaction,
                "SELECT COUNT(*) FROM unnest($1::text[], $2::text[]) AS w(site, until)
                 JOIN registrations r
                   ON r.site = w.site AND r.enabled AND r.expiration_date <= w.until",
                &[&sites, &untils],
            )?;
            let registrations = query_all(
                transaction,
                &format!(
                    "SELECT r.* FROM unnest($1::text[], $2::text[]) AS w(site, until)
                     CROSS JOIN LATERAL (
                         SELECT {REGISTRATION_COLUMNS} FROM registrations
                         WHERE site = w.site AND enabled AND expiration_date <= w.until
                         ORDER BY expiration_date, client_id LIMIT $3) r"
                ),
                &[&sites, &untils, &limit],
                parse_registration,
            )?;
            Ok((registrations, total))
        })
    }

    fn expiry_entries(
        &self,
        site: &SiteSlug,
        filter: &FactFilter,
    ) -> Result<Vec<ExpiryEntry>, StoreError> {
        let facts = FactConditions::of(site, filter);
        let (conditions, values) = (&facts.sql, facts.values());
        self.read(|transaction| {
            require_site(transaction, site)?;
            query_all(
                transaction,
                &format!(
                    "SELECT client_id, name, expiration_date FROM registrations
                     WHERE {conditions} ORDER BY expiration_date, client_id"
                ),
                &values,
                parse_expiry_entry,
            )
        })
    }

    fn record_usage(&self, updates: &[UsageUpdate]) -> Result<(), StoreError> {
        if updates.is_empty() {
            return Ok(());
        }
        // Rows are locked in one order on every node: two nodes flushing overlapping
        // batches wait for each other instead of deadlocking.
        let mut ordered: Vec<&UsageUpdate> = updates.iter().collect();
        ordered.sort_by_key(|update| update.registration.to_string());
        self.write(|transaction| {
            let last_used = transaction
                .prepare(
                    "UPDATE registrations SET last_used = $2
                     WHERE id = $1 AND (last_used IS NULL OR last_used < $2)",
                )
                .map_err(|error| map_error(&error))?;
            let rejected = transaction
                .prepare(
                    "UPDATE registrations SET rejected_count = rejected_count + $3,
                        last_rejected = CASE
                            WHEN last_rejected IS NULL OR last_rejected < $4 THEN $4
                            ELSE last_rejected END
                     WHERE id = $1 AND expiration_date = $2",
                )
                .map_err(|error| map_error(&error))?;
            let current_secret = transaction
                .prepare(
                    "UPDATE registrations SET secret_last_used = $3
                     WHERE id = $1 AND secret_hint = $2
                       AND (secret_last_used IS NULL OR secret_last_used < $3)",
                )
                .map_err(|error| map_error(&error))?;
            let previous_secret = transaction
                .prepare(
                    "UPDATE registrations SET
                        previous_secret_last_used = CASE
                            WHEN $3::text IS NOT NULL AND (previous_secret_last_used IS NULL
                                OR previous_secret_last_used < $3) THEN $3
                            ELSE previous_secret_last_used END,
                        previous_secret_rejected_count = previous_secret_rejected_count + $4,
                        previous_secret_last_rejected = CASE
                            WHEN $5::text IS NOT NULL AND (previous_secret_last_rejected IS NULL
                                OR previous_secret_last_rejected < $5) THEN $5
                            ELSE previous_secret_last_rejected END
                     WHERE id = $1 AND previous_secret_hint = $2",
                )
                .map_err(|error| map_error(&error))?;
            for update in ordered {
                let id = update.registration.to_string();
                for secret in &update.secrets {
                    let last_used = secret.last_used.map(instant_text);
                    if let Some(at) = &last_used {
                        transaction
                            .execute(&current_secret, &[&id, &secret.hint.as_str(), at])
                            .map_err(|error| map_error(&error))?;
                    }
                    transaction
                        .execute(
                            &previous_secret,
                            &[
                                &id,
                                &secret.hint.as_str(),
                                &last_used,
                                &counter(secret.rejections.count)?,
                                &secret.rejections.last.map(instant_text),
                            ],
                        )
                        .map_err(|error| map_error(&error))?;
                }
                if let Some(at) = update.last_used {
                    transaction
                        .execute(&last_used, &[&id, &instant_text(at)])
                        .map_err(|error| map_error(&error))?;
                }
                if let (1.., Some(at)) = (update.rejections, update.last_rejected) {
                    transaction
                        .execute(
                            &rejected,
                            &[
                                &id,
                                &update.expiration_date.to_string(),
                                &counter(update.rejections)?,
                                &instant_text(at),
                            ],
                        )
                        .map_err(|error| map_error(&error))?;
                }
            }
            Ok(())
        })
    }
}
