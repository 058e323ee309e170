//! The API server over HTTP, as clients use it, without Docker (no
//! controller or kubelet runs): authentication, discovery, tables, and
//! watches that end at their timeout and resume from a resourceVersion.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use serde_json::{Value, json};

const TOKEN: &str = "secret-token";

async fn server() -> std::net::SocketAddr {
    let dir = tempfile::tempdir().unwrap().keep();
    let config = fakekube::Config {
        dir,
        port: 0,
        token: TOKEN.into(),
        network: "none".into(),
        publish_host: [127, 0, 0, 1].into(),
        labels: Default::default(),
        name_prefix: "test".into(),
        ready: None,
        proxy_image: None,
    };
    let docker = bollard::Docker::connect_with_local_defaults().unwrap();
    let cluster = Arc::new(fakekube::Cluster {
        config,
        store: fakekube::store::Store::new(),
        kubelet: fakekube::kubelet::Kubelet::new(docker, [10, 0, 0, 1].into()),
        nodeports: Default::default(),
    });
    cluster.store.bootstrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(fakekit::http::serve(
        listener,
        fakekit::http::Security::Plain,
        16,
        move |req, _| fakekube::api::handle(cluster.clone(), req),
    ));
    address
}

/// One request; the status and the whole body (a watch's, once it ends).
async fn call(
    at: std::net::SocketAddr,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, String) {
    let stream = tokio::net::TcpStream::connect(at).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost");
    if !headers.iter().any(|(k, _)| *k == "authorization") {
        request = request.header("authorization", format!("Bearer {TOKEN}"));
    }
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let response = sender
        .send_request(request.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

fn deployment(name: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": name, "image": "blog:1"}]}}}})
}

const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";

#[tokio::test(flavor = "multi_thread")]
async fn watches_end_at_their_timeout_and_resume_from_a_resource_version() {
    let at = server().await;
    let (_, list) = call(at, Method::GET, DEPLOYMENTS, &[], None).await;
    let listed: Value = serde_json::from_str(&list).unwrap();
    let from = listed["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let json = [("content-type", "application/json")];
    let (created, _) = call(
        at,
        Method::POST,
        DEPLOYMENTS,
        &json,
        Some(deployment("web")),
    )
    .await;
    assert_eq!(created, 201);
    let merge = [("content-type", "application/merge-patch+json")];
    let (patched, _) = call(
        at,
        Method::PATCH,
        &format!("{DEPLOYMENTS}/web"),
        &merge,
        Some(json!({"spec": {"replicas": 3}})),
    )
    .await;
    assert_eq!(patched, 200);

    // From the list's version: both changes, in order, then the end.
    let started = std::time::Instant::now();
    let watch = format!("{DEPLOYMENTS}?watch=true&resourceVersion={from}&timeoutSeconds=1");
    let (status, body) = call(at, Method::GET, &watch, &[], None).await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
    let events: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["ADDED", "MODIFIED"], "{body}");
    assert_eq!(events[1]["object"]["metadata"]["generation"], 2);
    let versions: Vec<u64> = events
        .iter()
        .map(|e| {
            e["object"]["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(versions[0] < versions[1]);

    // Resumed from the last event: nothing more; a field selector filters.
    let resumed = format!(
        "{DEPLOYMENTS}?watch=1&resourceVersion={}&timeoutSeconds=1",
        versions[1]
    );
    assert_eq!(call(at, Method::GET, &resumed, &[], None).await.1, "");
    let other = format!(
        "{DEPLOYMENTS}?watch=1&resourceVersion={from}&timeoutSeconds=1&fieldSelector=metadata.name%3Ddb"
    );
    assert_eq!(call(at, Method::GET, &other, &[], None).await.1, "");
    // Without a version: the current state as ADDED.
    let fresh = format!("{DEPLOYMENTS}?watch=true&timeoutSeconds=1");
    let body = call(at, Method::GET, &fresh, &[], None).await.1;
    assert_eq!(body.lines().count(), 1, "{body}");
    assert!(body.contains("\"ADDED\""));
}

#[tokio::test(flavor = "multi_thread")]
async fn clients_need_the_token_and_get_discovery_and_tables() {
    let at = server().await;
    let (status, body) = call(
        at,
        Method::GET,
        "/api/v1/pods",
        &[("authorization", "Bearer wrong")],
        None,
    )
    .await;
    assert_eq!(status, 401, "{body}");
    let (status, version) = call(at, Method::GET, "/version", &[("authorization", "")], None).await;
    assert_eq!(status, 200);
    assert!(version.contains("\"minor\":\"32\""), "{version}");
    let aggregated = [(
        "accept",
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
    )];
    let (_, apis) = call(at, Method::GET, "/apis", &aggregated, None).await;
    assert!(
        apis.contains("\"deployments\"") && apis.contains("\"deploy\""),
        "{apis}"
    );
    let table = [(
        "accept",
        "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
    )];
    let (_, services) = call(
        at,
        Method::GET,
        "/api/v1/namespaces/default/services",
        &table,
        None,
    )
    .await;
    let services: Value = serde_json::from_str(&services).unwrap();
    assert_eq!(services["kind"], "Table");
    assert_eq!(services["rows"][0]["cells"][0], "kubernetes");
    assert_eq!(services["rows"][0]["cells"][4], "443/TCP");
    let (status, missing) = call(at, Method::GET, &format!("{DEPLOYMENTS}/nope"), &[], None).await;
    assert_eq!(status, 404);
    assert!(
        missing.contains("deployments.apps \\\"nope\\\" not found"),
        "{missing}"
    );
}
