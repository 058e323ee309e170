//! The k8s lab on deploylab's built-in cluster, driven by the real
//! kubectl (and the real Docker engine under its pods): the course's flow
//! end to end, rolling updates and rollbacks as kubectl shows them, the
//! classic failures each failing exactly its check with its lesson, bad
//! manifests refused with the real server's words, and another project
//! deployed its own way.
//!
//! The lab shares the package proxy's fixed port with the container lab:
//! these tests run in the `host-ports` group (`.config/nextest.toml`).

use super::container::{AppFolder, check, fails_with};
use super::support::*;

/// A started k8s lab on a copy of a project, and kubectl pointed at it.
struct Cluster {
    lab: Lab,
    app: AppFolder,
    kubeconfig: String,
}

impl Cluster {
    fn start(project: &str, folder: &str) -> Cluster {
        let lab = Lab::new();
        let app = AppFolder::of(project, folder, &[]);
        let started = lab.run(&["start", "k8s", "--dir", &app.arg()]);
        assert!(started.status.success(), "{}", stderr(&started));
        assert!(
            stdout(&started).contains("eval \"$(deploylab k8s env)\""),
            "{}",
            stdout(&started)
        );
        let env = lab.run(&["k8s", "env"]);
        let line = stdout(&env);
        let kubeconfig = line
            .trim()
            .strip_prefix("export KUBECONFIG='")
            .and_then(|l| l.strip_suffix('\''))
            .unwrap_or_else(|| panic!("{line}"))
            .to_string();
        Cluster {
            lab,
            app,
            kubeconfig,
        }
    }

