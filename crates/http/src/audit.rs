//! A site's audit log in the admin API: `/api/v1/sites/{site}/audit`.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use registration_core::AuditQuery;
use serde::Serialize;

use crate::api::{ListParams, Paging, PagingParams, ProblemJson, administrator_of};
use crate::error::Error;
use crate::wire::AuditEntryJson;
use crate::{AppState, blocking};

/// One page of the audit log, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AuditPageJson {
    items: Vec<AuditEntryJson>,
    page: u32,
    per_page: u32,
    total: u64,
}

/// The site's audit log: every administrative change, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/audit",
    params(("site" = String, Path, description = "Site slug"), PagingParams),
    responses(
        (status = 200, description = "A page of the audit log, newest first", body = AuditPageJson),
        (status = 401, description = "No valid API token", body = ProblemJson, content_type = "application/problem+json"),
        (status = 404, description = "No such site (or not yours)", body = ProblemJson, content_type = "application/problem+json"),
        (status = 422, description = "Invalid paging", body = ProblemJson, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn log(
    State(state): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<AuditPageJson>, Error> {
    let (_, site) = administrator_of(&state, &headers, &site).await?;
    // The registration list's parser: its sort and search parameters mean nothing here.
    let params = ListParams::parse(raw.as_deref())?;
    let mut fields = Vec::new();
    let paging = Paging::check(params.page, params.per_page, &mut fields);
    if !fields.is_empty() {
        return Err(Error::Invalid(fields));
    }
    let query = AuditQuery {
        offset: paging.offset(),
        limit: paging.per_page,
    };
    let (zone, (entries, total)) = blocking(&state, move |service| {
        Ok::<_, registration_core::Error>((
            service.site(&site)?.zone,
            service.audit_page(&site, &query)?,
        ))
    })
    .await??;
    Ok(Json(AuditPageJson {
        items: entries
            .iter()
            .map(|entry| AuditEntryJson::new(entry, zone))
            .collect(),
        page: paging.page,
        per_page: paging.per_page,
        total,
    }))
}
