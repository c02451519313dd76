//! One function per command: parse the arguments into domain values, call the service,
//! render. No rule is decided here.

use anyhow::{Context, Result, anyhow};
use registration_core::{
    Actor, AdminName, AdminPassword, AuditQuery, BannerSetting, Channel, ClientId, Error,
    ExpirationDate, ExpiryWindow, ListQuery, NewRegistration, NoticeKind, RegistrationName,
    RegistrationService, SecretOverlap, SiteName, SiteSlug, SiteZone, Snapshot, StateFilter,
    StoreError, TemplateEdit, WebhookUrl, parse_email,
};

use crate::args::{
    AdminCommand, AuditCommand, Command, KeysCommand, NoticesCommand, RegCommand, SiteCommand,
    Target, TemplatesCommand, WebhookCommand,
};
use crate::render::{
    audit_table, expiring_csv, expiring_table, notices_table, registration_details,
    registrations_table, rotated, sites_table, table,
};
use registration_http::wire::{
    AuditEntryJson, NoticeJson, RegistrationJson, SiteJson, TemplateJson, rfc3339,
};

pub(crate) fn execute(
    service: &RegistrationService,
    command: Command,
    json: bool,
    actor: &Actor,
) -> Result<String> {
    match command {
        Command::Serve { .. } => unreachable!("main runs serve with its notifier"),
        Command::Keys(KeysCommand::Rotate) => {
            let keys = service.rotate_signing_key()?;
            let kids: Vec<&str> = keys.iter().map(|key| key.kid.as_str()).collect();
            if json {
                return to_json(&serde_json::json!({ "current": kids[0], "kept": kids }));
            }
            Ok(format!(
                "Signing key {} is now current; kept for verification: {}.",
                kids[0],
                kids[1..].join(", ")
            ))
        }
        Command::Admin(command) => admin(service, command, json, actor),
        Command::Site(command) => site(service, command, json, actor),
        Command::Templates(command) => templates(service, command, json, actor),
        Command::Subscribe {
            username,
            site,
            template,
            channel,
            off,
        } => {
            let site = site_slug(&site.site)?;
            let username = AdminName::parse(&username)?;
            let kind = NoticeKind::parse(&template).ok_or_else(|| {
                anyhow!(
                    "unknown template {template:?}: use expires_in_30_days, expires_in_7_days \
                     or expired"
                )
            })?;
            let channel = match Channel::parse(&channel) {
                Some(channel @ (Channel::InApp | Channel::Email)) => channel,
                _ => anyhow::bail!("unknown channel {channel:?}: use in_app or email"),
            };
            let subscription = service.subscribe(&site, &username, kind, channel, !off, actor)?;
            if json {
                return to_json(&serde_json::json!({
                    "username": subscription.username.as_str(),
                    "site": site.as_str(),
                    "template": subscription.kind.as_str(),
                    "channel": subscription.channel.as_str(),
                    "enabled": subscription.enabled,
                }));
            }
            Ok(format!(
                "{} {} notices of {} for {username} in site {site}.",
                if subscription.enabled {
                    "Sending"
                } else {
                    "Not sending"
                },
                subscription.channel,
                subscription.kind.template_name(),
            ))
        }
        Command::Reg(command) => reg(service, command, json, actor),
        Command::Webhook(command) => webhook(service, command, json, actor),
        Command::Sweep { .. } => unreachable!("main runs sweep with its notifier"),
        Command::Db(_) => unreachable!("main copies between the stores it names"),
        Command::Notices(NoticesCommand::List { site }) => {
            let slug = site_slug(&site.site)?;
            let zone = service.site(&slug)?.zone;
            let entries = service.notices(&slug)?;
            if json {
                let entries: Vec<NoticeJson> =
                    entries.iter().map(|e| NoticeJson::new(e, zone)).collect();
                return to_json(&entries);
            }
            if entries.is_empty() {
                return Ok(format!("No notices recorded for site {slug}."));
            }
            Ok(notices_table(&entries, zone))
        }
        Command::Audit(AuditCommand::List {
            site,
            page,
            per_page,
        }) => {
            let slug = site_slug(&site.site)?;
            let zone = service.site(&slug)?.zone;
            let query = AuditQuery {
                offset: u64::from(page - 1) * u64::from(per_page),
                limit: per_page,
            };
            let (entries, total) = service.audit_page(&slug, &query)?;
            if json {
                let entries: Vec<AuditEntryJson> = entries
                    .iter()
                    .map(|entry| AuditEntryJson::new(entry, zone))
                    .collect();
                return to_json(&entries);
            }
            if entries.is_empty() {
                return Ok(format!(
                    "No audit entries on page {page} for site {slug} ({total} in all)."
                ));
            }
            Ok(format!(
                "{}\nPage {page}, {} of {total} entries, newest first.",
                audit_table(&entries, zone),
                entries.len()
            ))
        }
    }
}

