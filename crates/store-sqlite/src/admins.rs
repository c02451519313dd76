//! `AdminStore`: administrators, their API token digests and subscriptions.

use registration_core::{
    AdminAccount, AdminName, AdminStore, AuditEntry, CalendarFeed, SiteSlug, StoreError,
    Subscription, TokenDigest,
};
use rusqlite::{OptionalExtension, Transaction, params};
use time::OffsetDateTime;

use crate::connection::{SqliteStore, query_all, require_site, write_audit};
use crate::convert::{Row, map_error};
use registration_core::stored::{
    instant_text, parse_admin, parse_calendar_feed, parse_subscription,
};

pub(crate) fn find_admin(
    transaction: &Transaction<'_>,
    username: &str,
) -> Result<Option<AdminAccount>, StoreError> {
    let found = transaction
        .query_row(
            "SELECT username, password_hash, email, created_at FROM admins WHERE username = ?1",
            [username],
            |row| Ok(parse_admin(&Row(row))),
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

    fn set_calendar_feed(&self, feed: &CalendarFeed, audit: &AuditEntry) -> Result<(), StoreError> {
        self.write(|transaction| {
            if find_admin(transaction, feed.username.as_str())?.is_none() {
                return Err(StoreError::UnknownAdmin(feed.username.to_string()));
            }
            require_site(transaction, &feed.site)?;
            transaction
                .execute(
                    "DELETE FROM calendar_feeds WHERE username = ?1 AND site = ?2",
                    params![feed.username.as_str(), feed.site.as_str()],
                )
                .map_err(map_error)?;
            transaction
                .execute(
                    "INSERT INTO calendar_feeds (digest, username, site, created_at)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![
                        feed.digest.0.as_slice(),
                        feed.username.as_str(),
                        feed.site.as_str(),
                        instant_text(feed.created_at)
                    ],
                )
                .map_err(map_error)?;
            write_audit(transaction, audit)
        })
    }

    fn revoke_calendar_feed(
        &self,
        username: &AdminName,
        site: &SiteSlug,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        self.write(|transaction| {
            let revoked = transaction
                .execute(
                    "DELETE FROM calendar_feeds WHERE username = ?1 AND site = ?2",
                    params![username.as_str(), site.as_str()],
                )
                .map_err(map_error)?;
            if revoked > 0 {
                write_audit(transaction, audit)?;
            }
            Ok(revoked > 0)
        })
    }

    fn calendar_feed(&self, digest: &TokenDigest) -> Result<Option<CalendarFeed>, StoreError> {
        self.read(|transaction| {
            transaction
                .query_row(
                    "SELECT digest, username, site, created_at FROM calendar_feeds
                     WHERE digest = ?1",
                    [digest.0.as_slice()],
                    |row| Ok(parse_calendar_feed(&Row(row))),
                )
                .optional()
                .map_err(map_error)?
                .transpose()
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
