//! Webhook POSTs signed as in the Standard Webhooks scheme
//! (<https://www.standardwebhooks.com>): headers `webhook-id`, `webhook-timestamp` and
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use registration_core::{
    Clock, Delivery, DeliveryFailure, WebhookNetworks, WebhookSecret, WebhookUrl,
};
use sha2::Sha256;
use time::format_description::well_known::Rfc3339;

use crate::Error;

/// Sends webhook deliveries: one JSON POST per delivery, no redirects followed (the
/// configured URL is the only place a signed notice goes).
pub struct WebhookSender {
    client: reqwest::blocking::Client,
    clock: Arc<dyn Clock>,
    networks: WebhookNetworks,
}

impl std::fmt::Debug for WebhookSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSender").finish_non_exhaustive()
    }
}

impl WebhookSender {
    /// Must be called outside an async runtime (the blocking client runs its own).
    /// `networks` limits where deliveries may go, checked on the addresses each connection
    /// actually uses (decision 0008).
    pub fn new(
        clock: Arc<dyn Clock>,
        timeout: Duration,
        networks: WebhookNetworks,
    ) -> Result<Self, Error> {
        crate::install_tls_provider();
        let client = reqwest::blocking::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            // Straight to the checked address: a proxy would resolve the name itself.
            .no_proxy()
            .dns_resolver(Arc::new(CheckedResolver { networks }))
            .user_agent(concat!("appreg-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| Error::HttpClient(error.to_string()))?;
        Ok(Self {
            client,
            clock,
            networks,
        })
    }

    pub(crate) fn send(&self, delivery: &Delivery) -> Result<(), DeliveryFailure> {
        let retry = |reason: String| DeliveryFailure {
            reason,
            permanent: false,
        };
        // An IP-literal host never reaches the resolver: check it here.
        let literal_refusal = WebhookUrl::parse(&delivery.recipient)
            .ok()
            .and_then(|url| url.host_refusal(self.networks));
        if let Some(reason) = literal_refusal {
            return Err(refused(reason));
        }
        let Some(secret) = &delivery.signing_secret else {
            return Err(DeliveryFailure {
                reason: "the endpoint has no signing secret".into(),
                permanent: true,
            });
        };
        let id = format!("msg_{}", delivery.message_id());
        let timestamp = self.clock.now().unix_timestamp();
        let body = webhook_payload(delivery);
        let signature = sign(secret, &id, timestamp, &body);
        let response = self
            .client
            .post(&delivery.recipient)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .map_err(|error| match refusal_in(&error) {
                Some(reason) => refused(reason),
                None => retry(describe(&error)),
            })?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(retry(format!("the receiver answered {status}")))
        }
    }
}

/// `v1,<signature>` for one message, as the receiver recomputes it.
pub fn sign(secret: &WebhookSecret, id: &str, timestamp: i64, body: &str) -> String {
    let key = secret.key().unwrap_or_default();
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The JSON body of a webhook POST: a Standard Webhooks envelope (`type`, `timestamp`,
/// `data`) around the notice.
pub fn webhook_payload(delivery: &Delivery) -> String {
    let rfc3339 = |instant: time::OffsetDateTime| instant.format(&Rfc3339).unwrap_or_default();
    serde_json::json!({
        "type": format!("app_registration.{}", delivery.notice.kind),
        "timestamp": rfc3339(delivery.due_at),
        "data": {
            "site": delivery.site.as_str(),
            "kind": delivery.notice.kind.as_str(),
            "registration": {
                "id": delivery.notice.registration_id.to_string(),
                "name": delivery.registration_name,
                "client_id": delivery.client_id.as_str(),
                "expiration_date": delivery.notice.expiration_date.to_string(),
            },
            "due_at": rfc3339(delivery.due_at),
            "subject": delivery.subject,
            "body": delivery.body,
        }
    })
    .to_string()
}

/// A destination the network policy refuses: the delivery is dead, with the reason.
fn refused(reason: String) -> DeliveryFailure {
    DeliveryFailure {
        reason: format!("destination refused: {reason}"),
        permanent: true,
    }
}

/// The resolver's refusal, if that is why the request failed.
fn refusal_in(error: &reqwest::Error) -> Option<String> {
    let mut next = std::error::Error::source(error);
    while let Some(source) = next {
        if let Some(refusal) = source.downcast_ref::<DestinationRefused>() {
            return Some(refusal.0.clone());
        }
        next = source.source();
    }
    None
}

/// Why a name's addresses may not receive webhooks.
#[derive(Debug)]
struct DestinationRefused(String);

impl std::fmt::Display for DestinationRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DestinationRefused {}

/// Looks a name up and hands reqwest its addresses only when the policy allows every one of
/// them. Checking the addresses the connection will use, not a lookup made earlier, leaves
/// no window for DNS to answer differently between check and connect.
struct CheckedResolver {
    networks: WebhookNetworks,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let networks = self.networks;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses = tokio::task::spawn_blocking(move || checked_addresses(&host, networks))
                .await
                .map_err(|error| -> BoxError { Box::new(error) })??;
            let addresses: reqwest::dns::Addrs = Box::new(addresses.into_iter());
            Ok(addresses)
        })
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The addresses `host` resolves to, if `networks` allows every one of them.
fn checked_addresses(host: &str, networks: WebhookNetworks) -> Result<Vec<SocketAddr>, BoxError> {
    let addresses: Vec<SocketAddr> = (host, 0).to_socket_addrs()?.collect();
    match addresses.iter().find_map(|address| {
        networks
            .refusal(address.ip())
            .map(|why| (address.ip(), why))
    }) {
        Some((ip, why)) => Err(Box::new(DestinationRefused(format!(
            "{host} resolves to {ip}: {why}"
        )))),
        None => Ok(addresses),
    }
}

/// Checks a webhook URL before it is added: its literal host, or every address its name
/// resolves to now (a name that does not resolve is refused too). Deliveries check again
/// when they connect, since DNS answers can change.
pub fn check_destination(url: &WebhookUrl, networks: WebhookNetworks) -> Result<(), String> {
    if let Some(reason) = url.host_refusal(networks) {
        return Err(reason);
    }
    let parsed = reqwest::Url::parse(url.as_str()).map_err(|error| error.to_string())?;
    let host = parsed.host_str().unwrap_or_default();
    let literal = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .is_ok();
    if literal {
        return Ok(());
    }
    checked_addresses(host, networks)
        .map(drop)
        .map_err(|error| match error.downcast::<DestinationRefused>() {
            Ok(refused) => refused.0,
            Err(other) => format!("{host} does not resolve: {other}"),
        })
}

/// A transport error without the URL's query (which could carry a token of the receiver's).
fn describe(error: &reqwest::Error) -> String {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    // The innermost cause says most ("Connection refused (os error 111)").
    let mut innermost: Option<&dyn std::error::Error> = None;
    let mut next = std::error::Error::source(error);
    while let Some(source) = next {
        innermost = Some(source);
        next = source.source();
    }
    let cause = innermost
        .map(|source| format!(": {source}"))
        .unwrap_or_default();
    format!("the POST {what}{cause}")
}