fn admin(
    service: &RegistrationService,
    command: AdminCommand,
    json: bool,
    actor: &Actor,
) -> Result<String> {
    match command {
        AdminCommand::Add {
            username,
            sites,
            email,
            password_stdin,
        } => {
            let username = AdminName::parse(&username)?;
            let sites = sites
                .iter()
                .map(|site| site_slug(site))
                .collect::<Result<Vec<_>>>()?;
            let email = email.as_deref().map(parse_email).transpose()?;
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                Some(AdminPassword::parse(line.trim_end_matches(['\r', '\n']))?)
            } else {
                None
            };
            let (admin, generated) = service.add_admin(username, sites, email, password, actor)?;
            let sites: Vec<&str> = admin.sites.iter().map(SiteSlug::as_str).collect();
            if json {
                let mut body = serde_json::json!({
                    "username": admin.username.as_str(),
                    "sites": sites,
                    "email": admin.email,
                });
                if let Some(password) = &generated {
                    body["password"] = password.expose_secret().into();
                }
                return to_json(&body);
            }
            let mut out = format!(
                "Added administrator {} of site(s) {}.",
                admin.username,
                sites.join(", ")
            );
            if let Some(password) = generated {
                out.push_str(&format!(
                    "\n\n  Password  {}\n\nCopy it now: it is shown only this once.",
                    password.expose_secret()
                ));
            }
            Ok(out)
        }
        AdminCommand::Token { username } => {
            let username = AdminName::parse(&username)?;
            let token = service.issue_admin_token(&username, actor)?;
            if json {
                return to_json(&serde_json::json!({
                    "username": username.as_str(),
                    "token": token.expose_secret(),
                }));
            }
            Ok(format!(
                "API token for {username}:\n\n  {}\n\nSend it as \"Authorization: Bearer <token>\". \
                 It is shown only this once.",
                token.expose_secret()
            ))
        }
        AdminCommand::CalendarUrl {
            username,
            site,
            revoke,
        } => {
            let username = AdminName::parse(&username)?;
            let site = site_slug(&site.site)?;
            if revoke {
                let revoked = service.revoke_calendar_feed(&username, &site, actor)?;
                if json {
                    return to_json(&serde_json::json!({ "revoked": revoked }));
                }
                return Ok(if revoked {
                    format!(
                        "Revoked {username}'s calendar feed of site {site}: its URL now answers 404."
                    )
                } else {
                    format!("{username} has no calendar feed of site {site}; nothing to revoke.")
                });
            }
            let token = service.issue_calendar_feed(&username, &site, actor)?;
            let url = service.calendar_url(&site, &token);
            if json {
                return to_json(&serde_json::json!({ "url": url }));
            }
            Ok(format!(
                "Calendar feed of site {site} for {username}:\n\n  {url}\n\nSubscribe to it \
                 in a calendar. The URL is a secret: it is shown only this once, and an earlier \
                 one no longer works. Revoke it with --revoke."
            ))
        }
    }
}

