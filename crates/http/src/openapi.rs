//! The OpenAPI 3.1 document of the admin API, generated from the handlers' annotations and
//! served at `/api/v1/openapi.json`.

use axum::Json;
use utoipa::OpenApi;

use crate::api::{BearerToken, ProblemJson};
use crate::error::FieldError;
use crate::wire::RegistrationJson;
use crate::{admin, audit, me, notices, overview, secrets, sites};

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
        secrets::rotate,
        secrets::retire,
        overview::expiring,
        notices::log,
        notices::templates,
        notices::edit_template,
        notices::subscriptions,
        notices::subscribe,
        notices::banners,
        audit::log,
        sites::show,
        sites::update,
        me::notifications,
        me::mark_read,
        me::mark_all_read
    ),
    components(schemas(RegistrationJson, ProblemJson, FieldError)),
    modifiers(&BearerToken)
)]
struct ApiDoc;

/// `GET /api/v1/openapi.json`
pub(crate) async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
