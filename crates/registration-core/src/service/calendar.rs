//! Calendar feeds (SPEC 13): issuing and revoking an administrator's feed URL for a site,
//! and what a feed request gets.

use crate::admin::{AdminName, TokenDigest};
use crate::audit::{Actor, AuditAction};
use crate::calendar::{CalendarEvent, CalendarFeed, FeedToken, feed_facts};
use crate::error::{Error, StoreError};
use crate::site::{Site, SiteSlug};

use super::RegistrationService;

impl RegistrationService {
    /// Issues `username`'s feed token for `site` (an earlier one stops working); returned
    /// once, stored as a digest. The administrator must manage the site.
    pub fn issue_calendar_feed(
        &self,
        username: &AdminName,
        site: &SiteSlug,
        actor: &Actor,
    ) -> Result<FeedToken, Error> {
        self.check_manages(username, site)?;
        let token = FeedToken::generate(self.random.as_ref())?;
        let feed = CalendarFeed {
            username: username.clone(),
            site: site.clone(),
            digest: token.digest(),
            created_at: self.clock.now(),
        };
        let audit = self.audit(
            actor,
            site,
            AuditAction::CalendarIssue,
            username.as_str(),
            None,
            None,
        );
        self.store.set_calendar_feed(&feed, &audit)?;
        Ok(token)
    }

    /// Revokes `username`'s feed for `site`; false when there was none.
    pub fn revoke_calendar_feed(
        &self,
        username: &AdminName,
        site: &SiteSlug,
        actor: &Actor,
    ) -> Result<bool, Error> {
        self.check_manages(username, site)?;
        let audit = self.audit(
            actor,
            site,
            AuditAction::CalendarRevoke,
            username.as_str(),
            None,
            None,
        );
        Ok(self.store.revoke_calendar_feed(username, site, &audit)?)
    }

    /// The URL a calendar subscribes to: `{public_url}/sites/{site}/calendar/{token}.ics`.
    pub fn calendar_url(&self, site: &SiteSlug, token: &FeedToken) -> String {
        format!(
            "{}/sites/{site}/calendar/{}.ics",
            self.public_url.trim_end_matches('/'),
            token.expose_secret()
        )
    }

    /// What a request for `site`'s feed presenting `presented` gets: the site and its events
    /// (soonest first), or `None` for any token that is not a live feed of that site, whose
    /// administrator still manages it. The token is looked up by its digest whatever it
    /// looks like, so a malformed, unknown, revoked or other site's token is answered alike
    /// and after the same work.
    pub fn calendar_feed(
        &self,
        site: &str,
        presented: &str,
    ) -> Result<Option<(Site, Vec<CalendarEvent>)>, Error> {
        let Some(feed) = self.store.calendar_feed(&TokenDigest::of(presented))? else {
            return Ok(None);
        };
        // A digest that matched is one of an issued token: only its site can be wrong.
        if feed.site.as_str() != site {
            return Ok(None);
        }
        let admin = match self.store.admin(&feed.username) {
            Ok(admin) => admin,
            Err(StoreError::UnknownAdmin(_)) => return Ok(None),
            Err(other) => return Err(other.into()),
        };
        if !admin.administers(&feed.site) {
            return Ok(None);
        }
        let site = self.store.site(&feed.site)?;
        let entries = self
            .store
            .expiry_entries(&site.slug, &feed_facts(site.today(self.clock.now())))?;
        let events = CalendarEvent::all_of(&entries, &site, &self.public_url);
        Ok(Some((site, events)))
    }

    fn check_manages(&self, username: &AdminName, site: &SiteSlug) -> Result<(), Error> {
        let admin = self.store.admin(username)?;
        self.store.site(site)?;
        if admin.administers(site) {
            Ok(())
        } else {
            Err(Error::NotAdministratorOf {
                admin: username.to_string(),
                site: site.to_string(),
            })
        }
    }
}
