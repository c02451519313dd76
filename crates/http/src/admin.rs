//! The admin JSON API (SPEC section 8): `/api/v1/sites/{site}/registrations`.
//!
//! Every call carries a personal API token (`Authorization: Bearer appregpat_…`). A site the
//! token's administrator does not manage answers 404, exactly like a site that does not
//! exist: one site's administrator never learns about another site's data.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use registration_core::{
    Actor, ExpirationDate, ListQuery, NewRegistration, RegistrationName, RegistrationPatch,
    Snapshot, SortKey, StateFilter,
};
use serde::{Deserialize, Serialize};

use crate::api::{ListParams, Paging, ProblemJson, administrator_of, client_id, json_body};
use crate::error::{Error, FieldError};
use crate::wire::RegistrationJson;
use crate::{AppState, blocking};

/// Collects per-field validation errors so one response names every problem.
#[derive(Default)]
struct Fields(Vec<FieldError>);

impl Fields {
    fn check<T>(
        &mut self,
        field: &'static str,
        parsed: Result<T, registration_core::Error>,
    ) -> Option<T> {
        parsed
            .map_err(|error| {
                self.0.push(FieldError {
                    field,
                    detail: error.to_string(),
                })
            })
            .ok()
    }

    fn finish(self) -> Result<(), Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.into_error())
        }
    }

    fn into_error(self) -> Error {
        Error::Invalid(self.0)
    }
}

/// A new registration.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBody {
    /// 1–100 characters, unique in the site (ignoring case).
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    name: String,
    /// `YYYY-MM-DD`, site time, not before today, at most 10 years ahead.
    #[schema(format = Date, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    expiration_date: String,
    /// Default true.
    #[serde(default = "enabled_by_default")]
    enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

/// Any of the changeable fields; absent fields stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PatchBody {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    name: Option<String>,
    #[schema(format = Date, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    expiration_date: Option<String>,
    enabled: Option<bool>,
}

/// One page of registrations.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct PageJson {
    items: Vec<RegistrationJson>,
    page: u32,
    per_page: u32,
    total: u64,
}

impl PageJson {
    pub(crate) fn new(snapshots: &[Snapshot], paging: Paging, total: u64) -> Self {
        Self {
            items: snapshots
                .iter()
                .map(|snapshot| RegistrationJson::new(snapshot, None))
                .collect(),
            page: paging.page,
            per_page: paging.per_page,
            total,
        }
    }
}

