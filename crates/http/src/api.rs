//! What every handler of the admin JSON API shares: bearer-token authentication (and its
//! OpenAPI security scheme), JSON bodies, paging, and the schema of the problem documents
//! that `error.rs` builds.

use axum::http::{HeaderMap, header};
use registration_core::{AdminAccount, ClientId, SiteSlug};
use serde::Serialize;
use utoipa::Modify;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

use crate::error::{Error, FieldError};
use crate::{AppState, blocking};

/// The administrator behind the bearer token.
pub(crate) async fn administrator(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<AdminAccount, Error> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(|token| token.trim().to_owned())
        .ok_or(Error::Unauthenticated)?;
    blocking(state, move |service| service.admin_for_token(&token))
        .await??
        .ok_or(Error::Unauthenticated)
}

/// The administrator behind the bearer token, if they manage `site`.
pub(crate) async fn administrator_of(
    state: &AppState,
    headers: &HeaderMap,
    site: &str,
) -> Result<(AdminAccount, SiteSlug), Error> {
    let admin = administrator(state, headers).await?;
    let site = admin.administered_site(site).ok_or(Error::NotFound)?;
    Ok((admin, site))
}

pub(crate) fn client_id(text: &str) -> Result<ClientId, Error> {
    ClientId::parse(text).map_err(|_| Error::NotFound)
}

/// Parses a JSON body, refusing other media types and unknown fields.
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<T, Error> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(Error::UnsupportedMediaType);
    }
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|error| Error::MalformedBody(error.to_string()))?;
    // serde reads a struct from an array of its fields too; every body here is an object.
    if !value.is_object() {
        return Err(Error::MalformedBody(
            "the body must be a JSON object".into(),
        ));
    }
    serde_json::from_value(value).map_err(|error| Error::MalformedBody(error.to_string()))
}

/// An RFC 9457 problem document (documentation only: responses are built in `error.rs`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ProblemJson {
    #[serde(rename = "type")]
    kind: String,
    title: String,
    status: u16,
    detail: String,
    /// Present on validation problems: one entry per invalid field.
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<Vec<FieldError>>,
}

/// The admin API's security scheme: a personal API token as `Authorization: Bearer …`,
/// checked by [`administrator_of`].
pub(crate) struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Paging of a list other than the registrations (documentation only: `ListParams` parses).
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // read by utoipa's derive only
pub(crate) struct PagingParams {
    /// 1-based page number (default 1).
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<u32>,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    per_page: Option<u32>,
}

/// Paging, order and search of the registration list.
#[derive(Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListParams {
    /// 1-based page number (default 1).
    #[param(minimum = 1, maximum = 1_000_000)]
    pub(crate) page: Option<u32>,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub(crate) per_page: Option<u32>,
    /// name, client_id, registration_date, enabled, expiration_date or last_used; prefix `-`
    /// for descending (default name).
    #[param(pattern = "^-?(name|client_id|registration_date|enabled|expiration_date|last_used)$")]
    pub(crate) sort: Option<String>,
    /// Case-insensitive search in name and Client ID.
    pub(crate) q: Option<String>,
    /// expiring (enabled, within 30 days), expired (enabled, past its last day) or disabled;
    /// absent or empty: every registration.
    #[param(pattern = "^(expiring|expired|disabled)?$")]
    pub(crate) state: Option<String>,
}

/// A query parameter that must be a whole number; anything else is a field error.
pub(crate) fn whole_number(
    field: &'static str,
    value: &str,
    fields: &mut Vec<FieldError>,
) -> Option<u32> {
    value
        .parse::<u32>()
        .map_err(|_| {
            fields.push(FieldError {
                field,
                detail: format!("{field} must be a whole number"),
            });
        })
        .ok()
}

impl ListParams {
    /// Parses the query string; malformed numbers are field errors, not a bare 400.
    pub(crate) fn parse(raw: Option<&str>) -> Result<Self, Error> {
        let mut query = Self::default();
        let mut fields = Vec::new();
        for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            match key.as_ref() {
                "page" => query.page = whole_number("page", &value, &mut fields),
                "per_page" => query.per_page = whole_number("per_page", &value, &mut fields),
                "sort" => query.sort = Some(value.into_owned()),
                "q" => query.q = Some(value.into_owned()),
                "state" => query.state = Some(value.into_owned()),
                _ => {}
            }
        }
        if fields.is_empty() {
            Ok(query)
        } else {
            Err(Error::Invalid(fields))
        }
    }
}

/// A checked page request, shared by every paged list of the admin API.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paging {
    pub(crate) page: u32,
    pub(crate) per_page: u32,
}

impl Paging {
    const MAX_PAGE: u32 = 1_000_000;
    const MAX_PER_PAGE: u32 = 200;

    /// Page 1 and 50 per page unless given; out-of-range values are added to `fields`.
    pub(crate) fn check(
        page: Option<u32>,
        per_page: Option<u32>,
        fields: &mut Vec<FieldError>,
    ) -> Self {
        let paging = Self {
            page: page.unwrap_or(1),
            per_page: per_page.unwrap_or(50),
        };
        if !(1..=Self::MAX_PAGE).contains(&paging.page) {
            fields.push(FieldError {
                field: "page",
                detail: format!("page must be 1 to {}", Self::MAX_PAGE),
            });
        }
        if !(1..=Self::MAX_PER_PAGE).contains(&paging.per_page) {
            fields.push(FieldError {
                field: "per_page",
                detail: format!("per_page must be 1 to {}", Self::MAX_PER_PAGE),
            });
        }
        paging
    }

    /// How many items come before this page.
    pub(crate) fn offset(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.per_page)
    }
}
