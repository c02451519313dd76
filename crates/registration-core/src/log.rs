//! The Administrative notification log: what the sweep records and what administrators read.

use time::OffsetDateTime;

use crate::delivery::DeliveryState;
use crate::schedule::{Disposition, DueNotice, NoticeKey};
use crate::secret::ClientId;
use crate::site::SiteSlug;

/// A due notice as it is to be recorded: its rendered subject and its planned deliveries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRecord {
    pub notice: DueNotice,
    pub subject: String,
    /// The rendered message: what the in-app notification shows and later channels send.
    pub body: String,
    pub deliveries: Vec<DeliveryState>,
}

/// One line of the Administrative notification log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeLogEntry {
    pub key: NoticeKey,
    pub site: SiteSlug,
    /// The registration's name and Client ID when the notice was recorded: the log outlives
    /// renames and deletions.
    pub registration_name: String,
    pub client_id: ClientId,
    pub disposition: Disposition,
    pub subject: String,
    pub body: String,
    pub due_at: OffsetDateTime,
    pub recorded_at: OffsetDateTime,
    pub deliveries: Vec<DeliveryState>,
}

/// A page of the Administrative notification log, filtered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    pub kind: Option<crate::schedule::NoticeKind>,
    /// Only notices of the registration with this Client ID (as recorded).
    pub client_id: Option<String>,
    /// Only notices with at least one delivery in this status.
    pub status: Option<crate::delivery::DeliveryStatus>,
    pub offset: u64,
    pub limit: u32,
}
