//! Secret rotation with overlap (SPEC 12):
//! `POST /api/v1/sites/{site}/registrations/{client_id}/secrets` issues a new secret for the
//! same Client ID, `DELETE …/secrets/previous` ends the previous secret's overlap now.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use registration_core::{Actor, SecretOverlap};
use serde::Deserialize;

use crate::api::{ProblemJson, administrator_of, client_id, json_body};
use crate::error::{Error, FieldError};
use crate::wire::RegistrationJson;
use crate::{AppState, blocking};

/// A rotation's choice; an empty body takes the default overlap.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RotateBody {
    /// How long the previous secret keeps authenticating: `0` (retire it at once) or a whole
    /// number with a unit `d`, `h`, `m` or `s`; at most 90 days, never past the
    /// registration's expiry. Default `7d`.
    #[schema(pattern = r"^(0|[0-9]{1,9}[dhms])$", example = "7d")]
    overlap: Option<String>,
}

/// Issue a new Client secret for the same Client ID; the previous one keeps authenticating
/// until the overlap ends. The response alone carries the new `client_secret`.
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site}/registrations/{client_id}/secrets",
    params(("site" = String, Path, description = "Site slug"), ("client_id" = String, Path, description = "Client ID")),
    request_body(content = Option<RotateBody>, description = "Optional; `{}` or no body takes the default overlap of 7 days"),
    responses(
        (status = 201, description = "Rotated; the new secret is shown this once", body = RegistrationJson),
        (status = 400, description = "Malformed JSON", body = ProblemJson, content_type = "application/problem+json"),
        (status = 401, description = "No valid API token", body = ProblemJson, content_type = "application/problem+json"),
        (status = 404, description = "No such registration in this site", body = ProblemJson, content_type = "application/problem+json"),
        (status = 409, description = "Two secrets are live already: retire the previous one first", body = ProblemJson, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = ProblemJson, content_type = "application/problem+json"),
        (status = 422, description = "Invalid overlap", body = ProblemJson, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn rotate(
    State(state): State<AppState>,
    Path((site, client)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Error> {
    let (admin, site) = administrator_of(&state, &headers, &site).await?;
    let client_id = client_id(&client)?;
    let body: RotateBody = if body.is_empty() {
        RotateBody::default()
    } else {
        json_body(&headers, &body)?
    };
    let overlap = match body.overlap.as_deref() {
        None => SecretOverlap::DEFAULT,
        // The API takes the text exactly as its pattern says: no surrounding blanks.
        Some(text) if text.trim() != text => {
            return Err(invalid_overlap(registration_core::Error::InvalidOverlap));
        }
        Some(text) => SecretOverlap::parse(text).map_err(invalid_overlap)?,
    };
    let actor = Actor::admin(&admin);
    let (snapshot, secret) = blocking(&state, move |service| {
        service.rotate_secret(&site, &client_id, overlap, &actor)
    })
    .await??;
    let mut response = (
        StatusCode::CREATED,
        Json(RegistrationJson::rotated(&snapshot, &secret)),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

fn invalid_overlap(error: registration_core::Error) -> Error {
    Error::Invalid(vec![FieldError {
        field: "overlap",
        detail: error.to_string(),
    }])
}

/// End the previous secret's overlap now: from now on only the current secret authenticates.
#[utoipa::path(
    delete,
    path = "/api/v1/sites/{site}/registrations/{client_id}/secrets/previous",
    params(("site" = String, Path, description = "Site slug"), ("client_id" = String, Path, description = "Client ID")),
    responses(
        (status = 200, description = "Retired; the registration as it is now", body = RegistrationJson),
        (status = 401, description = "No valid API token", body = ProblemJson, content_type = "application/problem+json"),
        (status = 404, description = "No such registration in this site", body = ProblemJson, content_type = "application/problem+json"),
        (status = 409, description = "No live previous secret: the last secret cannot be retired", body = ProblemJson, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn retire(
    State(state): State<AppState>,
    Path((site, client)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<RegistrationJson>, Error> {
    let (admin, site) = administrator_of(&state, &headers, &site).await?;
    let client_id = client_id(&client)?;
    let actor = Actor::admin(&admin);
    let snapshot = blocking(&state, move |service| {
        service.retire_previous_secret(&site, &client_id, &actor)
    })
    .await??;
    Ok(Json(RegistrationJson::new(&snapshot, None)))
}
