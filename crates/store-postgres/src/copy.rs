//! `appreg db copy`: another store's rows into an empty PostgreSQL database, in one
//! transaction, counted and verified before it commits.

use std::collections::HashMap;

use postgres::Transaction;
use postgres::types::{ToSql, Type};
use registration_core::StoreError;
use registration_core::stored::{COPIED_TABLES, StoredValue, TableSource};

use crate::connection::{PostgresStore, count, execute, map_error};

/// The tables whose `id` is a BIGSERIAL: their sequences continue after the copied ids.
const SERIAL_TABLES: &[&str] = &["notices", "audit_log", "signing_keys"];

/// A value converted to the PostgreSQL column's type.
enum Cell {
    Null,
    Boolean(bool),
    SmallInt(i16),
    Integer(i32),
    BigInt(i64),
    Text(String),
    Bytes(Vec<u8>),
}

impl Cell {
    fn as_sql(&self) -> &(dyn ToSql + Sync) {
        match self {
            Cell::Null => &None::<String>,
            Cell::Boolean(value) => value,
            Cell::SmallInt(value) => value,
            Cell::Integer(value) => value,
            Cell::BigInt(value) => value,
            Cell::Text(value) => value,
            Cell::Bytes(value) => value,
        }
    }
}

fn cell(table: &str, column: &str, kind: &Type, value: StoredValue) -> Result<Cell, StoreError> {
    let mismatch = |value: &StoredValue| {
        StoreError::Corrupt(format!(
            "{table}.{column}: {value:?} does not fit a {kind} column"
        ))
    };
    let narrow = |value: i64| mismatch(&StoredValue::Integer(value));
    Ok(match (value, kind) {
        (StoredValue::Null, _) => Cell::Null,
        (StoredValue::Integer(value @ (0 | 1)), &Type::BOOL) => Cell::Boolean(value == 1),
        (StoredValue::Integer(value), &Type::INT2) => {
            Cell::SmallInt(i16::try_from(value).map_err(|_| narrow(value))?)
        }
        (StoredValue::Integer(value), &Type::INT4) => {
            Cell::Integer(i32::try_from(value).map_err(|_| narrow(value))?)
        }
        (StoredValue::Integer(value), &Type::INT8) => Cell::BigInt(value),
        (StoredValue::Text(text), &Type::TEXT) => Cell::Text(text),
        (StoredValue::Bytes(bytes), &Type::BYTEA) => Cell::Bytes(bytes),
        (other, _) => return Err(mismatch(&other)),
    })
}

/// The column types of `table`.
fn column_types(
    transaction: &mut Transaction<'_>,
    table: &str,
) -> Result<HashMap<String, Type>, StoreError> {
    // A statement that names every column once gives their types without reading a row.
    let statement = transaction
        .prepare(&format!("SELECT * FROM {table} LIMIT 0"))
        .map_err(|error| map_error(&error))?;
    Ok(statement
        .columns()
        .iter()
        .map(|column| (column.name().to_owned(), column.type_().clone()))
        .collect())
}

/// Refuses a database that holds anything but what migrations put there (the site
/// `default`, untouched).
fn require_empty(transaction: &mut Transaction<'_>) -> Result<(), StoreError> {
    for table in COPIED_TABLES {
        let rows = if *table == "sites" {
            count(
                transaction,
                "SELECT COUNT(*) FROM sites WHERE NOT (slug = 'default'
                    AND name = 'Default site' AND time_zone = 'UTC' AND max_years_ahead = 10)",
                &[],
            )?
        } else {
            count(transaction, &format!("SELECT COUNT(*) FROM {table}"), &[])?
        };
        if rows > 0 {
            return Err(StoreError::TargetNotEmpty {
                table: (*table).to_owned(),
                rows,
            });
        }
    }
    Ok(())
}

impl PostgresStore {
    /// Copies every row of [`COPIED_TABLES`] from `source` into this database, which must
    /// be empty, in one transaction; returns each table's count. Before committing, every
    /// table's count here must equal the count read from the source, or nothing is kept.
    pub fn import(&self, source: &dyn TableSource) -> Result<Vec<(String, u64)>, StoreError> {
        self.write_change(|transaction| {
            // The whole copy holds the database: a node started meanwhile waits.
            transaction
                .batch_execute("LOCK TABLE sites, registrations IN EXCLUSIVE MODE")
                .map_err(|error| map_error(&error))?;
            require_empty(transaction)?;
            execute(transaction, "DELETE FROM sites", &[])?;
            let mut counts = Vec::with_capacity(COPIED_TABLES.len());
            for table in COPIED_TABLES {
                let types = column_types(transaction, table)?;
                let mut insert = None;
                let copied = source.rows(table, &mut |columns, values| {
                    let statement = match &insert {
                        Some(statement) => statement,
                        None => {
                            let placeholders: Vec<String> =
                                (1..=columns.len()).map(|n| format!("${n}")).collect();
                            insert.insert(
                                transaction
                                    .prepare(&format!(
                                        "INSERT INTO {table} ({}) VALUES ({})",
                                        columns.join(", "),
                                        placeholders.join(", ")
                                    ))
                                    .map_err(|error| map_error(&error))?,
                            )
                        }
                    };
                    let cells = columns
                        .iter()
                        .zip(values)
                        .map(|(column, value)| {
                            let kind = types.get(column).ok_or_else(|| {
                                StoreError::Corrupt(format!(
                                    "{table}.{column} does not exist in PostgreSQL"
                                ))
                            })?;
                            cell(table, column, kind, value)
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    let parameters: Vec<&(dyn ToSql + Sync)> =
                        cells.iter().map(Cell::as_sql).collect();
                    transaction
                        .execute(statement, &parameters)
                        .map_err(|error| map_error(&error))?;
                    Ok(())
                })?;
                let here = count(transaction, &format!("SELECT COUNT(*) FROM {table}"), &[])?;
                if here != copied {
                    return Err(StoreError::Corrupt(format!(
                        "{table}: {copied} rows read but {here} in the target; nothing was kept"
                    )));
                }
                counts.push(((*table).to_owned(), copied));
            }
            for table in SERIAL_TABLES {
                transaction
                    .query_one(
                        &format!(
                            "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                                COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                        ),
                        &[],
                    )
                    .map_err(|error| map_error(&error))?;
            }
            Ok(counts)
        })
    }
}
