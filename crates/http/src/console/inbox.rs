//! The signed-in administrator's inbox: the in-app notices delivered to them in this site,
//! newest first, with mark-as-read (one, or all).

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use minijinja::value::{Serde, Value};
use registration_core::{InboxQuery, NoticeKey};
use serde::Serialize;

use super::view::{Page, Section, site_page};
use super::{
    PageError, page_number, pager, query_pairs, query_value, see_other, site_access,
    site_form_access,
};
use crate::{AppState, blocking};

const INBOX_PER_PAGE: u64 = 25;

#[derive(Debug, Serialize)]
struct ItemView {
    id: String,
    subject: String,
    body: String,
    kind: &'static str,
    name: String,
    client_id: String,
    recorded_at: String,
    read: bool,
}

/// `GET /sites/{site}/inbox[?unread=1][&page=N]`
pub(crate) async fn inbox(
    State(state): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let (signed, site) = site_access(&state, &headers, &site).await?;
    let pairs = query_pairs(raw.as_deref());
    let unread_only = query_value(&pairs, "unread") == "1";
    let page = u64::from(page_number(&pairs));
    let query = InboxQuery {
        unread_only,
        offset: (page - 1) * INBOX_PER_PAGE,
        limit: u32::try_from(INBOX_PER_PAGE).unwrap_or(u32::MAX),
    };
    let (admin, slug) = (signed.admin.clone(), site.clone());
    let (zone, inbox) = blocking(&state, move |service| {
        Ok::<_, registration_core::Error>((
            service.site(&slug)?.zone,
            service.inbox(&admin, Some(&slug), &query)?,
        ))
    })
    .await??;
    let items: Vec<ItemView> = inbox
        .items
        .iter()
        .map(|item| ItemView {
            id: item.key.to_string(),
            subject: item.subject.clone(),
            body: item.body.clone(),
            kind: item.key.kind.as_str(),
            name: item.registration_name.clone(),
            client_id: item.client_id.to_string(),
            recorded_at: zone.local_minute(item.recorded_at),
            read: item.read_at.is_some(),
        })
        .collect();
    let filter = if unread_only { "&unread=1" } else { "" };
    let link = |page: u64| format!("/sites/{site}/inbox?page={page}{filter}");
    let context = context! {
        items => Value::from(Serde(&items)),
        total => inbox.total,
        unread => inbox.unread,
        unread_only => unread_only,
        ..pager(page, inbox.total, INBOX_PER_PAGE, link),
    };
    site_page(
        &state,
        &signed,
        &site,
        Page {
            section: Section::Inbox,
            title: "Inbox",
            status: StatusCode::OK,
            template: "inbox.html",
        },
        context,
    )
    .await
}

/// `POST /sites/{site}/inbox/read`: `notice` (one) or `all`.
pub(crate) async fn mark_read(
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
    let (admin, slug) = (signed.admin.clone(), site.clone());
    if form.contains_key("all") {
        blocking(&state, move |service| {
            service.mark_all_read(&admin, Some(&slug))
        })
        .await??;
    } else {
        let notice = form
            .get("notice")
            .and_then(|text| NoticeKey::parse(text))
            .ok_or(PageError::NotFound)?;
        let marked = blocking(&state, move |service| {
            service.mark_read(&admin, Some(&slug), &notice)
        })
        .await??;
        if !marked {
            return Err(PageError::NotFound);
        }
    }
    Ok(see_other(&format!("/sites/{site}/inbox")))
}