fn templates(
    service: &RegistrationService,
    command: TemplatesCommand,
    json: bool,
    actor: &Actor,
) -> Result<String> {
    let (slug, templates) = match command {
        TemplatesCommand::List { site } => {
            let slug = site_slug(&site.site)?;
            let templates = service.templates(&slug)?;
            (slug, templates)
        }
        TemplatesCommand::Edit {
            site,
            kind,
            subject,
            body_file,
            banner,
            off,
            on,
        } => {
            let slug = site_slug(&site.site)?;
            let kind = NoticeKind::parse(&kind).ok_or_else(|| {
                anyhow!("unknown template {kind:?}: use expires_in_30_days, expires_in_7_days or expired")
            })?;
            let body = body_file
                .map(|path| {
                    std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))
                })
                .transpose()?;
            let edit = TemplateEdit {
                subject,
                body,
                banner: banner.as_deref().map(BannerSetting::parse).transpose()?,
                enabled: (off || on).then_some(on),
            };
            let template = service.edit_template(&slug, kind, edit, actor)?;
            (slug, vec![template])
        }
    };
    if json {
        let list: Vec<TemplateJson> = templates.iter().map(TemplateJson::new).collect();
        return to_json(&list);
    }
    let rows: Vec<Vec<String>> = templates
        .iter()
        .map(|t| {
            vec![
                t.kind.as_str().to_owned(),
                t.kind.template_name().to_owned(),
                if t.enabled { "Yes" } else { "No" }.to_owned(),
                if t.kind == NoticeKind::Expired {
                    "alert"
                } else {
                    t.banner.as_str()
                }
                .to_owned(),
                t.subject.clone(),
            ]
        })
        .collect();
    Ok(format!(
        "Templates of site {slug}:\n{}",
        crate::render::table(&["Kind", "Name", "Enabled", "Banner", "Subject"], &rows)
    ))
}

fn webhook(
    service: &RegistrationService,
    command: WebhookCommand,
    json: bool,
    actor: &Actor,
) -> Result<String> {
    match command {
        WebhookCommand::Add {
            site,
            url,
            networks,
        } => {
            let site = site_slug(&site.site)?;
            let url = WebhookUrl::parse(&url)?;
            let networks = networks.networks();
            notify::check_destination(&url, networks)
                .map_err(|reason| anyhow!("webhook destination refused: {reason}"))?;
            let endpoint = service.add_webhook(&site, url, networks, actor)?;
            if json {
                return to_json(&serde_json::json!({
                    "site": site.as_str(),
                    "url": endpoint.url.as_str(),
                    "secret": endpoint.secret.expose(),
                    "created_at": rfc3339(endpoint.created_at),
                }));
            }
            Ok(format!(
                "Webhook endpoint {} added to site {site}; it receives every notice.\n\n  \
                 signing secret  {}\n\n\
                 The secret is shown only this once. Receivers verify the webhook-signature \
                 header of each POST with it (Standard Webhooks, HMAC-SHA256).",
                endpoint.url,
                endpoint.secret.expose()
            ))
        }
        WebhookCommand::List { site } => {
            let site = site_slug(&site.site)?;
            let endpoints = service.webhooks(&site)?;
            if json {
                let listed: Vec<serde_json::Value> = endpoints
                    .iter()
                    .map(|endpoint| {
                        serde_json::json!({
                            "url": endpoint.url.as_str(),
                            "created_at": rfc3339(endpoint.created_at),
                        })
                    })
                    .collect();
                return to_json(&listed);
            }
            if endpoints.is_empty() {
                return Ok(format!("Site {site} has no webhook endpoints."));
            }
            let rows: Vec<Vec<String>> = endpoints
                .iter()
                .map(|endpoint| vec![endpoint.url.to_string(), rfc3339(endpoint.created_at)])
                .collect();
            Ok(table(&["URL", "Added"], &rows))
        }
        WebhookCommand::Remove { site, url } => {
            let site = site_slug(&site.site)?;
            let url = WebhookUrl::parse(&url)?;
            service.remove_webhook(&site, &url, actor)?;
            if json {
                return to_json(
                    &serde_json::json!({ "site": site.as_str(), "removed": url.as_str() }),
                );
            }
            Ok(format!(
                "Webhook endpoint {url} removed from site {site}; its waiting deliveries are \
                 cancelled."
            ))
        }
    }
}

fn to_json(value: &impl serde::Serialize) -> Result<String> {
    Ok(serde_json::to_string_pretty(value)?)
}

fn site_slug(text: &str) -> Result<SiteSlug> {
    Ok(SiteSlug::parse(text)?)
}

