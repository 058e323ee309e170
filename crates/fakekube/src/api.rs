// A refused request is answered at once: the `Err` of a step is the
// answer itself (a Response), large by nature and never held.
#![allow(clippy::result_large_err)]

//! The HTTP API, as kubectl 1.32 and kube-rs speak it: `/version`,
//! discovery, OpenAPI, and per resource get/list/watch/create/update/
//! patch/delete, with the `scale` and `status` subresources, pod logs and
//! the service and pod proxies. Errors are `Status` objects with the real
//! reasons and messages, which kubectl prints as `Error from server
//! (Reason): message`.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use fakekit::http::{Body, full};
use futures_util::StreamExt;
use http_body_util::BodyExt;
use hyper::{Method, Request, Response, StatusCode, header};
use serde_json::{Value, json};

use crate::Cluster;
use crate::admit::{self, Refusal};
use crate::patch;
use crate::resources::{self, Resource};
use crate::selector::{Fields, Labels};
use crate::store::{Change, Refused};

/// The version the server says it is: the dispatcher of Google's kubectl
/// packages picks its client by the minor.
pub const GIT_VERSION: &str = "v1.32.0";

/// The largest request body read (the real server's limit is 3 MiB).
const BODY_LIMIT: usize = 3 * 1024 * 1024;

/// A request's answer.
pub type Answer = Response<Body>;

pub fn json_answer(code: StatusCode, value: &Value) -> Answer {
    typed_answer(code, "application/json", value)
}

fn typed_answer(code: StatusCode, content_type: &str, value: &Value) -> Answer {
    Response::builder()
        .status(code)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "no-cache, private")
        .body(full(serde_json::to_vec(value).expect("JSON encodes")))
        .expect("a valid response")
}

/// A `Status` failure answer.
pub fn failure(code: StatusCode, reason: &str, message: &str, details: Option<Value>) -> Answer {
    let mut status = json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": reason, "code": code.as_u16()});
    if let Some(details) = details {
        status["details"] = details;
    }
    json_answer(code, &status)
}

fn not_found(resource: &Resource, name: &str) -> Answer {
    failure(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("{} \"{name}\" not found", resource.qualified()),
        Some(json!({"name": name, "group": resource.group, "kind": resource.plural})),
    )
}

fn bad_request(message: &str) -> Answer {
    failure(StatusCode::BAD_REQUEST, "BadRequest", message, None)
}

/// Where a resource request goes.
#[derive(Debug)]
struct Target {
    resource: &'static Resource,
    namespace: Option<String>,
    name: Option<String>,
    subresource: Option<String>,
    /// The rest of the path after a proxy subresource.
    rest: String,
}

/// A request's query, decoded.
struct Query(Vec<(String, String)>);

impl Query {
    fn of(uri: &hyper::Uri) -> Query {
        let pairs = uri
            .query()
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(v))
            })
            .collect();
        Query(pairs)
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }
}

