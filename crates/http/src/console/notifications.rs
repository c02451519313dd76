//! Notifications › Notification templates (edit with preview, errors inline), Subscriptions
//! (your channels per template) and the Administrative notification log.

use std::collections::HashMap;

use axum::extract::{Form, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::value::Serde;
use minijinja::{Value, context};
use registration_core::{
    Actor, BannerSetting, Channel, DeliveryStatus, Disposition, LogQuery, NoticeKind,
    NotificationTemplate, RenderedNotice, SiteSlug, TemplateEdit,
};
use serde::{Deserialize, Serialize};

use super::view::{Page, Section, site_page};
use super::{
    PageError, Signed, encode, page_number, pager, query_pairs, query_value, see_other,
    site_access, site_form_access,
};
use crate::{AppState, blocking};

const LOG_PER_PAGE: u64 = 50;

#[derive(Debug, Clone, Serialize)]
struct TemplateView {
    kind: &'static str,
    name: &'static str,
    subject: String,
    body: String,
    banner: &'static str,
    enabled: bool,
    error: Option<String>,
    preview: Option<PreviewView>,
}

#[derive(Debug, Clone, Serialize)]
struct PreviewView {
    subject: String,
    body: String,
}

impl TemplateView {
    fn new(template: &NotificationTemplate) -> Self {
        Self {
            kind: template.kind.as_str(),
            name: template.kind.template_name(),
            subject: template.subject.clone(),
            body: template.body.clone(),
            banner: template.banner.as_str(),
            enabled: template.enabled,
            error: None,
            preview: None,
        }
    }
}

/// `GET /sites/{site}/notifications/templates`
pub(crate) async fn templates(
    State(state): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let (signed, site) = site_access(&state, &headers, &site).await?;
    let saved = query_value(&query_pairs(raw.as_deref()), "done") == "saved";
    templates_page(&state, &signed, &site, StatusCode::OK, None, saved).await
}

/// The page, with one template replaced by what the administrator submitted.
async fn templates_page(
    state: &AppState,
    signed: &Signed,
    site: &SiteSlug,
    status: StatusCode,
    submitted: Option<TemplateView>,
    saved: bool,
) -> Result<Response, PageError> {
    let slug = site.clone();
    let stored = blocking(state, move |service| service.templates(&slug)).await??;
    let views: Vec<TemplateView> = stored
        .iter()
        .map(TemplateView::new)
        .map(|view| match &submitted {
            Some(submitted) if submitted.kind == view.kind => submitted.clone(),
            _ => view,
        })
        .collect();
    let notice = if saved { "The template was saved." } else { "" };
    site_page(
        state,
        signed,
        site,
        Page {
            section: Section::Templates,
            title: "Notification templates",
            status,
            template: "templates.html",
        },
        context! { templates => Value::from(Serde(&views)), notice => notice },
    )
    .await
}

#[derive(Deserialize)]
pub(crate) struct TemplateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
    banner: Option<String>,
    enabled: Option<String>,
    #[serde(default)]
    action: String,
}

