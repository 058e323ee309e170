//! A fake platform speaks HTTPS like the real one (the heroku CLI's git
//! remotes are always `https://`; kubectl talks TLS to its API server): the
//! kit makes a local certificate authority once per folder, a certificate
//! for localhost signed by it, and, for routers that serve many names,
//! a certificate per name asked for (SNI). Clients trust the CA file
//! (`ca_path`): git via `http.sslCAInfo`, Node via `NODE_EXTRA_CA_CERTS`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;

use crate::{Error, Result};

/// How many per-name certificates a router keeps before it starts again
/// (a client could ask for endless names).
const MADE_AT_MOST: usize = 1024;

/// Where the CA certificate clients must trust is kept in `dir`.
pub fn ca_path(dir: &Path) -> PathBuf {
    dir.join("ca.pem")
}

fn ca_key_path(dir: &Path) -> PathBuf {
    dir.join("ca-key.pem")
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

/// The CA of `dir`, made there on first use.
fn issuer(dir: &Path) -> Result<Issuer<'static, KeyPair>> {
    std::fs::create_dir_all(dir).map_err(Error::io(format!("creating {}", dir.display())))?;
    if !ca_path(dir).exists() || !ca_key_path(dir).exists() {
        let key = KeyPair::generate().map_err(tls_error)?;
        let cert = ca_params().self_signed(&key).map_err(tls_error)?;
        write_private(&ca_key_path(dir), &key.serialize_pem())?;
        std::fs::write(ca_path(dir), cert.pem()).map_err(Error::io("writing the CA"))?;
        // Certificates of an older CA would not be trusted any more.
        let _ = std::fs::remove_file(dir.join("localhost.pem"));
    }
    let ca_key =
        std::fs::read_to_string(ca_key_path(dir)).map_err(Error::io("reading the CA key"))?;
    Ok(Issuer::new(
        ca_params(),
        KeyPair::from_pem(&ca_key).map_err(tls_error)?,
    ))
}

/// Makes (once) the CA and the localhost certificate in `dir`, and returns
/// the TLS configuration of a server at `localhost` and `127.0.0.1`.
pub fn server_config(dir: &Path) -> Result<Arc<rustls::ServerConfig>> {
    let issuer = issuer(dir)?;
    let cert_path = dir.join("localhost.pem");
    let key_path = dir.join("localhost-key.pem");
    if !cert_path.exists() || !key_path.exists() {
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
    let certs = rustls::pki_types::CertificateDer::pem_slice_iter(&read(&cert_path)?)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(tls_error)?;
    let key =
        rustls::pki_types::PrivateKeyDer::from_pem_slice(&read(&key_path)?).map_err(tls_error)?;
    let config = builder()?.with_single_cert(certs, key).map_err(tls_error)?;
    Ok(Arc::new(config))
}

/// A router's TLS: a certificate for each name a client asks for (SNI)
/// that `serves` accepts, made by the CA of `dir` on first use and kept for
/// the process. Other names get none, and the handshake fails as for an
/// unknown host. (TLS clients refuse a wildcard `*.localhost`: a wildcard
/// needs two labels after it.)
pub fn per_name_config(dir: &Path, serves: fn(&str) -> bool) -> Result<Arc<rustls::ServerConfig>> {
    let resolver = PerName {
        issuer: issuer(dir)?,
        serves,
        made: std::sync::Mutex::new(std::collections::HashMap::new()),
    };
    Ok(Arc::new(builder()?.with_cert_resolver(Arc::new(resolver))))
}

fn builder() -> Result<rustls::ConfigBuilder<rustls::ServerConfig, rustls::server::WantsServerCert>>
{
    Ok(rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(tls_error)?
    .with_no_client_auth())
}

fn write_private(path: &Path, pem: &str) -> Result<()> {
    crate::write_private(path, pem.as_bytes())
        .map_err(Error::io(format!("writing {}", path.display())))
}

struct PerName {
    issuer: Issuer<'static, KeyPair>,
    serves: fn(&str) -> bool,
    made: std::sync::Mutex<std::collections::HashMap<String, Arc<rustls::sign::CertifiedKey>>>,
}

impl std::fmt::Debug for PerName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PerName")
    }
}

impl PerName {
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

impl rustls::server::ResolvesServerCert for PerName {
    fn resolve(
        &self,
        hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        let name = hello.server_name()?.to_ascii_lowercase();
        if !(self.serves)(&name) {
            return None;
        }
        let mut made = self.made.lock().expect("not poisoned");
        if let Some(known) = made.get(&name) {
            return Some(known.clone());
        }
        if made.len() >= MADE_AT_MOST {
            made.clear();
        }
        let fresh = self.make(&name)?;
        made.insert(name, fresh.clone());
        Some(fresh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CA is made once and kept: a second server of the same folder is
    /// signed by the same CA the clients already trust.
    #[test]
    fn the_ca_is_made_once_per_folder_and_its_key_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        server_config(dir.path()).unwrap();
        let ca = std::fs::read(ca_path(dir.path())).unwrap();
        server_config(dir.path()).unwrap();
        per_name_config(dir.path(), |name| name.ends_with(".localhost")).unwrap();
        assert_eq!(std::fs::read(ca_path(dir.path())).unwrap(), ca);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(ca_key_path(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
