//! Client IDs, Client secrets and their argon2id hashes.
//!
//! The secret format follows GitHub's token format (prefix + random part + CRC32 checksum in
//! base62) so secret scanners can find leaked appreg secrets and a typo is caught offline,
//! before any hashing. See docs/decisions/0002-secret-format.md.

use std::fmt;
use std::sync::OnceLock;

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, SecretDefect};
use crate::sources::RandomSource;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE32_LOWER: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// The public identifier of a registration: 20 characters of `[a-z2-7]`, 100 random bits.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientId(String);

impl ClientId {
    /// Length of a Client ID.
    pub const LEN: usize = 20;

    /// Draws a new Client ID from `random`.
    pub fn generate(random: &dyn RandomSource) -> Result<Self, Error> {
        let mut bytes = [0u8; Self::LEN];
        random.fill_bytes(&mut bytes)?;
        // 32 divides 256, so masking to 5 bits keeps every character uniform.
        let id = bytes
            .iter()
            .map(|byte| char::from(BASE32_LOWER[usize::from(byte & 0x1f)]))
            .collect();
        Ok(Self(id))
    }

    /// Checks length and alphabet.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let well_formed = text.len() == Self::LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b));
        if well_formed {
            Ok(Self(text.to_owned()))
        } else {
            Err(Error::MalformedClientId)
        }
    }

    /// The Client ID as consumers present it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientId({})", self.0)
    }
}

/// A Client secret in clear: `appreg_` + 43 random base62 characters + 6 base62 characters of
/// the CRC32 of the random part.
///
/// `Debug` and `Display` never show it; the only way to read it is [`ClientSecret::expose_secret`],
/// and its memory is wiped on drop.
pub struct ClientSecret(Zeroizing<String>);

impl ClientSecret {
    /// What every Client secret starts with (secret scanners look for it).
    pub const PREFIX: &'static str = "appreg_";
    /// Length of a Client secret.
    pub const LEN: usize = Self::PREFIX.len() + RANDOM_LEN + CHECKSUM_LEN;

    /// Draws a new secret from `random`: 43 uniformly chosen base62 characters (256 bits).
    pub fn generate(random: &dyn RandomSource) -> Result<Self, Error> {
        checksummed_token(Self::PREFIX, random).map(Self)
    }

    /// Checks the format and the checksum of a presented secret, without any hashing.
    pub fn parse(presented: &str) -> Result<Self, Error> {
        check_checksummed_token(Self::PREFIX, presented)?;
        Ok(Self(Zeroizing::new(presented.to_owned())))
    }

    /// The secret in clear, for the single response that shows it and for hashing.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// The last four characters, stored to tell secrets apart.
    pub fn hint(&self) -> SecretHint {
        SecretHint(self.0[Self::LEN - SecretHint::LEN..].to_owned())
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(<redacted>)")
    }
}

impl fmt::Display for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted client secret>")
    }
}

/// Random characters in a checksummed token: 43 base62 characters carry 256 bits.
const RANDOM_LEN: usize = 43;
/// Base62 digits of the CRC32 checksum (62^6 > 2^32).
const CHECKSUM_LEN: usize = 6;

/// `count` uniformly chosen base62 characters from `random`, appended to `text`.
pub(crate) fn push_random_base62(
    text: &mut String,
    count: usize,
    random: &dyn RandomSource,
) -> Result<(), Error> {
    let mut pool = Zeroizing::new([0u8; 64]);
    let mut accepted = 0;
    while accepted < count {
        random.fill_bytes(pool.as_mut())?;
        // Rejection sampling: 248 = 4 * 62, so bytes below it map uniformly onto base62.
        for byte in pool.iter().filter(|&&b| b < 248) {
            if accepted == count {
                break;
            }
            text.push(char::from(BASE62[usize::from(byte % 62)]));
            accepted += 1;
        }
    }
    Ok(())
}

