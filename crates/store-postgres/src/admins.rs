//! `AdminStore`: administrators, their API token digests and subscriptions.

use postgres::Transaction;
use registration_core::stored::{
    instant_text, parse_admin, parse_calendar_feed, parse_subscription, site_slug,
};
use registration_core::{
    AdminAccount, AdminName, AdminStore, AuditEntry, CalendarFeed, SiteSlug, StoreError,
    Subscription, TokenDigest,
};
use time::OffsetDateTime;

use crate::connection::{
    PostgresStore, count, execute, map_error, query_all, query_optional, require_site, write_audit,
};

fn find_admin(
    transaction: &mut Transaction<'_>,
    username: &str,
) -> Result<Option<AdminAccount>, StoreError> {
    let Some(mut admin) = query_optional(
        transaction,
        "SELECT username, password_hash, email, created_at FROM admins WHERE username = $1",
        &[&username],
        parse_admin,
    )?
    else {
        return Ok(None);
    };
    admin.sites = query_all(
        transaction,
        "SELECT site FROM admin_sites WHERE username = $1 ORDER BY site",
        &[&username],
        |row| site_slug(&row.text(0)?),
    )?;
    Ok(Some(admin))
}

impl AdminStore for PostgresStore {
    fn add_admin(&self, admin: &AdminAccount, audit: &[AuditEntry]) -> Result<(), StoreError> {
        self.write(|transaction| {
            let duplicate = || StoreError::DuplicateAdmin(admin.username.to_string());
            if find_admin(transaction, admin.username.as_str())?.is_some() {
                return Err(duplicate());
            }
            for site in &admin.sites {
                require_site(transaction, site)?;
            }
            // Another node may add the same name between the check and here.
            let added = execute(
                transaction,
                "INSERT INTO admins (username, password_hash, email, created_at)
                 VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO NOTHING",
                &[
                    &admin.username.as_str(),
                    &admin.password_hash.as_phc(),
                    &admin.email,
                    &instant_text(admin.created_at),
                ],
            )?;
            if added == 0 {
                return Err(duplicate());
            }
            for site in &admin.sites {
                execute(
                    transaction,
                    "INSERT INTO admin_sites (username, site) VALUES ($1, $2)",
                    &[&admin.username.as_str(), &site.as_str()],
                )?;
            }
            for entry in audit {
                write_audit(transaction, entry)?;
            }
            Ok(())
        })
    }

    fn admin_count(&self) -> Result<u64, StoreError> {
        self.read(|transaction| count(transaction, "SELECT COUNT(*) FROM admins", &[]))
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
            execute(
                transaction,
                "INSERT INTO admin_tokens (digest, username, created_at) VALUES ($1, $2, $3)",
                &[
                    &digest.0.as_slice(),
                    &username.as_str(),
                    &instant_text(created_at),
                ],
            )?;
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
            execute(
                transaction,
                "DELETE FROM calendar_feeds WHERE username = $1 AND site = $2",
                &[&feed.username.as_str(), &feed.site.as_str()],
            )?;
            execute(
                transaction,
                "INSERT INTO calendar_feeds (digest, username, site, created_at)
                 VALUES ($1, $2, $3, $4)",
                &[
                    &feed.digest.0.as_slice(),
                    &feed.username.as_str(),
                    &feed.site.as_str(),
                    &instant_text(feed.created_at),
                ],
            )?;
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
            let revoked = execute(
                transaction,
                "DELETE FROM calendar_feeds WHERE username = $1 AND site = $2",
                &[&username.as_str(), &site.as_str()],
            )?;
            if revoked > 0 {
                write_audit(transaction, audit)?;
            }
            Ok(revoked > 0)
        })
    }

    fn calendar_feed(&self, digest: &TokenDigest) -> Result<Option<CalendarFeed>, StoreError> {
        self.read(|transaction| {
            query_optional(
                transaction,
                "SELECT digest, username, site, created_at FROM calendar_feeds WHERE digest = $1",
                &[&digest.0.as_slice()],
                parse_calendar_feed,
            )
        })
    }

    fn admin_by_token(&self, digest: &TokenDigest) -> Result<Option<AdminAccount>, StoreError> {
        self.read(|transaction| {
            let username: Option<String> = transaction
                .query_opt(
                    "SELECT username FROM admin_tokens WHERE digest = $1",
                    &[&digest.0.as_slice()],
                )
                .map_err(|error| map_error(&error))?
                .map(|row| row.get(0));
            match username {
                Some(username) => find_admin(transaction, &username),
                None => Ok(None),
            }
        })
    }

    fn admins_of(&self, site: &SiteSlug) -> Result<Vec<AdminAccount>, StoreError> {
        self.read(|transaction| {
            let usernames = query_all(
                transaction,
                "SELECT username FROM admin_sites WHERE site = $1 ORDER BY username",
                &[&site.as_str()],
                |row| row.text(0),
            )?;
            let mut admins = Vec::with_capacity(usernames.len());
            for username in usernames {
                admins.extend(find_admin(transaction, &username)?);
            }
            Ok(admins)
        })
    }

    fn subscriptions(&self, site: &SiteSlug) -> Result<Vec<Subscription>, StoreError> {
        self.read(|transaction| {
            query_all(
                transaction,
                "SELECT username, kind, channel, enabled FROM subscriptions WHERE site = $1",
                &[&site.as_str()],
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
            execute(
                transaction,
                "INSERT INTO subscriptions (site, username, kind, channel, enabled)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (site, username, kind, channel)
                 DO UPDATE SET enabled = excluded.enabled",
                &[
                    &site.as_str(),
                    &subscription.username.as_str(),
                    &subscription.kind.as_str(),
                    &subscription.channel.as_str(),
                    &subscription.enabled,
                ],
            )?;
            write_audit(transaction, audit)
        })
    }
}
