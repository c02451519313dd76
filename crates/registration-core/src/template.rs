//! Notification templates (SPEC section 5): one per site and notice kind, editable, with a
//! banner setting. Rendering is a port ([`TemplateRenderer`]); the `notify` crate implements
//! it with a sandboxed minijinja.

use crate::error::Error;
use crate::schedule::NoticeKind;

/// What an "expires in" template shows on every console page while it applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BannerSetting {
    /// No banner.
    None,
    /// The amber `api-client-warning` banner.
    Warning,
}

impl BannerSetting {
    /// The name stored and shown (`none`, `warning`).
    pub fn as_str(self) -> &'static str {
        match self {
            BannerSetting::None => "none",
            BannerSetting::Warning => "warning",
        }
    }

    /// Parses `none` or `warning`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        match text {
            "none" => Ok(BannerSetting::None),
            "warning" => Ok(BannerSetting::Warning),
            _ => Err(Error::InvalidBannerSetting),
        }
    }
}

/// A site's template for one notice kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationTemplate {
    /// Which notice it renders.
    pub kind: NoticeKind,
    /// minijinja source of the subject (one line once rendered).
    pub subject: String,
    /// minijinja source of the plain-text body.
    pub body: String,
    /// Off: notices of this kind are still recorded in the log, but not delivered.
    pub enabled: bool,
    /// Ignored for `expired`, which always shows the red banner.
    pub banner: BannerSetting,
}

/// Also right when rendered late (a superseded notice logged after the date).
const SUBJECT_30: &str = r#"App registration "{{ registration.name }}" {% if days_left < 0 %}has expired{% elif days_left == 0 %}expires today{% elif days_left == 1 %}expires tomorrow{% else %}expires in {{ days_left }} days{% endif %}"#;
const SUBJECT_7: &str = SUBJECT_30;
const SUBJECT_EXPIRED: &str = r#"App registration "{{ registration.name }}" has expired"#;

/// Also right when rendered late (a superseded notice logged after the date).
const BODY_EXPIRING: &str = r#"{% if days_left < 0 %}The App registration "{{ registration.name }}" of site {{ site.name }} expired on {{ registration.expiration_date }} and no longer obtains tokens (since {{ registration.expires_at }}).{% else %}The App registration "{{ registration.name }}" of site {{ site.name }} expires on {{ registration.expiration_date }}: it can obtain tokens until {{ registration.expires_at }}.{% endif %}

  Client ID: {{ registration.client_id }}

{% if days_left < 0 %}Any service still using it is failing now. Renew it (set a new expiration date; the Client ID
and secret stay the same), or disable or delete it if it is no longer needed.{% else %}Services that use it will then be refused. Renew it to keep them working: set a new
expiration date (the Client ID and secret stay the same). Or replace it with a new
registration and give the services the new credentials.{% endif %}

{{ console_url }}
"#;

const BODY_EXPIRED: &str = r#"The App registration "{{ registration.name }}" of site {{ site.name }} expired on {{ registration.expiration_date }} and no longer obtains tokens (since {{ registration.expires_at }}).

  Client ID: {{ registration.client_id }}

Any service still using it is failing now. Renew it (set a new expiration date; the Client ID
and secret stay the same), or disable or delete it if it is no longer needed.

{{ console_url }}
"#;

impl NotificationTemplate {
    /// The template every site starts with.
    pub fn default_for(kind: NoticeKind) -> Self {
        let (subject, body, banner) = match kind {
            NoticeKind::ExpiresIn30Days => (SUBJECT_30, BODY_EXPIRING, BannerSetting::None),
            NoticeKind::ExpiresIn7Days => (SUBJECT_7, BODY_EXPIRING, BannerSetting::Warning),
            NoticeKind::Expired => (SUBJECT_EXPIRED, BODY_EXPIRED, BannerSetting::None),
        };
        Self {
            kind,
            subject: subject.to_owned(),
            body: body.to_owned(),
            enabled: true,
            banner,
        }
    }
}

/// The values a template can use: `registration.name`, `registration.client_id`,
/// `registration.expiration_date`, `registration.expires_at`, `days_left`, `site.name`,
/// `console_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeVariables {
    /// The registration's name.
    pub registration_name: String,
    /// The registration's Client ID.
    pub client_id: String,
    /// `YYYY-MM-DD`.
    pub expiration_date: String,
    /// The exact instant, as people read it in the site's zone.
    pub expires_at: String,
    /// Days left in the site's zone (negative once expired).
    pub days_left: i64,
    /// The site's display name.
    pub site_name: String,
    /// The registration's page in the console.
    pub console_url: String,
}

impl NoticeVariables {
    /// Plausible values, to check a template when it is saved.
    pub fn example() -> Self {
        Self {
            registration_name: "Billing sync".into(),
            client_id: "abcdefghijklmnopqrst".into(),
            expiration_date: "2027-01-31".into(),
            expires_at: "2027-02-01 00:00 Europe/Berlin".into(),
            days_left: 7,
            site_name: "Default site".into(),
            console_url:
                "https://appreg.example/sites/default/app-registrations/abcdefghijklmnopqrst".into(),
        }
    }
}

/// A rendered notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedNotice {
    /// One line.
    pub subject: String,
    /// The rendered body.
    pub body: String,
}

/// Renders templates.
pub trait TemplateRenderer: Send + Sync {
    /// Renders `subject` and `body` with `variables`.
    /// MUST NOT read files or reach the network, MUST stop templates that run too long, MUST
    /// bound the output, and MUST fold the subject onto one line. MUST return
    /// [`Error::InvalidTemplate`] naming the part, the line and the reason when a template
    /// does not parse, uses an unknown variable, or fails to render.
    fn render(
        &self,
        subject: &str,
        body: &str,
        variables: &NoticeVariables,
    ) -> Result<RenderedNotice, Error>;
}

/// Checks a template before it is saved: a subject of one line (no control characters),
/// and both parts must render with example values.
pub fn check_template(
    renderer: &dyn TemplateRenderer,
    subject: &str,
    body: &str,
) -> Result<(), Error> {
    // Refused, not folded: what is saved is what the administrator sees in the editor.
    if subject.chars().any(char::is_control) {
        return Err(Error::InvalidTemplate {
            part: "subject",
            line: None,
            reason: "a subject is one line: no line breaks, tabs or other control characters"
                .into(),
        });
    }
    renderer.render(subject, body, &NoticeVariables::example())?;
    Ok(())
}