/// `prefix` + 43 random base62 characters + their CRC32 in 6 base62 characters: GitHub's
/// token format, which secret scanners recognise and which catches typos offline.
/// Lower-case hexadecimal, two digits a byte.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The bytes of lower- or upper-case hexadecimal, `None` for anything else.
pub(crate) fn unhex(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| {
        char::from(c)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let mut bytes = Zeroizing::new(Vec::with_capacity(text.len() / 2));
    for pair in text.as_bytes().chunks_exact(2) {
        bytes.push(digit(pair[0])? << 4 | digit(pair[1])?);
    }
    Some(bytes)
}

pub(crate) fn checksummed_token(
    prefix: &str,
    random: &dyn RandomSource,
) -> Result<Zeroizing<String>, Error> {
    let mut text = Zeroizing::new(String::with_capacity(
        prefix.len() + RANDOM_LEN + CHECKSUM_LEN,
    ));
    text.push_str(prefix);
    push_random_base62(&mut text, RANDOM_LEN, random)?;
    let checksum = checksum(&text[prefix.len()..]);
    text.push_str(&checksum);
    Ok(text)
}

/// Checks the prefix, length, alphabet and checksum of a presented token.
pub(crate) fn check_checksummed_token(prefix: &str, presented: &str) -> Result<(), Error> {
    let defect = |d| Err(Error::MalformedSecret(d));
    let Some(body) = presented.strip_prefix(prefix) else {
        return defect(SecretDefect::WrongPrefix);
    };
    if body.len() != RANDOM_LEN + CHECKSUM_LEN {
        return defect(SecretDefect::WrongLength);
    }
    if !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return defect(SecretDefect::InvalidCharacter);
    }
    let (random_part, presented_checksum) = body.split_at(RANDOM_LEN);
    if checksum(random_part) != presented_checksum {
        return defect(SecretDefect::ChecksumMismatch);
    }
    Ok(())
}

/// Base62 of the CRC32 of `random_part`, left-padded with '0' to 6 characters.
fn checksum(random_part: &str) -> String {
    let mut value = crc32fast::hash(random_part.as_bytes());
    let mut digits = [b'0'; CHECKSUM_LEN];
    for digit in digits.iter_mut().rev() {
        *digit = BASE62[(value % 62) as usize];
        value /= 62;
    }
    digits.iter().map(|&b| char::from(b)).collect()
}

/// The last 4 characters of a secret, kept in clear so an administrator can tell which secret
/// a consumer holds. They fall in the checksum, which is derived from the random part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretHint(String);

impl SecretHint {
    /// Length of a hint.
    pub const LEN: usize = 4;

    /// Checks a stored hint.
    pub fn parse(text: &str) -> Result<Self, Error> {
        if text.len() == Self::LEN && text.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Self(text.to_owned()))
        } else {
            Err(Error::MalformedSecret(SecretDefect::InvalidCharacter))
        }
    }

    /// The hint as shown.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SecretHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An argon2id PHC string, the only form in which a secret is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretHash(String);

impl SecretHash {
    /// Accepts a stored PHC string only if it is argon2id with at least the minimum parameters.
    pub fn parse(phc: &str) -> Result<Self, Error> {
        let parsed = PasswordHash::new(phc).map_err(|_| Error::MalformedSecretHash)?;
        if parsed.algorithm != argon2::ARGON2ID_IDENT || parsed.hash.is_none() {
            return Err(Error::MalformedSecretHash);
        }
        let params = Params::try_from(&parsed).map_err(|_| Error::MalformedSecretHash)?;
        SecretHasher::check_minimum(&params)?;
        Ok(Self(phc.to_owned()))
    }

    /// The PHC string, for storing.
    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Parameters only: the salt and output are useless to a reader and long.
        let params = self.0.split('$').nth(3).unwrap_or("?");
        write!(f, "SecretHash(argon2id {params})")
    }
}

/// Hashes and verifies secrets with argon2id. Verification compares in constant time
/// (argon2's output comparison) and [`SecretHasher::verify_unknown_client`] spends the same
/// work when there is no registration, so timing does not reveal whether a Client ID exists.
pub struct SecretHasher {
    params: Params,
    /// Made on first need (or by [`SecretHasher::warm_up`]): commands that never verify
    /// should not pay a hash at start-up.
    dummy_hash: OnceLock<String>,
}

