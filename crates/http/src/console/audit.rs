//! Site Settings › Audit log: who changed what in the site, when, old → new.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use minijinja::value::{Serde, Value};
use registration_core::AuditQuery;
use serde::Serialize;

use super::view::{Page, Section, site_page};
use super::{PageError, page_number, pager, query_pairs, site_access};
use crate::{AppState, blocking};

const AUDIT_PER_PAGE: u64 = 50;

#[derive(Debug, Serialize)]
struct EntryView {
    at: String,
    actor: String,
    action: &'static str,
    subject: String,
    changes: Vec<ChangeView>,
}

#[derive(Debug, Serialize)]
struct ChangeView {
    field: String,
    before: Option<String>,
    after: Option<String>,
}

pub(crate) async fn log(
    State(state): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let (signed, site) = site_access(&state, &headers, &site).await?;
    let pairs = query_pairs(raw.as_deref());
    let page = u64::from(page_number(&pairs));
    let query = AuditQuery {
        offset: (page - 1) * AUDIT_PER_PAGE,
        limit: u32::try_from(AUDIT_PER_PAGE).unwrap_or(u32::MAX),
    };
    let slug = site.clone();
    let (zone, (entries, total)) = blocking(&state, move |service| {
        Ok::<_, registration_core::Error>((
            service.site(&slug)?.zone,
            service.audit_page(&slug, &query)?,
        ))
    })
    .await??;
    let entries: Vec<EntryView> = entries
        .iter()
        .map(|entry| EntryView {
            at: zone.local_minute(entry.at),
            actor: entry.actor.label(),
            action: entry.action.as_str(),
            subject: entry.subject.clone(),
            changes: entry
                .changes()
                .into_iter()
                .map(|change| ChangeView {
                    field: change.field.to_owned(),
                    before: change.before.map(str::to_owned),
                    after: change.after.map(str::to_owned),
                })
                .collect(),
        })
        .collect();
    let link = |page: u64| format!("/sites/{site}/audit?page={page}");
    let context = context! {
        entries => Value::from(Serde(&entries)),
        total => total,
        ..pager(page, total, AUDIT_PER_PAGE, link),
    };
    site_page(
        &state,
        &signed,
        &site,
        Page {
            section: Section::Audit,
            title: "Audit log",
            status: StatusCode::OK,
            template: "audit.html",
        },
        context,
    )
    .await
}
