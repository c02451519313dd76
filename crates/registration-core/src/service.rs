//! The use cases, over the ports. The command line and the HTTP server call these and only
//! render the results, so a rule is written once whichever door a request comes through.

use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::admin::{AdminAccount, AdminName, AdminPassword, AdminToken, Subscription, TokenDigest};
use crate::audit::{Actor, AuditAction, AuditEntry, AuditImage, AuditQuery};
use crate::console::{
    Banner, BannerKind, ConsoleSession, ListQuery, PendingReveal, REVEAL_LIFETIME, RevealPad,
    SESSION_LIFETIME, SessionToken,
};
use crate::delivery::{Channel, DeliveryState, DeliveryStatus, Lease, RetryPolicy};
use crate::error::{Error, StoreError};
use crate::log::{LogQuery, NoticeLogEntry, NoticeRecord};
use crate::ports::{
    Clock, Notifier, RandomSource, SigningKeyRecord, Store, UsageUpdate, VerificationCache,
};
use crate::registration::{
    ExpirationDate, NewRegistration, Registration, RegistrationName, random_uuid,
};
use crate::schedule::{Disposition, DueNotice, NoticeKind, candidate_horizon, due_notices};
use crate::secret::{ClientId, ClientSecret, SecretHasher, hex};
use crate::site::{Site, SiteName, SitePolicy, SiteSlug, SiteZone};
use crate::status::{State, Status};
use crate::template::{
    BannerSetting, NoticeVariables, NotificationTemplate, RenderedNotice, TemplateRenderer,
    check_template,
};
use crate::token::{TokenDecision, TokenRequest, decide_token_request};
use crate::webhook::{WebhookEndpoint, WebhookSecret, WebhookUrl};

/// A registration, its site, and what is derived from them at the service's `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub registration: Registration,
    pub site: Site,
    pub status: Status,
}

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub sites: usize,
    /// Registrations that could have had something due (the others are not read).
    pub registrations_evaluated: usize,
    /// Notices newly recorded by this sweep (a concurrent sweep may have recorded others).
    pub notices_recorded: usize,
}

/// One administrator's choice in effect for one template and channel, with the address
/// e-mail would go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRow {
    pub subscription: Subscription,
    pub email: Option<String>,
}

/// What one round of the delivery worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Deliveries claimed and attempted.
    pub attempted: usize,
    pub sent: usize,
    pub retrying: usize,
    pub dead: usize,
    /// Attempts whose outcome was not recorded: their lease ran out during the attempt and
    /// another worker took them over (they may be sent twice, never lost).
    pub lease_lost: usize,
}

impl DeliveryReport {
    pub fn add(&mut self, other: DeliveryReport) {
        self.attempted += other.attempted;
        self.sent += other.sent;
        self.retrying += other.retrying;
        self.dead += other.dead;
        self.lease_lost += other.lease_lost;
    }
}

/// How long a worker holds the deliveries it claimed. Longer than a batch of attempts can
/// take (each is bounded by the notifier's timeout), so a live worker keeps its claims and a
/// crashed one's are taken over a few minutes later.
pub const DELIVERY_LEASE: Duration = Duration::minutes(5);

/// The outcome of the cheap first step of client authentication.
#[derive(Debug)]
pub enum ClientCheck {
    /// Decided without hashing: malformed credentials, or a secret already verified.
    Decided(CheckedClient),
    /// Needs one argon2 verification (a real one, or a dummy for an unknown client); run it
    /// with [`RegistrationService::finish_verification`], off the async executor.
    NeedsHashing(PendingVerification),
}

/// A client's credentials after checking: whom they name and whether the secret is right.
#[derive(Debug, Clone)]
pub struct CheckedClient {
    pub site: Site,
    pub registration: Option<Registration>,
    pub secret_matches: bool,
}

/// Credentials waiting for their argon2 verification.
#[derive(Debug)]
pub struct PendingVerification {
    site: Site,
    registration: Option<Registration>,
    secret: ClientSecret,
}

impl PendingVerification {
    /// The Client ID the credentials name, when it exists in the site (for failure budgets).
    pub fn registration(&self) -> Option<&Registration> {
        self.registration.as_ref()
    }
}

/// A partial change of a registration (the admin API's PATCH): applied as one change, one
/// revision, one audit entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistrationPatch {
    pub name: Option<RegistrationName>,
    pub expiration_date: Option<ExpirationDate>,
    pub enabled: Option<bool>,
}

/// A change to a site's template; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateEdit {
    pub subject: Option<String>,
    pub body: Option<String>,
    pub banner: Option<BannerSetting>,
    pub enabled: Option<bool>,
}

