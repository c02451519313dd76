//! Admin Center › Site Settings › IAM › App registrations: the grid, create (with the
//! one-time secret page), detail with rename / renew / enable / disable / delete, and the
//! replace guide.

use axum::extract::{Form, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::value::Serde;
use minijinja::{Value, context};
use registration_core::{
    Actor, ClientId, ClientSecret, ExpirationDate, ListQuery, NewRegistration, REVEAL_LIFETIME,
    RegistrationName, SiteSlug, Snapshot, SortKey, StateFilter,
};
use serde::{Deserialize, Serialize};

use super::view::{Page, Section, site_page};
use super::{
    PageError, REVEAL_COOKIE, Signed, add_cookie, cookie, encode, page_number, pager, query_pairs,
    query_value, see_other, site_access, site_form_access,
};
use crate::{AppState, blocking};

const PER_PAGE: u32 = 50;

/// A registration as the grid and the detail page show it.
#[derive(Debug, Serialize)]
pub(super) struct Row {
    pub(super) name: String,
    client_id: String,
    registered: String,
    enabled: bool,
    last_used: String,
    expires: String,
    /// `soon` (amber), `expired` (red) or empty: the Expires cell's colour and tag.
    expiry: &'static str,
    state: &'static str,
    expiration_date: String,
    expires_at: String,
    secret_hint: String,
    secret_issued: String,
    secret_last_used: String,
    rejected: u64,
    last_rejected: String,
    previous: Option<PreviousRow>,
}

/// The previous secret as the detail page shows it (SPEC 12).
#[derive(Debug, Serialize)]
struct PreviousRow {
    hint: String,
    issued: String,
    last_used: String,
    expires_at: String,
    live: bool,
    presented: String,
}

impl Row {
    pub(super) fn new(snapshot: &Snapshot) -> Self {
        let record = snapshot.registration.record();
        let zone = snapshot.site.zone;
        Self {
            name: record.name.to_string(),
            client_id: record.client_id.to_string(),
            registered: zone.local_minute(record.registration_date),
            enabled: record.enabled,
            last_used: record
                .last_used
                .map_or_else(|| "Never".to_owned(), |at| zone.local_minute(at)),
            expires: snapshot.status.expires.to_string(),
            expiry: expiry_class(snapshot.status.state),
            state: snapshot.status.state.as_str(),
            expiration_date: record.expiration_date.to_string(),
            expires_at: zone.display_local(snapshot.status.expires_at),
            secret_hint: record.secret.hint.to_string(),
            secret_issued: zone.local_minute(record.secret.created_at),
            secret_last_used: never_or(zone, record.secret.last_used),
            rejected: record.rejections.count,
            last_rejected: record
                .rejections
                .last
                .map(|at| zone.local_minute(at))
                .unwrap_or_default(),
            previous: record.previous_secret.as_ref().map(|previous| PreviousRow {
                hint: previous.secret.hint.to_string(),
                issued: zone.local_minute(previous.secret.created_at),
                last_used: never_or(zone, previous.secret.last_used),
                expires_at: zone.display_local(previous.expires_at),
                live: snapshot.previous_secret_live(),
                presented: previous.presented_summary(zone),
            }),
        }
    }
}

/// The Expires cell's marking: amber within 30 days, red once expired, none otherwise
/// (disabled included: it cannot authenticate whatever its date).
pub(super) fn expiry_class(state: registration_core::State) -> &'static str {
    use registration_core::State;
    match state {
        State::Expiring30 | State::Expiring7 => "soon",
        State::Expired => "expired",
        State::Active | State::Disabled => "",
    }
}

fn never_or(zone: registration_core::SiteZone, at: Option<time::OffsetDateTime>) -> String {
    at.map_or_else(|| "Never".to_owned(), |at| zone.local_minute(at))
}

/// Grid column headers: label, sort key, and the link that sorts by it.
#[derive(Debug, Serialize)]
struct Column {
    label: &'static str,
    href: String,
    sorted: bool,
    aria: &'static str,
    arrow: &'static str,
}