/// List a site's registrations.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/registrations",
    params(("site" = String, Path, description = "Site slug"), ListParams),
    responses(
        (status = 200, description = "A page of registrations", body = PageJson),
        (status = 401, description = "No valid API token", body = ProblemJson, content_type = "application/problem+json"),
        (status = 404, description = "No such site (or not yours)", body = ProblemJson, content_type = "application/problem+json"),
        (status = 422, description = "Invalid paging, sort or state", body = ProblemJson, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<PageJson>, Error> {
    let (_, site) = administrator_of(&state, &headers, &site).await?;
    let query = ListParams::parse(raw.as_deref())?;
    let mut fields = Vec::new();
    let paging = Paging::check(query.page, query.per_page, &mut fields);
    let sort = query.sort.unwrap_or_else(|| "name".into());
    let (descending, key) = match sort.strip_prefix('-') {
        Some(key) => (true, key),
        None => (false, sort.as_str()),
    };
    let key = SortKey::parse(key);
    if key.is_none() {
        fields.push(FieldError {
            field: "sort",
            detail: "sort by name, client_id, registration_date, enabled, expiration_date or \
                     last_used (prefix - for descending)"
                .into(),
        });
    }
    let state_filter = match query.state.as_deref() {
        None | Some("") => None,
        Some(text) => {
            let parsed = StateFilter::parse(text);
            if parsed.is_none() {
                fields.push(FieldError {
                    field: "state",
                    detail: "state is expiring, expired or disabled (absent for all)".into(),
                });
            }
            parsed
        }
    };
    let (Some(sort), true) = (key, fields.is_empty()) else {
        return Err(Error::Invalid(fields));
    };
    let list_query = ListQuery {
        search: query.q.filter(|q| !q.trim().is_empty()),
        sort,
        descending,
        offset: paging.offset(),
        limit: paging.per_page,
        ..ListQuery::by_name(paging.per_page)
    };
    let (snapshots, total) = blocking(&state, move |service| {
        service.list_page(&site, &list_query, state_filter)
    })
    .await??;
    Ok(Json(PageJson::new(&snapshots, paging, total)))
}

/// Create a registration; the response alone carries its `client_secret`.
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site}/registrations",
    params(("site" = String, Path, description = "Site slug")),
    request_body = CreateBody,
    responses(
        (status = 201, description = "Created; the secret is shown this once", body = RegistrationJson),
        (status = 400, description = "Malformed JSON", body = ProblemJson, content_type = "application/problem+json"),
        (status = 401, description = "No valid API token", body = ProblemJson, content_type = "application/problem+json"),
        (status = 404, description = "No such site (or not yours)", body = ProblemJson, content_type = "application/problem+json"),
        (status = 409, description = "The name is taken", body = ProblemJson, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = ProblemJson, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = ProblemJson, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Error> {
    let (admin, site) = administrator_of(&state, &headers, &site).await?;
    let body: CreateBody = json_body(&headers, &body)?;
    let mut fields = Fields::default();
    let name = fields.check("name", RegistrationName::parse(&body.name));
    let expiration_date = fields.check(
        "expiration_date",
        ExpirationDate::parse(&body.expiration_date),
    );
    let (Some(name), Some(expiration_date)) = (name, expiration_date) else {
        return Err(fields.into_error());
    };
    let new = NewRegistration {
        name,
        expiration_date,
        enabled: body.enabled,
    };
    let actor = Actor::admin(&admin);
    let (snapshot, secret) =
        blocking(&state, move |service| service.create(&site, new, &actor)).await??;
    let location = format!(
        "/api/v1/sites/{}/registrations/{}",
        snapshot.site.slug,
        snapshot.registration.client_id()
    );
    let mut response = (
        StatusCode::CREATED,
        Json(RegistrationJson::new(&snapshot, Some(&secret))),
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(location) = HeaderValue::from_str(&location) {
        headers.insert(header::LOCATION, location);
    }
    Ok(response)
}

/// One registration.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/registrations/{client_id}",
    params(("site" = String, Path, description = "Site slug"), ("client_id" = String, Path, description = "Client ID")),
    responses(
        (status = 200, description = "The registration", body = RegistrationJson),
        (status = 401, description = "No valid API token", body = ProblemJson, content_type = "application/problem+json"),
        (status = 404, description = "No such registration in this site", body = ProblemJson, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn show(
    State(state): State<AppState>,
    Path((site, client)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<RegistrationJson>, Error> {
    let (_, site) = administrator_of(&state, &headers, &site).await?;
    let client_id = client_id(&client)?;
    let snapshot = blocking(&state, move |service| service.get(&site, &client_id)).await??;
    Ok(Json(RegistrationJson::new(&snapshot, None)))
}

/// Rename, renew (new expiration date) or enable/disable, in one change.
#[utoipa::path(
    patch,
    path = "/api/v1/sites/{site}/registrations/{client_id}",
    params(("site" = String, Path, description = "Site slug"), ("client_id" = String, Path, description = "Client ID")),
    request_body = PatchBody,
    responses(
        (status = 200, description = "The changed registration", body = RegistrationJson),
        (status = 400, description = "Malformed JSON", body = ProblemJson, content_type = "application/problem+json"),
        (status = 401, description = "No valid API token", body = ProblemJson, content_type = "application/problem+json"),
        (status = 404, description = "No such registration in this site", body = ProblemJson, content_type = "application/problem+json"),
        (status = 409, description = "The name is taken, or a concurrent change", body = ProblemJson, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = ProblemJson, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = ProblemJson, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    Path((site, client)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<RegistrationJson>, Error> {
    let (admin, site) = administrator_of(&state, &headers, &site).await?;
    let client_id = client_id(&client)?;
    let body: PatchBody = json_body(&headers, &body)?;
    let mut fields = Fields::default();
    let patch = RegistrationPatch {
        name: body
            .name
            .and_then(|name| fields.check("name", RegistrationName::parse(&name))),
        expiration_date: body
            .expiration_date
            .and_then(|date| fields.check("expiration_date", ExpirationDate::parse(&date))),
        enabled: body.enabled,
    };
    fields.finish()?;
    let actor = Actor::admin(&admin);
    let snapshot = blocking(&state, move |service| {
        service.update(&site, &client_id, patch, &actor)
    })
    .await??;
    Ok(Json(RegistrationJson::new(&snapshot, None)))
}

/// Delete a registration; its pending notices are cancelled.
#[utoipa::path(
    delete,
    path = "/api/v1/sites/{site}/registrations/{client_id}",
    params(("site" = String, Path, description = "Site slug"), ("client_id" = String, Path, description = "Client ID")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid API token", body = ProblemJson, content_type = "application/problem+json"),
        (status = 404, description = "No such registration in this site", body = ProblemJson, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn remove(
    State(state): State<AppState>,
    Path((site, client)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, Error> {
    let (admin, site) = administrator_of(&state, &headers, &site).await?;
    let client_id = client_id(&client)?;
    let actor = Actor::admin(&admin);
    blocking(&state, move |service| {
        service.delete(&site, &client_id, &actor)
    })
    .await??;
    Ok(StatusCode::NO_CONTENT)
}
