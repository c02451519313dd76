//! The admin JSON API (SPEC section 8): `/api/v1/sites/{site}/registrations`.
//!
//! Every call carries a personal API token (`Authorization: Bearer appregpat_…`). A site the
//! token's administrator does not manage answers 404, exactly like a site that does not
//! exist: one site's administrator never learns about another site's data.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use registration_core::{
    AdminAccount, ClientId, ExpirationDate, NewRegistration, RegistrationName, RegistrationPatch,
    SiteSlug, Snapshot,
};
use serde::{Deserialize, Serialize};

use crate::error::{Error, FieldError};
use crate::wire::RegistrationJson;
use crate::{AppState, blocking};

/// The administrator behind the bearer token, if they manage `site`.
pub(crate) async fn administrator_of(
    state: &AppState,
    headers: &HeaderMap,
    site: &str,
) -> Result<(AdminAccount, SiteSlug), Error> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(|token| token.trim().to_owned())
        .ok_or(Error::Unauthenticated)?;
    let admin = blocking(state, move |service| service.admin_for_token(&token))
        .await??
        .ok_or(Error::Unauthenticated)?;
    let site = SiteSlug::parse(site).map_err(|_| Error::NotFound)?;
    if !admin.administers(&site) {
        return Err(Error::NotFound);
    }
    Ok((admin, site))
}

fn actor(admin: &AdminAccount) -> String {
    format!("admin:{}", admin.username)
}

fn client_id(text: &str) -> Result<ClientId, Error> {
    ClientId::parse(text).map_err(|_| Error::NotFound)
}

/// Parses a JSON body, refusing other media types and unknown fields.
fn json_body<T: serde::de::DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, Error> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(Error::UnsupportedMediaType);
    }
    serde_json::from_slice(body).map_err(|error| Error::MalformedBody(error.to_string()))
}

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBody {
    name: String,
    expiration_date: String,
    #[serde(default = "enabled_by_default")]
    enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PatchBody {
    name: Option<String>,
    expiration_date: Option<String>,
    enabled: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    page: Option<u32>,
    per_page: Option<u32>,
    sort: Option<String>,
    q: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct PageJson {
    items: Vec<RegistrationJson>,
    page: u32,
    per_page: u32,
    total: usize,
}

const MAX_PER_PAGE: u32 = 200;

/// `GET …/registrations?page=&per_page=&sort=&q=`
pub(crate) async fn list(
    State(state): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Result<Json<PageJson>, Error> {
    let (_, site) = administrator_of(&state, &headers, &site).await?;
    let page = query.page.unwrap_or(1);
    let per_page = query.per_page.unwrap_or(50);
    let mut fields = Vec::new();
    if page == 0 {
        fields.push(FieldError {
            field: "page",
            detail: "pages start at 1".into(),
        });
    }
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        fields.push(FieldError {
            field: "per_page",
            detail: format!("per_page must be 1 to {MAX_PER_PAGE}"),
        });
    }
    let sort = query.sort.unwrap_or_else(|| "name".into());
    let (descending, key) = match sort.strip_prefix('-') {
        Some(key) => (true, key.to_owned()),
        None => (false, sort.clone()),
    };
    if ![
        "name",
        "client_id",
        "registration_date",
        "expiration_date",
        "last_used",
    ]
    .contains(&key.as_str())
    {
        fields.push(FieldError {
            field: "sort",
            detail: "sort by name, client_id, registration_date, expiration_date or last_used \
                     (prefix - for descending)"
                .into(),
        });
    }
    if !fields.is_empty() {
        return Err(Error::Invalid(fields));
    }
    let mut snapshots = blocking(&state, move |service| service.list(&site)).await??;
    if let Some(needle) = query.q.map(|q| q.to_lowercase()).filter(|q| !q.is_empty()) {
        snapshots.retain(|s| {
            s.registration.name().unique_key().contains(&needle)
                || s.registration.client_id().as_str().contains(&needle)
        });
    }
    sort_snapshots(&mut snapshots, &key);
    if descending {
        snapshots.reverse();
    }
    let total = snapshots.len();
    let start = usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX);
    let items = snapshots
        .iter()
        .skip(start)
        .take(usize::try_from(per_page).unwrap_or(usize::MAX))
        .map(|snapshot| RegistrationJson::new(snapshot, None))
        .collect();
    Ok(Json(PageJson {
        items,
        page,
        per_page,
        total,
    }))
}

/// The store lists by name; other orders are applied here, ties broken by Client ID.
fn sort_snapshots(snapshots: &mut [Snapshot], key: &str) {
    let record = |s: &Snapshot| s.registration.record().clone();
    match key {
        "client_id" => {
            snapshots.sort_by(|a, b| a.registration.client_id().cmp(b.registration.client_id()))
        }
        "registration_date" => {
            snapshots.sort_by_key(|s| (record(s).registration_date, record(s).client_id))
        }
        "expiration_date" => {
            snapshots.sort_by_key(|s| (record(s).expiration_date, record(s).client_id))
        }
        "last_used" => snapshots.sort_by_key(|s| (record(s).last_used, record(s).client_id)),
        _ => {}
    }
}

/// `POST …/registrations`: 201 with the secret, shown this once.
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
    let actor = actor(&admin);
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

/// `GET …/registrations/{client_id}`
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

/// `PATCH …/registrations/{client_id}` with any of `name`, `expiration_date`, `enabled`.
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
    let actor = actor(&admin);
    let snapshot = blocking(&state, move |service| {
        service.update(&site, &client_id, patch, &actor)
    })
    .await??;
    Ok(Json(RegistrationJson::new(&snapshot, None)))
}

/// `DELETE …/registrations/{client_id}`: 204.
pub(crate) async fn remove(
    State(state): State<AppState>,
    Path((site, client)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, Error> {
    let (admin, site) = administrator_of(&state, &headers, &site).await?;
    let client_id = client_id(&client)?;
    let actor = actor(&admin);
    blocking(&state, move |service| {
        service.delete(&site, &client_id, &actor)
    })
    .await??;
    Ok(StatusCode::NO_CONTENT)
}
