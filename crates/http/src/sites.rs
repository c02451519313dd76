//! A site's own settings in the admin API: `/api/v1/sites/{site}`, for its administrators.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use registration_core::{Actor, SiteName, SiteZone};
use serde::Deserialize;

use crate::api::{ProblemJson, administrator_of, json_body};
use crate::error::{Error, FieldError};
use crate::wire::SiteJson;
use crate::{AppState, blocking};

/// A change to a site; absent fields stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SitePatch {
    /// 1–100 characters, no control characters.
    #[schema(min_length = 1, max_length = 100)]
    name: Option<String>,
    /// An IANA time zone, e.g. `Europe/Berlin`. Moves every registration's expiry instant and
    /// deadlines at once; notices already recorded are not sent again.
    time_zone: Option<String>,
}

/// The site: slug, display name and time zone.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}",
    params(("site" = String, Path, description = "Site slug")),
    responses(
        (status = 200, description = "The site", body = SiteJson),
        (status = 401, description = "No valid API token", body = ProblemJson, content_type = "application/problem+json"),
        (status = 404, description = "No such site (or not yours)", body = ProblemJson, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn show(
    State(state): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
) -> Result<Json<SiteJson>, Error> {
    let (_, site) = administrator_of(&state, &headers, &site).await?;
    let site = blocking(&state, move |service| service.site(&site)).await??;
    Ok(Json(SiteJson::new(&site)))
}

/// Change the site's display name or time zone (audited as `site.edit`).
#[utoipa::path(
    patch,
    path = "/api/v1/sites/{site}",
    params(("site" = String, Path, description = "Site slug")),
    request_body = SitePatch,
    responses(
        (status = 200, description = "The site as changed", body = SiteJson),
        (status = 400, description = "Malformed JSON", body = ProblemJson, content_type = "application/problem+json"),
        (status = 401, description = "No valid API token", body = ProblemJson, content_type = "application/problem+json"),
        (status = 404, description = "No such site (or not yours)", body = ProblemJson, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = ProblemJson, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = ProblemJson, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<SiteJson>, Error> {
    let (admin, site) = administrator_of(&state, &headers, &site).await?;
    let patch: SitePatch = json_body(&headers, &body)?;
    let mut fields = Vec::new();
    let mut invalid = |field: &'static str, error: registration_core::Error| {
        fields.push(FieldError {
            field,
            detail: error.to_string(),
        });
    };
    let name = match patch.name.as_deref().map(SiteName::parse).transpose() {
        Ok(name) => name,
        Err(error) => {
            invalid("name", error);
            None
        }
    };
    let zone = match patch.time_zone.as_deref().map(SiteZone::parse).transpose() {
        Ok(zone) => zone,
        Err(error) => {
            invalid("time_zone", error);
            None
        }
    };
    if !fields.is_empty() {
        return Err(Error::Invalid(fields));
    }
    let actor = Actor::admin(&admin);
    let site = blocking(&state, move |service| {
        service.edit_site(&site, name, zone, &actor)
    })
    .await??;
    Ok(Json(SiteJson::new(&site)))
}
