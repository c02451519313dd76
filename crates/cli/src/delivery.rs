//! `appreg sweep` and the notifier that `sweep` and `serve` deliver with.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use notify::{ChannelNotifier, EmailSender, SmtpSettings, WebhookSender};
use registration_core::{Channel, DeliveryReport, Notifier, RegistrationService};

use crate::args::DeliveryArgs;
use crate::render::SweepJson;
use crate::system::SystemClock;

/// Deliveries attempted per round of `appreg sweep`.
const BATCH: usize = 20;
/// From how many due deliveries on a terminal `sweep` shows a progress bar.
const PROGRESS_FROM: u64 = 20;

/// E-mail when `--smtp-url` is given, webhooks always. Call outside an async runtime.
pub(crate) fn notifier(args: &DeliveryArgs) -> Result<ChannelNotifier> {
    let timeout = Duration::from_secs(args.delivery_timeout);
    let email = args
        .smtp_url
        .as_ref()
        .map(|url| {
            EmailSender::new(&SmtpSettings {
                url: url.clone(),
                mail_from: args.mail_from.clone(),
                timeout,
            })
        })
        .transpose()?;
    // Receivers refuse timestamps far from their own clocks (Standard Webhooks: 5 minutes),
    // so webhooks are stamped with real time even when APPREG_NOW shifts appreg's clock.
    let webhook = WebhookSender::new(
        Arc::new(SystemClock::real()),
        timeout,
        args.networks.networks(),
    )
    .context("cannot set up webhook delivery")?;
    Ok(ChannelNotifier::new(email, webhook))
}

/// One sweep, then every delivery due now, attempted once each (failures are scheduled for
/// a retry by `serve` or a later `sweep`).
pub(crate) fn sweep(
    service: &RegistrationService,
    notifier: &ChannelNotifier,
    json: bool,
) -> Result<String> {
    let report = service.sweep()?;
    let due = service.due_delivery_count(&notifier.channels())?;
    let progress = if due >= PROGRESS_FROM && std::io::stderr().is_terminal() {
        ProgressBar::new(due).with_style(
            ProgressStyle::with_template("delivering {bar:40} {pos}/{len} ({eta} left)")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        )
    } else {
        ProgressBar::hidden()
    };
    let mut deliveries = DeliveryReport::default();
    loop {
        let round = service.deliver_due(notifier, BATCH)?;
        deliveries.add(round);
        progress.inc(round.attempted as u64);
        if round.attempted < BATCH {
            break;
        }
    }
    progress.finish_and_clear();
    let waiting_for_smtp = if notifier.channels().contains(&Channel::Email) {
        0
    } else {
        service.due_delivery_count(&[Channel::Email])?
    };
    if json {
        let value = SweepJson::new(report, deliveries, waiting_for_smtp);
        return Ok(serde_json::to_string_pretty(&value)?);
    }
    let mut lines = vec![format!(
        "Swept {} site(s), {} registration(s): {} notice(s) recorded.",
        report.sites, report.registrations_evaluated, report.notices_recorded
    )];
    if deliveries.attempted > 0 {
        lines.push(format!(
            "Deliveries: {} attempted, {} sent, {} retrying, {} dead.",
            deliveries.attempted, deliveries.sent, deliveries.retrying, deliveries.dead
        ));
    }
    if waiting_for_smtp > 0 {
        lines.push(format!(
            "{waiting_for_smtp} e-mail delivery(ies) wait for an SMTP server (--smtp-url)."
        ));
    }
    Ok(lines.join("\n"))
}
