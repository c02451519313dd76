//! The connection's TLS, as libpq's `sslmode` names it (SPEC 11), on rustls with ring.
//!
//! | `sslmode`          | encrypted            | the server's certificate is checked        |
//! |--------------------|----------------------|--------------------------------------------|
//! | `disable`          | no                   | -                                          |
//! | `allow`, `prefer`  | when the server can  | no                                         |
//! | `require`          | yes                  | no; its chain when `sslrootcert` is given  |
//! | `verify-ca`        | yes                  | its chain                                  |
//! | `verify-full`      | yes                  | its chain and that it names the host       |
//!
//! Chains are checked against `sslrootcert=PATH` (PEM) when given, else the platform's
//! trust store. The default is `prefer`, as in libpq.

use std::sync::Arc;

use postgres::config::SslMode;
use registration_core::StoreError;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;

/// What a URL asks for: the driver's configuration and the TLS connector to use with it.
pub(crate) fn parse(url: &str) -> Result<(postgres::Config, MakeRustlsConnect), StoreError> {
    let bad = |what: String| {
        StoreError::Unavailable(format!(
            "the database URL is not a PostgreSQL URL ({what}): expected \
             postgres://user:password@host:port/database[?sslmode=verify-full]"
        ))
    };
    // The driver knows neither verify-ca/verify-full nor sslrootcert: they are taken out
    // of the query before it parses the rest.
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut ssl_mode = None;
    let mut root_cert = None;
    let mut rest = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match &*key {
            "sslmode" => ssl_mode = Some(value.into_owned()),
            "sslrootcert" => root_cert = Some(value.into_owned()),
            _ => {
                rest.append_pair(&key, &value);
            }
        }
    }
    let rest = rest.finish();
    let driver_url = if rest.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{rest}")
    };
    let mut config: postgres::Config = driver_url
        .parse()
        .map_err(|error: postgres::Error| bad(error.to_string()))?;
    let check = match ssl_mode.as_deref().unwrap_or("prefer") {
        "disable" => {
            config.ssl_mode(SslMode::Disable);
            Check::Nothing
        }
        "allow" | "prefer" => {
            config.ssl_mode(SslMode::Prefer);
            Check::Nothing
        }
        "require" => {
            config.ssl_mode(SslMode::Require);
            if root_cert.is_some() {
                Check::Chain
            } else {
                Check::Nothing
            }
        }
        "verify-ca" => {
            config.ssl_mode(SslMode::Require);
            Check::Chain
        }
        "verify-full" => {
            config.ssl_mode(SslMode::Require);
            Check::ChainAndName
        }
        other => {
            return Err(bad(format!(
                "sslmode {other:?} is not one of disable, allow, prefer, require, verify-ca, \
                 verify-full"
            )));
        }
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = verifier(check, root_cert.as_deref(), &provider)?;
    let tls = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| StoreError::Unavailable(format!("TLS: {error}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok((config, MakeRustlsConnect::new(tls)))
}

#[derive(Debug, Clone, Copy)]
enum Check {
    Nothing,
    Chain,
    ChainAndName,
}

fn verifier(
    check: Check,
    root_cert: Option<&str>,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, StoreError> {
    let full: Arc<dyn ServerCertVerifier> = match root_cert {
        Some(path) => {
            let unreadable = |error: &dyn std::fmt::Display| {
                StoreError::Unavailable(format!("sslrootcert {path}: {error}"))
            };
            let mut roots = RootCertStore::empty();
            for certificate in
                CertificateDer::pem_file_iter(path).map_err(|error| unreadable(&error))?
            {
                roots
                    .add(certificate.map_err(|error| unreadable(&error))?)
                    .map_err(|error| unreadable(&error))?;
            }
            if roots.is_empty() {
                return Err(unreadable(&"holds no PEM certificate"));
            }
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|error| unreadable(&error))?
        }
        None => Arc::new(
            rustls_platform_verifier::Verifier::new(provider.clone()).map_err(|error| {
                StoreError::Unavailable(format!("the platform's trust store: {error}"))
            })?,
        ),
    };
    Ok(match check {
        Check::ChainAndName => full,
        Check::Chain => Arc::new(ChainOnly(full)),
        Check::Nothing => Arc::new(Unchecked(provider.clone())),
    })
}

/// `verify-ca`: the chain must lead to a trusted root; the name in it is not compared.
#[derive(Debug)]
struct ChainOnly(Arc<dyn ServerCertVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `prefer` and `require` without a root: encrypted against passive listeners, as libpq
/// does, with the handshake's signatures still checked; the certificate itself is not.
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
