//! `GET /sites/{site}/calendar/{token}.ics`: a site's iCalendar feed (RFC 5545, SPEC 13).
//! What the feed holds comes from the domain (`CalendarEvent`); this is its text format.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use registration_core::{CalendarEvent, Site};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::error::Error;
use crate::{AppState, blocking};

/// `GET /sites/{site}/calendar/{file}` where `file` is `{feed token}.ics`. Anything that is
/// not a live feed of this site answers the same 404 as an unknown address.
pub(crate) async fn feed(
    State(state): State<AppState>,
    Path((site, file)): Path<(String, String)>,
) -> Result<Response, Error> {
    // A path without `.ics` is looked up like any wrong token: the same work, the same 404.
    let token = file.strip_suffix(".ics").unwrap_or_default().to_owned();
    let found = blocking(&state, move |service| {
        service
            .calendar_feed(&site, &token)
            .map(|found| found.map(|(site, events)| (site, events, service.now())))
    })
    .await??;
    let Some((site, events, now)) = found else {
        return Err(Error::NotFound);
    };
    let mut response = (StatusCode::OK, ics(&site, &events, now)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    // The URL is the credential: no shared cache keeps the feed, no page it links to
    // learns it.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}

/// The feed as RFC 5545 text: CRLF line ends, lines folded at 75 octets, TEXT values
/// escaped. Each event is all day (`VALUE=DATE`) on the registration's last valid day in the
/// site's zone, with a display alarm 30 and 7 days before.
pub(crate) fn ics(site: &Site, events: &[CalendarEvent], now: OffsetDateTime) -> String {
    let stamp = now
        .to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_else(|_| unreachable!("every instant in years 0..=9999 formats"));
    let mut out = String::with_capacity(512 + events.len() * 1024);
    for line in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//appreg//App registration expiry//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ] {
        fold(line, &mut out);
    }
    fold(
        &format!(
            "X-WR-CALNAME:{}",
            text(&format!("App registrations of {}", site.name.as_str()))
        ),
        &mut out,
    );
    fold(&format!("X-WR-TIMEZONE:{}", site.zone.name()), &mut out);
    fold("REFRESH-INTERVAL;VALUE=DURATION:PT1H", &mut out);
    fold("X-PUBLISHED-TTL:PT1H", &mut out);
    for event in events {
        let day = event.last_valid_day;
        let next = day.next_day().unwrap_or(day);
        let summary = format!("App registration \"{}\": last valid day", event.name);
        let description = format!(
            "Client ID {}. It stops authenticating at {}. Renew it, or rotate its secret, \
             on its page: {}",
            event.client_id, event.expires_at, event.console_url
        );
        fold("BEGIN:VEVENT", &mut out);
        fold(&format!("UID:{}", text(&event.uid)), &mut out);
        fold(&format!("DTSTAMP:{stamp}"), &mut out);
        fold(&format!("DTSTART;VALUE=DATE:{}", date(day)), &mut out);
        fold(&format!("DTEND;VALUE=DATE:{}", date(next)), &mut out);
        fold(&format!("SUMMARY:{}", text(&summary)), &mut out);
        fold(&format!("DESCRIPTION:{}", text(&description)), &mut out);
        fold(&format!("URL:{}", event.console_url), &mut out);
        fold("TRANSP:TRANSPARENT", &mut out);
        for days in event.alarm_days_before {
            fold("BEGIN:VALARM", &mut out);
            fold("ACTION:DISPLAY", &mut out);
            let reminder = format!("App registration \"{}\" expires in {days} days", event.name);
            fold(&format!("DESCRIPTION:{}", text(&reminder)), &mut out);
            fold(&format!("TRIGGER;RELATED=START:-P{days}D"), &mut out);
            fold("END:VALARM", &mut out);
        }
        fold("END:VEVENT", &mut out);
    }
    fold("END:VCALENDAR", &mut out);
    out
}

fn date(day: time::Date) -> String {
    format!(
        "{:04}{:02}{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

/// A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and line breaks escaped.
fn text(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            ';' => escaped.push_str("\\;"),
            ',' => escaped.push_str("\\,"),
            '\n' => escaped.push_str("\\n"),
            '\r' => {}
            c => escaped.push(c),
        }
    }
    escaped
}

/// Appends `line` folded (RFC 5545 3.1): at most 75 octets per line, continued after CRLF
/// and a space, never inside a UTF-8 character.
fn fold(line: &str, out: &mut String) {
    if line.len() <= 75 {
        out.push_str(line);
        out.push_str("\r\n");
        return;
    }
    let mut width = 0;
    for c in line.chars() {
        let octets = c.len_utf8();
        // A continuation line starts with a space, which counts.
        if width + octets > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += octets;
    }
    out.push_str("\r\n");
}