impl SecretHasher {
    /// OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane.
    pub const MIN_M_KIB: u32 = 19_456;
    /// The minimum number of passes accepted.
    pub const MIN_T: u32 = 2;
    /// The minimum parallelism accepted.
    pub const MIN_P: u32 = 1;

    /// A hasher with the given cost; refuses anything below the minimum.
    pub fn new(m_kib: u32, t: u32, p: u32) -> Result<Self, Error> {
        let params = Params::new(m_kib, t, p, None).map_err(|e| Error::Hashing(e.to_string()))?;
        Self::check_minimum(&params)?;
        let hasher = Self {
            params,
            dummy_hash: OnceLock::new(),
        };
        Ok(hasher)
    }

    /// Makes the dummy hash now, so that even the first unknown-client verification costs
    /// exactly one verification. Servers call this before they accept requests.
    pub fn warm_up(&self) -> Result<(), Error> {
        self.dummy_hash().map(drop)
    }

    fn dummy_hash(&self) -> Result<&str, Error> {
        if let Some(hash) = self.dummy_hash.get() {
            return Ok(hash);
        }
        // A fixed input is fine: the dummy only has to cost what a real verification costs.
        let hash = self.hash_with_salt(b"appreg-dummy", &[0u8; 16])?;
        Ok(self.dummy_hash.get_or_init(|| hash))
    }

    /// The minimum parameters, which are also the default.
    pub fn recommended() -> Result<Self, Error> {
        Self::new(Self::MIN_M_KIB, Self::MIN_T, Self::MIN_P)
    }

    fn check_minimum(params: &Params) -> Result<(), Error> {
        if params.m_cost() < Self::MIN_M_KIB
            || params.t_cost() < Self::MIN_T
            || params.p_cost() < Self::MIN_P
        {
            return Err(Error::WeakHashParameters {
                min_m_kib: Self::MIN_M_KIB,
                min_t: Self::MIN_T,
                min_p: Self::MIN_P,
            });
        }
        Ok(())
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    fn hash_with_salt(&self, password: &[u8], salt: &[u8]) -> Result<String, Error> {
        self.argon2()
            .hash_password_with_salt(password, salt)
            .map(|hash| hash.to_string())
            .map_err(|e| Error::Hashing(e.to_string()))
    }

    /// Hashes `secret` with a fresh 16-byte salt from `random`.
    pub fn hash(
        &self,
        secret: &ClientSecret,
        random: &dyn RandomSource,
    ) -> Result<SecretHash, Error> {
        self.hash_bytes(secret.expose_secret().as_bytes(), random)
    }

    /// Hashes any secret text (an administrator's password) the same way.
    pub(crate) fn hash_bytes(
        &self,
        secret: &[u8],
        random: &dyn RandomSource,
    ) -> Result<SecretHash, Error> {
        let mut salt = [0u8; 16];
        random.fill_bytes(&mut salt)?;
        let phc = self.hash_with_salt(secret, &salt);
        salt.zeroize();
        phc.map(SecretHash)
    }

    /// True iff `secret` is the one `hash` was made from.
    pub fn verify(&self, secret: &ClientSecret, hash: &SecretHash) -> bool {
        self.verify_bytes(secret.expose_secret().as_bytes(), hash)
    }

    pub(crate) fn verify_bytes(&self, secret: &[u8], hash: &SecretHash) -> bool {
        self.argon2().verify_password(secret, hash.as_phc()).is_ok()
    }

    /// [`SecretHasher::verify_unknown_client`] for any secret text.
    pub(crate) fn verify_unknown_bytes(&self, secret: &[u8]) -> bool {
        if let Ok(dummy_hash) = self.dummy_hash() {
            let _ = self.argon2().verify_password(secret, dummy_hash);
        }
        false
    }

    /// Spends the cost of one verification and answers false: call it when the Client ID is
    /// unknown, so an unknown client and a wrong secret take the same time.
    pub fn verify_unknown_client(&self, secret: &ClientSecret) -> bool {
        self.verify_unknown_bytes(secret.expose_secret().as_bytes())
    }
}

impl fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretHasher")
            .field("m_kib", &self.params.m_cost())
            .field("t", &self.params.t_cost())
            .field("p", &self.params.p_cost())
            .finish()
    }
}
