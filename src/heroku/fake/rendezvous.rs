//! `heroku run`: the API creates a one-off dyno and answers with an
//! `attach_url` (`rendezvous://localhost:<port>/<secret>`). The CLI opens
//! TLS there and sends the secret and CRLF; the first line it receives is
//! discarded (Heroku's greeting), then the dyno's output streams to it and
//! its input (ending with EOT, 0x04, when not a terminal) to the dyno.
//! The connection closes when the process ends.

use std::collections::BTreeMap;
use std::sync::Arc;

use bollard::query_parameters::AttachContainerOptionsBuilder;
use futures_util::StreamExt;
use hyper::StatusCode;
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::Fake;
use super::api::error;
use super::api::{Answer, App};

/// Runs created by the API and waiting for the CLI to attach, by secret.
pub(crate) type Pending = fakekit::attach::Pending<Run>;

#[derive(Debug, Clone)]
pub(crate) struct Run {
    app: String,
    dyno: String,
    command: String,
    env: BTreeMap<String, String>,
}

/// `POST /apps/{app}/dynos {command, attach, env, type}`.
pub(crate) fn start_run(fake: &Fake, app: &App, body: &[u8]) -> Answer {
    #[derive(Deserialize)]
    struct Request {
        command: String,
        #[serde(default)]
        env: BTreeMap<String, serde_json::Value>,
    }
    let Ok(request) = serde_json::from_slice::<Request>(body) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_params",
            "A command is required: heroku run <command>.",
        );
    };
    let Some(release) = app.current().filter(|r| r.slug.is_some()) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_params",
            "No release has been deployed yet: push your code first (git push heroku main).",
        );
    };
    let secret = uuid::Uuid::new_v4().simple().to_string();
    let dyno = format!("run.{}", 1000 + uuid::Uuid::new_v4().as_u128() % 9000);
    let env = request
        .env
        .into_iter()
        .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_string)))
        .collect();
    fake.runs.add(
        secret.clone(),
        Run {
            app: app.name.clone(),
            dyno: dyno.clone(),
            command: request.command.clone(),
            env,
        },
    );
    let now = super::api::iso8601(std::time::SystemTime::now());
    (
        StatusCode::CREATED,
        json!({
            "attach_url": format!("rendezvous://localhost:{}/{secret}", fake.ports.rendezvous),
            "app": { "id": app.id, "name": app.name },
            "command": request.command,
            "created_at": now,
            "id": uuid::Uuid::new_v4().to_string(),
            "name": dyno,
            "release": { "id": release.id, "version": release.version },
            "size": "Basic",
            "state": "starting",
            "type": "run",
            "updated_at": now,
        }),
    )
}

/// Accepts the CLI's TLS connections for runs.
pub(crate) async fn serve(
    fake: Arc<Fake>,
    listener: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!("accept: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let (fake, acceptor) = (fake.clone(), acceptor.clone());
        tokio::spawn(async move {
            let Some(stream) = fakekit::http::handshake(&acceptor, stream).await else {
                return;
            };
            if let Err(e) = attach(&fake, stream).await {
                tracing::warn!("heroku run: {e}");
            }
        });
    }
}

async fn attach(
    fake: &Fake,
    stream: tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
) -> crate::error::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut secret = String::new();
    reader
        .read_line(&mut secret)
        .await
        .map_err(crate::error::Error::io("reading the run's secret"))?;
    let run = fake.runs.take(secret.trim());
    let mut stream = reader.into_inner();
    let Some(run) = run else {
        let _ = stream
            .write_all(b"Unknown or used rendezvous secret.\r\n")
            .await;
        return Ok(());
    };
    // The CLI discards the first line it gets.
    stream
        .write_all(b"rendezvous\r\n")
        .await
        .map_err(crate::error::Error::io("greeting the CLI"))?;
    stream.flush().await.ok();
    let docker = fake.docker().cloned().expect("runs need Docker");
    let container =
        match super::dynos::create_run(fake, &run.app, &run.dyno, &run.command, &run.env).await {
            Ok(c) => c,
            Err(e) => {
                let _ = stream.write_all(format!("{e}\r\n").as_bytes()).await;
                return Ok(());
            }
        };
    let options = AttachContainerOptionsBuilder::default()
        .stdin(true)
        .stdout(true)
        .stderr(true)
        .stream(true)
        .build();
    let attached = docker
        .attach_container(&container, Some(options))
        .await
        .map_err(crate::error::Error::docker("attaching to the run"))?;
    docker
        .start_container(&container, None)
        .await
        .map_err(crate::error::Error::docker("starting the run"))?;
    let heroku = |line: &str| fake.logs.add(&run.app, "heroku", &run.dyno, line);
    heroku("State changed from starting to up");
    // The CLI sends EOT (0x04) when its stdin ends.
    let output = attached
        .output
        .map(|chunk| chunk.map(bollard::container::LogOutput::into_bytes));
    fakekit::attach::bridge(stream, attached.input, output, Some(0x04)).await;
    let code = crate::docker::wait_exit(&docker, &container)
        .await
        .unwrap_or(-1);
    heroku(&format!("Process exited with status {code}"));
    heroku("State changed from up to complete");
    let _ = crate::docker::remove_container(&docker, &container).await;
    Ok(())
}
