//! `RegistrationService`: the App registration use cases over the ports. Each child module
//! adds one group of use cases as an `impl` block: registrations, client authentication and
//! administrators, notices, and what the console needs.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::admin::AdminAccount;
use crate::audit::{Actor, AuditAction, AuditEntry, AuditImage, AuditQuery};
use crate::delivery::RetryPolicy;
use crate::error::Error;
use crate::ports::Store;
use crate::secret::{SecretHasher, hex};
use crate::site::{Site, SiteName, SitePolicy, SiteSlug, SiteZone};
use crate::sources::{Clock, RandomSource};
use crate::template::TemplateRenderer;

mod auth;
mod calendar;
mod console;
mod notices;
mod overview;
mod registrations;

pub use auth::{CheckedClient, ClientCheck, PendingVerification, SIGNING_KEYS_KEPT};
pub use notices::{DELIVERY_LEASE, DeliveryReport, SubscriptionRow, SweepReport, TemplateEdit};
pub use registrations::{RegistrationPatch, Snapshot};

/// The App registration use cases.
pub struct RegistrationService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
    hasher: SecretHasher,
    renderer: Arc<dyn TemplateRenderer>,
    /// Where administrators reach the console; notices link to it.
    public_url: String,
    retry_policy: RetryPolicy,
}

impl std::fmt::Debug for RegistrationService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistrationService")
            .field("hasher", &self.hasher)
            .finish_non_exhaustive()
    }
}

impl RegistrationService {
    /// Wires the service to its ports. `public_url` is where administrators reach the console
    /// (notices link to it).
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        random: Arc<dyn RandomSource>,
        hasher: SecretHasher,
        renderer: Arc<dyn TemplateRenderer>,
        public_url: &str,
    ) -> Self {
        Self {
            store,
            clock,
            random,
            hasher,
            renderer,
            public_url: public_url.trim_end_matches('/').to_owned(),
            retry_policy: RetryPolicy::default(),
        }
    }

    /// Replaces the default [`RetryPolicy`] of the delivery worker.
    #[must_use]
    pub fn with_retry_policy(mut self, retry_policy: RetryPolicy) -> Self {
        self.retry_policy = retry_policy;
        self
    }

    /// Does the one-time work of client authentication ahead of the first request, so that
    /// no early request takes longer than the others.
    pub fn warm_up(&self) -> Result<(), Error> {
        self.hasher.warm_up()
    }

    /// The service clock's current instant.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// The audit entry of a change made now: every change's entry is built here.
    fn audit(
        &self,
        actor: &Actor,
        site: &SiteSlug,
        action: AuditAction,
        subject: &str,
        before: Option<AuditImage>,
        after: Option<AuditImage>,
    ) -> AuditEntry {
        AuditEntry {
            at: self.clock.now(),
            actor: actor.clone(),
            site: site.clone(),
            action,
            subject: subject.to_owned(),
            before,
            after,
        }
    }

    /// One entry per site of `admin`: a change to an administrator shows in each site's log.
    fn admin_audit(
        &self,
        actor: &Actor,
        admin: &AdminAccount,
        action: AuditAction,
        after: Option<AuditImage>,
    ) -> Vec<AuditEntry> {
        admin
            .sites
            .iter()
            .map(|site| {
                self.audit(
                    actor,
                    site,
                    action,
                    admin.username.as_str(),
                    None,
                    after.clone(),
                )
            })
            .collect()
    }

    /// Adds a site; its display name defaults to the slug, its zone to UTC.
    pub fn add_site(
        &self,
        slug: SiteSlug,
        name: Option<SiteName>,
        zone: Option<SiteZone>,
        actor: &Actor,
    ) -> Result<Site, Error> {
        let name = match name {
            Some(name) => name,
            None => SiteName::parse(slug.as_str())?,
        };
        let site = Site {
            slug,
            name,
            zone: zone.unwrap_or_else(SiteZone::utc),
            policy: SitePolicy::default(),
        };
        let audit = self.audit(
            actor,
            &site.slug,
            AuditAction::SiteAdd,
            site.slug.as_str(),
            None,
            Some(AuditImage::site(&site)),
        );
        self.store.add_site(&site, &audit)?;
        Ok(site)
    }

    /// Changes a site's display name and/or time zone (absent: unchanged). A new zone moves
    /// every registration's expiry instant and deadlines at once (states are derived); the
    /// notices already recorded stay recorded, so none is recorded or sent again, and the
    /// next sweep records what the new zone makes due (decision 0001).
    pub fn edit_site(
        &self,
        slug: &SiteSlug,
        name: Option<SiteName>,
        zone: Option<SiteZone>,
        actor: &Actor,
    ) -> Result<Site, Error> {
        let before = self.store.site(slug)?;
        let mut site = before.clone();
        if let Some(name) = name {
            site.name = name;
        }
        if let Some(zone) = zone {
            site.zone = zone;
        }
        if site == before {
            return Ok(site);
        }
        let audit = self.audit(
            actor,
            &site.slug,
            AuditAction::SiteEdit,
            site.slug.as_str(),
            Some(AuditImage::site(&before)),
            Some(AuditImage::site(&site)),
        );
        self.store.update_site(&site, &audit)?;
        Ok(site)
    }

    /// Every site, sorted by slug.
    pub fn sites(&self) -> Result<Vec<Site>, Error> {
        Ok(self.store.sites()?)
    }

    /// One site, or [`StoreError::UnknownSite`](crate::StoreError::UnknownSite).
    pub fn site(&self, slug: &SiteSlug) -> Result<Site, Error> {
        Ok(self.store.site(slug)?)
    }

    /// One page of `site`'s audit log, newest first, and how many entries it has in all.
    pub fn audit_page(
        &self,
        site: &SiteSlug,
        query: &AuditQuery,
    ) -> Result<(Vec<AuditEntry>, u64), Error> {
        Ok(self.store.audit_page(site, query)?)
    }

    /// `bytes` random bytes as hex, for one-off tokens (the console's sign-in form).
    pub fn random_hex(&self, bytes: usize) -> Result<String, Error> {
        let mut buffer = vec![0_u8; bytes];
        self.random.fill_bytes(&mut buffer)?;
        Ok(hex(&buffer))
    }
}
