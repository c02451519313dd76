//! `KeyStore`: the token signing keys every node shares.

use registration_core::{KeyStore, SigningKeyRecord, StoreError};
use rusqlite::{Transaction, params};

use crate::connection::{SqliteStore, query_all};
use crate::convert::map_error;
use registration_core::stored::{counter, instant_text, parse_signing_key};

pub(crate) fn signing_keys(
    transaction: &Transaction<'_>,
) -> Result<Vec<SigningKeyRecord>, StoreError> {
    query_all(
        transaction,
        "SELECT kid, private_key, created_at FROM signing_keys ORDER BY id DESC",
        [],
        parse_signing_key,
    )
}

pub(crate) fn insert_signing_key(
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
