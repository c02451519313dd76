//! The registrations of a site: create, read, change, delete, the grid's pages.

use time::OffsetDateTime;

use crate::audit::{Actor, AuditAction, AuditImage};
use crate::console::{ListQuery, StateFilter};
use crate::error::{Error, StoreError};
use crate::registration::{NewRegistration, Registration};
use crate::rotation::SecretOverlap;
use crate::secret::{ClientId, ClientSecret};
use crate::site::{Site, SiteSlug};
use crate::status::Status;
use crate::values::{ExpirationDate, RegistrationName};

use super::RegistrationService;

/// A registration, its site, and what is derived from them at the service's `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Snapshot {
    /// The registration as stored.
    pub registration: Registration,
    /// Its site.
    pub site: Site,
    /// State, days left and Expires label at the service's `now`.
    pub status: Status,
    /// The service's `now` the status is for.
    pub at: OffsetDateTime,
}

impl Snapshot {
    /// Whether the previous secret still authenticates (the registration's state aside).
    pub fn previous_secret_live(&self) -> bool {
        self.registration
            .previous_secret()
            .is_some_and(|previous| previous.is_live(self.at))
    }
}

/// A partial change of a registration (the admin API's PATCH): applied as one change, one
/// revision, one audit entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistrationPatch {
    /// A new name.
    pub name: Option<RegistrationName>,
    /// A new expiration date (a renewal).
    pub expiration_date: Option<ExpirationDate>,
    /// Enable or disable.
    pub enabled: Option<bool>,
}

impl RegistrationService {
    pub(super) fn snapshot(&self, registration: Registration, site: Site) -> Snapshot {
        let at = self.clock.now();
        let status = registration.status(&site, at);
        Snapshot {
            registration,
            site,
            status,
            at,
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

    /// One registration of `site`; [`StoreError::NotFound`] also for another site's.
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

    /// Loads, applies `command`, stores with the revision check (one transaction with its
    /// audit entry), and returns the result.
    pub(super) fn change(
        &self,
        site: &SiteSlug,
        client_id: &ClientId,
        actor: &Actor,
        command: impl FnOnce(&mut Registration, &Site, OffsetDateTime) -> Result<(), Error>,
    ) -> Result<Snapshot, Error> {
        self.change_as(
            AuditAction::RegistrationUpdate,
            site,
            client_id,
            actor,
            command,
        )
        .map(|(snapshot, ())| snapshot)
    }

    fn change_as<T>(
        &self,
        action: AuditAction,
        site: &SiteSlug,
        client_id: &ClientId,
        actor: &Actor,
        command: impl FnOnce(&mut Registration, &Site, OffsetDateTime) -> Result<T, Error>,
    ) -> Result<(Snapshot, T), Error> {
        let site = self.store.site(site)?;
        let mut registration = self.store.get(&site.slug, client_id)?;
        let before = AuditImage::registration(&registration);
        let outcome = command(&mut registration, &site, self.clock.now())?;
        // The store refuses the change unless it stays at this revision: `before` is exact.
        let mut record = registration.record().clone();
        record.revision += 1;
        let changed = Registration::from_record(record);
        let audit = self.audit(
            actor,
            &site.slug,
            action,
            client_id.as_str(),
            Some(before),
            Some(AuditImage::registration(&changed)),
        );
        self.store.update(&registration, &audit)?;
        Ok((self.snapshot(changed, site), outcome))
    }

    /// Issues a new Client secret for the same Client ID (SPEC 12); the previous one keeps
    /// authenticating for `overlap`. The new secret is returned here and never again.
    pub fn rotate_secret(
        &self,
        site: &SiteSlug,
        client_id: &ClientId,
        overlap: SecretOverlap,
        actor: &Actor,
    ) -> Result<(Snapshot, ClientSecret), Error> {
        self.change_as(
            AuditAction::SecretRotate,
            site,
            client_id,
            actor,
            |registration, site, now| {
                registration.rotate_secret(overlap, site, now, self.random.as_ref(), &self.hasher)
            },
        )
    }

    /// Ends the previous secret's overlap now; the current secret stays.
    pub fn retire_previous_secret(
        &self,
        site: &SiteSlug,
        client_id: &ClientId,
        actor: &Actor,
    ) -> Result<Snapshot, Error> {
        self.change_as(
            AuditAction::SecretRetire,
            site,
            client_id,
            actor,
            |registration, _, now| registration.retire_previous_secret(now),
        )
        .map(|(snapshot, ())| snapshot)
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

    /// Renames a registration (audited, revision-checked).
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

    /// Enables or disables a registration (audited, revision-checked).
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

    /// One page of `site`'s registrations, and how many match the query in all; `state`
    /// narrows it to the registrations in that state on the site's today.
    pub fn list_page(
        &self,
        site: &SiteSlug,
        query: &ListQuery,
        state: Option<StateFilter>,
    ) -> Result<(Vec<Snapshot>, u64), Error> {
        let site = self.store.site(site)?;
        let mut query = query.clone();
        if let Some(state) = state {
            query.filter = state.facts(site.today(self.clock.now()));
        }
        let (registrations, total) = self.store.page(&site.slug, &query)?;
        let snapshots = registrations
            .into_iter()
            .map(|registration| self.snapshot(registration, site.clone()))
            .collect();
        Ok((snapshots, total))
    }
}