/// Percent-decoding of a query part (`+` is a space).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&text[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                Err(_) => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Answers one request.
pub async fn handle(cluster: Arc<Cluster>, req: Request<hyper::body::Incoming>) -> Answer {
    let path = req.uri().path().to_string();
    let open = matches!(
        path.as_str(),
        "/version" | "/healthz" | "/readyz" | "/livez"
    );
    if !open && !authorized(&cluster, &req) {
        return failure(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Unauthorized",
            None,
        );
    }
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (req.method(), segments.as_slice()) {
        (&Method::GET, ["version"]) => json_answer(StatusCode::OK, &version()),
        (&Method::GET, ["healthz" | "readyz" | "livez"]) => Response::new(full("ok")),
        (&Method::GET, ["api"]) if accept.contains("as=APIGroupDiscoveryList") => typed_answer(
            StatusCode::OK,
            resources::AGGREGATED,
            &resources::aggregated(true),
        ),
        (&Method::GET, ["apis"]) if accept.contains("as=APIGroupDiscoveryList") => typed_answer(
            StatusCode::OK,
            resources::AGGREGATED,
            &resources::aggregated(false),
        ),
        (&Method::GET, ["api"]) => {
            let server = format!("127.0.0.1:{}", cluster.config.port);
            json_answer(StatusCode::OK, &resources::legacy_core(&server))
        }
        (&Method::GET, ["apis"]) => json_answer(StatusCode::OK, &resources::legacy_groups()),
        (&Method::GET, ["api", version]) => listing(resources::resource_list("", version)),
        (&Method::GET, ["apis", group, version]) => {
            listing(resources::resource_list(group, version))
        }
        // An empty OpenAPI v2 document (protobuf; the one form kubectl asks
        // for): kubectl then validates no kind it does not find in v3 and
        // names an unknown kind or version the way a real cluster does.
        (&Method::GET, ["openapi", "v2"]) => Response::builder()
            .header(
                header::CONTENT_TYPE,
                "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
            )
            .body(full(Bytes::new()))
            .expect("a valid response"),
        (&Method::GET, ["openapi", "v3"]) => {
            json_answer(StatusCode::OK, &resources::openapi_root())
        }
        (&Method::GET, ["openapi", "v3", "api", version]) => {
            listing(resources::openapi_document("", version))
        }
        (&Method::GET, ["openapi", "v3", "apis", group, version]) => {
            listing(resources::openapi_document(group, version))
        }
        _ => match target(&segments) {
            Some(mut target) => {
                // A proxied path keeps its trailing slash (Django redirects
                // `/admin/login` to `/admin/login/`).
                if path.ends_with('/') && !target.rest.is_empty() {
                    target.rest.push('/');
                }
                resource_request(cluster, req, target, &accept).await
            }
            None => failure(
                StatusCode::NOT_FOUND,
                "NotFound",
                "the server could not find the requested resource",
                None,
            ),
        },
    }
}

