//! The OpenAPI 3.1 document of the admin API, generated from the handlers' annotations and
//! served at `/api/v1/openapi.json`.

use axum::Json;
use serde::Serialize;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::FieldError;
use crate::wire::RegistrationJson;
use crate::{admin, audit, notices};

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

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "appreg admin API",
        version = "1",
        description = "App registrations of a site. Authenticate with a personal API token \
                       (`appreg admin token USER`) as `Authorization: Bearer …`."
    ),
    paths(
        admin::list,
        admin::create,
        admin::show,
        admin::update,
        admin::remove,
        notices::log,
        notices::templates,
        notices::edit_template,
        notices::subscriptions,
        notices::subscribe,
        notices::banners,
        audit::log
    ),
    components(schemas(RegistrationJson, ProblemJson, FieldError)),
    modifiers(&BearerToken)
)]
struct ApiDoc;

/// `GET /api/v1/openapi.json`
pub(crate) async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