/// One choice of the grid's state filter.
#[derive(Debug, Serialize)]
struct StateLink {
    label: &'static str,
    href: String,
    current: bool,
}

fn done_message(done: &str) -> &'static str {
    match done {
        "deleted" => "The registration was deleted.",
        "renamed" => "The registration was renamed.",
        "renewed" => "The registration was renewed; its Client ID and secret are unchanged.",
        "enabled" => "The registration was enabled.",
        "disabled" => "The registration was disabled.",
        "retired" => "The previous secret was retired: only the current secret authenticates.",
        _ => "",
    }
}

/// `GET /sites/{site}/app-registrations?q=&sort=&dir=&page=`
pub(crate) async fn grid(
    State(state): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let (signed, site) = site_access(&state, &headers, &site).await?;
    let pairs = query_pairs(raw.as_deref());
    let q = query_value(&pairs, "q").trim().to_owned();
    let sort = SortKey::parse(query_value(&pairs, "sort")).unwrap_or(SortKey::Name);
    let descending = query_value(&pairs, "dir") == "desc";
    let page = page_number(&pairs);
    let state_filter = StateFilter::parse(query_value(&pairs, "state"));
    let query = ListQuery {
        search: (!q.is_empty()).then(|| q.clone()),
        sort,
        descending,
        offset: u64::from(page - 1) * u64::from(PER_PAGE),
        limit: PER_PAGE,
        ..ListQuery::by_name(PER_PAGE)
    };
    let slug = site.clone();
    let (snapshots, total) = blocking(&state, move |service| {
        service.list_page(&slug, &query, state_filter)
    })
    .await??;
    let base = format!("/sites/{site}/app-registrations");
    let state_name = |filter: Option<StateFilter>| filter.map_or("", StateFilter::as_str);
    let link_to = |filter: Option<StateFilter>, sort: SortKey, descending: bool, page: u64| {
        format!(
            "{base}?q={}&state={}&sort={}&dir={}&page={page}",
            encode(&q),
            state_name(filter),
            sort.as_str(),
            if descending { "desc" } else { "asc" }
        )
    };
    let link =
        |sort: SortKey, descending: bool, page: u64| link_to(state_filter, sort, descending, page);
    // The state filter: All, then each filter; a filter starts again at page 1.
    let filters: Vec<StateLink> = std::iter::once(None)
        .chain(StateFilter::ALL.map(Some))
        .map(|filter| StateLink {
            label: match filter {
                None => "All",
                Some(StateFilter::Expiring) => "Expiring",
                Some(StateFilter::Expired) => "Expired",
                Some(StateFilter::Disabled) => "Disabled",
            },
            href: link_to(filter, sort, descending, 1),
            current: filter == state_filter,
        })
        .collect();
    let columns: Vec<Column> = [
        ("Name", SortKey::Name),
        ("Client ID", SortKey::ClientId),
        ("Registration date", SortKey::RegistrationDate),
        ("Enabled", SortKey::Enabled),
        ("Last used", SortKey::LastUsed),
        ("Expires", SortKey::ExpirationDate),
    ]
    .into_iter()
    .map(|(label, key)| {
        let sorted = key == sort;
        Column {
            label,
            href: link(key, sorted && !descending, 1),
            sorted,
            aria: if descending {
                "descending"
            } else {
                "ascending"
            },
            arrow: if descending { "▼" } else { "▲" },
        }
    })
    .collect();
    let page = u64::from(page);
    let context = context! {
        rows => Value::from(Serde(snapshots.iter().map(Row::new).collect::<Vec<_>>())),
        columns => Value::from(Serde(&columns)),
        q => q.clone(),
        filters => Value::from(Serde(&filters)),
        state => state_name(state_filter),
        sort => sort.as_str(),
        sort_label => sort.as_str().replace('_', " "),
        dir => if descending { "desc" } else { "asc" },
        total => total,
        notice => done_message(query_value(&pairs, "done")),
        ..pager(page, total, u64::from(PER_PAGE), |page| link(sort, descending, page)),
    };
    site_page(
        &state,
        &signed,
        &site,
        Page {
            section: Section::Registrations,
            title: "App registrations",
            status: StatusCode::OK,
            template: "grid.html",
        },
        context,
    )
    .await
}

