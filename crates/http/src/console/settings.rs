//! Admin Center › Site Settings: the site's display name and time zone, for its
//! administrators (decision 0001 says what a zone change does to deadlines and notices).

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use registration_core::{Actor, SiteName, SiteSlug, SiteZone};

use super::view::{Page, Section, site_page};
use super::{
    PageError, Signed, query_pairs, query_value, see_other, site_access, site_form_access,
};
use crate::{AppState, blocking};

/// `GET /sites/{site}/settings`
pub(crate) async fn settings(
    State(state): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let (signed, site) = site_access(&state, &headers, &site).await?;
    let saved = query_value(&query_pairs(raw.as_deref()), "done") == "saved";
    let slug = site.clone();
    let current = blocking(&state, move |service| service.site(&slug)).await??;
    let (name, zone) = (current.name.as_str().to_owned(), current.zone.name());
    let notice = if saved {
        "The site settings were saved."
    } else {
        ""
    };
    settings_page(
        &state,
        &signed,
        &site,
        StatusCode::OK,
        (&name, zone),
        notice,
        None,
    )
    .await
}

async fn settings_page(
    state: &AppState,
    signed: &Signed,
    site: &SiteSlug,
    status: StatusCode,
    (name, time_zone): (&str, &str),
    notice: &str,
    error: Option<String>,
) -> Result<Response, PageError> {
    let context = context! {
        name => name,
        time_zone => time_zone,
        notice => notice,
        error => error,
    };
    site_page(
        state,
        signed,
        site,
        Page {
            section: Section::Settings,
            title: "Site settings",
            status,
            template: "settings.html",
        },
        context,
    )
    .await
}

/// `POST /sites/{site}/settings`: name and time zone, saved together or not at all.
pub(crate) async fn save(
    State(state): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let (signed, site) = site_form_access(
        &state,
        &headers,
        &site,
        form.get("csrf").map_or("", String::as_str),
    )
    .await?;
    let field = |key: &str| form.get(key).map_or("", String::as_str);
    let (name, time_zone) = (field("name"), field("time_zone"));
    let parsed = SiteName::parse(name).and_then(|name| Ok((name, SiteZone::parse(time_zone)?)));
    let (new_name, zone) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => {
            let message = format!("Not saved: {error}");
            return settings_page(
                &state,
                &signed,
                &site,
                StatusCode::UNPROCESSABLE_ENTITY,
                (name, time_zone),
                "",
                Some(message),
            )
            .await;
        }
    };
    let (slug, actor) = (site.clone(), Actor::admin(&signed.admin));
    blocking(&state, move |service| {
        service.edit_site(&slug, Some(new_name), Some(zone), &actor)
    })
    .await??;
    Ok(see_other(&format!("/sites/{site}/settings?done=saved")))
}
