//! What only the console needs: banners, template previews, sign-in sessions and the
//! one-time secret page.

use crate::admin::{AdminAccount, TokenDigest};
use crate::console::{
    Banner, BannerKind, ConsoleSession, PendingReveal, REVEAL_LIFETIME, RevealPad,
    SESSION_LIFETIME, SessionToken,
};
use crate::error::{Error, StoreError};
use crate::schedule::{NoticeKind, candidate_horizon};
use crate::secret::{ClientId, ClientSecret};
use crate::site::SiteSlug;
use crate::status::{State, Status};
use crate::template::{BannerSetting, NoticeVariables, RenderedNotice};

use super::RegistrationService;

impl RegistrationService {
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
                rejected_since_expiry: record.rejections.count,
                last_rejected: record.rejections.last,
            });
        }
        alerts.append(&mut warnings);
        Ok(alerts)
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
}
