//! The Administrative notification log: what the sweep records and what administrators read.

use time::OffsetDateTime;

use crate::delivery::DeliveryState;
use crate::schedule::{Disposition, DueNotice, NoticeKey};
use crate::secret::ClientId;
use crate::site::SiteSlug;

/// A due notice as it is to be recorded: its rendered subject and its planned deliveries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRecord {
    /// The notice and its disposition.
    pub notice: DueNotice,
    /// The subject rendered at recording time (one line).
    pub subject: String,
    /// The rendered message: what the in-app notification shows and later channels send.
    pub body: String,
    /// One per recipient and channel.
    pub deliveries: Vec<DeliveryState>,
}

/// One line of the Administrative notification log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeLogEntry {
    /// Which registration, expiration date and kind.
    pub key: NoticeKey,
    /// The registration's site.
    pub site: SiteSlug,
    /// The registration's name and Client ID when the notice was recorded: the log outlives
    /// renames and deletions.
    pub registration_name: String,
    /// The Client ID at recording time.
    pub client_id: ClientId,
    /// Delivered or skipped (superseded, template switched off).
    pub disposition: Disposition,
    /// The rendered subject.
    pub subject: String,
    /// The rendered body (empty for notices nobody receives).
    pub body: String,
    /// When the notice fell due.
    pub due_at: OffsetDateTime,
    /// When a sweep recorded it.
    pub recorded_at: OffsetDateTime,
    /// What became of each delivery.
    pub deliveries: Vec<DeliveryState>,
}

/// A page of the Administrative notification log, filtered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    /// Only notices of this kind.
    pub kind: Option<crate::schedule::NoticeKind>,
    /// Only notices of the registration with this Client ID (as recorded).
    pub client_id: Option<String>,
    /// Only notices with at least one delivery in this status.
    pub status: Option<crate::delivery::DeliveryStatus>,
    /// Notices to skip (newest first).
    pub offset: u64,
    /// Notices to return at most.
    pub limit: u32,
}

/// One notice in an administrator's inbox: an in-app delivery to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxItem {
    /// Which registration, expiration date and kind.
    pub key: NoticeKey,
    /// The registration's site.
    pub site: SiteSlug,
    /// The registration's name when the notice was recorded.
    pub registration_name: String,
    /// The Client ID at recording time.
    pub client_id: ClientId,
    /// The rendered subject.
    pub subject: String,
    /// The rendered body.
    pub body: String,
    /// When the notice fell due.
    pub due_at: OffsetDateTime,
    /// When a sweep recorded it (and so put it in the inbox).
    pub recorded_at: OffsetDateTime,
    /// When the administrator marked it read, if they did.
    pub read_at: Option<OffsetDateTime>,
}

/// A page of an administrator's inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboxQuery {
    /// Only notices not yet marked read.
    pub unread_only: bool,
    /// Notices to skip (newest first).
    pub offset: u64,
    /// Notices to return at most (0: only the counts).
    pub limit: u32,
}

/// One page of an inbox and its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InboxPage {
    /// The notices of the page, newest first.
    pub items: Vec<InboxItem>,
    /// How many notices match the query in all.
    pub total: u64,
    /// How many notices of the inbox are unread, whatever the query.
    pub unread: u64,
}

impl InboxPage {
    /// A page as a store found it.
    pub fn new(items: Vec<InboxItem>, total: u64, unread: u64) -> Self {
        Self {
            items,
            total,
            unread,
        }
    }
}
