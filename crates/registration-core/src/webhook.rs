//! Site webhook endpoints (SPEC section 5): every notice of a site is POSTed, signed, to each.

use std::fmt;
use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::error::Error;
use crate::sources::RandomSource;

/// An endpoint URL: `http` or `https`, with a host, without credentials or fragment.
/// Credentials are refused because URLs are listed and logged; receivers authenticate the
/// sender by the signature instead.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    /// The longest URL accepted.
    pub const MAX_LEN: usize = 2000;

    /// An absolute `http`/`https` URL with a host, without credentials or fragment, at most
    /// [`MAX_LEN`](Self::MAX_LEN) bytes.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let invalid = |reason: &'static str| Error::InvalidWebhookUrl(reason);
        if text.len() > Self::MAX_LEN {
            return Err(invalid("it is longer than 2000 characters"));
        }
        let url = url::Url::parse(text).map_err(|_| invalid("it is not an absolute URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("it has no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(
                "it must not contain credentials (receivers check the signature instead)",
            ));
        }
        if url.fragment().is_some() {
            return Err(invalid("it must not have a #fragment"));
        }
        Ok(Self(url.into()))
    }

    /// The URL as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Why `networks` does not let webhooks reach this URL's host, when the host is an IP
    /// literal (in any spelling the URL standard accepts: `http://2130706433/` is
    /// 127.0.0.1). A name is checked on the addresses it resolves to, by the sender when it
    /// connects and by `webhook add`.
    pub fn host_refusal(&self, networks: WebhookNetworks) -> Option<String> {
        let url = url::Url::parse(&self.0).ok()?;
        let refusal = match url.host()? {
            url::Host::Ipv4(ip) => networks.refusal(IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => networks.refusal(IpAddr::V6(ip)),
            url::Host::Domain(_) => None,
        }?;
        Some(format!("{}: {refusal}", url.host_str().unwrap_or_default()))
    }
}

/// Which networks webhook deliveries may reach (decision 0008). A webhook URL is typed by
/// a site administrator, and the delivery log shows how each attempt failed: without a
/// limit, an administrator could make appreg probe its own network or cloud metadata.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WebhookNetworks {
    /// Public addresses only (the default).
    #[default]
    PublicOnly,
    /// Also the operator's own network: private ranges (RFC 1918, 100.64.0.0/10, fc00::/7)
    /// and loopback, for receivers beside appreg (`--allow-private-network`).
    AllowPrivate,
}

impl WebhookNetworks {
    /// Why webhooks may not be sent to `ip`, or `None` when they may. Link-local addresses
    /// (cloud metadata at 169.254.169.254), unspecified, multicast and broadcast addresses
    /// are refused under every policy; an IPv4-mapped IPv6 address counts as its IPv4.
    pub fn refusal(self, ip: IpAddr) -> Option<&'static str> {
        const UNSPECIFIED: &str =
            "the unspecified address (\"this host\") is never a webhook destination";
        const LINK_LOCAL: &str =
            "link-local addresses (cloud metadata lives there) are never webhook destinations";
        const MULTICAST: &str = "multicast and broadcast addresses are never webhook destinations";
        const PRIVATE: &str = "loopback and private-network addresses are refused unless the \
                               operator allows them (--allow-private-network)";
        let (never, private) = match ip.to_canonical() {
            IpAddr::V4(v4) => {
                let [first, second, ..] = v4.octets();
                let never = if v4.is_unspecified() || first == 0 {
                    Some(UNSPECIFIED)
                } else if v4.is_link_local() {
                    Some(LINK_LOCAL)
                } else if v4.is_multicast() || v4.is_broadcast() {
                    Some(MULTICAST)
                } else {
                    None
                };
                // 100.64.0.0/10 is carrier-grade NAT: someone's private network too.
                let shared = first == 100 && (64..=127).contains(&second);
                (never, v4.is_loopback() || v4.is_private() || shared)
            }
            IpAddr::V6(v6) => {
                let first = v6.segments()[0];
                let never = if v6.is_unspecified() {
                    Some(UNSPECIFIED)
                } else if first & 0xffc0 == 0xfe80 {
                    Some(LINK_LOCAL)
                } else if v6.is_multicast() {
                    Some(MULTICAST)
                } else {
                    None
                };
                // fc00::/7 unique local, fec0::/10 the deprecated site-local.
                let local = first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfec0;
                (never, v6.is_loopback() || local)
            }
        };
        never.or_else(|| (private && self == WebhookNetworks::PublicOnly).then_some(PRIVATE))
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A webhook signing secret in the Standard Webhooks format: `whsec_` and the base64 of 32
/// random bytes, the HMAC-SHA256 key. Stored in clear (the server must sign with it), shown
/// once when the endpoint is added; `Debug` redacts it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Zeroizing<String>);

impl WebhookSecret {
    const PREFIX: &'static str = "whsec_";
    const KEY_BYTES: usize = 32;

    /// A new signing secret from `random`.
    pub fn generate(random: &dyn RandomSource) -> Result<Self, Error> {
        let mut key = Zeroizing::new([0_u8; Self::KEY_BYTES]);
        random.fill_bytes(key.as_mut())?;
        Ok(Self(Zeroizing::new(format!(
            "{}{}",
            Self::PREFIX,
            STANDARD.encode(key.as_ref())
        ))))
    }

    /// A stored secret. Any non-empty base64 key is accepted, so secrets made elsewhere in
    /// this format can be imported.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let secret = Self(Zeroizing::new(text.to_owned()));
        match secret.key() {
            Some(key) if !key.is_empty() => Ok(secret),
            _ => Err(Error::MalformedWebhookSecret),
        }
    }

    /// The HMAC key: the decoded bytes after `whsec_`.
    pub fn key(&self) -> Option<Zeroizing<Vec<u8>>> {
        let encoded = self.0.strip_prefix(Self::PREFIX)?;
        STANDARD.decode(encoded).ok().map(Zeroizing::new)
    }

    /// The secret in clear, for signing and for showing once.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// A site's webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    /// Where deliveries are POSTed.
    pub url: WebhookUrl,
    /// The signing secret.
    pub secret: WebhookSecret,
    /// When the endpoint was added.
    pub created_at: OffsetDateTime,
}
