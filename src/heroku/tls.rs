//! The fake Heroku speaks HTTPS like the real one (the CLI's git remotes are
//! always `https://`): deploylab makes a local certificate authority once per
//! home and a certificate for localhost signed by it. git trusts the CA via
//! `http.sslCAInfo`, the heroku CLI via `NODE_EXTRA_CA_CERTS`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;

use crate::error::{Error, Result};

/// Where the CA certificate students' tools must trust is kept.
pub(crate) fn ca_path(dir: &Path) -> PathBuf {
    dir.join("ca.pem")
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "deploylab local CA");
    name.push(DnType::OrganizationName, "deploylab");
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

fn tls_error(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
    Error::Tls { source: e.into() }
}

/// Makes (once) the CA and the localhost certificate in `dir`, and returns
/// the TLS configuration of the server.
pub(crate) fn server_config(dir: &Path) -> Result<Arc<rustls::ServerConfig>> {
    std::fs::create_dir_all(dir).map_err(Error::io(format!("creating {}", dir.display())))?;
    let ca_key_path = dir.join("ca-key.pem");
    let cert_path = dir.join("localhost.pem");
    let key_path = dir.join("localhost-key.pem");
    if !ca_path(dir).exists() || !ca_key_path.exists() {
        let key = KeyPair::generate().map_err(tls_error)?;
        let cert = ca_params().self_signed(&key).map_err(tls_error)?;
        write_private(&ca_key_path, &key.serialize_pem())?;
        std::fs::write(ca_path(dir), cert.pem()).map_err(Error::io("writing the CA"))?;
        let _ = std::fs::remove_file(&cert_path);
    }
    if !cert_path.exists() || !key_path.exists() {
        let ca_key =
            std::fs::read_to_string(&ca_key_path).map_err(Error::io("reading the CA key"))?;
        let issuer = Issuer::new(ca_params(), KeyPair::from_pem(&ca_key).map_err(tls_error)?);
        let mut params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
                .map_err(tls_error)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let key = KeyPair::generate().map_err(tls_error)?;
        let cert = params.signed_by(&key, &issuer).map_err(tls_error)?;
        write_private(&key_path, &key.serialize_pem())?;
        std::fs::write(&cert_path, cert.pem()).map_err(Error::io("writing the certificate"))?;
    }
    let read = |p: &Path| std::fs::read(p).map_err(Error::io(format!("reading {}", p.display())));
    let certs = rustls_pki_types_certs(&read(&cert_path)?)?;
    let key =
        rustls::pki_types::PrivateKeyDer::from_pem_slice(&read(&key_path)?).map_err(tls_error)?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(tls_error)?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(tls_error)?;
    Ok(Arc::new(config))
}

fn rustls_pki_types_certs(pem: &[u8]) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(tls_error)
}

fn write_private(path: &Path, pem: &str) -> Result<()> {
    crate::state::write_private(path, pem.as_bytes())
        .map_err(Error::io(format!("writing {}", path.display())))
}

/// The router's TLS: a certificate per app name (`<app>.localhost`, asked
/// for by the client's SNI), made by the local CA on first use and kept
/// for the process. (TLS clients refuse a wildcard `*.localhost`: a
/// wildcard needs two labels after it.)
pub(crate) fn router_config(dir: &Path) -> Result<Arc<rustls::ServerConfig>> {
    server_config(dir)?;
    let ca_key =
        std::fs::read_to_string(dir.join("ca-key.pem")).map_err(Error::io("reading the CA key"))?;
    let issuer = Issuer::new(ca_params(), KeyPair::from_pem(&ca_key).map_err(tls_error)?);
    let resolver = AppCertificates {
        issuer,
        made: std::sync::Mutex::new(std::collections::HashMap::new()),
    };
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(tls_error)?
    .with_no_client_auth()
    .with_cert_resolver(Arc::new(resolver));
    Ok(Arc::new(config))
}

struct AppCertificates {
    issuer: Issuer<'static, KeyPair>,
    made: std::sync::Mutex<std::collections::HashMap<String, Arc<rustls::sign::CertifiedKey>>>,
}

impl std::fmt::Debug for AppCertificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppCertificates")
    }
}

impl AppCertificates {
    fn make(&self, name: &str) -> Option<Arc<rustls::sign::CertifiedKey>> {
        let mut params = CertificateParams::new(vec![name.to_string()]).ok()?;
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().ok()?;
        let cert = params.signed_by(&key, &self.issuer).ok()?;
        let der = rustls::pki_types::PrivateKeyDer::from_pem_slice(key.serialize_pem().as_bytes())
            .ok()?;
        let signer = rustls::crypto::ring::sign::any_supported_type(&der).ok()?;
        Some(Arc::new(rustls::sign::CertifiedKey::new(
            vec![cert.der().clone()],
            signer,
        )))
    }
}

impl rustls::server::ResolvesServerCert for AppCertificates {
    fn resolve(
        &self,
        hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        // Only `<app>.localhost` (any other name gets no certificate, and
        // the handshake fails as it would for an unknown host).
        let name = hello.server_name()?.to_ascii_lowercase();
        super::router::app_of_host(&name)?;
        let mut made = self.made.lock().expect("not poisoned");
        if let Some(known) = made.get(&name) {
            return Some(known.clone());
        }
        // Bounded: a client could ask for endless names.
        if made.len() >= 1024 {
            made.clear();
        }
        let fresh = self.make(&name)?;
        made.insert(name, fresh.clone());
        Some(fresh)
    }
}
