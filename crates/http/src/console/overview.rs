//! "Expiring soon": the registrations of every site the administrator manages that expire
//! within a window or have expired, soonest first (SPEC 13).

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use minijinja::value::{Serde, Value};
use registration_core::{ExpiryWindow, Snapshot};
use serde::Serialize;

use super::registrations::expiry_class;
use super::view::{Page, Section, site_page};
use super::{PageError, page_number, pager, query_pairs, query_value, site_access};
use crate::{AppState, blocking};

const PER_PAGE: u32 = 50;

/// The windows the page offers (the API and the command line take any from 0 to 3660).
const WINDOWS: [u16; 5] = [7, 30, 90, 180, 365];

#[derive(Debug, Serialize)]
struct OverviewRow {
    site: String,
    name: String,
    client_id: String,
    expires: String,
    expiry: &'static str,
    expires_at: String,
    last_used: String,
}

impl OverviewRow {
    fn new(snapshot: &Snapshot) -> Self {
        let record = snapshot.registration.record();
        let zone = snapshot.site.zone;
        Self {
            site: record.site.to_string(),
            name: record.name.to_string(),
            client_id: record.client_id.to_string(),
            expires: snapshot.status.expires.to_string(),
            expiry: expiry_class(snapshot.status.state),
            expires_at: zone.display_local(snapshot.status.expires_at),
            last_used: record
                .last_used
                .map_or_else(|| "Never".to_owned(), |at| zone.local_minute(at)),
        }
    }
}

#[derive(Debug, Serialize)]
struct WindowChoice {
    days: u16,
    selected: bool,
}

/// `GET /sites/{site}/expiring?within=&page=`
pub(crate) async fn expiring(
    State(state): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let (signed, site) = site_access(&state, &headers, &site).await?;
    let pairs = query_pairs(raw.as_deref());
    // A window the page does not offer (typed into the address) is read like the API's.
    let window = ExpiryWindow::parse(query_value(&pairs, "within")).unwrap_or_default();
    let page = page_number(&pairs);
    let sites = signed.admin.sites.clone();
    let offset = u64::from(page - 1) * u64::from(PER_PAGE);
    let (snapshots, total) = blocking(&state, move |service| {
        service.expiring(&sites, window, offset, PER_PAGE)
    })
    .await??;
    let rows: Vec<OverviewRow> = snapshots.iter().map(OverviewRow::new).collect();
    let windows: Vec<WindowChoice> = WINDOWS
        .into_iter()
        .map(|days| WindowChoice {
            days,
            selected: days == window.as_days(),
        })
        .collect();
    let within = window.as_days();
    let base = format!("/sites/{site}/expiring");
    let context = context! {
        rows => Value::from(Serde(&rows)),
        windows => Value::from(Serde(&windows)),
        within => within,
        total => total,
        site_count => signed.admin.sites.len(),
        ..pager(u64::from(page), total, u64::from(PER_PAGE), |page| {
            format!("{base}?within={within}&page={page}")
        }),
    };
    site_page(
        &state,
        &signed,
        &site,
        Page {
            section: Section::Expiring,
            title: "Expiring soon",
            status: StatusCode::OK,
            template: "expiring.html",
        },
        context,
    )
    .await
}