fn site(
    service: &RegistrationService,
    command: SiteCommand,
    json: bool,
    actor: &Actor,
) -> Result<String> {
    match command {
        SiteCommand::Add {
            slug,
            name,
            time_zone,
        } => {
            let slug = site_slug(&slug)?;
            let name = name.as_deref().map(SiteName::parse).transpose()?;
            let zone = time_zone.as_deref().map(SiteZone::parse).transpose()?;
            let site = service.add_site(slug, name, zone, actor)?;
            if json {
                return to_json(&SiteJson::new(&site));
            }
            Ok(format!(
                "Added site {} ({}, time zone {}).",
                site.slug,
                site.name.as_str(),
                site.zone.name()
            ))
        }
        SiteCommand::Edit {
            slug,
            name,
            time_zone,
        } => {
            let slug = site_slug(&slug)?;
            let name = name.as_deref().map(SiteName::parse).transpose()?;
            let zone = time_zone.as_deref().map(SiteZone::parse).transpose()?;
            let site =
                service
                    .edit_site(&slug, name, zone, actor)
                    .map_err(|error| match error {
                        Error::Store(StoreError::UnknownSite(_)) => {
                            anyhow!("site {slug} does not exist (appreg site list shows the sites)")
                        }
                        other => other.into(),
                    })?;
            if json {
                return to_json(&SiteJson::new(&site));
            }
            Ok(format!(
                "Site {} is now {}, time zone {}.",
                site.slug,
                site.name.as_str(),
                site.zone.name()
            ))
        }
        SiteCommand::List => {
            let sites = service.sites()?;
            if json {
                let sites: Vec<SiteJson> = sites.iter().map(SiteJson::new).collect();
                return to_json(&sites);
            }
            Ok(sites_table(&sites))
        }
    }
}

/// Parses `--site` and the Client ID of a command that targets one registration.
fn target(target: &Target) -> Result<(SiteSlug, ClientId)> {
    Ok((
        site_slug(&target.site.site)?,
        ClientId::parse(&target.client_id)?,
    ))
}

/// Names the registration in the message when it is not there (or is another site's).
fn not_found(site: &SiteSlug, client_id: &ClientId) -> impl FnOnce(Error) -> anyhow::Error {
    move |error| match error {
        Error::Store(StoreError::NotFound) => {
            anyhow!("site {site} has no App registration with Client ID {client_id}")
        }
        other => other.into(),
    }
}

/// Every registration of `site` in `state`, by name: the store filters, a page at a time.
fn in_state(
    service: &RegistrationService,
    site: &SiteSlug,
    state: StateFilter,
) -> Result<Vec<Snapshot>> {
    const PAGE: u32 = 1000;
    let mut all = Vec::new();
    loop {
        let query = ListQuery {
            offset: all.len() as u64,
            ..ListQuery::by_name(PAGE)
        };
        let (page, total) = service.list_page(site, &query, Some(state))?;
        let short = page.len() < PAGE as usize;
        all.extend(page);
        if short || all.len() as u64 >= total {
            return Ok(all);
        }
    }
}

