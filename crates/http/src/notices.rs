//! The Administrative notification log, the notification templates and the subscriptions in
//! the admin API: `/api/v1/sites/{site}/notifications`, `…/notification-templates` and
//! `…/subscriptions`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use registration_core::{
    Actor, AdminName, BannerSetting, Channel, DeliveryStatus, NoticeKind, TemplateEdit,
};
use serde::{Deserialize, Serialize};

use crate::api::{Paging, ProblemJson, administrator_of, json_body};
use crate::error::{Error, FieldError};
use crate::wire::{BannerJson, NoticeJson, SubscriptionJson, TemplateJson};
use crate::{AppState, blocking};

/// Filters and paging of the notification log.
#[derive(Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LogQuery {
    /// Only this kind: expires_in_30_days, expires_in_7_days or expired.
    #[param(pattern = "^(expires_in_30_days|expires_in_7_days|expired)$")]
    kind: Option<String>,
    /// Only notices of this Client ID.
    registration: Option<String>,
    /// Only notices with a delivery in this status.
    #[param(pattern = "^(pending|sent|retrying|dead|skipped|cancelled)$")]
    status: Option<String>,
    /// 1-based page number (default 1).
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<u32>,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    per_page: Option<u32>,
}

struct LogFilter {
    kind: Option<NoticeKind>,
    registration: Option<String>,
    status: Option<DeliveryStatus>,
    paging: Paging,
}

impl LogQuery {
    /// The query string's values, unchecked.
    fn from_query_string(raw: Option<&str>) -> Self {
        let mut query = Self::default();
        let mut numbers = Vec::new();
        for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            match key.as_ref() {
                "kind" => query.kind = Some(value.into_owned()),
                "registration" => query.registration = Some(value.into_owned()),
                "status" => query.status = Some(value.into_owned()),
                "page" | "per_page" => numbers.push((key.into_owned(), value.into_owned())),
                _ => {}
            }
        }
        for (key, value) in numbers {
            // 0 is out of range, so an unparsable number is reported like one.
            let number = value.parse::<u32>().unwrap_or(0);
            if key == "page" {
                query.page = Some(number);
            } else {
                query.per_page = Some(number);
            }
        }
        query
    }

    /// Checks every value, naming each invalid one.
    fn into_filter(self) -> Result<LogFilter, Error> {
        let mut fields = Vec::new();
        let mut invalid = |field: &'static str, detail: &str| {
            fields.push(FieldError {
                field,
                detail: detail.to_owned(),
            });
        };
        let kind = self.kind.as_deref().and_then(|kind| {
            let parsed = NoticeKind::parse(kind);
            if parsed.is_none() {
                invalid(
                    "kind",
                    "kind is expires_in_30_days, expires_in_7_days or expired",
                );
            }
            parsed
        });
        let status = self.status.as_deref().and_then(|status| {
            let parsed = DeliveryStatus::parse(status);
            if parsed.is_none() {
                invalid(
                    "status",
                    "status is pending, sent, retrying, dead, skipped or cancelled",
                );
            }
            parsed
        });
        let paging = Paging::check(self.page, self.per_page, &mut fields);
        if !fields.is_empty() {
            return Err(Error::Invalid(fields));
        }
        Ok(LogFilter {
            kind,
            registration: self.registration,
            status,
            paging,
        })
    }
}

/// One page of the notification log, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct NoticePageJson {
    items: Vec<NoticeJson>,
    page: u32,
    per_page: u32,
    total: u64,
}

