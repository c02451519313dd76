//! `SessionStore`: console sessions and the one-time secret page's pads.

use registration_core::{
    ClientId, ConsoleSession, PendingReveal, RevealPad, SessionStore, StoreError, TokenDigest,
};
use rusqlite::{OptionalExtension, Transaction, params};
use time::OffsetDateTime;

use crate::connection::SqliteStore;
use crate::convert::{Row, map_error};
use registration_core::stored::{instant_text, parse_session};

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
                .query_row([digest.0.as_slice()], |row| Ok(parse_session(&Row(row))))
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
pub(crate) fn forget_reveals(
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
