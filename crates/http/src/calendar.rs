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
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//appreg//App registration expiry//EN".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        format!(
            "X-WR-CALNAME:{}",
            text(&format!("App registrations of {}", site.name.as_str()))
        ),
        format!("X-WR-TIMEZONE:{}", site.zone.name()),
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H".to_owned(),
        "X-PUBLISHED-TTL:PT1H".to_owned(),
    ];
    for event in events {
        let day = event.last_valid_day;
        let next = day.next_day().unwrap_or(day);
        let summary = format!("App registration \"{}\": last valid day", event.name);
        let description = format!(
            "Client ID {}. It stops authenticating at {}. Renew it, or rotate its secret, \
             on its page: {}",
            event.client_id, event.expires_at, event.console_url
        );
        lines.extend([
            "BEGIN:VEVENT".to_owned(),
            format!("UID:{}", text(&event.uid)),
            format!("DTSTAMP:{stamp}"),
            format!("DTSTART;VALUE=DATE:{}", date(day)),
            format!("DTEND;VALUE=DATE:{}", date(next)),
            format!("SUMMARY:{}", text(&summary)),
            format!("DESCRIPTION:{}", text(&description)),
            format!("URL:{}", event.console_url),
            "TRANSP:TRANSPARENT".to_owned(),
        ]);
        for days in event.alarm_days_before {
            lines.extend([
                "BEGIN:VALARM".to_owned(),
                "ACTION:DISPLAY".to_owned(),
                format!(
                    "DESCRIPTION:{}",
                    text(&format!(
                        "App registration \"{}\" expires in {days} days",
                        event.name
                    ))
                ),
                format!("TRIGGER;RELATED=START:-P{days}D"),
                "END:VALARM".to_owned(),
            ]);
        }
        lines.push("END:VEVENT".to_owned());
    }
    lines.push("END:VCALENDAR".to_owned());
    let mut out = String::new();
    for line in &lines {
        fold(line, &mut out);
    }
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
