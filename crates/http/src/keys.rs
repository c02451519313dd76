//! Ed25519 signing keys, the JWKS, and compact JWS (JWT) encoding and verification for
//! RFC 9068 access tokens.
//!
//! A JWT here is three base64url parts; with one algorithm (EdDSA) and our own claims the
//! format is a dozen lines, so no JWT library is involved on the serving side (see
//! docs/decisions/0006-http-server.md). Tests verify tokens with an independent library.

use std::sync::RwLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use registration_core::{AccessTokenClaims, SigningKeyRecord};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The signing keys in force: the first signs, all verify.
#[derive(Debug, Default)]
pub(crate) struct KeyRing {
    keys: RwLock<Vec<Key>>,
}

struct Key {
    kid: String,
    signing: SigningKey,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    alg: String,
    typ: String,
    kid: String,
}

/// The JWT claims as they appear on the wire.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct WireClaims {
    pub(crate) iss: String,
    pub(crate) sub: String,
    pub(crate) aud: String,
    pub(crate) client_id: String,
    pub(crate) site: String,
    pub(crate) iat: i64,
    pub(crate) exp: i64,
    pub(crate) jti: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(crate) scope: Option<String>,
}

impl KeyRing {
    /// Replaces the keys with `records` (newest first), e.g. after a rotation.
    pub(crate) fn load(&self, records: &[SigningKeyRecord]) {
        let keys = records
            .iter()
            .map(|record| Key {
                kid: record.kid.clone(),
                signing: SigningKey::from_bytes(&record.private_key),
            })
            .collect();
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = keys;
    }

    /// A signed compact JWS for `claims`, or `None` when no key is loaded.
    pub(crate) fn sign(&self, claims: &AccessTokenClaims) -> Option<String> {
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        let key = keys.first()?;
        let header = Header {
            alg: "EdDSA".into(),
            typ: "at+jwt".into(),
            kid: key.kid.clone(),
        };
        let wire = WireClaims {
            iss: claims.issuer.clone(),
            sub: claims.client_id.to_string(),
            aud: claims.issuer.clone(),
            client_id: claims.client_id.to_string(),
            site: claims.site.to_string(),
            iat: claims.issued_at.unix_timestamp(),
            exp: claims.expires_at.unix_timestamp(),
            jti: claims.token_id.clone(),
            scope: claims.scope.clone(),
        };
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).ok()?),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&wire).ok()?)
        );
        let signature = key.signing.sign(signing_input.as_bytes());
        Some(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        ))
    }

    /// The claims of `token` if a kept key signed it and it has not expired at `now`.
    pub(crate) fn verify(&self, token: &str, now: OffsetDateTime) -> Option<WireClaims> {
        let mut parts = token.split('.');
        let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let header: Header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
        if header.alg != "EdDSA" {
            return None;
        }
        let signature: [u8; 64] = URL_SAFE_NO_PAD.decode(signature).ok()?.try_into().ok()?;
        let verifying: VerifyingKey = {
            let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
            keys.iter()
                .find(|key| key.kid == header.kid)?
                .signing
                .verifying_key()
        };
        let signing_input = &token[..token.rfind('.')?];
        verifying
            .verify_strict(signing_input.as_bytes(), &Signature::from_bytes(&signature))
            .ok()?;
        let claims: WireClaims =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        (claims.exp > now.unix_timestamp()).then_some(claims)
    }

    /// The public keys as a JWK Set (RFC 7517, OKP keys of RFC 8037).
    pub(crate) fn jwks(&self) -> serde_json::Value {
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        let keys: Vec<serde_json::Value> = keys
            .iter()
            .map(|key| {
                serde_json::json!({
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "use": "sig",
                    "alg": "EdDSA",
                    "kid": key.kid,
                    "x": URL_SAFE_NO_PAD.encode(key.signing.verifying_key().to_bytes()),
                })
            })
            .collect();
        serde_json::json!({ "keys": keys })
    }
}