    /// The real kubectl, with this lab's kubeconfig and a cache of its own.
    fn kubectl(&self, args: &[&str]) -> Output {
        Command::new("kubectl")
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", self.lab.home.path())
            .current_dir(self.app.path())
            .stdin(Stdio::null())
            .output()
            .expect("kubectl runs (installed by .ci/run)")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(
            out.status.success(),
            "kubectl {args:?}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        stdout(&out)
    }

    fn docker_build(&self, tag: &str) {
        let built = Command::new("docker")
            .args(["build", "-q", "-t", tag, "."])
            .current_dir(self.app.path())
            .output()
            .unwrap();
        assert!(built.status.success(), "{}", stderr(&built));
    }

    /// Copies a file of the reference solution into the app folder.
    fn put(&self, file: &str, to: &str) {
        let from = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("solutions/k8s/files");
        self.app
            .write(to, &std::fs::read_to_string(from.join(file)).unwrap());
    }

    /// Checks until `done` holds of the report (up to 3 minutes).
    fn check_until(&self, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let report = check(&self.lab);
            if done(&report) {
                return report;
            }
            assert!(Instant::now() < deadline, "{what}: {report:#}");
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.lab.run(&["stop", "k8s"]);
        for tag in ["blog:1", "blog:2", "blog:latest", "notes:0.3"] {
            let _ = Command::new("docker")
                .args(["image", "rm", "-f", tag])
                .output();
        }
    }
}

fn passes(report: &Value, check: &str) -> bool {
    check_result(report, check)["status"] == "pass"
}

/// The blog's Dockerfile and the reference manifests, with the database
/// password in the Deployment (as the solution's rollout step has it).
fn the_course_way(cluster: &Cluster) {
    cluster.put("Dockerfile", "Dockerfile");
    cluster.put(".dockerignore", ".dockerignore");
    cluster.put("gunicorn.conf.py", "gunicorn.conf.py");
    cluster.put("k8s/db.yaml", "k8s/db.yaml");
    cluster.put("k8s/blog-production.yaml", "k8s/blog.yaml");
    cluster.put("k8s/service.yaml", "k8s/service.yaml");
    cluster.docker_build("blog:1");
}

#[test]
fn k8s_course_flow_with_the_real_kubectl() {
    let cluster = Cluster::start("labs/shared/blog", "blog");
    let nodes = cluster.ok(&["get", "nodes"]);
    assert!(nodes.contains("deploylab-control-plane   Ready"), "{nodes}");
    let fresh = check(&cluster.lab);
    assert!(passes(&fresh, "reachable"), "{fresh:#}");
    assert!(!passes(&fresh, "deployment"));

    // The course's four steps: the image, the manifests, apply, rollout.
    the_course_way(&cluster);
    let applied = cluster.ok(&["apply", "-f", "k8s/db.yaml"]);
    assert!(
        applied.contains("secret/db created") && applied.contains("deployment.apps/db created"),
        "{applied}"
    );
    cluster.ok(&["rollout", "status", "deployment/db", "--timeout=120s"]);
    let applied = cluster.ok(&["apply", "-f", "k8s/"]);
    assert!(
        applied.contains("deployment.apps/blog created"),
        "{applied}"
    );
    assert!(applied.contains("service/blog created"), "{applied}");
    assert!(
        applied.contains("deployment.apps/db unchanged"),
        "{applied}"
    );
    let rolled = cluster.ok(&["rollout", "status", "deployment/blog", "--timeout=180s"]);
    assert!(
        rolled
            .trim_end()
            .ends_with("deployment \"blog\" successfully rolled out"),
        "{rolled}"
    );

    let pods = cluster.ok(&["get", "pods", "-o", "wide", "-l", "app=blog"]);
    let header = pods.lines().next().unwrap();
    for column in ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"] {
        assert!(header.contains(column), "{pods}");
    }
    assert_eq!(
        pods.lines()
            .filter(|l| l.contains("1/1") && l.contains("Running"))
            .count(),
        2,
        "{pods}"
    );
    let deploy = cluster.ok(&["get", "deploy", "blog"]);
    assert!(deploy.contains("2/2"), "{deploy}");
    let yaml = cluster.ok(&["get", "deploy", "blog", "-o", "yaml"]);
    for shown in [
        "imagePullPolicy: IfNotPresent",
        "strategy:",
        "maxSurge: 25%",
        "observedGeneration: 1",
        "protocol: TCP",
    ] {
        assert!(yaml.contains(shown), "{shown}: {yaml}");
    }
    let page = cluster.ok(&[
        "get",
        "--raw",
        "/api/v1/namespaces/default/services/blog:80/proxy/admin/login/",
    ]);
    assert!(page.contains("csrfmiddlewaretoken"), "{page}");
    // The course's management commands, through kubectl exec.
    let checked = cluster.ok(&[
        "exec",
        "deploy/blog",
        "--",
        "python",
        "manage.py",
        "migrate",
        "--check",
    ]);
    assert!(!checked.contains("Error"), "{checked}");
    let created = cluster.ok(&[
        "exec", "deploy/blog", "--", "sh", "-c",
        "DJANGO_SUPERUSER_PASSWORD=s3cret python manage.py createsuperuser --noinput --username admin --email admin@example.org",
    ]);
    assert!(
        created.contains("Superuser created successfully."),
        "{created}"
    );
    let failed = cluster.kubectl(&[
        "exec",
        "deploy/blog",
        "--",
        "sh",
        "-c",
        "echo oops >&2; exit 3",
    ]);
    assert_eq!(failed.status.code(), Some(3));
    assert!(stderr(&failed).contains("oops"), "{}", stderr(&failed));
    let mut piped = Command::new("kubectl")
        .args(["exec", "-i", "deploy/blog", "--", "python", "-"])
        .env("KUBECONFIG", &cluster.kubeconfig)
        .env("HOME", cluster.lab.home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    piped
        .stdin
        .take()
        .unwrap()
        .write_all(b"print(6 * 7)\n")
        .unwrap();
    let answered = piped.wait_with_output().unwrap();
    assert_eq!(stdout(&answered).trim(), "42");

    let logs = cluster.ok(&["logs", "deployment/blog", "--tail=20"]);
    assert!(logs.contains("GET /admin/login/"), "{logs}");

    let report = check(&cluster.lab);
    assert!(not_passing(&report).is_empty(), "{report:#}");

    // A new image through a real rolling update, then back.
    cluster.app.write("blog/templates/version.txt", "2\n");
    cluster.docker_build("blog:2");
    let updated = cluster.ok(&["set", "image", "deployment/blog", "blog=blog:2"]);
    assert_eq!(updated.trim(), "deployment.apps/blog image updated");
    let rolled = cluster.ok(&["rollout", "status", "deployment/blog", "--timeout=180s"]);
    let lines: Vec<&str> = rolled.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Waiting for deployment \"blog\" rollout to finish: ")),
        "{rolled}"
    );
    assert_eq!(
        lines.last().copied(),
        Some("deployment \"blog\" successfully rolled out"),
        "{rolled}"
    );
    let history = cluster.ok(&["rollout", "history", "deployment/blog"]);
    let revisions: Vec<&str> = history
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(revisions, ["1", "2"], "{history}");
    let undone = cluster.ok(&["rollout", "undo", "deployment/blog"]);
    assert_eq!(undone.trim(), "deployment.apps/blog rolled back");
    cluster.ok(&["rollout", "status", "deployment/blog", "--timeout=180s"]);
    let history = cluster.ok(&["rollout", "history", "deployment/blog"]);
    let revisions: Vec<&str> = history
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(revisions, ["2", "3"], "{history}");
    let image = cluster.ok(&[
        "get",
        "deploy",
        "blog",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    assert_eq!(image, "blog:1");
    let failed = cluster.kubectl(&["rollout", "undo", "deployment/blog", "--to-revision=99"]);
    assert!(
        stderr(&failed).contains("unable to find specified revision 99 in history"),
        "{}",
        stderr(&failed)
    );

    let scaled = cluster.ok(&["scale", "deployment/blog", "--replicas=3"]);
    assert_eq!(scaled.trim(), "deployment.apps/blog scaled");
    cluster.ok(&["rollout", "status", "deployment/blog", "--timeout=120s"]);
    let ready = cluster.ok(&[
        "get",
        "deploy",
        "blog",
        "-o",
        "jsonpath={.status.readyReplicas}",
    ]);
    assert_eq!(ready, "3");
    let report = check(&cluster.lab);
    assert!(not_passing(&report).is_empty(), "{report:#}");

    let deleted = cluster.ok(&["delete", "-f", "k8s/"]);
    assert!(
        deleted.contains("deployment.apps \"blog\" deleted"),
        "{deleted}"
    );
    let gone = cluster.check_until("the pods go with their Deployment", |_| {
        labelled_containers(&cluster.lab.instance(), Some("pod")).is_empty()
    });
    assert!(!passes(&gone, "deployment"));
    let stopped = cluster.lab.run(&["stop", "k8s"]);
    assert!(stopped.status.success(), "{}", stderr(&stopped));
    assert!(
        cluster.lab.containers().is_empty(),
        "{:?}",
        cluster.lab.containers()
    );
}

#[test]
fn k8s_classic_failures_fail_their_check_with_their_lesson() {
    let cluster = Cluster::start("labs/shared/blog", "blog");
    the_course_way(&cluster);

    // Bad manifests get the real server's words; nothing is stored.
    cluster.app.write(
        "bad.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: bad}\nspec:\n  bogusField: 1\n  selector: {matchLabels: {app: bad}}\n  template:\n    metadata: {labels: {app: bad}}\n    spec: {containers: [{name: bad, image: blog:1}]}\n",
    );
    let refused = cluster.kubectl(&["apply", "-f", "bad.yaml"]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("Error from server (BadRequest)"),
        "{}",
        stderr(&refused)
    );
    assert!(
        stderr(&refused).contains("strict decoding error: unknown field \"spec.bogusField\""),
        "{}",
        stderr(&refused)
    );
    cluster.app.write(
        "v2.yaml",
        "apiVersion: apps/v2\nkind: Deployment\nmetadata: {name: v2}\n",
    );
    let refused = cluster.kubectl(&["apply", "-f", "v2.yaml"]);
    assert!(
        stderr(&refused).contains("no matches for kind \"Deployment\" in version \"apps/v2\""),
        "{}",
        stderr(&refused)
    );
    cluster.app.write(
        "broken.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: [\n",
    );
    let refused = cluster.kubectl(&["apply", "-f", "broken.yaml"]);
    assert!(
        !refused.status.success() && stderr(&refused).contains("error"),
        "{}",
        stderr(&refused)
    );
    cluster.app.write(
        "mismatch.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: mismatch}\nspec:\n  selector: {matchLabels: {app: one}}\n  template:\n    metadata: {labels: {app: two}}\n    spec: {containers: [{name: m, image: blog:1}]}\n",
    );
    let refused = cluster.kubectl(&["apply", "-f", "mismatch.yaml"]);
    assert!(
        stderr(&refused).contains("`selector` does not match template `labels`"),
        "{}",
        stderr(&refused)
    );
    // A pod may not reach the host.
    cluster.app.write(
        "host.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: host}\nspec:\n  hostNetwork: true\n  containers: [{name: h, image: blog:1, securityContext: {privileged: true}, volumeMounts: [{name: root, mountPath: /host}]}]\n  volumes: [{name: root, hostPath: {path: /}}]\n",
    );
    let refused = cluster.kubectl(&["apply", "-f", "host.yaml"]);
    let said = stderr(&refused);
    assert!(said.contains("Error from server (Forbidden)"), "{said}");
    for reason in [
        "host namespaces (hostNetwork=true)",
        "privileged (container \"h\"",
        "hostPath volumes (volume \"root\")",
    ] {
        assert!(said.contains(reason), "{reason}: {said}");
    }
    let pods = cluster.kubectl(&["get", "pods"]);
    assert!(
        stderr(&pods).contains("No resources found in default namespace."),
        "{}",
        stderr(&pods)
    );

    // kubectl's imperative creates send protobuf: the kinds a course
    // creates that way are read; the others are refused with the way round.
    let made = cluster.ok(&["create", "namespace", "practice"]);
    assert_eq!(made.trim(), "namespace/practice created");
    let made = cluster.ok(&[
        "-n",
        "practice",
        "create",
        "secret",
        "generic",
        "keys",
        "--from-literal=BLOG_SECRET_KEY=s3cret",
    ]);
    assert_eq!(made.trim(), "secret/keys created");
    let key = cluster.ok(&[
        "-n",
        "practice",
        "get",
        "secret",
        "keys",
        "-o",
        "jsonpath={.data.BLOG_SECRET_KEY}",
    ]);
    assert_eq!(key, "czNjcmV0");
    let made = cluster.ok(&[
        "-n",
        "practice",
        "create",
        "configmap",
        "settings",
        "--from-literal=BLOG_DEBUG=false",
    ]);
    assert_eq!(made.trim(), "configmap/settings created");
    let refused = cluster.kubectl(&["create", "deployment", "quick", "--image=blog:1"]);
    assert!(
        stderr(&refused).contains("--dry-run=client -o yaml"),
        "{}",
        stderr(&refused)
    );
    cluster.ok(&["delete", "namespace", "practice"]);

    // The database first, then each mistake on the app's Deployment.
    cluster.ok(&["apply", "-f", "k8s/db.yaml"]);
    cluster.ok(&["rollout", "status", "deployment/db", "--timeout=120s"]);
    let manifest = cluster.app.read("k8s/blog.yaml");
    // Each mistake on a new Deployment: an update keeps what the server
    // defaulted before (a :latest image's pull policy Always stays when
    // the tag changes, as on any cluster).
    let apply = |text: String| {
        cluster.ok(&["delete", "deployment", "blog", "--ignore-not-found"]);
        cluster.app.write("k8s/blog.yaml", &text);
        cluster.ok(&["apply", "-f", "k8s/blog.yaml"]);
    };

    // :latest pulls, and there is no registry.
    cluster.docker_build("blog:latest");
    apply(manifest.replace("image: blog:1", "image: blog:latest"));
    let report = cluster.check_until("the image cannot be pulled", |r| {
        observed(r, "image", "image").contains("ImagePullBackOff")
    });
    fails_with(
        &report,
        "image",
        "imagePullPolicy Always",
        "imagePullPolicy: IfNotPresent",
    );
    fails_with(
        &report,
        "ready",
        "cannot pull blog:latest",
        "kubectl describe pod",
    );

    // An image nobody built.
    apply(manifest.replace("image: blog:1", "image: nope:1"));
    let report = cluster.check_until("the image is missing", |r| !passes(r, "image"));
    fails_with(
        &report,
        "image",
        "nope:1 is not in the cluster's images",
        "docker build",
    );

    // The app exits: CrashLoopBackOff, with its last lines.
    apply(manifest.replace(
        "postgres://blog:$(DB_PASSWORD)@db:5432/blog",
        "postgres://blog:$(DB_PASSWORD)@nodb:5432/blog",
    ));
    let report = cluster.check_until("the pods crash", |r| {
        observed(r, "rollout", "ready").contains("CrashLoopBackOff")
    });
    assert!(passes(&report, "image"), "{report:#}");
    fails_with(&report, "ready", "nodb", "kubectl logs");
    assert!(!passes(&report, "rolled-out"));

    // Readiness never comes: the probe asks a page that is not there.
    apply(manifest.replace("path: /admin/login/", "path: /nope/"));
    let report = cluster.check_until("the probe fails", |r| {
        observed(r, "rollout", "ready").contains("HTTP probe failed with statuscode: 404")
    });
    fails_with(
        &report,
        "ready",
        "HTTP probe failed with statuscode: 404",
        "kubectl describe pod",
    );
    assert!(passes(&report, "readiness"), "{report:#}");

    // Back to the course's manifest; then a Service that selects nothing.
    apply(manifest.clone());
    cluster.ok(&["rollout", "status", "deployment/blog", "--timeout=180s"]);
    let service = cluster.app.read("k8s/service.yaml");
    cluster.app.write(
        "k8s/service.yaml",
        &service.replace("selector: {app: blog}", "selector: {app: blogg}"),
    );
    cluster.ok(&["apply", "-f", "k8s/service.yaml"]);
    let report = cluster.check_until("the Service selects nothing", |r| !passes(r, "selects"));
    fails_with(&report, "selects", "select other labels", "selector");
    assert_eq!(
        status(&report, "service", "answers"),
        "blocked",
        "{report:#}"
    );
    for stage in ["cluster", "image", "rollout", "production"] {
        assert!(
            stage_statuses(&report).contains(&(stage.to_string(), "pass".to_string())),
            "{stage}: {report:#}"
        );
    }
    let proxied = cluster.kubectl(&[
        "get",
        "--raw",
        "/api/v1/namespaces/default/services/blog:80/proxy/",
    ]);
    assert!(
        stderr(&proxied).contains("no endpoints available for service"),
        "{}",
        stderr(&proxied)
    );

    // DisallowedHost behind the Service.
    cluster.app.write("k8s/service.yaml", &service);
    cluster.ok(&["apply", "-f", "k8s/service.yaml"]);
    apply(
        manifest
            .replace("value: '[\"*\"]'", "value: '[\"localhost\"]'")
            .replace(
                "httpGet: {path: /admin/login/, port: 8000}",
                "tcpSocket: {port: 8000}",
            ),
    );
    let report = cluster.check_until("Django refuses the pod's address", |r| {
        observed(r, "service", "answers").contains("DisallowedHost")
    });
    fails_with(&report, "answers", "ALLOWED_HOSTS", "kubectl get --raw");
}

/// Another project than the course's blog (`tests/projects/notes`),
/// deployed its own way: a namespace of its own, other names and labels,
/// uvicorn on a named port, SQLite in the pod, a NodePort Service, a TCP
/// probe, settings from a Secret by envFrom. Every point; the NodePort
/// answers on 127.0.0.1.
#[test]
fn k8s_judges_another_project_deployed_its_own_way() {
    let cluster = Cluster::start("tests/projects/notes", "notes");
    let settings = cluster.app.read("notes_project/settings.py");
    let settings = settings.replace(
        r#"ALLOWED_HOSTS = ["notes.example.org", ".notes.test"] if PRODUCTION else []"#,
        r#"ALLOWED_HOSTS = os.environ.get("NOTES_HOSTS", "localhost").split(",")"#,
    );
    assert!(settings.contains("NOTES_HOSTS"));
    cluster.app.write("notes_project/settings.py", &settings);
    cluster.app.write(
        "notes_project/asgi.py",
        "import os\n\nfrom django.core.asgi import get_asgi_application\n\n\
         os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"notes_project.settings\")\n\
         application = get_asgi_application()\n",
    );
    cluster
        .app
        .write("requirements.txt", "django>=5.2,<6\nuvicorn\n");
    cluster.app.write(
        "Dockerfile",
        "FROM python:3.13-slim-trixie\n\
         ENV PYTHONUNBUFFERED=1 NOTES_PRODUCTION=1 NOTES_STATIC_ROOT=/srv/static NOTES_DATABASE=/srv/data/notes.sqlite3\n\
         RUN useradd --uid 1500 --create-home web && mkdir -p /srv/data && chown web /srv/data\n\
         WORKDIR /srv/notes\n\
         COPY requirements.txt .\n\
         RUN pip install --no-cache-dir -r requirements.txt\n\
         COPY . .\n\
         RUN python manage.py collectstatic --noinput\n\
         USER web\n\
         CMD python manage.py migrate --noinput && exec uvicorn notes_project.asgi:application --host 0.0.0.0 --port 8000\n",
    );
    cluster.docker_build("notes:0.3");
    cluster.app.write(
        "deploy/notes.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: notes}\n---\n\
         apiVersion: v1\nkind: Secret\nmetadata: {name: notes-env, namespace: notes}\n\
         stringData: {NOTES_SECRET_KEY: not-in-the-image, NOTES_HOSTS: '*'}\n---\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: notes-web, namespace: notes}\n\
         spec:\n  replicas: 1\n  selector: {matchLabels: {app.kubernetes.io/name: notes, tier: web}}\n\
         \x20 template:\n    metadata: {labels: {app.kubernetes.io/name: notes, tier: web}}\n    spec:\n      containers:\n\
         \x20       - name: uvicorn\n          image: notes:0.3\n          ports: [{name: http, containerPort: 8000}]\n\
         \x20         envFrom: [{secretRef: {name: notes-env}}]\n\
         \x20         readinessProbe: {tcpSocket: {port: http}, periodSeconds: 1}\n\
         \x20         resources: {requests: {cpu: 50m, memory: 64Mi}, limits: {cpu: 500m, memory: 256Mi}}\n---\n\
         apiVersion: v1\nkind: Service\nmetadata: {name: front, namespace: notes}\n\
         spec:\n  type: NodePort\n  selector: {app.kubernetes.io/name: notes, tier: web}\n  ports: [{port: 8080, targetPort: http}]\n",
    );
    let applied = cluster.ok(&["apply", "-f", "deploy/notes.yaml"]);
    assert!(applied.contains("namespace/notes created"), "{applied}");
    cluster.ok(&[
        "-n",
        "notes",
        "rollout",
        "status",
        "deployment/notes-web",
        "--timeout=180s",
    ]);
    let report = cluster.check_until("every point", |r| not_passing(r).is_empty());
    assert!(
        observed(&report, "service", "answers").contains("service front"),
        "{report:#}"
    );
    let port = cluster.ok(&[
        "-n",
        "notes",
        "get",
        "svc",
        "front",
        "-o",
        "jsonpath={.spec.ports[0].nodePort}",
    ]);
    let port: u16 = port.parse().unwrap();
    assert!((30000..=32767).contains(&port));
    let page = Command::new("python3")
        .args(["-c", &format!("import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:{port}/admin/login/', timeout=10).status)")])
        .output()
        .unwrap();
    assert_eq!(stdout(&page).trim(), "200", "{}", stderr(&page));
}

/// Where kind is not installed (these machines), `--backend kind` is
/// refused with what to do, and nothing starts; `doctor` says which
/// backend serves the lab.
#[test]
fn k8s_backend_kind_is_refused_where_kind_is_missing() {
    let lab = Lab::new();
    let app = AppFolder::of("labs/shared/blog", "blog", &[]);
    let started = lab.run(&["start", "k8s", "--backend", "kind", "--dir", &app.arg()]);
    assert_eq!(started.status.code(), Some(2), "{}", stderr(&started));
    assert!(
        stderr(&started).contains("kind is not installed here"),
        "{}",
        stderr(&started)
    );
    assert!(lab.containers().is_empty());
    let doctor = stdout(&lab.run(&["doctor"]));
    assert!(
        doctor.contains("k8s backend: the built-in cluster (kind is not installed)"),
        "{doctor}"
    );
}
