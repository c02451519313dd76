//! `GET /api/v1/expiring`: the expiry overview (SPEC 13) across the caller's sites.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use registration_core::ExpiryWindow;

use crate::admin::PageJson;
use crate::api::{Paging, ProblemJson, administrator, whole_number};
use crate::error::{Error, FieldError};
use crate::{AppState, blocking};

/// The overview's query (documentation; parsed by hand so that bad values are field errors).
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // read by utoipa's derive only
pub(crate) struct ExpiringParams {
    /// Days ahead, site time: 0 (today and expired) to 3660 (default 30).
    #[param(minimum = 0, maximum = 3660)]
    within: Option<u32>,
    /// 1-based page number (default 1).
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<u32>,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    per_page: Option<u32>,
}

/// The registrations of the caller's sites that expire within `within` days (site time) or
/// have expired, enabled ones, soonest first. Another site's registrations never appear.
#[utoipa::path(
    get,
    path = "/api/v1/expiring",
    params(ExpiringParams),
    responses(
        (status = 200, description = "A page of registrations, soonest expiry first", body = PageJson),
        (status = 401, description = "No valid API token", body = ProblemJson, content_type = "application/problem+json"),
        (status = 422, description = "Invalid window or paging", body = ProblemJson, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn expiring(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<PageJson>, Error> {
    let admin = administrator(&state, &headers).await?;
    let mut fields = Vec::new();
    let (mut within, mut page, mut per_page) = (None, None, None);
    for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "within" => match ExpiryWindow::parse(&value) {
                Ok(window) => within = Some(window),
                Err(error) => fields.push(FieldError {
                    field: "within",
                    detail: error.to_string(),
                }),
            },
            "page" => page = whole_number("page", &value, &mut fields),
            "per_page" => per_page = whole_number("per_page", &value, &mut fields),
            _ => {}
        }
    }
    let paging = Paging::check(page, per_page, &mut fields);
    if !fields.is_empty() {
        return Err(Error::Invalid(fields));
    }
    let window = within.unwrap_or_default();
    let sites = admin.sites.clone();
    let (snapshots, total) = blocking(&state, move |service| {
        service.expiring(&sites, window, paging.offset(), paging.per_page)
    })
    .await??;
    Ok(Json(PageJson::new(&snapshots, paging, total)))
}
