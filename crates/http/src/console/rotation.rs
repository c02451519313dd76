//! "Rotate secret" (SPEC 12): the confirmation page, which says what happens to the old
//! secret, and the rotation itself, whose new secret the one-time secret page shows.

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::value::Serde;
use minijinja::{Value, context};
use registration_core::{Actor, ClientId, SecretOverlap, SiteSlug};
use serde::{Deserialize, Serialize};

use super::registrations::{Row, capitalise, is_input_error, reveal_once};
use super::view::{Page, Section, site_page};
use super::{PageError, Signed, site_access, site_form_access};
use crate::{AppState, blocking};

/// The overlaps the form offers (the API and the command line take any up to 90 days).
const OVERLAPS: [(&str, &str); 5] = [
    ("0", "No overlap: the old secret stops at once"),
    ("1d", "1 day"),
    ("7d", "7 days"),
    ("30d", "30 days"),
    ("90d", "90 days"),
];

#[derive(Debug, Serialize)]
struct Choice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

/// `GET …/{client_id}/rotate`
pub(crate) async fn rotate_form(
    State(state): State<AppState>,
    Path((site, client_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (signed, site) = site_access(&state, &headers, &site).await?;
    let default = SecretOverlap::DEFAULT.to_string();
    rotate_page(
        &state,
        &signed,
        &site,
        &client_id,
        StatusCode::OK,
        &default,
        &[],
    )
    .await
}

async fn rotate_page(
    state: &AppState,
    signed: &Signed,
    site: &SiteSlug,
    client_id: &str,
    status: StatusCode,
    chosen: &str,
    errors: &[String],
) -> Result<Response, PageError> {
    let id = ClientId::parse(client_id).map_err(|_| PageError::NotFound)?;
    let slug = site.clone();
    let snapshot = blocking(state, move |service| service.get(&slug, &id)).await??;
    let row = Row::new(&snapshot);
    let title = format!("Rotate the secret of {}", row.name);
    let overlaps: Vec<Choice> = OVERLAPS
        .into_iter()
        .map(|(value, label)| Choice {
            value,
            label,
            selected: value == chosen,
        })
        .collect();
    let context = context! {
        r => Value::from(Serde(&row)),
        overlaps => Value::from(Serde(&overlaps)),
        errors => errors.to_vec(),
    };
    site_page(
        state,
        signed,
        site,
        Page {
            section: Section::Registrations,
            title: &title,
            status,
            template: "rotate.html",
        },
        context,
    )
    .await
}

#[derive(Deserialize)]
pub(crate) struct RotateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    overlap: String,
}

/// `POST …/{client_id}/rotate`: rotates, keeps the new secret for one showing, and
/// redirects to it.
pub(crate) async fn rotate(
    State(state): State<AppState>,
    Path((site, client_id)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<RotateForm>,
) -> Result<Response, PageError> {
    let (signed, site) = site_form_access(&state, &headers, &site, &form.csrf).await?;
    let id = ClientId::parse(&client_id).map_err(|_| PageError::NotFound)?;
    let actor = Actor::admin(&signed.admin);
    let slug = site.clone();
    let overlap = form.overlap.clone();
    let rotated = blocking(&state, move |service| {
        let overlap = SecretOverlap::parse(&overlap)?;
        service.rotate_secret(&slug, &id, overlap, &actor)
    })
    .await?;
    match rotated {
        Ok((snapshot, secret)) => {
            let client_id = snapshot.registration.client_id().clone();
            reveal_once(&state, &signed, &site, client_id, secret, "?rotated=1").await
        }
        Err(error) if is_input_error(&error) => {
            let errors = [capitalise(&error.to_string())];
            rotate_page(
                &state,
                &signed,
                &site,
                &client_id,
                StatusCode::UNPROCESSABLE_ENTITY,
                &form.overlap,
                &errors,
            )
            .await
        }
        Err(error) => Err(error.into()),
    }
}
