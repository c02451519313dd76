//! Between SQLite's rows and the stored forms registration-core's `stored` module parses.

use registration_core::StoreError;
use registration_core::stored::StoredRow;
use rusqlite::ErrorCode;

/// A rusqlite row, read through the stored forms' parsers.
pub(crate) struct Row<'a, 'b>(pub(crate) &'a rusqlite::Row<'b>);

impl StoredRow for Row<'_, '_> {
    fn text(&self, column: usize) -> Result<String, StoreError> {
        self.0.get(column).map_err(map_error)
    }

    fn optional_text(&self, column: usize) -> Result<Option<String>, StoreError> {
        self.0.get(column).map_err(map_error)
    }

    fn integer(&self, column: usize) -> Result<i64, StoreError> {
        self.0.get(column).map_err(map_error)
    }

    fn flag(&self, column: usize) -> Result<bool, StoreError> {
        self.0.get(column).map_err(map_error)
    }

    fn bytes(&self, column: usize) -> Result<Vec<u8>, StoreError> {
        self.0.get(column).map_err(map_error)
    }
}

/// SQLite's errors, as the port's contract names them.
pub(crate) fn map_error(error: rusqlite::Error) -> StoreError {
    match &error {
        rusqlite::Error::SqliteFailure(failure, _) => match failure.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                StoreError::Busy(error.to_string())
            }
            ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt => {
                StoreError::Corrupt(format!("not a usable appreg database: {error}"))
            }
            _ => StoreError::Unavailable(error.to_string()),
        },
        _ => StoreError::Unavailable(error.to_string()),
    }
}