/// The Administrative notification log.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/notifications",
    params(("site" = String, Path, description = "Site slug"), LogQuery),
    responses(
        (status = 200, description = "A page of the log, newest first", body = NoticePageJson),
        (status = 401, description = "No valid API token", body = ProblemJson, content_type = "application/problem+json"),
        (status = 404, description = "No such site (or not yours)", body = ProblemJson, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter or paging", body = ProblemJson, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn log(
    State(state): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<NoticePageJson>, Error> {
    let (_, site) = administrator_of(&state, &headers, &site).await?;
    let filter = LogQuery::from_query_string(raw.as_deref()).into_filter()?;
    let query = registration_core::LogQuery {
        kind: filter.kind,
        client_id: filter.registration,
        status: filter.status,
        offset: filter.paging.offset(),
        limit: filter.paging.per_page,
    };
    let (zone, (entries, total)) = blocking(&state, move |service| {
        Ok::<_, registration_core::Error>((
            service.site(&site)?.zone,
            service.notices_page(&site, &query)?,
        ))
    })
    .await??;
    Ok(Json(NoticePageJson {
        items: entries
            .iter()
            .map(|entry| NoticeJson::new(entry, zone))
            .collect(),
        page: filter.paging.page,
        per_page: filter.paging.per_page,
        total,
    }))
}

/// The site's three notification templates.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/notification-templates",
    params(("site" = String, Path, description = "Site slug")),
    responses(
        (status = 200, description = "The three templates", body = Vec<TemplateJson>),
        (status = 401, description = "No valid API token", body = ProblemJson, content_type = "application/problem+json"),
        (status = 404, description = "No such site (or not yours)", body = ProblemJson, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn templates(
    State(state): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Vec<TemplateJson>>, Error> {
    let (_, site) = administrator_of(&state, &headers, &site).await?;
    let templates = blocking(&state, move |service| service.templates(&site)).await??;
    Ok(Json(templates.iter().map(TemplateJson::new).collect()))
}

/// Any of the changeable parts of a template; absent fields stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TemplatePatch {
    /// minijinja; must render with example values.
    subject: Option<String>,
    /// minijinja; must render with example values.
    body: Option<String>,
    /// none or warning (not for expired).
    #[schema(pattern = "^(none|warning)$")]
    banner: Option<String>,
    enabled: Option<bool>,
}

/// Change a template; it is saved only if it renders.
#[utoipa::path(
    patch,
    path = "/api/v1/sites/{site}/notification-templates/{kind}",
    params(
        ("site" = String, Path, description = "Site slug"),
        ("kind" = String, Path, description = "expires_in_30_days, expires_in_7_days or expired"),
    ),
    request_body = TemplatePatch,
    responses(
        (status = 200, description = "The saved template", body = TemplateJson),
        (status = 400, description = "Malformed JSON", body = ProblemJson, content_type = "application/problem+json"),
        (status = 401, description = "No valid API token", body = ProblemJson, content_type = "application/problem+json"),
        (status = 404, description = "No such site or template kind", body = ProblemJson, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = ProblemJson, content_type = "application/problem+json"),
        (status = 422, description = "The template does not render (part, line, reason)", body = ProblemJson, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn edit_template(
    State(state): State<AppState>,
    Path((site, kind)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<TemplateJson>, Error> {
    let (admin, site) = administrator_of(&state, &headers, &site).await?;
    let kind = NoticeKind::parse(&kind).ok_or(Error::NotFound)?;
    let patch: TemplatePatch = json_body(&headers, &body)?;
    let banner = match patch
        .banner
        .as_deref()
        .map(BannerSetting::parse)
        .transpose()
    {
        Ok(banner) => banner,
        Err(error) => {
            return Err(Error::Invalid(vec![FieldError {
                field: "banner",
                detail: error.to_string(),
            }]));
        }
    };
    let edit = TemplateEdit {
        subject: patch.subject,
        body: patch.body,
        banner,
        enabled: patch.enabled,
    };
    let actor = Actor::admin(&admin);
    let template = blocking(&state, move |service| {
        service.edit_template(&site, kind, edit, &actor)
    })
    .await??;
    Ok(Json(TemplateJson::new(&template)))
}

/// Who receives which template on which channel in the site: every administrator × template
/// × channel, with the choice in effect.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/subscriptions",
    params(("site" = String, Path, description = "Site slug")),
    responses(
        (status = 200, description = "The choices in effect, by username", body = Vec<SubscriptionJson>),
        (status = 401, description = "No valid API token", body = ProblemJson, content_type = "application/problem+json"),
        (status = 404, description = "No such site (or not yours)", body = ProblemJson, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn subscriptions(
    State(state): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Vec<SubscriptionJson>>, Error> {
    let (_, site) = administrator_of(&state, &headers, &site).await?;
    let rows = blocking(&state, move |service| {
        service.effective_subscriptions(&site)
    })
    .await??;
    Ok(Json(rows.iter().map(SubscriptionJson::new).collect()))
}

/// A subscription switched on or off.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubscriptionChange {
    enabled: bool,
}

/// Switch one of your own channels for one template on or off (e-mail needs an address).
#[utoipa::path(
    put,
    path = "/api/v1/sites/{site}/subscriptions/{username}/{kind}/{channel}",
    params(
        ("site" = String, Path, description = "Site slug"),
        ("username" = String, Path, description = "Your username"),
        ("kind" = String, Path, description = "expires_in_30_days, expires_in_7_days or expired"),
        ("channel" = String, Path, description = "in_app or email"),
    ),
    request_body = SubscriptionChange,
    responses(
        (status = 200, description = "The choice now in effect", body = SubscriptionJson),
        (status = 400, description = "Malformed JSON", body = ProblemJson, content_type = "application/problem+json"),
        (status = 401, description = "No valid API token", body = ProblemJson, content_type = "application/problem+json"),
        (status = 403, description = "Another administrator's subscription", body = ProblemJson, content_type = "application/problem+json"),
        (status = 404, description = "No such site, template or channel", body = ProblemJson, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = ProblemJson, content_type = "application/problem+json"),
        (status = 422, description = "E-mail without an address on file", body = ProblemJson, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn subscribe(
    State(state): State<AppState>,
    Path((site, username, kind, channel)): Path<(String, String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<SubscriptionJson>, Error> {
    let (admin, site) = administrator_of(&state, &headers, &site).await?;
    let kind = NoticeKind::parse(&kind).ok_or(Error::NotFound)?;
    let channel = match Channel::parse(&channel) {
        Some(channel @ (Channel::InApp | Channel::Email)) => channel,
        _ => return Err(Error::NotFound),
    };
    let username = AdminName::parse(&username).map_err(|_| Error::NotFound)?;
    // Each administrator decides what they receive: nobody silences a colleague's alerts.
    if username != admin.username {
        return Err(Error::Forbidden(
            "Administrators change only their own subscriptions.",
        ));
    }
    let change: SubscriptionChange = json_body(&headers, &body)?;
    let actor = Actor::admin(&admin);
    let email = admin.email.clone();
    let subscription = blocking(&state, move |service| {
        service.subscribe(&site, &username, kind, channel, change.enabled, &actor)
    })
    .await??;
    Ok(Json(SubscriptionJson::new(
        &registration_core::SubscriptionRow {
            subscription,
            email,
        },
    )))
}

/// The banners the console shows now on every page of the site (SPEC 6): red alerts for
/// expired, enabled registrations, then amber warnings; each group sorted by name.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/banners",
    params(("site" = String, Path, description = "Site slug")),
    responses(
        (status = 200, description = "The banners, in display order", body = Vec<BannerJson>),
        (status = 401, description = "No valid API token", body = ProblemJson, content_type = "application/problem+json"),
        (status = 404, description = "No such site (or not yours)", body = ProblemJson, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn banners(
    State(state): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Vec<BannerJson>>, Error> {
    let (_, site) = administrator_of(&state, &headers, &site).await?;
    let (zone, banners) = blocking(&state, move |service| {
        Ok::<_, registration_core::Error>((service.site(&site)?.zone, service.banners(&site)?))
    })
    .await??;
    Ok(Json(
        banners.iter().map(|b| BannerJson::new(b, zone)).collect(),
    ))
}
