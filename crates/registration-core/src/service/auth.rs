//! Client authentication and the token decision, signing keys, administrators and their
//! passwords and API tokens.

use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::admin::{AdminAccount, AdminName, AdminPassword, AdminToken};
use crate::audit::{Actor, AuditAction, AuditImage};
use crate::error::{Error, StoreError};
#[cfg(doc)]
use crate::ports::RegistrationStore;
use crate::ports::{SigningKeyRecord, VerificationCache};
use crate::registration::Registration;
use crate::rotation::{SecretMatch, SecretSlot};
use crate::secret::{ClientId, ClientSecret};
use crate::site::{Site, SiteSlug};
use crate::sources::random_uuid;
use crate::token::{
    PresentedToken, TokenDecision, TokenRequest, decide_token_request, token_is_active,
};
use crate::usage::UsageUpdate;

use super::RegistrationService;

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
    /// The site the credentials were presented to.
    pub site: Site,
    /// The registration the Client ID names in that site, if any.
    pub registration: Option<Registration>,
    /// Which of that registration's secrets was presented, if any.
    pub secret: SecretMatch,
}

impl CheckedClient {
    /// Whether the presented secret is one of the registration's live secrets.
    pub fn secret_matches(&self) -> bool {
        self.secret.is_live()
    }

    /// Whether these credentials authenticate a registration at `now`: the secret matched
    /// and the registration's state authenticates. Only such a client may introspect tokens
    /// (an expired or disabled one learns nothing, not even that its secret is right).
    pub fn authenticates(&self, now: OffsetDateTime) -> bool {
        self.secret_matches()
            && self.registration.as_ref().is_some_and(|registration| {
                registration
                    .status(&self.site, now)
                    .state
                    .can_authenticate()
            })
    }
}

/// Credentials waiting for their argon2 verification.
#[derive(Debug)]
pub struct PendingVerification {
    site: Site,
    registration: Option<Registration>,
    secret: ClientSecret,
    slot: SecretSlot,
}

impl PendingVerification {
    /// The Client ID the credentials name, when it exists in the site (for failure budgets).
    pub fn registration(&self) -> Option<&Registration> {
        self.registration.as_ref()
    }
}

/// How many signing keys are kept: the current one and the previous, so tokens signed just
/// before a rotation still verify until they expire.
pub const SIGNING_KEYS_KEPT: usize = 2;

impl RegistrationService {
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
        Ok(self.check_loaded(site, registration, parsed, cache))
    }

    /// [`Self::check_client`] for a registration the store holds in memory
    /// ([`RegistrationStore::site_and_registration_in_memory`]): no I/O and no waiting, so
    /// an async caller may run it on its executor. `None`: not in memory (or malformed
    /// credentials): call [`Self::check_client`] where blocking is allowed.
    pub fn check_client_in_memory(
        &self,
        site: &SiteSlug,
        client_id: &str,
        presented_secret: &str,
        cache: &dyn VerificationCache,
    ) -> Option<ClientCheck> {
        let parsed = ClientId::parse(client_id)
            .ok()
            .zip(ClientSecret::parse(presented_secret).ok())?;
        let (site, registration) = self
            .store
            .site_and_registration_in_memory(site, &parsed.0)?;
        Some(self.check_loaded(site, Some(registration), Some(parsed), cache))
    }

    fn check_loaded(
        &self,
        site: Site,
        registration: Option<Registration>,
        parsed: Option<(ClientId, ClientSecret)>,
        cache: &dyn VerificationCache,
    ) -> ClientCheck {
        let Some((_, secret)) = parsed else {
            return ClientCheck::Decided(CheckedClient {
                site,
                registration: None,
                secret: SecretMatch::None,
            });
        };
        let now = self.clock.now();
        let slot = registration
            .as_ref()
            .map_or(SecretSlot::Current, |known| known.secret_slot_for(&secret));
        // Only a live secret of a registration that may authenticate now is answered from
        // the cache: the refusal of a correct secret (expired, disabled, retired) costs the
        // same argon2 verification as a wrong one, so timing does not tell them apart.
        if let Some(known) = &registration {
            let matched = known.matched(slot, now);
            if matched.is_live()
                && known.status(&site, now).state.can_authenticate()
                && cache.contains(known.id(), known.revision(), &secret)
            {
                return ClientCheck::Decided(CheckedClient {
                    site,
                    secret: matched,
                    registration,
                });
            }
        }
        ClientCheck::NeedsHashing(PendingVerification {
            site,
            registration,
            secret,
            slot,
        })
    }

    /// Second step: one argon2id verification of equal cost whether or not the client
    /// exists, against the one stored secret the presented one can be. Remembers a
    /// verified live secret in `cache`.
    pub fn finish_verification(
        &self,
        pending: PendingVerification,
        cache: &dyn VerificationCache,
    ) -> CheckedClient {
        let PendingVerification {
            site,
            registration,
            secret,
            slot,
        } = pending;
        let matched = match &registration {
            Some(known) => {
                if self.hasher.verify(&secret, known.slot_hash(slot)) {
                    let matched = known.matched(slot, self.clock.now());
                    if matched.is_live() {
                        cache.insert(known.id(), known.revision(), &secret);
                    }
                    matched
                } else {
                    SecretMatch::None
                }
            }
            None => {
                self.hasher.verify_unknown_client(&secret);
                SecretMatch::None
            }
        };
        CheckedClient {
            site,
            registration,
            secret: matched,
        }
    }

    /// Both steps of client authentication in one call ([`check_client`], then
    /// [`finish_verification`] when needed), for callers with no async executor to keep
    /// free of argon2: embedders, tools, tests.
    ///
    /// [`check_client`]: Self::check_client
    /// [`finish_verification`]: Self::finish_verification
    pub fn authenticate(
        &self,
        site: &SiteSlug,
        client_id: &str,
        presented_secret: &str,
        cache: &dyn VerificationCache,
    ) -> Result<CheckedClient, Error> {
        Ok(
            match self.check_client(site, client_id, presented_secret, cache)? {
                ClientCheck::Decided(checked) => checked,
                ClientCheck::NeedsHashing(pending) => self.finish_verification(pending, cache),
            },
        )
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
            secret_matches: checked.secret_matches(),
            now: self.clock.now(),
            public_url,
            lifetime,
            token_id: random_uuid(self.random.as_ref())?.to_string(),
            scope,
        }))
    }

    /// Whether a token whose signature and `exp` the caller verified is active now
    /// ([`token_is_active`]): the site and the registration it names are read in one
    /// snapshot. MUST only be answered to an administrator of `site` or a client for which
    /// [`CheckedClient::authenticates`] holds.
    pub fn introspect(
        &self,
        site: &SiteSlug,
        public_url: &str,
        token: PresentedToken<'_>,
    ) -> Result<bool, Error> {
        let client_id = ClientId::parse(token.client_id).ok();
        let (site, registration) = self.store.site_and_registration(site, client_id.as_ref())?;
        Ok(token_is_active(
            token,
            &site,
            public_url,
            registration.as_ref(),
            self.clock.now(),
        ))
    }

    /// Applies coalesced Last used and rejection counts.
    pub fn record_usage(&self, updates: &[UsageUpdate]) -> Result<(), Error> {
        Ok(self.store.record_usage(updates)?)
    }

    pub(super) fn new_signing_key(&self) -> Result<SigningKeyRecord, Error> {
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
}
