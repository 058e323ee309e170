//! How deploylab's own HTTP(S) servers (the package proxy, the fake
//! Heroku's API and router) take connections, bounded: a student in a VM or
//! any local user can reach them, so a slow or hostile client may not hold
//! them. So many connections at once (more wait in the kernel's queue); a
//! TLS handshake and a request head each have a deadline; an accept error
//! (out of descriptors) waits instead of spinning; request bodies are read
//! up to a limit (`read_body`).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::{Request, Response};
use tokio::net::TcpListener;

/// A response body: whole (pages, JSON) or streamed (files, git, logs).
pub type Body = BoxBody<Bytes, std::io::Error>;

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// A client has this long to finish its TLS handshake, and then each
/// request's head.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// What a listener speaks.
#[derive(Clone)]
pub enum Security {
    Plain,
    Tls(tokio_rustls::TlsAcceptor),
    /// HTTPS or plain HTTP on the same port, told apart by the first byte
    /// the client sends (a TLS handshake starts with 0x16): an app's
    /// redirect from http://host:port/ to https://host:port/ then works.
    Either(tokio_rustls::TlsAcceptor),
}

/// In each request's extensions: whether its connection was TLS.
#[derive(Debug, Clone, Copy)]
pub struct Secure(pub bool);

/// Serves `listener` until the process ends, `max_connections` at once;
/// `handle` answers each request.
pub async fn serve<F, Fut>(
    listener: TcpListener,
    security: Security,
    max_connections: usize,
    handle: F,
) where
    F: Fn(Request<hyper::body::Incoming>, SocketAddr) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let slots = Arc::new(tokio::sync::Semaphore::new(max_connections));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!("accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let (handle, security) = (handle.clone(), security.clone());
        tokio::spawn(async move {
            let acceptor = match security {
                Security::Plain => None,
                Security::Tls(acceptor) => Some(acceptor),
                Security::Either(acceptor) => {
                    let mut first = [0u8; 1];
                    let peeked = tokio::time::timeout(HANDSHAKE_TIMEOUT, stream.peek(&mut first));
                    match peeked.await {
                        Ok(Ok(1)) if first[0] == 0x16 => Some(acceptor),
                        Ok(Ok(1)) => None,
                        _ => return,
                    }
                }
            };
            let secure = Secure(acceptor.is_some());
            let service = hyper::service::service_fn(move |mut req: Request<_>| {
                let handle = handle.clone();
                req.extensions_mut().insert(secure);
                async move { Ok::<_, Infallible>(handle(req, peer).await) }
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT);
            match acceptor {
                Some(acceptor) => {
                    if let Ok(Ok(stream)) =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                    {
                        let io = hyper_util::rt::TokioIo::new(stream);
                        let _ = builder.serve_connection(io, service).with_upgrades().await;
                    }
                }
                None => {
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = builder.serve_connection(io, service).with_upgrades().await;
                }
            }
            drop(slot);
        });
    }
}

/// A TLS handshake within the deadline, for listeners that are not HTTP.
pub async fn handshake(
    acceptor: &tokio_rustls::TlsAcceptor,
    stream: tokio::net::TcpStream,
) -> Option<tokio_rustls::server::TlsStream<tokio::net::TcpStream>> {
    tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream))
        .await
        .ok()?
        .ok()
}

/// A request's body, or `None` when it is larger than `limit` (or broke
/// off): it is never held whole beyond the limit.
pub async fn read_body(body: hyper::body::Incoming, limit: usize) -> Option<Bytes> {
    http_body_util::Limited::new(body, limit)
        .collect()
        .await
        .ok()
        .map(http_body_util::Collected::to_bytes)
}