/// `GET …/new[?name=]`
pub(crate) async fn new_form(
    State(state): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let (signed, site) = site_access(&state, &headers, &site).await?;
    let pairs = query_pairs(raw.as_deref());
    let name = query_value(&pairs, "name").to_owned();
    new_page(&state, &signed, &site, StatusCode::OK, &name, "", &[]).await
}

async fn new_page(
    state: &AppState,
    signed: &Signed,
    site: &SiteSlug,
    status: StatusCode,
    name: &str,
    expiration_date: &str,
    errors: &[String],
) -> Result<Response, PageError> {
    let slug = site.clone();
    let (zone, today) = blocking(state, move |service| {
        service
            .site(&slug)
            .map(|site| (site.zone, site.today(service.now())))
    })
    .await??;
    let context = context! {
        name => name,
        expiration_date => expiration_date,
        zone => zone.name(),
        today => today.to_string(),
        errors => errors.to_vec(),
    };
    site_page(
        state,
        signed,
        site,
        Page {
            section: Section::Registrations,
            title: "New App registration",
            status,
            template: "new.html",
        },
        context,
    )
    .await
}

#[derive(Deserialize)]
pub(crate) struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    expiration_date: String,
    enabled: Option<String>,
}

/// `POST /sites/{site}/app-registrations`: creates, keeps the secret for one showing, and
/// redirects to it (so reloading the result never creates a second registration).
pub(crate) async fn create(
    State(state): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
    Form(form): Form<CreateForm>,
) -> Result<Response, PageError> {
    let (signed, site) = site_form_access(&state, &headers, &site, &form.csrf).await?;
    let name = RegistrationName::parse(&form.name);
    let expiration_date = ExpirationDate::parse(form.expiration_date.trim());
    let (name, expiration_date) = match (name, expiration_date) {
        (Ok(name), Ok(date)) => (name, date),
        (name, date) => {
            let errors: Vec<String> = [name.err(), date.err()]
                .into_iter()
                .flatten()
                .map(|e| capitalise(&e.to_string()))
                .collect();
            return new_page(
                &state,
                &signed,
                &site,
                StatusCode::UNPROCESSABLE_ENTITY,
                &form.name,
                &form.expiration_date,
                &errors,
            )
            .await;
        }
    };
    let new = NewRegistration {
        name,
        expiration_date,
        enabled: form.enabled.is_some(),
    };
    let actor = Actor::admin(&signed.admin);
    let slug = site.clone();
    let created = blocking(&state, move |service| service.create(&slug, new, &actor)).await?;
    let (snapshot, secret) = match created {
        Ok(created) => created,
        Err(error) if is_input_error(&error) => {
            return new_page(
                &state,
                &signed,
                &site,
                StatusCode::UNPROCESSABLE_ENTITY,
                &form.name,
                &form.expiration_date,
                &[capitalise(&error.to_string())],
            )
            .await;
        }
        Err(error) => return Err(error.into()),
    };
    let client_id = snapshot.registration.client_id().clone();
    reveal_once(&state, &signed, &site, client_id, secret, "").await
}

/// Keeps `secret` for one showing on its secret page and redirects there (so reloading the
/// result never creates a second registration or a second rotation).
pub(super) async fn reveal_once(
    state: &AppState,
    signed: &Signed,
    site: &SiteSlug,
    client_id: ClientId,
    secret: ClientSecret,
    query: &str,
) -> Result<Response, PageError> {
    let session = signed.session_digest();
    let secret_page = secret_page(site, &client_id);
    let masked = blocking(state, move |service| {
        service.seal_reveal(session, &client_id, &secret)
    })
    .await??;
    let mut response = see_other(&format!("{secret_page}{query}"));
    let lifetime = REVEAL_LIFETIME.whole_seconds();
    add_cookie(
        state,
        &mut response,
        (REVEAL_COOKIE, &masked),
        &secret_page,
        lifetime,
    )?;
    Ok(response)
}