fn authorized(cluster: &Cluster, req: &Request<hyper::body::Incoming>) -> bool {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return false;
    };
    let expected = format!("Bearer {}", cluster.config.token);
    // Compared whole, in constant time for equal lengths.
    let (a, b) = (value.as_bytes(), expected.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn version() -> Value {
    json!({"major": "1", "minor": "32", "gitVersion": GIT_VERSION,
           "gitCommit": "deploylab", "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z",
           "goVersion": "go1.23", "compiler": "gc",
           "platform": format!("linux/{}", std::env::consts::ARCH)})
}

fn listing(document: Option<Value>) -> Answer {
    match document {
        Some(document) => json_answer(StatusCode::OK, &document),
        None => failure(
            StatusCode::NOT_FOUND,
            "NotFound",
            "the server could not find the requested resource",
            None,
        ),
    }
}

/// Reads a resource path: `/api/v1/...` or `/apis/<group>/<version>/...`.
fn target(segments: &[&str]) -> Option<Target> {
    let (group, version, rest) = match segments {
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return None,
    };
    let namespaced = match rest {
        ["namespaces", ns, plural, more @ ..] => Resource::find(group, version, plural)
            .filter(|r| r.namespaced)
            .map(|r| (r, Some(ns.to_string()), more)),
        _ => None,
    };
    let (resource, namespace, more) = match namespaced {
        Some(found) => found,
        None => match rest {
            [plural, more @ ..] => (Resource::find(group, version, plural)?, None, more),
            _ => return None,
        },
    };
    let (name, subresource, rest) = match more {
        [] => (None, None, String::new()),
        [name] => (Some(name.to_string()), None, String::new()),
        [name, sub, rest @ ..] => (
            Some(name.to_string()),
            Some(sub.to_string()),
            rest.join("/"),
        ),
    };
    Some(Target {
        resource,
        namespace,
        name,
        subresource,
        rest,
    })
}

async fn resource_request(
    cluster: Arc<Cluster>,
    req: Request<hyper::body::Incoming>,
    target: Target,
    accept: &str,
) -> Answer {
    let query = Query::of(req.uri());
    let method = req.method().clone();
    let table = accept.contains("as=Table");
    let namespace = target.namespace.clone().unwrap_or_default();
    match (&method, &target.name, target.subresource.as_deref()) {
        (&Method::GET, None, None) if query.flag("watch") => watch(&cluster, &target, &query),
        (&Method::GET, None, None) => list(&cluster, &target, &query, table),
        (&Method::POST, None, None) => {
            let body = match read_body(req).await {
                Ok(body) => body,
                Err(answer) => return answer,
            };
            create(&cluster, target.resource, &namespace, body, &query)
        }
        (&Method::GET, Some(name), None) => {
            match cluster.store.get(target.resource, &namespace, name) {
                Some(object) if table => json_answer(
                    StatusCode::OK,
                    &crate::table::render(target.resource, &[object], cluster.store.revision()),
                ),
                Some(object) => json_answer(StatusCode::OK, &object),
                None => not_found(target.resource, name),
            }
        }
        (&Method::PUT, Some(name), sub @ (None | Some("status"))) => {
            let body = match read_body(req).await {
                Ok(body) => body,
                Err(answer) => return answer,
            };
            replace(
                &cluster,
                target.resource,
                &namespace,
                name,
                body,
                &query,
                sub.is_some(),
            )
        }
        (&Method::PATCH, Some(name), sub @ (None | Some("status"))) => {
            let kind = content_type(&req).and_then(|c| patch::Kind::of(&c));
            let body = match read_body(req).await {
                Ok(body) => body,
                Err(answer) => return answer,
            };
            patch_object(
                &cluster,
                target.resource,
                &namespace,
                name,
                kind,
                &body,
                &query,
                sub.is_some(),
            )
        }
        (&Method::DELETE, Some(name), None) => delete(&cluster, target.resource, &namespace, name),
        (&Method::GET | &Method::PATCH | &Method::PUT, Some(name), Some("scale"))
            if matches!(target.resource.kind, "Deployment" | "ReplicaSet") =>
        {
            let kind = content_type(&req).and_then(|c| patch::Kind::of(&c));
            let body = match method {
                Method::GET => None,
                _ => match read_body(req).await {
                    Ok(body) => Some(body),
                    Err(answer) => return answer,
                },
            };
            scale(&cluster, target.resource, &namespace, name, kind, body)
        }
        (&Method::GET, Some(name), Some("status")) => {
            match cluster.store.get(target.resource, &namespace, name) {
                Some(object) => json_answer(StatusCode::OK, &object),
                None => not_found(target.resource, name),
            }
        }
        (&Method::GET, Some(name), Some("log")) if target.resource.kind == "Pod" => {
            crate::kubelet::logs(&cluster, &namespace, name, &LogQuery::of(&query)).await
        }
        (_, Some(name), Some("proxy")) if matches!(target.resource.kind, "Service" | "Pod") => {
            crate::nodeport::proxy(
                &cluster,
                target.resource,
                &namespace,
                name,
                &target.rest,
                req,
            )
            .await
        }
        (&Method::GET | &Method::POST, Some(name), Some("exec"))
            if target.resource.kind == "Pod" =>
        {
            let exec = crate::exec::ExecQuery {
                command: query.all("command"),
                container: query.get("container").map(String::from),
                stdin: query.flag("stdin"),
                stdout: query.flag("stdout"),
                stderr: query.flag("stderr"),
                tty: query.flag("tty"),
            };
            crate::exec::serve(cluster.clone(), &namespace, name, exec, req).await
        }
        (_, Some(_), Some("attach" | "portforward")) if target.resource.kind == "Pod" => {
            bad_request(UNSERVED_STREAMS)
        }
        _ => failure(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
            None,
        ),
    }
}

/// What kubectl's imperative `create` commands get for kinds the built-in
/// cluster does not read as protobuf (client-go then gives up).
const PROTOBUF_REFUSED: &str = "deploylab's built-in cluster reads this kind as JSON or YAML only, and this kubectl command sends protobuf: write the object to a file and apply it (`kubectl create ... --dry-run=client -o yaml > object.yaml`, then `kubectl apply -f object.yaml`)";

/// What `kubectl attach` and `port-forward` get (the built-in cluster
/// does not speak their stream protocols yet).
const UNSERVED_STREAMS: &str = "deploylab's built-in cluster does not serve attach or port-forward yet: reach the app through its Service (kubectl get --raw /api/v1/namespaces/NAMESPACE/services/NAME/proxy/, or a NodePort on 127.0.0.1), and run commands with kubectl exec";

/// What `logs` was asked for.
#[derive(Debug, Default)]
pub struct LogQuery {
    pub container: Option<String>,
    pub follow: bool,
    pub tail: Option<i64>,
    pub timestamps: bool,
    pub since_seconds: Option<i64>,
    pub previous: bool,
}

impl LogQuery {
    fn of(query: &Query) -> LogQuery {
        LogQuery {
            container: query.get("container").map(String::from),
            follow: query.flag("follow"),
            tail: query.get("tailLines").and_then(|t| t.parse().ok()),
            timestamps: query.flag("timestamps"),
            since_seconds: query.get("sinceSeconds").and_then(|t| t.parse().ok()),
            previous: query.flag("previous"),
        }
    }
}

fn content_type(req: &Request<hyper::body::Incoming>) -> Option<String> {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(String::from)
}

/// Whether a request's body is protobuf, which this server does not read:
/// it answers 415 and client-go sends the request again as JSON.
fn is_protobuf(req: &Request<hyper::body::Incoming>) -> bool {
    content_type(req).is_some_and(|c| c.starts_with("application/vnd.kubernetes.protobuf"))
}

/// A request's body as JSON: JSON as sent, or the few kinds kubectl sends
/// as protobuf (`Err`: the answer refusing the others).
async fn read_body(req: Request<hyper::body::Incoming>) -> Result<Value, Answer> {
    let protobuf = is_protobuf(&req);
    let unreadable = || bad_request("the request body could not be read as JSON");
    let bytes = fakekit::http::read_body(req.into_body(), BODY_LIMIT)
        .await
        .ok_or_else(unreadable)?;
    match protobuf {
        false => serde_json::from_slice(&bytes).map_err(|_| unreadable()),
        true => crate::protobuf::to_json(&bytes).map_err(|_| {
            failure(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaType",
                PROTOBUF_REFUSED,
                None,
            )
        }),
    }
}

fn selectors(query: &Query) -> Result<(Labels, Fields), Answer> {
    let labels = match query.get("labelSelector") {
        Some(text) => Labels::parse(text)
            .ok_or_else(|| bad_request(&format!("unable to parse requirement: {text}")))?,
        None => Labels::default(),
    };
    let fields = Fields::parse(query.get("fieldSelector").unwrap_or_default());
    Ok((labels, fields))
}

fn list(cluster: &Cluster, target: &Target, query: &Query, table: bool) -> Answer {
    let (labels, fields) = match selectors(query) {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    let (items, revision) = cluster
        .store
        .list(target.resource, target.namespace.as_deref());
    let items: Vec<Value> = items
        .into_iter()
        .filter(|o| labels.selects(o) && fields.selects(o))
        .collect();
    if table {
        return json_answer(
            StatusCode::OK,
            &crate::table::render(target.resource, &items, revision),
        );
    }
    json_answer(
        StatusCode::OK,
        &json!({"kind": format!("{}List", target.resource.kind),
                "apiVersion": target.resource.api_version(),
                "metadata": {"resourceVersion": revision.to_string()},
                "items": items}),
    )
}

/// A watch: events one JSON object per line, until the client's
/// `timeoutSeconds` (at most 30 minutes), the client hangs up, or the
/// watch falls behind (the client then lists again, as it would after a
/// real server's timeout).
fn watch(cluster: &Arc<Cluster>, target: &Target, query: &Query) -> Answer {
    let (labels, fields) = match selectors(query) {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    let from: Option<u64> = query
        .get("resourceVersion")
        .filter(|v| !v.is_empty() && *v != "0")
        .and_then(|v| v.parse().ok());
    let timeout = query
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(1800)
        .min(1800);
    let resource = target.resource;
    let namespace = target.namespace.clone();
    let wanted = move |c: &Change| {
        c.resource == resource.plural_key()
            && namespace.as_deref().is_none_or(|ns| ns == c.namespace)
            && labels.selects(&c.object)
            && fields.selects(&c.object)
    };
    let (history, mut live) = cluster.store.since(from.unwrap_or(u64::MAX));
    let mut first: Vec<Value> = Vec::new();
    let mut after = match from {
        None => {
            let (items, revision) = cluster.store.list(resource, target.namespace.as_deref());
            for object in items {
                let change = Change {
                    revision,
                    resource: resource.plural_key(),
                    namespace: object["metadata"]["namespace"]
                        .as_str()
                        .unwrap_or_default()
                        .into(),
                    kind: crate::store::ChangeKind::Added,
                    object,
                };
                if wanted(&change) {
                    first.push(json!({"type": "ADDED", "object": change.object}));
                }
            }
            revision
        }
        Some(revision) => {
            let (history, receiver) = cluster.store.since(revision);
            live = receiver;
            match history {
                Some(changes) => {
                    let mut last = revision;
                    for c in changes.iter().filter(|c| wanted(c)) {
                        first.push(event(c));
                        last = last.max(c.revision);
                    }
                    changes
                        .last()
                        .map(|c| c.revision)
                        .unwrap_or(last)
                        .max(revision)
                }
                None => {
                    let expired = json!({"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1",
                        "metadata": {}, "status": "Failure", "reason": "Expired", "code": 410,
                        "message": format!("too old resource version: {revision} ({})", cluster.store.revision())}});
                    first.push(expired);
                    u64::MAX
                }
            }
        }
    };
    drop(history);
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(64);
    tokio::spawn(async move {
        for e in first {
            if tx.send(line(&e)).await.is_err() {
                return;
            }
        }
        if after == u64::MAX {
            return;
        }
        let deadline = tokio::time::sleep(Duration::from_secs(timeout));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                _ = &mut deadline => return,
                _ = tx.closed() => return,
                change = live.recv() => match change {
                    Ok(c) if c.revision > after && wanted(&c) => {
                        after = c.revision;
                        if tx.send(line(&event(&c))).await.is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => return,
                },
            }
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx)
        .map(|b| Ok::<_, std::io::Error>(hyper::body::Frame::data(b)));
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-cache, private")
        .body(BodyExt::boxed(http_body_util::StreamBody::new(stream)))
        .expect("a valid response")
}

fn event(change: &Change) -> Value {
    json!({"type": change.kind.word(), "object": change.object})
}

fn line(value: &Value) -> Bytes {
    let mut bytes = serde_json::to_vec(value).expect("JSON encodes");
    bytes.push(b'\n');
    Bytes::from(bytes)
}

/// How unknown fields are treated (`fieldValidation`; the real default
/// is to warn).
#[derive(PartialEq)]
enum FieldValidation {
    Strict,
    Warn,
    Ignore,
}

impl FieldValidation {
    fn of(query: &Query) -> FieldValidation {
        match query.get("fieldValidation") {
            Some("Strict") => FieldValidation::Strict,
            Some("Ignore") => FieldValidation::Ignore,
            _ => FieldValidation::Warn,
        }
    }
}

/// An object through decoding, defaults and validation; warnings to send
/// back (unknown fields under Warn, pod security for templates).
fn admitted(
    resource: &Resource,
    object: Value,
    query: &Query,
) -> Result<(Value, Vec<String>), Answer> {
    let name = object["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (mut object, unknown) =
        admit::decode(resource, object).map_err(|r| refusal(resource, &name, r))?;
    let mut warnings = Vec::new();
    if !unknown.is_empty() {
        match FieldValidation::of(query) {
            FieldValidation::Strict => {
                return Err(refusal(
                    resource,
                    &name,
                    admit::unknown_refused(resource, &unknown),
                ));
            }
            FieldValidation::Warn => {
                warnings.extend(unknown.iter().map(|f| admit::unknown_field(f)));
            }
            FieldValidation::Ignore => {}
        }
    }
    admit::defaults(resource, &mut object);
    admit::validate(resource, &object).map_err(|r| refusal(resource, &name, r))?;
    if let Some(spec) = admit::pod_spec_of(resource, &object) {
        let violations = admit::pod_security(&spec);
        if !violations.is_empty() {
            if resource.kind == "Pod" {
                return Err(refusal(resource, &name, Refusal::Forbidden(violations)));
            }
            warnings.push(format!(
                "would violate PodSecurity \"{}\": {}",
                admit::POD_SECURITY,
                violations.join(", ")
            ));
        }
    }
    Ok((object, warnings))
}

/// A refusal as the real server answers it.
pub fn refusal(resource: &Resource, name: &str, refusal: Refusal) -> Answer {
    match refusal {
        Refusal::Decode(message) => bad_request(&message),
        Refusal::Invalid(causes) => {
            let kind = match resource.group {
                "" => resource.kind.to_string(),
                group => format!("{}.{group}", resource.kind),
            };
            let listed: Vec<String> = causes.iter().map(|(f, m)| format!("{f}: {m}")).collect();
            let joined = match listed.len() {
                1 => listed[0].clone(),
                _ => format!("[{}]", listed.join(", ")),
            };
            let causes: Vec<Value> = causes
                .iter()
                .map(|(field, message)| json!({"reason": "FieldValueInvalid", "message": message, "field": field}))
                .collect();
            failure(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid",
                &format!("{kind} \"{name}\" is invalid: {joined}"),
                Some(
                    json!({"name": name, "group": resource.group, "kind": resource.kind, "causes": causes}),
                ),
            )
        }
        Refusal::Forbidden(violations) => failure(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!(
                "{} \"{name}\" is forbidden: violates PodSecurity \"{}\": {}",
                resource.plural,
                admit::POD_SECURITY,
                violations.join(", ")
            ),
            Some(json!({"name": name, "kind": resource.plural})),
        ),
    }
}

fn refused(resource: &Resource, name: &str, why: Refused) -> Answer {
    match why {
        Refused::AlreadyExists => failure(
            StatusCode::CONFLICT,
            "AlreadyExists",
            &format!("{} \"{name}\" already exists", resource.qualified()),
            Some(json!({"name": name, "group": resource.group, "kind": resource.plural})),
        ),
        Refused::NotFound => not_found(resource, name),
        Refused::Conflict => failure(
            StatusCode::CONFLICT,
            "Conflict",
            &format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                resource.qualified()
            ),
            Some(json!({"name": name, "group": resource.group, "kind": resource.plural})),
        ),
        Refused::NamespaceNotFound(ns) => failure(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("namespaces \"{ns}\" not found"),
            Some(json!({"name": ns, "kind": "namespaces"})),
        ),
        Refused::NamespaceTerminating(ns) => failure(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!(
                "{} \"{name}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                resource.plural
            ),
            None,
        ),
    }
}

fn with_warnings(mut answer: Answer, warnings: &[String]) -> Answer {
    for w in warnings {
        let value = format!("299 - \"{}\"", w.replace('"', "\\\""));
        if let Ok(value) = header::HeaderValue::from_str(&value) {
            answer.headers_mut().append(header::WARNING, value);
        }
    }
    answer
}

fn create(
    cluster: &Cluster,
    resource: &'static Resource,
    namespace: &str,
    mut body: Value,
    query: &Query,
) -> Answer {
    if resource.namespaced
        && let Some(sent) = body["metadata"]["namespace"].as_str()
        && !sent.is_empty()
        && sent != namespace
    {
        return bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        );
    }
    if body["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .is_empty()
        && let Some(prefix) = body["metadata"]["generateName"].as_str()
    {
        body["metadata"]["name"] = json!(format!("{prefix}{}", suffix(5)));
    }
    let (mut object, warnings) = match admitted(resource, body, query) {
        Ok(admitted) => admitted,
        Err(answer) => return answer,
    };
    if resource.kind == "Service"
        && let Err(answer) = crate::nodeport::allocate(cluster, namespace, &mut object, None)
    {
        return answer;
    }
    if query.get("dryRun") == Some("All") {
        return with_warnings(json_answer(StatusCode::CREATED, &object), &warnings);
    }
    let name = object["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    match cluster.store.create(resource, namespace, object) {
        Ok(stored) => with_warnings(json_answer(StatusCode::CREATED, &stored), &warnings),
        Err(why) => refused(resource, &name, why),
    }
}

/// A random suffix of lower-case letters and digits, as the real names of
/// generated objects have (without vowels, so no words come out).
pub fn suffix(length: usize) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    (0..length)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

fn replace(
    cluster: &Cluster,
    resource: &'static Resource,
    namespace: &str,
    name: &str,
    body: Value,
    query: &Query,
    status_only: bool,
) -> Answer {
    let Some(old) = cluster.store.get(resource, namespace, name) else {
        return not_found(resource, name);
    };
    let expected = body["metadata"]["resourceVersion"]
        .as_str()
        .map(String::from);
    let (mut object, warnings) = match admitted(resource, body, query) {
        Ok(admitted) => admitted,
        Err(answer) => return answer,
    };
    keep_what_clients_do_not_write(resource, &old, &mut object, status_only);
    if resource.kind == "Service"
        && let Err(answer) = crate::nodeport::allocate(cluster, namespace, &mut object, Some(&old))
    {
        return answer;
    }
    match cluster
        .store
        .update(resource, namespace, name, object, expected.as_deref())
    {
        Ok(stored) => with_warnings(json_answer(StatusCode::OK, &stored), &warnings),
        Err(why) => refused(resource, name, why),
    }
}

/// A write of the object keeps its status (written through `/status`
/// only), and a write of the status keeps everything else.
fn keep_what_clients_do_not_write(
    resource: &Resource,
    old: &Value,
    object: &mut Value,
    status_only: bool,
) {
    match status_only {
        true => {
            let status = object["status"].clone();
            *object = old.clone();
            object["status"] = status;
        }
        false if resource.kind != "Namespace" || object["status"].is_null() => {
            object["status"] = old["status"].clone();
            if object["status"].is_null()
                && let Some(map) = object.as_object_mut()
            {
                map.remove("status");
            }
        }
        false => {}
    }
}

#[allow(clippy::too_many_arguments)]
fn patch_object(
    cluster: &Cluster,
    resource: &'static Resource,
    namespace: &str,
    name: &str,
    kind: Option<patch::Kind>,
    body: &Value,
    query: &Query,
    status_only: bool,
) -> Answer {
    let Some(kind) = kind else {
        return failure(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json",
            None,
        );
    };
    if kind == patch::Kind::Apply {
        return failure(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            "deploylab's built-in cluster does not serve server-side apply: use `kubectl apply` without --server-side",
            None,
        );
    }
    let Some(old) = cluster.store.get(resource, namespace, name) else {
        return not_found(resource, name);
    };
    let patched = match patch::apply(kind, &old, body) {
        Ok(patched) => patched,
        Err(why) => return failure(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", &why, None),
    };
    let (mut object, warnings) = match admitted(resource, patched, query) {
        Ok(admitted) => admitted,
        Err(answer) => return answer,
    };
    keep_what_clients_do_not_write(resource, &old, &mut object, status_only);
    if resource.kind == "Service"
        && let Err(answer) = crate::nodeport::allocate(cluster, namespace, &mut object, Some(&old))
    {
        return answer;
    }
    let expected = old["metadata"]["resourceVersion"]
        .as_str()
        .map(String::from);
    match cluster
        .store
        .update(resource, namespace, name, object, expected.as_deref())
    {
        Ok(stored) => with_warnings(json_answer(StatusCode::OK, &stored), &warnings),
        Err(why) => refused(resource, name, why),
    }
}

fn delete(cluster: &Cluster, resource: &'static Resource, namespace: &str, name: &str) -> Answer {
    if resource.kind == "Namespace" {
        if matches!(
            name,
            "default" | "kube-system" | "kube-public" | "kube-node-lease"
        ) {
            return failure(
                StatusCode::FORBIDDEN,
                "Forbidden",
                &format!("namespaces \"{name}\" is forbidden: this namespace may not be deleted"),
                None,
            );
        }
        // Its contents go with it.
        for r in resources::RESOURCES.iter().filter(|r| r.namespaced) {
            for object in cluster.store.list(r, Some(name)).0 {
                let n = object["metadata"]["name"].as_str().unwrap_or_default();
                cluster.store.delete(r, name, n);
            }
        }
    }
    match cluster.store.delete(resource, namespace, name) {
        Some(object) => json_answer(StatusCode::OK, &object),
        None => not_found(resource, name),
    }
}

fn scale(
    cluster: &Cluster,
    resource: &'static Resource,
    namespace: &str,
    name: &str,
    kind: Option<patch::Kind>,
    body: Option<Value>,
) -> Answer {
    let Some(object) = cluster.store.get(resource, namespace, name) else {
        return not_found(resource, name);
    };
    let current = scale_of(&object);
    let Some(body) = body else {
        return json_answer(StatusCode::OK, &current);
    };
    let wanted = match kind {
        Some(kind) => match patch::apply(kind, &current, &body) {
            Ok(v) => v,
            Err(why) => return failure(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", &why, None),
        },
        None => body,
    };
    let Some(replicas) = wanted["spec"]["replicas"].as_i64().filter(|r| *r >= 0) else {
        return failure(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            &format!(
                "Scale.autoscaling \"{name}\" is invalid: spec.replicas: Invalid value: must be greater than or equal to 0"
            ),
            None,
        );
    };
    match cluster.store.modify(resource, namespace, name, |o| {
        o["spec"]["replicas"] = json!(replicas);
    }) {
        Some(updated) => json_answer(StatusCode::OK, &scale_of(&updated)),
        None => not_found(resource, name),
    }
}

fn scale_of(object: &Value) -> Value {
    let m = &object["metadata"];
    let selector = Labels::of(&object["spec"]["selector"])
        .map(|s| s.to_text())
        .unwrap_or_default();
    json!({"kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {"name": m["name"], "namespace": m["namespace"], "uid": m["uid"],
                     "resourceVersion": m["resourceVersion"], "creationTimestamp": m["creationTimestamp"]},
        "spec": {"replicas": object["spec"]["replicas"]},
        "status": {"replicas": object["status"]["replicas"].as_i64().unwrap_or(0), "selector": selector}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_resources_namespaces_and_subresources() {
        let t = target(&[
            "apis",
            "apps",
            "v1",
            "namespaces",
            "default",
            "deployments",
            "web",
            "scale",
        ])
        .unwrap();
        assert_eq!(t.resource.kind, "Deployment");
        assert_eq!(t.namespace.as_deref(), Some("default"));
        assert_eq!(t.name.as_deref(), Some("web"));
        assert_eq!(t.subresource.as_deref(), Some("scale"));
        let t = target(&["api", "v1", "namespaces", "lab"]).unwrap();
        assert_eq!(
            (t.resource.kind, t.name.as_deref()),
            ("Namespace", Some("lab"))
        );
        let t = target(&["api", "v1", "pods"]).unwrap();
        assert!(t.namespace.is_none() && t.name.is_none());
        let t = target(&[
            "api",
            "v1",
            "namespaces",
            "default",
            "services",
            "web:80",
            "proxy",
            "admin",
            "login",
        ])
        .unwrap();
        assert_eq!(t.rest, "admin/login");
        assert!(target(&["apis", "batch", "v1", "jobs"]).is_none());
        assert_eq!(decode("metadata.name%3Dweb"), "metadata.name=web");
    }
}
