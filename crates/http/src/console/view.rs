//! Rendering: the console's minijinja templates (HTML auto-escaping by file name), the page
//! layout with its banners, and the static assets.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::value::Serde;
use minijinja::{Environment, Value, context};
use registration_core::{Banner, InboxQuery, SiteSlug};
use serde::Serialize;
use time::OffsetDateTime;

use super::{PageError, Signed, html_response};
use crate::{AppState, blocking};

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("templates/layout.html")),
    ("inbox.html", include_str!("templates/inbox.html")),
    ("settings.html", include_str!("templates/settings.html")),
    ("login.html", include_str!("templates/login.html")),
    ("grid.html", include_str!("templates/grid.html")),
    ("new.html", include_str!("templates/new.html")),
    ("secret.html", include_str!("templates/secret.html")),
    ("detail.html", include_str!("templates/detail.html")),
    ("replace.html", include_str!("templates/replace.html")),
    ("rotate.html", include_str!("templates/rotate.html")),
    ("expiring.html", include_str!("templates/expiring.html")),
    ("templates.html", include_str!("templates/templates.html")),
    (
        "subscriptions.html",
        include_str!("templates/subscriptions.html"),
    ),
    ("log.html", include_str!("templates/log.html")),
    ("audit.html", include_str!("templates/audit.html")),
];

/// The console's templates, parsed once at start.
pub(crate) struct Views {
    environment: Environment<'static>,
}

impl std::fmt::Debug for Views {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Views").finish_non_exhaustive()
    }
}

impl Views {
    pub(crate) fn new() -> Result<Self, minijinja::Error> {
        let mut environment = Environment::new();
        for (name, source) in TEMPLATES {
            environment.add_template(name, source)?;
        }
        Ok(Self { environment })
    }

    pub(crate) fn render(&self, name: &str, context: Value) -> Result<String, PageError> {
        self.environment
            .get_template(name)
            .and_then(|template| template.render(context))
            .map_err(|error| PageError::Internal(format!("rendering {name}: {error:#}")))
    }

    /// The layout around an already rendered `body`.
    pub(crate) fn layout(&self, context: Value) -> Result<String, PageError> {
        let body = context
            .get_attr("body")
            .map_err(|e| PageError::Internal(e.to_string()))?;
        let context = context! { body => Value::from_safe_string(body.to_string()), ..context };
        self.render("layout.html", context)
    }

    /// A page with a heading and a message, for errors: built by hand because errors become
    /// responses where the templates (in the app state) are not at hand.
    pub(crate) fn standalone(heading: &str, message: &str) -> String {
        let escape = |text: &str| {
            text.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        };
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{heading} · appreg</title>\
             <link rel=\"stylesheet\" href=\"/console/console.css\"></head>\
             <body><main id=\"main\"><h1>{heading}</h1><p>{message}</p>\
             <p><a href=\"/\">Back to the console</a></p></main></body></html>\n",
            heading = escape(heading),
            message = escape(message),
        )
    }
}

/// A banner as the layout shows it.
#[derive(Debug, Serialize)]
struct BannerView {
    kind: &'static str,
    name: String,
    client_id: String,
    expiration_date: String,
    expires: String,
    rejected: u64,
    last_rejected: String,
}

impl BannerView {
    fn new(banner: &Banner, now: OffsetDateTime) -> Self {
        Self {
            kind: banner.kind.as_str(),
            name: banner.registration_name.clone(),
            client_id: banner.client_id.to_string(),
            expiration_date: banner.expiration_date.to_string(),
            expires: match banner.days_left {
                0 => "today".into(),
                1 => "tomorrow".into(),
                n => format!("in {n} days"),
            },
            rejected: banner.rejected_since_expiry,
            last_rejected: banner
                .last_rejected
                .map(|at| ago(now, at))
                .unwrap_or_default(),
        }
    }
}

/// "3 minutes ago", for people.
pub(crate) fn ago(now: OffsetDateTime, then: OffsetDateTime) -> String {
    let seconds = (now - then).whole_seconds().max(0);
    let (count, unit) = match seconds {
        0..60 => return "just now".into(),
        60..3_600 => (seconds / 60, "minute"),
        3_600..86_400 => (seconds / 3_600, "hour"),
        _ => (seconds / 86_400, "day"),
    };
    format!("{count} {unit}{} ago", if count == 1 { "" } else { "s" })
}

/// Which console section a page belongs to (the navigation marks it).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Section {
    Registrations,
    Expiring,
    Templates,
    Subscriptions,
    Log,
    Audit,
    Inbox,
    Settings,
}

impl Section {
    fn as_str(self) -> &'static str {
        match self {
            Section::Registrations => "registrations",
            Section::Expiring => "expiring",
            Section::Templates => "templates",
            Section::Subscriptions => "subscriptions",
            Section::Log => "log",
            Section::Audit => "audit",
            Section::Inbox => "inbox",
            Section::Settings => "settings",
        }
    }

    /// Where the section sits in the product's Admin Center (SPEC 1: registrations under
    /// IAM; templates, subscriptions and the log under Notifications).
    fn crumbs(self) -> &'static str {
        match self {
            Section::Registrations | Section::Expiring => "Admin Center › Site Settings › IAM",
            Section::Templates | Section::Subscriptions | Section::Log => {
                "Admin Center › Site Settings › Notifications"
            }
            Section::Audit | Section::Settings => "Admin Center › Site Settings",
            Section::Inbox => "Admin Center › Notifications",
        }
    }
}

/// What a page of a site is: its section, title, status and template.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Page<'a> {
    pub(crate) section: Section,
    pub(crate) title: &'a str,
    pub(crate) status: StatusCode,
    pub(crate) template: &'static str,
}

/// Renders the page's template with `context` inside the layout of `site`, with its
/// banners as they are now.
pub(crate) async fn site_page(
    state: &AppState,
    signed: &Signed,
    site: &SiteSlug,
    page: Page<'_>,
    context: Value,
) -> Result<Response, PageError> {
    let Page {
        section,
        title,
        status,
        template,
    } = page;
    let slug = site.clone();
    let admin = signed.admin.clone();
    let counts = InboxQuery {
        unread_only: true,
        offset: 0,
        limit: 0,
    };
    let (banners, now, unread) = blocking(state, move |service| {
        Ok::<_, registration_core::Error>((
            service.banners(&slug)?,
            service.now(),
            service.inbox(&admin, Some(&slug), &counts)?.unread,
        ))
    })
    .await??;
    let banners: Vec<BannerView> = banners.iter().map(|b| BannerView::new(b, now)).collect();
    let csrf = signed.csrf();
    let body = state.views.render(
        template,
        context! { site => site.as_str(), csrf => &csrf, ..context },
    )?;
    let sites: Vec<String> = signed.admin.sites.iter().map(ToString::to_string).collect();
    let html = state.views.layout(context! {
        title => title,
        section => section.as_str(),
        crumbs => section.crumbs(),
        unread => unread,
        admin => signed.admin.username.as_str(),
        sites => sites,
        site => site.as_str(),
        csrf => csrf,
        banners => Value::from(Serde(&banners)),
        body => body,
    })?;
    Ok(html_response(status, html))
}

pub(crate) async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("static/console.css"),
    )
        .into_response()
}

pub(crate) async fn js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("static/console.js"),
    )
        .into_response()
}
