//! Notification templates, subscriptions, webhook endpoints, the sweep that records notices,
//! the delivery worker's rounds and the notification log.

use time::{Duration, OffsetDateTime};

use crate::admin::{AdminAccount, AdminName, Subscription};
use crate::audit::{Actor, AuditAction, AuditImage};
use crate::delivery::{Channel, DeliveryState, DeliveryStatus, Lease};
use crate::error::Error;
use crate::log::{InboxPage, InboxQuery, LogQuery, NoticeLogEntry, NoticeRecord};
use crate::ports::Notifier;
use crate::schedule::{
    Disposition, DueNotice, NoticeKey, NoticeKind, candidate_horizon, due_notices,
};
use crate::secret::ClientId;
use crate::site::SiteSlug;
use crate::status::Status;
use crate::template::{BannerSetting, NoticeVariables, NotificationTemplate, check_template};
use crate::webhook::{WebhookEndpoint, WebhookNetworks, WebhookSecret, WebhookUrl};

use super::RegistrationService;

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SweepReport {
    /// Sites swept.
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
    /// The choice in effect (the default when none was made).
    pub subscription: Subscription,
    /// The administrator's e-mail address, if any.
    pub email: Option<String>,
}

/// What one round of the delivery worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryReport {
    /// Deliveries claimed and attempted.
    pub attempted: usize,
    /// Attempts that delivered.
    pub sent: usize,
    /// Attempts that failed and will be retried.
    pub retrying: usize,
    /// Attempts that failed for the last time.
    pub dead: usize,
    /// Attempts whose outcome was not recorded: their lease ran out during the attempt and
    /// another worker took them over (they may be sent twice, never lost).
    pub lease_lost: usize,
}

impl DeliveryReport {
    /// Adds another round's counts to these.
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

/// A change to a site's template; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateEdit {
    /// A new subject.
    pub subject: Option<String>,
    /// A new body.
    pub body: Option<String>,
    /// A new banner setting (`expires in` templates only).
    pub banner: Option<BannerSetting>,
    /// Switches the notice on or off for everyone.
    pub enabled: Option<bool>,
}

/// Notices recorded per transaction by a sweep.
const SWEEP_BATCH: usize = 10_000;

impl RegistrationService {
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
    pub(super) fn console_url(&self, site: &SiteSlug, client_id: &ClientId) -> String {
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
                let console_url = self.console_url(&site.slug, &candidate.client_id);
                // A delivered notice tells the facts of now (it may be a late catch-up); a
                // superseded one only stands in the log and tells those of its own due time,
                // so that each kind's entry reads as that kind ("expires in 30 days").
                let variables_at = |at: OffsetDateTime| {
                    let status =
                        Status::at(subject.expiration_date, subject.enabled, site.zone, at);
                    NoticeVariables {
                        registration_name: candidate.name.to_string(),
                        client_id: candidate.client_id.to_string(),
                        expiration_date: subject.expiration_date.to_string(),
                        expires_at: site.zone.display_local(status.expires_at),
                        days_left: status.days_left,
                        site_name: site.name.as_str().to_owned(),
                        console_url: console_url.clone(),
                    }
                };
                for notice in due {
                    let variables = match notice.disposition {
                        Disposition::Deliver => variables_at(now),
                        Disposition::SkippedSuperseded => variables_at(notice.due_at),
                    };
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

    /// Adds a webhook endpoint to `site` and returns it with its new signing secret (shown
    /// to the caller once).
    pub fn add_webhook(
        &self,
        site: &SiteSlug,
        url: WebhookUrl,
        networks: WebhookNetworks,
        actor: &Actor,
    ) -> Result<WebhookEndpoint, Error> {
        if let Some(reason) = url.host_refusal(networks) {
            return Err(Error::WebhookDestination(reason));
        }
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

    /// The sites whose inbox `admin` reads: `site` if they administer it, else all theirs.
    fn inbox_sites(admin: &AdminAccount, site: Option<&SiteSlug>) -> Vec<SiteSlug> {
        admin
            .sites
            .iter()
            .filter(|own| site.is_none_or(|wanted| *own == wanted))
            .cloned()
            .collect()
    }

    /// `admin`'s inbox: the in-app notices delivered to them in `site` (or in all their
    /// sites), newest first, with the counts. Another site's notices never appear.
    pub fn inbox(
        &self,
        admin: &AdminAccount,
        site: Option<&SiteSlug>,
        query: &InboxQuery,
    ) -> Result<InboxPage, Error> {
        let sites = Self::inbox_sites(admin, site);
        Ok(self.store.inbox_page(&admin.username, &sites, query)?)
    }

    /// Marks one notice of `admin`'s inbox read; false when they have no such notice there.
    /// Reading is the administrator's own state, not an administrative change: not audited.
    pub fn mark_read(
        &self,
        admin: &AdminAccount,
        site: Option<&SiteSlug>,
        notice: &NoticeKey,
    ) -> Result<bool, Error> {
        let sites = Self::inbox_sites(admin, site);
        Ok(self
            .store
            .mark_read(&admin.username, &sites, notice, self.clock.now())?)
    }

    /// Marks every notice of `admin`'s inbox in `site` (or all their sites) read.
    pub fn mark_all_read(
        &self,
        admin: &AdminAccount,
        site: Option<&SiteSlug>,
    ) -> Result<u64, Error> {
        let sites = Self::inbox_sites(admin, site);
        Ok(self
            .store
            .mark_all_read(&admin.username, &sites, self.clock.now())?)
    }

    /// The webhook endpoints of `site`, sorted by URL.
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
    pub(super) fn jitter(&self) -> Result<f64, Error> {
        let mut bytes = [0_u8; 4];
        self.random.fill_bytes(&mut bytes)?;
        Ok(f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0))
    }

    /// (kind, recipient, channel) for every subscription that is on in `site`: in-app for
    /// each administrator unless they switched it off, e-mail for those who switched it on,
    /// and every kind for each of the site's webhook endpoints.
    pub(super) fn recipients(
        &self,
        site: &SiteSlug,
    ) -> Result<Vec<(NoticeKind, String, Channel)>, Error> {
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
    pub(super) fn plan<'a>(
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
