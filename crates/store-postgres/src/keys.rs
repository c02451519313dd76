//! `KeyStore`: the token signing keys every node shares.

use postgres::Transaction;
use registration_core::stored::{counter, instant_text, parse_signing_key};
use registration_core::{KeyStore, SigningKeyRecord, StoreError};

use crate::connection::{PostgresStore, execute, query_all};

/// The advisory lock key changes to the key set hold ("keys" in ASCII): nodes starting
/// together on an empty database wait for the first, which makes the one key.
const KEYS_LOCK: i64 = 0x6b65_7973;

fn signing_keys(transaction: &mut Transaction<'_>) -> Result<Vec<SigningKeyRecord>, StoreError> {
    query_all(
        transaction,
        "SELECT kid, private_key, created_at FROM signing_keys ORDER BY id DESC",
        &[],
        parse_signing_key,
    )
}

fn lock_keys(transaction: &mut Transaction<'_>) -> Result<(), StoreError> {
    execute(
        transaction,
        "SELECT pg_advisory_xact_lock($1)",
        &[&KEYS_LOCK],
    )
    .map(|_| ())
}

fn insert_signing_key(
    transaction: &mut Transaction<'_>,
    key: &SigningKeyRecord,
) -> Result<(), StoreError> {
    execute(
        transaction,
        "INSERT INTO signing_keys (kid, private_key, created_at) VALUES ($1, $2, $3)",
        &[
            &key.kid,
            &key.private_key.as_slice(),
            &instant_text(key.created_at),
        ],
    )
    .map(|_| ())
}

impl KeyStore for PostgresStore {
    fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
        self.read(signing_keys)
    }

    fn ensure_signing_key(
        &self,
        candidate: &SigningKeyRecord,
    ) -> Result<Vec<SigningKeyRecord>, StoreError> {
        self.write(|transaction| {
            lock_keys(transaction)?;
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
            lock_keys(transaction)?;
            insert_signing_key(transaction, key)?;
            execute(
                transaction,
                "DELETE FROM signing_keys WHERE id NOT IN (
                    SELECT id FROM signing_keys ORDER BY id DESC LIMIT $1
                 )",
                &[&counter(keep as u64)?],
            )?;
            signing_keys(transaction)
        })
    }
}
