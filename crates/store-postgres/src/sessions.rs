//! `SessionStore`: console sessions and the one-time secret page's pads.
//!
//! Pads are deleted, not zeroed first as the SQLite store does: PostgreSQL writes an update
//! as a new row version, so zeroing would leave the old bytes behind just the same. Pads are
//! one half of a secret, worthless without the other half the browser held, and short-lived.

use registration_core::stored::{instant_text, parse_session};
use registration_core::{
    ClientId, ConsoleSession, PendingReveal, RevealPad, SessionStore, StoreError, TokenDigest,
};
use time::OffsetDateTime;

use crate::connection::{PostgresStore, execute, map_error, query_optional};

impl SessionStore for PostgresStore {
    fn create_session(&self, session: &ConsoleSession) -> Result<(), StoreError> {
        self.write(|transaction| {
            // Their reveals go with them (ON DELETE CASCADE).
            execute(
                transaction,
                "DELETE FROM console_sessions WHERE expires_at < $1",
                &[&instant_text(session.created_at)],
            )?;
            execute(
                transaction,
                "INSERT INTO console_sessions (digest, username, created_at, expires_at)
                 VALUES ($1, $2, $3, $4)",
                &[
                    &session.digest.0.as_slice(),
                    &session.username.as_str(),
                    &instant_text(session.created_at),
                    &instant_text(session.expires_at),
                ],
            )?;
            Ok(())
        })
    }

    fn session(&self, digest: &TokenDigest) -> Result<Option<ConsoleSession>, StoreError> {
        self.read(|transaction| {
            query_optional(
                transaction,
                "SELECT digest, username, created_at, expires_at FROM console_sessions
                 WHERE digest = $1",
                &[&digest.0.as_slice()],
                parse_session,
            )
        })
    }

    fn delete_session(&self, digest: &TokenDigest) -> Result<(), StoreError> {
        self.write(|transaction| {
            execute(
                transaction,
                "DELETE FROM console_sessions WHERE digest = $1",
                &[&digest.0.as_slice()],
            )?;
            Ok(())
        })
    }

    fn keep_reveal(&self, reveal: &PendingReveal) -> Result<(), StoreError> {
        self.write(|transaction| {
            execute(
                transaction,
                "DELETE FROM console_reveals WHERE expires_at < $1",
                &[&instant_text(reveal.created_at)],
            )?;
            execute(
                transaction,
                "INSERT INTO console_reveals (session, client_id, pad, expires_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (session, client_id)
                 DO UPDATE SET pad = excluded.pad, expires_at = excluded.expires_at",
                &[
                    &reveal.session.0.as_slice(),
                    &reveal.client_id.as_str(),
                    &reveal.pad.as_bytes(),
                    &instant_text(reveal.expires_at),
                ],
            )?;
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
            // One statement takes it: two requests racing for one pad cannot both get it.
            let taken = transaction
                .query_opt(
                    "DELETE FROM console_reveals WHERE session = $1 AND client_id = $2
                     RETURNING pad, expires_at > $3",
                    &[
                        &session.0.as_slice(),
                        &client_id.as_str(),
                        &instant_text(now),
                    ],
                )
                .map_err(|error| map_error(&error))?;
            Ok(taken
                .filter(|row| row.get::<_, bool>(1))
                .map(|row| RevealPad::from_bytes(row.get::<_, Vec<u8>>(0))))
        })
    }
}
