//! `kubectl exec` as kubectl 1.32 speaks it: a WebSocket with the
//! `v5.channel.k8s.io` subprotocol, each binary message prefixed with its
//! channel (0 stdin, 1 stdout, 2 stderr, 3 the final status, 4 terminal
//! size; 255 says stdin closed). The command runs in the pod's container
//! through the Docker engine's exec, so `kubectl exec deploy/blog --
//! python manage.py migrate` works as on a real cluster, with `-it` too.

use std::sync::Arc;

use bollard::exec::{CreateExecOptions, ResizeExecOptions, StartExecResults};
use futures_util::{SinkExt, StreamExt};
use hyper::{Request, Response, StatusCode, header};
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, frame::coding::CloseCode};

use crate::Cluster;
use crate::api::{Answer, failure};

/// The stream protocols served, best first.
const PROTOCOLS: &[&str] = &["v5.channel.k8s.io", "v4.channel.k8s.io"];

/// What `exec` was asked for.
#[derive(Debug, Default)]
pub struct ExecQuery {
    pub command: Vec<String>,
    pub container: Option<String>,
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
}

mod text {
    pub(super) const NOT_WEBSOCKET: &str = "deploylab's built-in cluster serves exec over WebSocket (v5.channel.k8s.io), which kubectl 1.30 and later use; upgrade kubectl";
    pub(super) const NO_COMMAND: &str = "you must specify at least one command for the container";
    pub(super) fn not_running(container: &str, pod: &str) -> String {
        format!("container {container} is not valid for pod {pod}, or it is not running")
    }
}

/// Answers an exec request: 101 and the session, or why not.
pub async fn serve(
    cluster: Arc<Cluster>,
    namespace: &str,
    pod: &str,
    query: ExecQuery,
    req: Request<hyper::body::Incoming>,
) -> Answer {
    let headers = req.headers();
    let upgrade = headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let offered = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let protocol = PROTOCOLS
        .iter()
        .find(|p| offered.split(',').any(|o| o.trim() == **p));
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .map(|k| k.as_bytes().to_vec());
    if query.command.is_empty() {
        return failure(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            text::NO_COMMAND,
            None,
        );
    }
    let Some(container) =
        cluster
            .kubelet
            .running_container(namespace, pod, query.container.as_deref())
    else {
        let named = query.container.clone().unwrap_or_default();
        return failure(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &text::not_running(&named, pod),
            None,
        );
    };
    let (Some(protocol), Some(key), true) =
        (protocol, key, upgrade.eq_ignore_ascii_case("websocket"))
    else {
        return failure(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            text::NOT_WEBSOCKET,
            None,
        );
    };
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(&key);
    let protocol = protocol.to_string();
    let v5 = protocol == "v5.channel.k8s.io";
    tokio::spawn(async move {
        let Ok(upgraded) = hyper::upgrade::on(req).await else {
            return;
        };
        let io = hyper_util::rt::TokioIo::new(upgraded);
        let ws = WebSocketStream::from_raw_socket(io, Role::Server, None).await;
        session(&cluster, &container, query, ws, v5).await;
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::UPGRADE, "websocket")
        .header(header::CONNECTION, "Upgrade")
        .header(header::SEC_WEBSOCKET_ACCEPT, accept)
        .header(header::SEC_WEBSOCKET_PROTOCOL, protocol)
        .body(fakekit::http::full(""))
        .expect("a valid response")
}

type Socket = WebSocketStream<hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>>;

async fn session(cluster: &Cluster, container: &str, query: ExecQuery, mut ws: Socket, v5: bool) {
    let docker = &cluster.kubelet.docker;
    let options = CreateExecOptions {
        cmd: Some(query.command.clone()),
        attach_stdin: Some(query.stdin),
        attach_stdout: Some(query.stdout),
        attach_stderr: Some(query.stderr),
        tty: Some(query.tty),
        ..Default::default()
    };
    let created = match docker.create_exec(container, options).await {
        Ok(created) => created,
        Err(e) => return finish(&mut ws, &failed(&e.to_string())).await,
    };
    let Ok(StartExecResults::Attached {
        mut output,
        mut input,
    }) = docker.start_exec(&created.id, None).await
    else {
        return finish(&mut ws, &failed("the command did not start")).await;
    };
    let mut stdin_open = query.stdin;
    loop {
        tokio::select! {
            chunk = output.next() => match chunk {
                Some(Ok(chunk)) => {
                    use bollard::container::LogOutput;
                    let (channel, bytes) = match chunk {
                        LogOutput::StdErr { message } => (2u8, message),
                        LogOutput::StdOut { message } | LogOutput::Console { message } => (1u8, message),
                        LogOutput::StdIn { .. } => continue,
                    };
                    let mut frame = Vec::with_capacity(bytes.len() + 1);
                    frame.push(channel);
                    frame.extend_from_slice(&bytes);
                    if ws.send(Message::Binary(frame.into())).await.is_err() {
                        return;
                    }
                }
                Some(Err(_)) | None => break,
            },
            message = ws.next(), if stdin_open || query.tty => match message {
                Some(Ok(Message::Binary(data))) if !data.is_empty() => match data[0] {
                    // A command that stopped reading gets no more.
                    0 => stdin_open &= input.write_all(&data[1..]).await.is_ok(),
                    4 => {
                        if let Ok(size) = serde_json::from_slice::<serde_json::Value>(&data[1..]) {
                            let resize = ResizeExecOptions {
                                width: size["Width"].as_u64().unwrap_or(80) as u16,
                                height: size["Height"].as_u64().unwrap_or(24) as u16,
                            };
                            let _ = docker.resize_exec(&created.id, resize).await;
                        }
                    }
                    // The client's stdin ended (v5): the command's ends too.
                    255 if v5 && data.get(1) == Some(&0) => {
                        let _ = input.shutdown().await;
                        stdin_open = false;
                    }
                    _ => {}
                },
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
    let code = docker
        .inspect_exec(&created.id)
        .await
        .ok()
        .and_then(|i| i.exit_code)
        .unwrap_or(-1);
    let status = match code {
        0 => json!({"metadata": {}, "status": "Success"}),
        code => json!({"metadata": {}, "status": "Failure", "reason": "NonZeroExitCode",
            "message": format!("command terminated with non-zero exit code: error executing command [{}], exit code {code}", query.command.join(" ")),
            "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]}}),
    };
    finish(&mut ws, &status).await;
}

fn failed(why: &str) -> serde_json::Value {
    json!({"metadata": {}, "status": "Failure", "message": why, "reason": "InternalError"})
}

/// The status on channel 3, then a normal close.
async fn finish(ws: &mut Socket, status: &serde_json::Value) {
    let mut frame = vec![3u8];
    frame.extend_from_slice(&serde_json::to_vec(status).expect("JSON encodes"));
    let _ = ws.send(Message::Binary(frame.into())).await;
    let close = CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    };
    let _ = ws.send(Message::Close(Some(close))).await;
    let _ = ws.flush().await;
}