/// Notices recorded per transaction by a sweep.
const SWEEP_BATCH: usize = 10_000;

/// How many signing keys are kept: the current one and the previous, so tokens signed just
/// before a rotation still verify until they expire.
pub const SIGNING_KEYS_KEPT: usize = 2;

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

    pub fn sites(&self) -> Result<Vec<Site>, Error> {
        Ok(self.store.sites()?)
    }

    pub fn site(&self, slug: &SiteSlug) -> Result<Site, Error> {
        Ok(self.store.site(slug)?)
    }

    fn snapshot(&self, registration: Registration, site: Site) -> Snapshot {
        let status = registration.status(&site, self.clock.now());
        Snapshot {
            registration,
            site,
            status,
        }
    }

    /// Creates a registration; the secret is returned here and never again.
    pub fn create(
        &self,
        site: &SiteSlug,
        new: NewRegistration,
        actor: &Actor,
    ) -> Result<(Snapshot, ClientSecret), Error> {
        let site = self.store.site(site)?;
        let now = self.clock.now();
        let created = Registration::create(new, &site, now, self.random.as_ref(), &self.hasher)?;
        let audit = self.audit(
            actor,
            &site.slug,
            AuditAction::RegistrationCreate,
            created.registration.client_id().as_str(),
            None,
            Some(AuditImage::registration(&created.registration)),
        );
        self.store.insert(&created.registration, &audit)?;
        Ok((
            self.snapshot(created.registration, site),
            created.client_secret,
        ))
    }

    pub fn get(&self, site: &SiteSlug, client_id: &ClientId) -> Result<Snapshot, Error> {
        let site = self.store.site(site)?;
        let registration = self.store.get(&site.slug, client_id)?;
        Ok(self.snapshot(registration, site))
    }

    /// Every registration of `site`, sorted by name.
    pub fn list(&self, site: &SiteSlug) -> Result<Vec<Snapshot>, Error> {
        let site = self.store.site(site)?;
        let registrations = self.store.list(&site.slug)?;
        Ok(registrations
            .into_iter()
            .map(|registration| self.snapshot(registration, site.clone()))
            .collect())
    }

    /// Loads, applies `command`, stores with the revision check, and returns the result.
    fn change(
        &self,
        site: &SiteSlug,
        client_id: &ClientId,
        actor: &Actor,
        command: impl FnOnce(&mut Registration, &Site, OffsetDateTime) -> Result<(), Error>,
    ) -> Result<Snapshot, Error> {
        let site = self.store.site(site)?;
        let mut registration = self.store.get(&site.slug, client_id)?;
        let before = AuditImage::registration(&registration);
        command(&mut registration, &site, self.clock.now())?;
        // The store refuses the change unless it stays at this revision: `before` is exact.
        let mut record = registration.record().clone();
        record.revision += 1;
        let changed = Registration::from_record(record);
        let audit = self.audit(
            actor,
            &site.slug,
            AuditAction::RegistrationUpdate,
            client_id.as_str(),
            Some(before),
            Some(AuditImage::registration(&changed)),
        );
        self.store.update(&registration, &audit)?;
        Ok(self.snapshot(changed, site))
    }

    /// Sets a new expiration date; Client ID and secret stay.
    pub fn renew(
        &self,
        site: &SiteSlug,
        client_id: &ClientId,
        expiration_date: ExpirationDate,
        actor: &Actor,
    ) -> Result<Snapshot, Error> {
        self.change(site, client_id, actor, |registration, site, now| {
            registration.renew(expiration_date, site, now)
        })
    }

    pub fn rename(
        &self,
        site: &SiteSlug,
        client_id: &ClientId,
        name: RegistrationName,
        actor: &Actor,
    ) -> Result<Snapshot, Error> {
        self.change(site, client_id, actor, |registration, _, _| {
            registration.rename(name);
            Ok(())
        })
    }

    pub fn set_enabled(
        &self,
        site: &SiteSlug,
        client_id: &ClientId,
        enabled: bool,
        actor: &Actor,
    ) -> Result<Snapshot, Error> {
        self.change(site, client_id, actor, |registration, _, _| {
            if enabled {
                registration.enable();
            } else {
                registration.disable();
            }
            Ok(())
        })
    }

    /// Applies every field of `patch` in one change.
    pub fn update(
        &self,
        site: &SiteSlug,
        client_id: &ClientId,
        patch: RegistrationPatch,
        actor: &Actor,
    ) -> Result<Snapshot, Error> {
        self.change(site, client_id, actor, |registration, site, now| {
            if let Some(expiration_date) = patch.expiration_date {
                registration.renew(expiration_date, site, now)?;
            }
            if let Some(name) = patch.name {
                registration.rename(name);
            }
            match patch.enabled {
                Some(true) => registration.enable(),
                Some(false) => registration.disable(),
                None => {}
            }
            Ok(())
        })
    }

    /// Deletes a registration. A change made by someone else in between is not a reason
    /// to refuse a deletion: it is retried on the new revision (a few times at most).
    pub fn delete(
        &self,
        site: &SiteSlug,
        client_id: &ClientId,
        actor: &Actor,
    ) -> Result<(), Error> {
        let site = self.store.site(site)?;
        let mut attempts_left = 3;
        loop {
            let registration = self.store.get(&site.slug, client_id)?;
            let audit = self.audit(
                actor,
                &site.slug,
                AuditAction::RegistrationDelete,
                client_id.as_str(),
                Some(AuditImage::registration(&registration)),
                None,
            );
            match self
                .store
                .delete(&site.slug, client_id, registration.revision(), &audit)
            {
                Err(StoreError::Conflict) if attempts_left > 1 => attempts_left -= 1,
                result => return Ok(result?),
            }
        }
    }

    /// The three templates of `site`: saved ones, defaults for the others.
    pub fn templates(&self, site: &SiteSlug) -> Result<Vec<NotificationTemplate>, Error> {
        let saved = self.store.templates(site)?;
        Ok(NoticeKind::ALL
            .into_iter()
            .map(|kind| {
                saved
                    .iter()
                    .find(|template| template.kind == kind)
                    .cloned()
                    .unwrap_or_else(|| NotificationTemplate::default_for(kind))
            })
            .collect())
    }

    /// Changes `site`'s template for `kind`. The result must render with example values;
    /// otherwise nothing is saved and the error names the part, line and reason.
    pub fn edit_template(
        &self,
        site: &SiteSlug,
        kind: NoticeKind,
        edit: TemplateEdit,
        actor: &Actor,
    ) -> Result<NotificationTemplate, Error> {
        if kind == NoticeKind::Expired && edit.banner.is_some() {
            return Err(Error::BannerFixedForExpired);
        }
        let before = self
            .templates(site)?
            .into_iter()
            .find(|template| template.kind == kind)
            .unwrap_or_else(|| NotificationTemplate::default_for(kind));
        let mut template = before.clone();
        if let Some(subject) = edit.subject {
            template.subject = subject;
        }
        if let Some(body) = edit.body {
            template.body = body;
        }
        if let Some(banner) = edit.banner {
            template.banner = banner;
        }
        if let Some(enabled) = edit.enabled {
            template.enabled = enabled;
        }
        check_template(self.renderer.as_ref(), &template.subject, &template.body)?;
        let audit = self.audit(
            actor,
            site,
            AuditAction::TemplateSave,
            kind.as_str(),
            Some(AuditImage::template(&before)),
            Some(AuditImage::template(&template)),
        );
        self.store.save_template(site, &template, &audit)?;
        Ok(template)
    }

    /// The console page of a registration.
    fn console_url(&self, site: &SiteSlug, client_id: &ClientId) -> String {
        format!(
            "{}/sites/{site}/app-registrations/{client_id}",
            self.public_url
        )
    }

    /// Evaluates every registration's schedule at `now` and records what is due.
    pub fn sweep(&self) -> Result<SweepReport, Error> {
        let now = self.clock.now();
        let mut report = SweepReport::default();
        for site in self.store.sites()? {
            report.sites += 1;
            let templates = self.templates(&site.slug)?;
            let recipients = self.recipients(&site.slug)?;
            let mut records = Vec::new();
            let horizon = candidate_horizon(site.today(now));
            for candidate in self.store.notice_candidates(&site.slug, horizon)? {
                report.registrations_evaluated += 1;
                let subject = candidate.subject;
                let due = due_notices(subject, site.zone, now, &candidate.recorded);
                if due.is_empty() {
                    continue;
                }
                let status = Status::at(subject.expiration_date, subject.enabled, site.zone, now);
                let variables = NoticeVariables {
                    registration_name: candidate.name.to_string(),
                    client_id: candidate.client_id.to_string(),
                    expiration_date: subject.expiration_date.to_string(),
                    expires_at: site.zone.display_local(status.expires_at),
                    days_left: status.days_left,
                    site_name: site.name.as_str().to_owned(),
                    console_url: self.console_url(&site.slug, &candidate.client_id),
                };
                for notice in due {
                    let template = templates
                        .iter()
                        .find(|template| template.kind == notice.key.kind)
                        .cloned()
                        .unwrap_or_else(|| NotificationTemplate::default_for(notice.key.kind));
                    let to = recipients
                        .iter()
                        .filter(|(kind, _, _)| *kind == notice.key.kind)
                        .map(|(_, recipient, channel)| (recipient.as_str(), *channel));
                    records.push(self.plan(notice, &template, &variables, to));
                }
                // Recorded in batches: memory stays bounded however much is due at once.
                if records.len() >= SWEEP_BATCH {
                    report.notices_recorded += self.store.record(&records, now)?;
                    records.clear();
                }
            }
            report.notices_recorded += self.store.record(&records, now)?;
        }
        Ok(report)
    }

    /// First, cheap step of client authentication: parse, load, consult `cache`. Unknown
    /// sites are an error (the endpoint does not exist); everything about the client is
    /// answered through [`CheckedClient`] so that callers cannot tell the cases apart.
    pub fn check_client(
        &self,
        site: &SiteSlug,
        client_id: &str,
        presented_secret: &str,
        cache: &dyn VerificationCache,
    ) -> Result<ClientCheck, Error> {
        let parsed = ClientId::parse(client_id)
            .ok()
            .zip(ClientSecret::parse(presented_secret).ok());
        // Malformed input is refused without looking the client up: the answer depends on
        // the text alone, so it reveals nothing about which clients exist.
        let (site, registration) = self
            .store
            .site_and_registration(site, parsed.as_ref().map(|(client_id, _)| client_id))?;
        let Some((_, secret)) = parsed else {
            return Ok(ClientCheck::Decided(CheckedClient {
                site,
                registration: None,
                secret_matches: false,
            }));
        };
        if let Some(known) = &registration
            && cache.contains(known.id(), known.revision(), &secret)
        {
            return Ok(ClientCheck::Decided(CheckedClient {
                site,
                registration,
                secret_matches: true,
            }));
        }
        Ok(ClientCheck::NeedsHashing(PendingVerification {
            site,
            registration,
            secret,
        }))
    }

    /// Second step: one argon2id verification of equal cost whether or not the client
    /// exists. Remembers a successful verification in `cache`.
    pub fn finish_verification(
        &self,
        pending: PendingVerification,
        cache: &dyn VerificationCache,
    ) -> CheckedClient {
        let PendingVerification {
            site,
            registration,
            secret,
        } = pending;
        let secret_matches = match &registration {
            Some(known) => {
                let matches = self.hasher.verify(&secret, known.secret_hash());
                if matches {
                    cache.insert(known.id(), known.revision(), &secret);
                }
                matches
            }
            None => self.hasher.verify_unknown_client(&secret),
        };
        CheckedClient {
            site,
            registration,
            secret_matches,
        }
    }

    /// Decides a token request for checked credentials (a fresh `jti` comes from the random
    /// source).
    pub fn decide_token(
        &self,
        checked: &CheckedClient,
        public_url: &str,
        lifetime: Duration,
        scope: Option<String>,
    ) -> Result<TokenDecision, Error> {
        Ok(decide_token_request(TokenRequest {
            site: &checked.site,
            registration: checked.registration.as_ref(),
            secret_matches: checked.secret_matches,
            now: self.clock.now(),
            public_url,
            lifetime,
            token_id: random_uuid(self.random.as_ref())?.to_string(),
            scope,
        }))
    }

    /// Applies coalesced Last used and rejection counts.
    pub fn record_usage(&self, updates: &[UsageUpdate]) -> Result<(), Error> {
        Ok(self.store.record_usage(updates)?)
    }

    fn new_signing_key(&self) -> Result<SigningKeyRecord, Error> {
        let mut private_key = Zeroizing::new([0u8; 32]);
        self.random.fill_bytes(private_key.as_mut())?;
        Ok(SigningKeyRecord {
            kid: random_uuid(self.random.as_ref())?.to_string(),
            private_key,
            created_at: self.clock.now(),
        })
    }

    /// The signing keys, creating the first one if the store has none (newest first).
    pub fn ensure_signing_key(&self) -> Result<Vec<SigningKeyRecord>, Error> {
        let existing = self.store.signing_keys()?;
        if !existing.is_empty() {
            return Ok(existing);
        }
        Ok(self.store.ensure_signing_key(&self.new_signing_key()?)?)
    }

    /// Makes a new key current and keeps the previous one for verification.
    pub fn rotate_signing_key(&self) -> Result<Vec<SigningKeyRecord>, Error> {
        Ok(self
            .store
            .rotate_signing_key(&self.new_signing_key()?, SIGNING_KEYS_KEPT)?)
    }

    /// Adds a Site Administrator of `sites`. Without a chosen password one is generated and
    /// returned: it is shown once and never stored in clear.
    pub fn add_admin(
        &self,
        username: AdminName,
        sites: Vec<SiteSlug>,
        email: Option<String>,
        password: Option<AdminPassword>,
        actor: &Actor,
    ) -> Result<(AdminAccount, Option<AdminPassword>), Error> {
        let (password, generated) = match password {
            Some(chosen) => (chosen, false),
            None => (AdminPassword::generate(self.random.as_ref())?, true),
        };
        let mut sites = sites;
        sites.sort();
        sites.dedup();
        let admin = AdminAccount {
            username,
            password_hash: self
                .hasher
                .hash_bytes(password.expose_secret().as_bytes(), self.random.as_ref())?,
            email,
            sites,
            created_at: self.clock.now(),
        };
        let audit = self.admin_audit(
            actor,
            &admin,
            AuditAction::AdminAdd,
            Some(AuditImage::admin(&admin)),
        );
        self.store.add_admin(&admin, &audit)?;
        Ok((admin, generated.then_some(password)))
    }

    /// On a store without administrators, creates `admin` for site `default` with a
    /// generated password and returns it (to be shown once). `None` when one exists, also
    /// when another node created it at the same moment.
    pub fn bootstrap_admin(&self) -> Result<Option<(AdminName, AdminPassword)>, Error> {
        if self.store.admin_count()? > 0 {
            return Ok(None);
        }
        match self.add_admin(
            AdminName::bootstrap(),
            vec![SiteSlug::default_site()],
            None,
            None,
            &Actor::System("bootstrap".into()),
        ) {
            Ok((admin, password)) => Ok(password.map(|password| (admin.username, password))),
            Err(Error::Store(StoreError::DuplicateAdmin(_))) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// Checks an administrator's password (for the console's sign-in), spending one
    /// verification whether or not the username exists.
    pub fn check_admin_password(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<AdminAccount>, Error> {
        let admin = match AdminName::parse(username) {
            Ok(name) => match self.store.admin(&name) {
                Ok(admin) => Some(admin),
                Err(StoreError::UnknownAdmin(_)) => None,
                Err(other) => return Err(other.into()),
            },
            Err(_) => None,
        };
        Ok(match admin {
            Some(admin)
                if self
                    .hasher
                    .verify_bytes(password.as_bytes(), &admin.password_hash) =>
            {
                Some(admin)
            }
            Some(_) => None,
            None => {
                self.hasher.verify_unknown_bytes(password.as_bytes());
                None
            }
        })
    }

    /// Issues a personal API token for `username`; returned once, stored as a digest.
    pub fn issue_admin_token(
        &self,
        username: &AdminName,
        actor: &Actor,
    ) -> Result<AdminToken, Error> {
        let token = AdminToken::generate(self.random.as_ref())?;
        // An administrator's sites never change, so the entries name the right ones.
        let admin = self.store.admin(username)?;
        let audit = self.admin_audit(actor, &admin, AuditAction::AdminToken, None);
        self.store
            .add_admin_token(username, &token.digest(), self.clock.now(), &audit)?;
        Ok(token)
    }

    /// The administrator a presented API token belongs to; `None` for anything else.
    pub fn admin_for_token(&self, presented: &str) -> Result<Option<AdminAccount>, Error> {
        let Ok(token) = AdminToken::parse(presented) else {
            return Ok(None);
        };
        Ok(self.store.admin_by_token(&token.digest())?)
    }

    /// Switches one channel of one template on or off for an administrator of `site`.
    pub fn subscribe(
        &self,
        site: &SiteSlug,
        username: &AdminName,
        kind: NoticeKind,
        channel: Channel,
        enabled: bool,
        actor: &Actor,
    ) -> Result<Subscription, Error> {
        if channel == Channel::Webhook {
            return Err(Error::NotASubscriptionChannel);
        }
        let admin = self.store.admin(username)?;
        if !admin.administers(site) {
            return Err(Error::NotAdministratorOf {
                admin: username.to_string(),
                site: site.to_string(),
            });
        }
        if channel == Channel::Email && enabled && admin.email.is_none() {
            return Err(Error::NoEmailAddress(username.to_string()));
        }
        let subscription = Subscription {
            username: username.clone(),
            kind,
            channel,
            enabled,
        };
        let audit = self.audit(
            actor,
            site,
            AuditAction::SubscriptionSet,
            username.as_str(),
            None,
            Some(AuditImage::subscription(&subscription)),
        );
        self.store.set_subscription(site, &subscription, &audit)?;
        Ok(subscription)
    }

    /// Every administrator of `site` × template × channel (`in_app`, `email`), with the
    /// choice in effect (the default where they made none), sorted by username.
    pub fn effective_subscriptions(&self, site: &SiteSlug) -> Result<Vec<SubscriptionRow>, Error> {
        let site = self.store.site(site)?;
        let admins = self.store.admins_of(&site.slug)?;
        let choices = self.store.subscriptions(&site.slug)?;
        let mut rows = Vec::new();
        for admin in admins {
            for kind in NoticeKind::ALL {
                for channel in [Channel::InApp, Channel::Email] {
                    let enabled = choices
                        .iter()
                        .find(|s| {
                            s.username == admin.username && s.kind == kind && s.channel == channel
                        })
                        .map_or(Subscription::default_for(channel), |s| s.enabled);
                    rows.push(SubscriptionRow {
                        subscription: Subscription {
                            username: admin.username.clone(),
                            kind,
                            channel,
                            enabled,
                        },
                        email: admin.email.clone(),
                    });
                }
            }
        }
        Ok(rows)
    }

    /// Deliveries per notice kind and status, over all sites (for metrics).
    pub fn delivery_counts(&self) -> Result<Vec<(NoticeKind, DeliveryStatus, u64)>, Error> {
        Ok(self.store.delivery_counts()?)
    }

    /// The Administrative notification log of `site`, newest first.
    pub fn notices(&self, site: &SiteSlug) -> Result<Vec<NoticeLogEntry>, Error> {
        let site = self.store.site(site)?;
        Ok(self.store.log(&site.slug)?)
    }

    /// One filtered page of `site`'s notification log, newest first, and the number of
    /// matching notices.
    pub fn notices_page(
        &self,
        site: &SiteSlug,
        query: &LogQuery,
    ) -> Result<(Vec<NoticeLogEntry>, u64), Error> {
        Ok(self.store.log_page(site, query)?)
    }

    /// One page of `site`'s audit log, newest first, and how many entries it has in all.
    pub fn audit_page(
        &self,
        site: &SiteSlug,
        query: &AuditQuery,
    ) -> Result<(Vec<AuditEntry>, u64), Error> {
        Ok(self.store.audit_page(site, query)?)
    }

    /// One page of `site`'s registrations, and how many match the query in all.
    pub fn list_page(
        &self,
        site: &SiteSlug,
        query: &ListQuery,
    ) -> Result<(Vec<Snapshot>, u64), Error> {
        let site = self.store.site(site)?;
        let (registrations, total) = self.store.page(&site.slug, query)?;
        let snapshots = registrations
            .into_iter()
            .map(|registration| self.snapshot(registration, site.clone()))
            .collect();
        Ok((snapshots, total))
    }

    /// The banners every console page of `site` shows now (SPEC 6): a red alert per
    /// expired, enabled registration, then an amber warning per expiring one whose notice
    /// kind's template has the banner setting `warning`; each group sorted by name.
    pub fn banners(&self, site: &SiteSlug) -> Result<Vec<Banner>, Error> {
        let site = self.store.site(site)?;
        let now = self.clock.now();
        let templates = self.templates(&site.slug)?;
        let warns = |kind: NoticeKind| {
            templates
                .iter()
                .any(|template| template.kind == kind && template.banner == BannerSetting::Warning)
        };
        let until = candidate_horizon(site.today(now));
        let mut alerts = Vec::new();
        let mut warnings = Vec::new();
        for registration in self.store.enabled_expiring_by(&site.slug, until)? {
            let status = Status::at(
                registration.expiration_date(),
                registration.enabled(),
                site.zone,
                now,
            );
            let (kind, list) = match status.state {
                State::Expired => (BannerKind::Alert, &mut alerts),
                State::Expiring7 if warns(NoticeKind::ExpiresIn7Days) => {
                    (BannerKind::Warning, &mut warnings)
                }
                State::Expiring30 if warns(NoticeKind::ExpiresIn30Days) => {
                    (BannerKind::Warning, &mut warnings)
                }
                _ => continue,
            };
            let record = registration.record();
            list.push(Banner {
                kind,
                registration_name: record.name.to_string(),
                client_id: record.client_id.clone(),
                expiration_date: record.expiration_date,
                state: status.state,
                days_left: status.days_left,
                refused_since_expiry: record.rejections.count,
                last_refused: record.rejections.last,
            });
        }
        alerts.append(&mut warnings);
        Ok(alerts)
    }

    /// `bytes` random bytes as hex, for one-off tokens (the console's sign-in form).
    pub fn random_hex(&self, bytes: usize) -> Result<String, Error> {
        let mut buffer = vec![0_u8; bytes];
        self.random.fill_bytes(&mut buffer)?;
        Ok(hex(&buffer))
    }

    /// Renders a template with example values without saving it (the console's preview).
    pub fn preview_template(&self, subject: &str, body: &str) -> Result<RenderedNotice, Error> {
        self.renderer
            .render(subject, body, &NoticeVariables::example())
    }

    /// Signs an administrator in to the console: a new session when the password is
    /// right, `None` otherwise (unknown users cost the same argon2 work).
    pub fn sign_in(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<(AdminAccount, SessionToken)>, Error> {
        let Some(admin) = self.check_admin_password(username, password)? else {
            return Ok(None);
        };
        let token = SessionToken::generate(self.random.as_ref())?;
        let now = self.clock.now();
        self.store.create_session(&ConsoleSession {
            digest: token.digest(),
            username: admin.username.clone(),
            created_at: now,
            expires_at: now + SESSION_LIFETIME,
        })?;
        Ok(Some((admin, token)))
    }

    /// The administrator a session cookie belongs to, while the session lasts.
    pub fn session_admin(
        &self,
        presented: &str,
    ) -> Result<Option<(AdminAccount, SessionToken)>, Error> {
        let Ok(token) = SessionToken::parse(presented) else {
            return Ok(None);
        };
        let Some(session) = self.store.session(&token.digest())? else {
            return Ok(None);
        };
        if session.expires_at <= self.clock.now() {
            return Ok(None);
        }
        match self.store.admin(&session.username) {
            Ok(admin) => Ok(Some((admin, token))),
            Err(StoreError::UnknownAdmin(_)) => Ok(None),
            Err(other) => Err(other.into()),
        }
    }

    /// Ends a console session.
    pub fn sign_out(&self, token: &SessionToken) -> Result<(), Error> {
        Ok(self.store.delete_session(&token.digest())?)
    }

    /// Seals a just-created Client secret for one showing to the console session whose
    /// token has digest `session`:
    /// the store keeps a random pad, the returned text (the secret masked with it) goes to
    /// the browser. The secret itself is stored nowhere.
    pub fn seal_reveal(
        &self,
        session: TokenDigest,
        client_id: &ClientId,
        secret: &ClientSecret,
    ) -> Result<String, Error> {
        let (pad, masked) = RevealPad::seal(secret, self.random.as_ref())?;
        let now = self.clock.now();
        self.store.keep_reveal(&PendingReveal {
            session,
            client_id: client_id.clone(),
            pad,
            created_at: now,
            expires_at: now + REVEAL_LIFETIME,
        })?;
        Ok(masked)
    }

    /// The Client secret sealed for this session, once: the pad leaves the store whatever
    /// `masked` holds, so nothing can show the secret again.
    pub fn open_reveal(
        &self,
        session: TokenDigest,
        client_id: &ClientId,
        masked: Option<&str>,
    ) -> Result<Option<ClientSecret>, Error> {
        let pad = self
            .store
            .take_reveal(&session, client_id, self.clock.now())?;
        Ok(pad.zip(masked).and_then(|(pad, masked)| pad.open(masked)))
    }

    /// Adds a webhook endpoint to `site` and returns it with its new signing secret (shown
    /// to the caller once).
    pub fn add_webhook(
        &self,
        site: &SiteSlug,
        url: WebhookUrl,
        actor: &Actor,
    ) -> Result<WebhookEndpoint, Error> {
        let endpoint = WebhookEndpoint {
            url,
            secret: WebhookSecret::generate(self.random.as_ref())?,
            created_at: self.clock.now(),
        };
        let audit = self.audit(
            actor,
            site,
            AuditAction::WebhookAdd,
            endpoint.url.as_str(),
            None,
            Some(AuditImage::webhook(&endpoint)),
        );
        self.store.add_webhook(site, &endpoint, &audit)?;
        Ok(endpoint)
    }

    pub fn webhooks(&self, site: &SiteSlug) -> Result<Vec<WebhookEndpoint>, Error> {
        Ok(self.store.webhooks(site)?)
    }

    /// Removes an endpoint; its deliveries still waiting are cancelled.
    pub fn remove_webhook(
        &self,
        site: &SiteSlug,
        url: &WebhookUrl,
        actor: &Actor,
    ) -> Result<(), Error> {
        let audit = self.audit(
            actor,
            site,
            AuditAction::WebhookRemove,
            url.as_str(),
            Some(AuditImage::from_fields([("url", url.as_str())])),
            None,
        );
        Ok(self.store.remove_webhook(site, url, &audit)?)
    }

    /// One round of the delivery worker: claims up to `limit` deliveries that are due on the
    /// channels `notifier` serves, attempts each once, and records `sent`, `retrying` (with
    /// the next attempt's time from the retry policy) or `dead`. Returns what it did; a
    /// round that attempted fewer than `limit` found nothing more due.
    pub fn deliver_due(
        &self,
        notifier: &dyn Notifier,
        limit: usize,
    ) -> Result<DeliveryReport, Error> {
        let channels = notifier.channels();
        let now = self.clock.now();
        let lease = Lease {
            id: self.random_hex(16)?,
            until: now + DELIVERY_LEASE,
        };
        let claimed = self.store.claim_deliveries(&channels, now, &lease, limit)?;
        let mut report = DeliveryReport::default();
        for claim in claimed {
            report.attempted += 1;
            let result = notifier.deliver(&claim.delivery);
            let outcome = self.retry_policy.outcome(
                claim.attempts_made,
                result.as_ref().map(|_| ()),
                self.clock.now(),
                self.jitter()?,
            );
            let recorded =
                self.store
                    .finish_delivery(&claim.delivery.target(), &lease.id, &outcome)?;
            match (recorded, outcome.status) {
                (false, _) => report.lease_lost += 1,
                (true, DeliveryStatus::Sent) => report.sent += 1,
                (true, DeliveryStatus::Retrying) => report.retrying += 1,
                (true, _) => report.dead += 1,
            }
        }
        Ok(report)
    }

    /// How many deliveries on `channels` are due now (waiting for a worker or being sent).
    pub fn due_delivery_count(&self, channels: &[Channel]) -> Result<u64, Error> {
        Ok(self.store.due_delivery_count(channels, self.clock.now())?)
    }

    /// A number in `[0, 1)` that spreads retries apart.
    fn jitter(&self) -> Result<f64, Error> {
        let mut bytes = [0_u8; 4];
        self.random.fill_bytes(&mut bytes)?;
        Ok(f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0))
    }
}

impl RegistrationService {
    /// (kind, recipient, channel) for every subscription that is on in `site`: in-app for
    /// each administrator unless they switched it off, e-mail for those who switched it on,
    /// and every kind for each of the site's webhook endpoints.
    fn recipients(&self, site: &SiteSlug) -> Result<Vec<(NoticeKind, String, Channel)>, Error> {
        let mut recipients = Vec::new();
        for row in self.effective_subscriptions(site)? {
            let recipient = match row.subscription.channel {
                Channel::Email => row.email,
                _ => Some(row.subscription.username.to_string()),
            };
            if let (true, Some(recipient)) = (row.subscription.enabled, recipient) {
                recipients.push((row.subscription.kind, recipient, row.subscription.channel));
            }
        }
        for endpoint in self.store.webhooks(site)? {
            for kind in NoticeKind::ALL {
                recipients.push((kind, endpoint.url.to_string(), Channel::Webhook));
            }
        }
        Ok(recipients)
    }

    /// One delivery per recipient and channel. In-app deliveries are delivered by being
    /// stored; e-mail and webhook ones wait (`pending`) for the delivery worker. A superseded notice, or
    /// one whose template is switched off, is skipped for everyone. The subject is rendered
    /// from the template; templates are checked on save, so a failure here means the store
    /// was edited by hand, and the template's name stands in rather than losing the notice.
    fn plan<'a>(
        &self,
        notice: DueNotice,
        template: &NotificationTemplate,
        variables: &NoticeVariables,
        recipients: impl Iterator<Item = (&'a str, Channel)>,
    ) -> NoticeRecord {
        let deliver = notice.disposition == Disposition::Deliver && template.enabled;
        // A notice nobody receives keeps only its subject for the log: rendering a body for
        // each superseded notice of a large catch-up would double the sweep's work.
        let body_source = if deliver { template.body.as_str() } else { "" };
        let (subject, body) = match self
            .renderer
            .render(&template.subject, body_source, variables)
        {
            Ok(rendered) => (rendered.subject, rendered.body),
            Err(_) => (
                format!(
                    "{}: {}",
                    notice.key.kind.template_name(),
                    variables.registration_name
                ),
                format!(
                    "{} ({}), site {}: see {}",
                    variables.registration_name,
                    variables.client_id,
                    variables.site_name,
                    variables.console_url
                ),
            ),
        };
        let deliveries = recipients
            .map(|(recipient, channel)| {
                let status = match (deliver, channel) {
                    (false, _) => DeliveryStatus::Skipped,
                    (true, Channel::InApp) => DeliveryStatus::Sent,
                    (true, _) => DeliveryStatus::Pending,
                };
                DeliveryState::planned(recipient, channel, status)
            })
            .collect();
        NoticeRecord {
            subject,
            body,
            notice,
            deliveries,
        }
    }
}
