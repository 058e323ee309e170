//! Attaching a client to a process the platform runs for it (`heroku
//! run`; `kubectl attach` next): the platform hands the client a secret
//! for a session waiting in [`Pending`], and once the client comes back
//! with it, [`bridge`] joins the two: the client's bytes into the
//! process's input, the process's output back to the client.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// How many sessions may wait for their client at once (the oldest are not
/// kept past it: a client that never comes must not grow the platform).
const WAITING_AT_MOST: usize = 256;

/// Sessions waiting for their client, by the secret the client was given.
/// A secret works once.
pub struct Pending<T> {
    waiting: Mutex<HashMap<String, T>>,
}

impl<T> Default for Pending<T> {
    fn default() -> Self {
        Pending {
            waiting: Mutex::new(HashMap::new()),
        }
    }
}

impl<T> Pending<T> {
    /// Keeps `session` for the client that brings `secret`.
    pub fn add(&self, secret: String, session: T) {
        let mut waiting = self.waiting.lock().expect("not poisoned");
        if waiting.len() >= WAITING_AT_MOST {
            waiting.clear();
        }
        waiting.insert(secret, session);
    }

    /// The session of `secret`, once.
    pub fn take(&self, secret: &str) -> Option<T> {
        self.waiting.lock().expect("not poisoned").remove(secret)
    }
}

/// Joins a client and a process until the process's output ends: what the
/// client sends goes to the process's input, which closes when the client
/// closes or sends `end` (the heroku CLI's EOT, 0x04, when its stdin
/// ends); what the process prints goes to the client.
pub async fn bridge<C, I, O, E>(client: C, mut input: I, mut output: O, end: Option<u8>)
where
    C: AsyncRead + AsyncWrite,
    I: AsyncWrite + Unpin,
    O: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let (mut from_client, mut to_client) = tokio::io::split(client);
    let pump_in = async move {
        let mut buf = [0u8; 8192];
        loop {
            match from_client.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let data = &buf[..n];
                    let ended = end.and_then(|end| data.iter().position(|b| *b == end));
                    let data = ended.map_or(data, |i| &data[..i]);
                    if input.write_all(data).await.is_err() || ended.is_some() {
                        break;
                    }
                }
            }
        }
        let _ = input.shutdown().await;
    };
    let pump_out = async {
        while let Some(Ok(chunk)) = output.next().await {
            if to_client.write_all(&chunk).await.is_err() {
                break;
            }
        }
    };
    // The output ending ends the session; the input ending only closes
    // the process's input.
    tokio::select! {
        () = pump_out => {}
        () = async { pump_in.await; std::future::pending::<()>().await } => {}
    }
    let _ = to_client.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_opens_its_session_once() {
        let pending: Pending<&str> = Pending::default();
        pending.add("s3cr3t".into(), "run.1234");
        assert_eq!(pending.take("other"), None);
        assert_eq!(pending.take("s3cr3t"), Some("run.1234"));
        assert_eq!(pending.take("s3cr3t"), None);
    }

    /// The client's input up to EOT reaches the process, which then sees
    /// its input end; the process's output reaches the client.
    #[tokio::test]
    async fn bridge_carries_both_ways_and_eot_ends_the_input() {
        let (client, mut far_client) = tokio::io::duplex(1024);
        let (input, mut process_stdin) = tokio::io::duplex(1024);
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Result<Bytes, ()>>();
        let output = tokio_stream_of(rx);
        let session = tokio::spawn(bridge(client, input, output, Some(0x04)));
        far_client
            .write_all(b"print(1)\n\x04ignored")
            .await
            .unwrap();
        let mut got = Vec::new();
        process_stdin.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"print(1)\n");
        tx.send(Ok(Bytes::from_static(b"1\n"))).unwrap();
        drop(tx);
        session.await.unwrap();
        let mut printed = Vec::new();
        far_client.read_to_end(&mut printed).await.unwrap();
        assert_eq!(printed, b"1\n");
    }

    fn tokio_stream_of<T>(
        mut rx: tokio::sync::mpsc::UnboundedReceiver<T>,
    ) -> impl Stream<Item = T> + Unpin {
        Box::pin(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)))
    }
}
