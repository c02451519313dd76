//! Notifications for appreg: rendering of the Administrative templates (a sandboxed
//! minijinja behind registration-core's [`TemplateRenderer`](registration_core::TemplateRenderer))
//! and delivery of recorded notices by e-mail (SMTP, lettre) and signed webhook POSTs.
//!
//! In-app notices need no delivery: recording them is delivering them. The delivery worker
//! itself (claims, retries, leases) is `RegistrationService::deliver_due`; this crate only
//! sends one message and reports how that went.
//!
//! The senders (and lettre, reqwest, rustls with them) are the default feature `senders`;
//! `default-features = false` leaves the renderer alone, for services that embed the sweep.

#[cfg(feature = "senders")]
mod deliver;
#[cfg(feature = "senders")]
mod email;
mod render;
#[cfg(feature = "testkit")]
pub mod testkit;
#[cfg(feature = "senders")]
mod webhook;

#[cfg(feature = "senders")]
pub use deliver::{ChannelNotifier, DEFAULT_ATTEMPT_TIMEOUT, Error, install_tls_provider};
#[cfg(feature = "senders")]
pub use email::{EmailSender, SmtpSettings};
pub use render::SandboxedRenderer;
#[cfg(feature = "senders")]
pub use webhook::{WebhookSender, check_destination, sign, webhook_payload};