fn reg(
    service: &RegistrationService,
    command: RegCommand,
    json: bool,
    actor: &Actor,
) -> Result<String> {
    let show = |snapshot| {
        if json {
            to_json(&RegistrationJson::new(&snapshot, None))
        } else {
            Ok(registration_details(&snapshot))
        }
    };
    match command {
        RegCommand::Create {
            site,
            name,
            expires,
            disabled,
        } => {
            let slug = site_slug(&site.site)?;
            let new = NewRegistration {
                name: RegistrationName::parse(&name)?,
                expiration_date: ExpirationDate::parse(&expires)?,
                enabled: !disabled,
            };
            let (snapshot, secret) = service.create(&slug, new, actor)?;
            if json {
                return to_json(&RegistrationJson::new(&snapshot, Some(&secret)));
            }
            let record = snapshot.registration.record();
            Ok(format!(
                "Created App registration \"{}\" in site {}.\n\n  \
                 Client ID      {}\n  \
                 Client secret  {}\n\n\
                 Copy the Client secret now: it is shown only this once and cannot be \
                 retrieved later.\n\
                 It can obtain tokens through {} and stops at {}.",
                record.name,
                record.site,
                record.client_id,
                secret.expose_secret(),
                record.expiration_date,
                snapshot.site.zone.display_local(snapshot.status.expires_at),
            ))
        }
        RegCommand::List { site, state } => {
            let slug = site_slug(&site.site)?;
            let snapshots = match state {
                None => service.list(&slug)?,
                Some(state) => in_state(service, &slug, state)?,
            };
            if json {
                let list: Vec<RegistrationJson> = snapshots
                    .iter()
                    .map(|s| RegistrationJson::new(s, None))
                    .collect();
                return to_json(&list);
            }
            if snapshots.is_empty() {
                return Ok(match state {
                    None => format!("Site {slug} has no App registrations."),
                    Some(state) => {
                        format!("Site {slug} has no {} App registrations.", state.as_str())
                    }
                });
            }
            Ok(registrations_table(&snapshots))
        }
        RegCommand::Show(t) => {
            let (site, client_id) = target(&t)?;
            show(
                service
                    .get(&site, &client_id)
                    .map_err(not_found(&site, &client_id))?,
            )
        }
        RegCommand::Expiring {
            within,
            site,
            all_sites: _,
            csv,
        } => {
            if csv && json {
                return Err(anyhow!("choose one of --csv and --json"));
            }
            let window = within
                .as_deref()
                .map_or(Ok(ExpiryWindow::DEFAULT), ExpiryWindow::parse)?;
            // The operator sees every site; --all-sites says so explicitly.
            let sites = match site {
                Some(site) => vec![site_slug(&site)?],
                None => service.sites()?.into_iter().map(|site| site.slug).collect(),
            };
            let (snapshots, _) = service.expiring(&sites, window, 0, u32::MAX)?;
            if json {
                let list: Vec<RegistrationJson> = snapshots
                    .iter()
                    .map(|s| RegistrationJson::new(s, None))
                    .collect();
                return to_json(&list);
            }
            if csv {
                return Ok(expiring_csv(&snapshots));
            }
            if snapshots.is_empty() {
                return Ok(format!(
                    "No App registration expires within {} days or has expired.",
                    window.as_days()
                ));
            }
            Ok(expiring_table(&snapshots))
        }
        RegCommand::Renew { target: t, expires } => {
            let (site, client_id) = target(&t)?;
            let expiration_date = ExpirationDate::parse(&expires)?;
            show(
                service
                    .renew(&site, &client_id, expiration_date, actor)
                    .map_err(not_found(&site, &client_id))?,
            )
        }
        RegCommand::Enable(t) => {
            let (site, client_id) = target(&t)?;
            show(
                service
                    .set_enabled(&site, &client_id, true, actor)
                    .map_err(not_found(&site, &client_id))?,
            )
        }
        RegCommand::Disable(t) => {
            let (site, client_id) = target(&t)?;
            show(
                service
                    .set_enabled(&site, &client_id, false, actor)
                    .map_err(not_found(&site, &client_id))?,
            )
        }
        RegCommand::Rotate { target: t, overlap } => {
            let (site, client_id) = target(&t)?;
            let overlap = overlap
                .as_deref()
                .map_or(Ok(SecretOverlap::DEFAULT), SecretOverlap::parse)?;
            let (snapshot, secret) = service
                .rotate_secret(&site, &client_id, overlap, actor)
                .map_err(not_found(&site, &client_id))?;
            if json {
                return to_json(&RegistrationJson::rotated(&snapshot, &secret));
            }
            Ok(rotated(&snapshot, &secret))
        }
        RegCommand::RetireSecret(t) => {
            let (site, client_id) = target(&t)?;
            show(
                service
                    .retire_previous_secret(&site, &client_id, actor)
                    .map_err(not_found(&site, &client_id))?,
            )
        }
        RegCommand::Delete(t) => {
            let (site, client_id) = target(&t)?;
            service
                .delete(&site, &client_id, actor)
                .map_err(not_found(&site, &client_id))?;
            if json {
                return to_json(&serde_json::json!({ "deleted": client_id.as_str() }));
            }
            Ok(format!(
                "Deleted App registration {client_id} from site {site}; its pending notices \
                 are cancelled."
            ))
        }
    }
}
