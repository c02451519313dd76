//! The calling administrator's own things in the admin API: `/api/v1/me/notifications`, the
//! in-app notices delivered to them (their inbox) across their sites.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use registration_core::{InboxQuery, NoticeKey};
use serde::Serialize;

use crate::api::{Paging, ProblemJson, administrator, whole_number};
use crate::error::{Error, FieldError};
use crate::wire::{NoticeRegistrationJson, rfc3339};
use crate::{AppState, blocking};

/// One notice of the caller's inbox.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct InboxItemJson {
    /// Identifies the notice: `{registration id}.{expiration date}.{kind}`.
    id: String,
    site: String,
    kind: &'static str,
    registration: NoticeRegistrationJson,
    expiration_date: String,
    subject: String,
    body: String,
    due_at: String,
    /// When it was recorded, i.e. put in the inbox.
    recorded_at: String,
    /// When the administrator marked it read in the console, or null.
    read_at: Option<String>,
}

/// One page of the caller's inbox.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct InboxJson {
    items: Vec<InboxItemJson>,
    page: u32,
    per_page: u32,
    total: u64,
    /// Unread notices in the inbox (of the site asked for, or all the caller's sites).
    unread: u64,
}

/// Paging and filters of the inbox (documentation; the handler parses the query itself).
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // read by utoipa's derive only
pub(crate) struct InboxParams {
    /// 1-based page number (default 1).
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<u32>,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    per_page: Option<u32>,
    /// `true`: only notices not yet marked read.
    unread: Option<bool>,
    /// Only this site's notices (one of the caller's sites).
    site: Option<String>,
}

/// The in-app notices delivered to the calling administrator, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/me/notifications",
    params(InboxParams),
    responses(
        (status = 200, description = "A page of the caller's inbox, newest first", body = InboxJson),
        (status = 401, description = "No valid API token", body = ProblemJson, content_type = "application/problem+json"),
        (status = 404, description = "No such site (or not yours)", body = ProblemJson, content_type = "application/problem+json"),
        (status = 422, description = "Invalid paging or filter", body = ProblemJson, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn notifications(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<InboxJson>, Error> {
    let admin = administrator(&state, &headers).await?;
    let mut fields = Vec::new();
    let (mut page, mut per_page, mut unread_only, mut site) = (None, None, false, None);
    for (key, value) in form_urlencoded::parse(raw.as_deref().unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "page" => page = whole_number("page", &value, &mut fields),
            "per_page" => per_page = whole_number("per_page", &value, &mut fields),
            "unread" => match value.as_ref() {
                "true" => unread_only = true,
                "false" => unread_only = false,
                _ => fields.push(FieldError {
                    field: "unread",
                    detail: "unread is true or false".into(),
                }),
            },
            "site" => site = Some(value.into_owned()),
            _ => {}
        }
    }
    let paging = Paging::check(page, per_page, &mut fields);
    if !fields.is_empty() {
        return Err(Error::Invalid(fields));
    }
    let site = site
        .map(|site| admin.administered_site(&site).ok_or(Error::NotFound))
        .transpose()?;
    let query = InboxQuery {
        unread_only,
        offset: paging.offset(),
        limit: paging.per_page,
    };
    let (sites, inbox) = blocking(&state, move |service| {
        Ok::<_, registration_core::Error>((
            service.sites()?,
            service.inbox(&admin, site.as_ref(), &query)?,
        ))
    })
    .await??;
    let local = |slug: &registration_core::SiteSlug, instant| {
        let zone = sites
            .iter()
            .find(|site| site.slug == *slug)
            .map_or_else(registration_core::SiteZone::utc, |site| site.zone);
        rfc3339(zone.local(instant))
    };
    Ok(Json(InboxJson {
        items: inbox
            .items
            .iter()
            .map(|item| InboxItemJson {
                id: item.key.to_string(),
                site: item.site.to_string(),
                kind: item.key.kind.as_str(),
                registration: NoticeRegistrationJson::new(&item.registration_name, &item.client_id),
                expiration_date: item.key.expiration_date.to_string(),
                subject: item.subject.clone(),
                body: item.body.clone(),
                due_at: local(&item.site, item.due_at),
                recorded_at: local(&item.site, item.recorded_at),
                read_at: item.read_at.map(|at| local(&item.site, at)),
            })
            .collect(),
        page: paging.page,
        per_page: paging.per_page,
        total: inbox.total,
        unread: inbox.unread,
    }))
}

/// How many notices a mark-all-read changed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct MarkedJson {
    marked: u64,
}

/// Mark one notice of the caller's inbox read (kept if it already was).
#[utoipa::path(
    post,
    path = "/api/v1/me/notifications/{id}/read",
    params(("id" = String, Path, description = "The notice's id, as the inbox lists it")),
    responses(
        (status = 204, description = "Marked read"),
        (status = 401, description = "No valid API token", body = ProblemJson, content_type = "application/problem+json"),
        (status = 404, description = "No such notice in the caller's inbox", body = ProblemJson, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn mark_read(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, Error> {
    let admin = administrator(&state, &headers).await?;
    let notice = NoticeKey::parse(&id).ok_or(Error::NotFound)?;
    let marked = blocking(&state, move |service| {
        service.mark_read(&admin, None, &notice)
    })
    .await??;
    if marked {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::NotFound)
    }
}

/// Mark every notice of the caller's inbox read.
#[utoipa::path(
    post,
    path = "/api/v1/me/notifications/read",
    responses(
        (status = 200, description = "How many notices were unread and are now read", body = MarkedJson),
        (status = 401, description = "No valid API token", body = ProblemJson, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn mark_all_read(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<MarkedJson>, Error> {
    let admin = administrator(&state, &headers).await?;
    let marked = blocking(&state, move |service| service.mark_all_read(&admin, None)).await??;
    Ok(Json(MarkedJson { marked }))
}