/// `POST /sites/{site}/notifications/templates/{kind}`: `action=preview` renders with
/// example values and saves nothing; `action=save` saves only a template that renders.
pub(crate) async fn edit_template(
    State(state): State<AppState>,
    Path((site, kind)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<TemplateForm>,
) -> Result<Response, PageError> {
    let (signed, site) = site_form_access(&state, &headers, &site, &form.csrf).await?;
    let kind = NoticeKind::parse(&kind).ok_or(PageError::NotFound)?;
    // Browsers send CRLF line ends from text areas; templates are stored with LF.
    let body = form.body.replace("\r\n", "\n");
    let banner = match (kind, form.banner.as_deref()) {
        (NoticeKind::Expired, _) | (_, None) => None,
        (_, Some(text)) => Some(BannerSetting::parse(text)?),
    };
    let mut view = TemplateView {
        kind: kind.as_str(),
        name: kind.template_name(),
        subject: form.subject.clone(),
        body: body.clone(),
        banner: banner.map_or("none", BannerSetting::as_str),
        enabled: form.enabled.is_some(),
        error: None,
        preview: None,
    };
    let (subject, preview_body) = (form.subject.clone(), body.clone());
    if form.action == "preview" {
        let rendered: Result<RenderedNotice, _> = blocking(&state, move |service| {
            service.preview_template(&subject, &preview_body)
        })
        .await?;
        let status = match rendered {
            Ok(rendered) => {
                view.preview = Some(PreviewView {
                    subject: rendered.subject,
                    body: rendered.body,
                });
                StatusCode::OK
            }
            Err(error) => {
                view.error = Some(error.to_string());
                StatusCode::UNPROCESSABLE_ENTITY
            }
        };
        return templates_page(&state, &signed, &site, status, Some(view), false).await;
    }
    let edit = TemplateEdit {
        subject: Some(form.subject),
        body: Some(body),
        banner,
        enabled: Some(form.enabled.is_some()),
    };
    let actor = Actor::admin(&signed.admin);
    let slug = site.clone();
    let saved = blocking(&state, move |service| {
        service.edit_template(&slug, kind, edit, &actor)
    })
    .await?;
    match saved {
        Ok(_) => Ok(see_other(&format!(
            "/sites/{site}/notifications/templates?done=saved#{kind}"
        ))),
        Err(error @ registration_core::Error::InvalidTemplate { .. }) => {
            view.error = Some(format!("Not saved: {error}"));
            templates_page(
                &state,
                &signed,
                &site,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(view),
                false,
            )
            .await
        }
        Err(error) => Err(error.into()),
    }
}

#[derive(Debug, Serialize)]
struct SubscriptionView {
    username: String,
    kind: &'static str,
    name: &'static str,
    in_app: bool,
    email: bool,
}

/// Rows per (username, kind), in the order the service lists them.
fn subscription_views(rows: &[registration_core::SubscriptionRow]) -> Vec<SubscriptionView> {
    let mut views: Vec<SubscriptionView> = Vec::new();
    for row in rows {
        let subscription = &row.subscription;
        let position = views.iter().position(|v| {
            v.username == subscription.username.as_str() && v.kind == subscription.kind.as_str()
        });
        let view = match position {
            Some(index) => &mut views[index],
            None => {
                views.push(SubscriptionView {
                    username: subscription.username.to_string(),
                    kind: subscription.kind.as_str(),
                    name: subscription.kind.template_name(),
                    in_app: false,
                    email: false,
                });
                let last = views.len() - 1;
                &mut views[last]
            }
        };
        match subscription.channel {
            Channel::InApp => view.in_app = subscription.enabled,
            Channel::Email => view.email = subscription.enabled,
            Channel::Webhook => {}
        }
    }
    views
}

/// `GET /sites/{site}/notifications/subscriptions`
pub(crate) async fn subscriptions(
    State(state): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let (signed, site) = site_access(&state, &headers, &site).await?;
    let saved = query_value(&query_pairs(raw.as_deref()), "done") == "saved";
    let notice = if saved {
        "Your subscriptions were saved."
    } else {
        ""
    };
    subscriptions_page(&state, &signed, &site, StatusCode::OK, notice, None).await
}

async fn subscriptions_page(
    state: &AppState,
    signed: &Signed,
    site: &SiteSlug,
    status: StatusCode,
    notice: &str,
    error: Option<String>,
) -> Result<Response, PageError> {
    let slug = site.clone();
    let rows = blocking(state, move |service| service.effective_subscriptions(&slug)).await??;
    let (mine, others): (Vec<_>, Vec<_>) = subscription_views(&rows)
        .into_iter()
        .partition(|view| view.username == signed.admin.username.as_str());
    let context = context! {
        mine => Value::from(Serde(&mine)),
        others => Value::from(Serde(&others)),
        has_email => signed.admin.email.is_some(),
        notice => notice,
        error => error,
    };
    site_page(
        state,
        signed,
        site,
        Page {
            section: Section::Subscriptions,
            title: "Subscriptions",
            status,
            template: "subscriptions.html",
        },
        context,
    )
    .await
}

/// `POST /sites/{site}/notifications/subscriptions`: the whole table of your choices.
pub(crate) async fn subscribe(
    State(state): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let (signed, site) = site_form_access(
        &state,
        &headers,
        &site,
        form.get("csrf").map_or("", String::as_str),
    )
    .await?;
    let username = signed.admin.username.clone();
    let has_email = signed.admin.email.is_some();
    let actor = Actor::Admin(username.clone());
    let slug = site.clone();
    let result = blocking(&state, move |service| {
        let current = service.effective_subscriptions(&slug)?;
        for row in current
            .iter()
            .filter(|row| row.subscription.username == username)
        {
            let subscription = &row.subscription;
            if subscription.channel == Channel::Email && !has_email {
                continue;
            }
            let field = format!("{}-{}", subscription.kind, subscription.channel);
            let wanted = form.contains_key(&field);
            if wanted != subscription.enabled {
                service.subscribe(
                    &slug,
                    &username,
                    subscription.kind,
                    subscription.channel,
                    wanted,
                    &actor,
                )?;
            }
        }
        Ok::<_, registration_core::Error>(())
    })
    .await?;
    match result {
        Ok(()) => Ok(see_other(&format!(
            "/sites/{site}/notifications/subscriptions?done=saved"
        ))),
        Err(error @ registration_core::Error::NoEmailAddress(_)) => {
            subscriptions_page(
                &state,
                &signed,
                &site,
                StatusCode::UNPROCESSABLE_ENTITY,
                "",
                Some(error.to_string()),
            )
            .await
        }
        Err(error) => Err(error.into()),
    }
}

#[derive(Debug, Serialize)]
struct DeliveryView {
    status: &'static str,
    channel: &'static str,
    recipient: String,
    attempts: u32,
    next: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Serialize)]