/// Refusals the administrator can fix by changing the form.
pub(super) fn is_input_error(error: &registration_core::Error) -> bool {
    use registration_core::{Error, StoreError};
    matches!(
        error,
        Error::EmptyText { .. }
            | Error::TextTooLong { .. }
            | Error::ControlCharacter { .. }
            | Error::MalformedDate
            | Error::DateInPast { .. }
            | Error::DateTooFarAhead { .. }
            | Error::InvalidOverlap
            | Error::OverlapTooLong { .. }
            | Error::TwoLiveSecrets { .. }
            | Error::LastSecret
            | Error::Store(StoreError::DuplicateName(_) | StoreError::Conflict)
    )
}

pub(super) fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// Where the Client secret of a just-created registration is shown (and its reveal cookie
/// is scoped to).
fn secret_page(site: &SiteSlug, client_id: &ClientId) -> String {
    format!("/sites/{site}/app-registrations/{client_id}/secret")
}

/// `GET …/{client_id}/secret[?rotated=1]`: the Client secret (of a new registration, or
/// the new secret of a rotation), once.
pub(crate) async fn secret(
    State(state): State<AppState>,
    Path((site, client_id)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let (signed, site) = site_access(&state, &headers, &site).await?;
    let rotated = query_value(&query_pairs(raw.as_deref()), "rotated") == "1";
    let id = ClientId::parse(&client_id).map_err(|_| PageError::NotFound)?;
    let slug = site.clone();
    let session = signed.session_digest();
    let path = secret_page(&site, &id);
    let masked = cookie(&headers, REVEAL_COOKIE);
    let (snapshot, secret) = blocking(&state, move |service| {
        let snapshot = service.get(&slug, &id)?;
        let secret = service.open_reveal(session, &id, masked.as_deref())?;
        Ok::<_, registration_core::Error>((snapshot, secret))
    })
    .await??;
    let row = Row::new(&snapshot);
    let context = context! {
        name => snapshot.registration.name().to_string(),
        client_id => &client_id,
        secret => secret.as_ref().map(ClientSecret::expose_secret),
        rotated => rotated,
        r => Value::from(Serde(&row)),
    };
    let mut response = site_page(
        &state,
        &signed,
        &site,
        Page {
            section: Section::Registrations,
            title: if rotated {
                "New Client secret"
            } else {
                "App registration created"
            },
            status: StatusCode::OK,
            template: "secret.html",
        },
        context,
    )
    .await?;
    // Its pad is gone from the store: the browser's half is worthless, drop it.
    add_cookie(&state, &mut response, (REVEAL_COOKIE, ""), &path, 0)?;
    Ok(response)
}

/// `GET …/{client_id}`
pub(crate) async fn detail(
    State(state): State<AppState>,
    Path((site, client_id)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let (signed, site) = site_access(&state, &headers, &site).await?;
    let pairs = query_pairs(raw.as_deref());
    let notice = done_message(query_value(&pairs, "done"));
    detail_page(
        &state,
        &signed,
        &site,
        &client_id,
        StatusCode::OK,
        notice,
        &[],
    )
    .await
}

async fn detail_page(
    state: &AppState,
    signed: &Signed,
    site: &SiteSlug,
    client_id: &str,
    status: StatusCode,
    notice: &str,
    errors: &[String],
) -> Result<Response, PageError> {
    let id = ClientId::parse(client_id).map_err(|_| PageError::NotFound)?;
    let slug = site.clone();
    let (snapshot, today) = blocking(state, move |service| {
        let snapshot = service.get(&slug, &id)?;
        let today = snapshot.site.today(service.now());
        Ok::<_, registration_core::Error>((snapshot, today))
    })
    .await??;
    let row = Row::new(&snapshot);
    let title = row.name.clone();
    let context = context! { r => Value::from(Serde(&row)), today => today.to_string(), notice => notice, errors => errors.to_vec() };
    site_page(
        state,
        signed,
        site,
        Page {
            section: Section::Registrations,
            title: &title,
            status,
            template: "detail.html",
        },
        context,
    )
    .await
}

#[derive(Deserialize)]
pub(crate) struct ChangeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    expiration_date: String,
    confirm: Option<String>,
}

/// `POST …/{client_id}`: one change per form (`action`), then back to the page.
pub(crate) async fn change(
    State(state): State<AppState>,
    Path((site, client_id)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<ChangeForm>,
) -> Result<Response, PageError> {
    let (signed, site) = site_form_access(&state, &headers, &site, &form.csrf).await?;
    let id = ClientId::parse(&client_id).map_err(|_| PageError::NotFound)?;
    let actor = Actor::admin(&signed.admin);
    let slug = site.clone();
    let action = form.action.clone();
    let outcome = blocking(&state, move |service| match action.as_str() {
        "rename" => RegistrationName::parse(&form.name)
            .and_then(|name| service.rename(&slug, &id, name, &actor))
            .map(|_| "renamed"),
        "renew" => ExpirationDate::parse(form.expiration_date.trim())
            .and_then(|date| service.renew(&slug, &id, date, &actor))
            .map(|_| "renewed"),
        "enable" => service
            .set_enabled(&slug, &id, true, &actor)
            .map(|_| "enabled"),
        "disable" => service
            .set_enabled(&slug, &id, false, &actor)
            .map(|_| "disabled"),
        "retire-secret" => service
            .retire_previous_secret(&slug, &id, &actor)
            .map(|_| "retired"),
        "delete" if form.confirm.as_deref() == Some("yes") => {
            service.delete(&slug, &id, &actor).map(|()| "deleted")
        }
        "delete" => Ok("unconfirmed"),
        _ => Ok("unknown"),
    })
    .await?;
    match outcome {
        Ok("deleted") => Ok(see_other(&format!(
            "/sites/{site}/app-registrations?done=deleted"
        ))),
        Ok("unconfirmed") => {
            let errors = ["Tick the confirmation to delete the registration.".to_owned()];
            detail_page(
                &state,
                &signed,
                &site,
                &client_id,
                StatusCode::UNPROCESSABLE_ENTITY,
                "",
                &errors,
            )
            .await
        }
        Ok("unknown") => Err(PageError::NotFound),
        Ok(done) => Ok(see_other(&format!(
            "/sites/{site}/app-registrations/{client_id}?done={done}"
        ))),
        Err(error) if is_input_error(&error) => {
            let errors = [capitalise(&error.to_string())];
            detail_page(
                &state,
                &signed,
                &site,
                &client_id,
                StatusCode::UNPROCESSABLE_ENTITY,
                "",
                &errors,
            )
            .await
        }
        Err(error) => Err(error.into()),
    }
}

/// `GET …/{client_id}/replace`: how to replace a registration (delete + create).
pub(crate) async fn replace(
    State(state): State<AppState>,
    Path((site, client_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (signed, site) = site_access(&state, &headers, &site).await?;
    let id = ClientId::parse(&client_id).map_err(|_| PageError::NotFound)?;
    let slug = site.clone();
    let snapshot = blocking(&state, move |service| service.get(&slug, &id)).await??;
    let name = snapshot.registration.name().to_string();
    let new_link = format!(
        "/sites/{site}/app-registrations/new?name={}",
        encode(&format!("{name} (replacement)"))
    );
    let title = format!("Replace {name}");
    let context = context! { name => name, client_id => client_id, new_link => new_link };
    site_page(
        &state,
        &signed,
        &site,
        Page {
            section: Section::Registrations,
            title: &title,
            status: StatusCode::OK,
            template: "replace.html",
        },
        context,
    )
    .await
}
