//! The expiration notification schedule (SPEC section 5): which notices are due, and when
//! the next one will be. Pure functions of the registration's facts, the zone and `now`;
//! recording and delivering them is the adapters' job.

use std::fmt;

use time::{Date, Duration, OffsetDateTime};

use crate::site::SiteZone;
use crate::values::{ExpirationDate, RegistrationId};

/// The three Administrative notification kinds, in the order they fall due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NoticeKind {
    /// Due 30 days before the expiration date.
    ExpiresIn30Days,
    /// Due 7 days before the expiration date.
    ExpiresIn7Days,
    /// Due when the registration has expired.
    Expired,
}

impl NoticeKind {
    /// In due order: earliest first.
    pub const ALL: [NoticeKind; 3] = [
        NoticeKind::ExpiresIn30Days,
        NoticeKind::ExpiresIn7Days,
        NoticeKind::Expired,
    ];

    /// The stable wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::ExpiresIn30Days => "expires_in_30_days",
            NoticeKind::ExpiresIn7Days => "expires_in_7_days",
            NoticeKind::Expired => "expired",
        }
    }

    /// The kind named by [`as_str`](Self::as_str), if any.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// The template's name as administrators see it.
    pub fn template_name(self) -> &'static str {
        match self {
            NoticeKind::ExpiresIn30Days => "App registration expires in 30 days",
            NoticeKind::ExpiresIn7Days => "App registration expires in 7 days",
            NoticeKind::Expired => "App registration has expired",
        }
    }

    /// The site-local date on whose first instant this notice falls due.
    pub fn due_date(self, expiration_date: ExpirationDate) -> Date {
        let expiration_date = expiration_date.date();
        match self {
            NoticeKind::ExpiresIn30Days => expiration_date.saturating_sub(Duration::days(30)),
            NoticeKind::ExpiresIn7Days => expiration_date.saturating_sub(Duration::days(7)),
            NoticeKind::Expired => expiration_date.saturating_add(Duration::days(1)),
        }
    }

    /// The instant this notice falls due.
    pub fn due_at(self, expiration_date: ExpirationDate, zone: SiteZone) -> OffsetDateTime {
        zone.start_of_day(self.due_date(expiration_date))
    }
}

impl fmt::Display for NoticeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The identity of a notice: it is recorded at most once per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NoticeKey {
    /// Which registration.
    pub registration_id: RegistrationId,
    /// Which expiration date (a renewal starts a new cycle).
    pub expiration_date: ExpirationDate,
    /// Which notice.
    pub kind: NoticeKind,
}

impl NoticeKey {
    /// Parses the text form `Display` writes: `{registration id}.{expiration date}.{kind}`,
    /// e.g. in URLs of an administrator's inbox.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('.');
        let (id, date, kind) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            registration_id: RegistrationId::parse(id)?,
            expiration_date: ExpirationDate::parse(date).ok()?,
            kind: NoticeKind::parse(kind)?,
        })
    }
}

impl fmt::Display for NoticeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}.{}",
            self.registration_id, self.expiration_date, self.kind
        )
    }
}

/// What to do with a notice once it is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Disposition {
    /// Render and deliver it.
    Deliver,
    /// A later kind fell due at the same time; log it as `skipped (superseded)`.
    SkippedSuperseded,
}

/// A notice the schedule says must be recorded now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueNotice {
    /// The notice's identity.
    pub key: NoticeKey,
    /// Delivered or skipped.
    pub disposition: Disposition,
    /// When it fell due.
    pub due_at: OffsetDateTime,
}

/// The facts of a registration that the schedule depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleSubject {
    /// Which registration.
    pub registration_id: RegistrationId,
    /// Its current expiration date.
    pub expiration_date: ExpirationDate,
    /// Disabled registrations get no notices.
    pub enabled: bool,
}

/// A registration the sweep must look at, with what its current cycle has recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeCandidate {
    /// What the schedule needs.
    pub subject: ScheduleSubject,
    /// For rendering the notice.
    pub client_id: crate::secret::ClientId,
    /// For rendering the notice.
    pub name: crate::values::RegistrationName,
    /// Kinds already recorded for the current expiration date.
    pub recorded: Vec<NoticeKind>,
}

/// The latest expiration date whose first notice can be due on `today`: the 30-day notice
/// falls due 30 days before; one more day covers a sweep right at a zone's midnight.
pub fn candidate_horizon(today: time::Date) -> ExpirationDate {
    ExpirationDate::from_date(today.saturating_add(Duration::days(31)))
}

/// The notices to record at `now`, given the kinds already recorded for the subject's current
/// expiration date (notices of earlier dates belong to finished cycles and do not matter).
///
/// Nothing is due while the registration is disabled. Of the kinds due and not yet recorded,
/// the latest is delivered and the earlier ones are skipped as superseded.
pub fn due_notices(
    subject: ScheduleSubject,
    zone: SiteZone,
    now: OffsetDateTime,
    recorded: &[NoticeKind],
) -> Vec<DueNotice> {
    if !subject.enabled {
        return Vec::new();
    }
    let due_kinds: Vec<(NoticeKind, OffsetDateTime)> = NoticeKind::ALL
        .into_iter()
        .map(|kind| (kind, kind.due_at(subject.expiration_date, zone)))
        .filter(|&(_, due_at)| due_at <= now)
        .collect();
    // The latest due kind wins even if it was recorded before an earlier one somehow was not:
    // an earlier kind never gets delivered after a later one.
    let latest_due = due_kinds.last().map(|&(kind, _)| kind);
    due_kinds
        .into_iter()
        .filter(|(kind, _)| !recorded.contains(kind))
        .map(|(kind, due_at)| DueNotice {
            key: NoticeKey {
                registration_id: subject.registration_id,
                expiration_date: subject.expiration_date,
                kind,
            },
            disposition: if Some(kind) == latest_due {
                Disposition::Deliver
            } else {
                Disposition::SkippedSuperseded
            },
            due_at,
        })
        .collect()
}

/// When the next notice of the subject's current cycle falls due after `now`, if any: the
/// moment a sweeper should look at it again. `None` while disabled or once every kind is
/// recorded or past.
pub fn next_due_at(
    subject: ScheduleSubject,
    zone: SiteZone,
    now: OffsetDateTime,
    recorded: &[NoticeKind],
) -> Option<OffsetDateTime> {
    if !subject.enabled {
        return None;
    }
    NoticeKind::ALL
        .into_iter()
        .filter(|kind| !recorded.contains(kind))
        .map(|kind| kind.due_at(subject.expiration_date, zone))
        .find(|&due_at| due_at > now)
}