struct NoticeView {
    recorded_at: String,
    kind: &'static str,
    skipped: bool,
    name: String,
    client_id: String,
    subject: String,
    deliveries: Vec<DeliveryView>,
}

#[derive(Debug, Serialize)]
struct Choice {
    value: &'static str,
    label: &'static str,
}

/// `GET /sites/{site}/notifications/log?kind=&status=&registration=&page=`
pub(crate) async fn log(
    State(state): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let (signed, site) = site_access(&state, &headers, &site).await?;
    let pairs = query_pairs(raw.as_deref());
    let value = |key: &str| query_value(&pairs, key).trim().to_owned();
    let (kind, status, registration) = (value("kind"), value("status"), value("registration"));
    let page = u64::from(page_number(&pairs));
    let query = LogQuery {
        kind: NoticeKind::parse(&kind),
        client_id: (!registration.is_empty()).then(|| registration.clone()),
        status: DeliveryStatus::parse(&status),
        offset: (page - 1) * LOG_PER_PAGE,
        limit: u32::try_from(LOG_PER_PAGE).unwrap_or(u32::MAX),
    };
    let slug = site.clone();
    let (zone, (entries, total)) = blocking(&state, move |service| {
        Ok::<_, registration_core::Error>((
            service.site(&slug)?.zone,
            service.notices_page(&slug, &query)?,
        ))
    })
    .await??;
    let notices: Vec<NoticeView> = entries
        .iter()
        .map(|entry| NoticeView {
            recorded_at: zone.local_minute(entry.recorded_at),
            kind: entry.key.kind.as_str(),
            skipped: entry.disposition == Disposition::SkippedSuperseded,
            name: entry.registration_name.clone(),
            client_id: entry.client_id.to_string(),
            subject: entry.subject.clone(),
            deliveries: entry
                .deliveries
                .iter()
                .map(|d| DeliveryView {
                    status: d.status.as_str(),
                    channel: d.channel.as_str(),
                    recipient: d.recipient.clone(),
                    attempts: d.attempts,
                    next: d.next_attempt_at.map(|at| zone.local_minute(at)),
                    error: d.last_error.clone(),
                })
                .collect(),
        })
        .collect();
    let link = |page: u64| {
        format!(
            "/sites/{site}/notifications/log?kind={}&status={}&registration={}&page={page}",
            encode(&kind),
            encode(&status),
            encode(&registration)
        )
    };
    let kinds: Vec<Choice> = NoticeKind::ALL
        .into_iter()
        .map(|k| Choice {
            value: k.as_str(),
            label: k.template_name(),
        })
        .collect();
    let statuses: Vec<&str> = DeliveryStatus::ALL
        .into_iter()
        .map(DeliveryStatus::as_str)
        .collect();
    let paging = pager(page, total, LOG_PER_PAGE, link);
    let context = context! {
        notices => Value::from(Serde(&notices)),
        total => total,
        kinds => Value::from(Serde(&kinds)),
        statuses => statuses,
        kind => kind,
        status => status,
        registration => registration,
        ..paging,
    };
    site_page(
        &state,
        &signed,
        &site,
        Page {
            section: Section::Log,
            title: "Administrative notification log",
            status: StatusCode::OK,
            template: "log.html",
        },
        context,
    )
    .await
}
