//! The fake Heroku speaks HTTPS like the real one (the CLI's git remotes are
//! always `https://`), with the kit's local CA (`fakekit::tls`): git trusts
//! it via `http.sslCAInfo`, the heroku CLI via `NODE_EXTRA_CA_CERTS`.

use std::path::Path;
use std::sync::Arc;

use tokio_rustls::rustls;

pub(crate) use fakekit::tls::ca_path;

use crate::error::Result;

/// The API's and git's TLS: a certificate for localhost.
pub(crate) fn server_config(dir: &Path) -> Result<Arc<rustls::ServerConfig>> {
    Ok(fakekit::tls::server_config(dir)?)
}

/// The router's TLS: a certificate per app (`<app>.localhost`, asked for
/// by the client's SNI); any other name gets none.
pub(crate) fn router_config(dir: &Path) -> Result<Arc<rustls::ServerConfig>> {
    Ok(fakekit::tls::per_name_config(dir, |name| {
        super::router::app_of_host(name).is_some()
    })?)
}
