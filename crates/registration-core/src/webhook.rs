//! Site webhook endpoints (SPEC section 5): every notice of a site is POSTed, signed, to each.

use std::fmt;

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
