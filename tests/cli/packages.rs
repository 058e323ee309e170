//! Python packages in the VM through the host's package proxy.

use super::support::*;

const VENV: &str = "sudo apt-get update -qq && sudo apt-get install -y -qq python3-venv >/dev/null && python3 -m venv /tmp/v";

/// Online (as this machine's host is), pip in the VM installs any package:
/// the host's pip fetches it, and the shared cache keeps it for next time.
/// `stop` ends the proxy.
#[test]
fn pip_in_the_vm_gets_any_package_through_the_host() {
    let lab = Lab::new();
    let started = lab.run(&["start", "vm-nginx"]);
    assert_eq!(started.status.code(), Some(0), "{}", stderr(&started));
    let port = ssh_port(&stdout(&started));
    assert_eq!(lab.proxies().len(), 1);
    let out = lab.ssh(port, &format!("{VENV} && /tmp/v/bin/pip install six"));
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let cached = std::fs::read_dir(shared_cache().join("pypi"))
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("six-"));
    assert!(cached, "six was not kept in the shared cache");
    assert_eq!(lab.run(&["stop"]).status.code(), Some(0));
    assert!(
        lab.proxies().is_empty(),
        "stop left the package proxy running"
    );
}

/// Offline (the host's index unreachable), cached packages still install and
/// any other fails at once with pip's own message, no retries.
#[test]
fn offline_pip_serves_the_cache_and_fails_fast_otherwise() {
    let lab = Lab::new().env("PIP_INDEX_URL", "http://127.0.0.1:9/simple/");
    let started = lab.run(&["start", "vm-nginx"]);
    assert_eq!(started.status.code(), Some(0), "{}", stderr(&started));
    let port = ssh_port(&stdout(&started));
    let out = lab.ssh(
        port,
        &format!("{VENV} && /tmp/v/bin/pip install 'django>=5.2,<6' gunicorn"),
    );
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let out = lab.ssh(port, "/tmp/v/bin/pip install pyfiglet");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("No matching distribution found for pyfiglet"),
        "{}",
        stderr(&out)
    );
}

/// Builds the fake index's files: deterministic wheels (the same bytes on
/// every run, as an index's files are), an sdist, and PEP 503 pages whose
/// links carry each file's sha256 (one of them wrong on purpose).
const MAKE_INDEX: &str = r#"
import base64, gzip, hashlib, io, os, sys, tarfile, zipfile
root = sys.argv[1]
os.makedirs(f"{root}/files")
STAMP = (2024, 3, 1, 12, 0, 0)

def wheel(name, version, metadata=""):
    fn = f"{name}-{version}-py3-none-any.whl"
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f"VERSION = '{version}'\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{metadata}",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: deploylab-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    with zipfile.ZipFile(f"{root}/files/{fn}", "w") as z:
        for path, content in files.items():
            z.writestr(zipfile.ZipInfo(path, STAMP), content)
            digest = base64.urlsafe_b64encode(hashlib.sha256(content.encode()).digest()).rstrip(b"=").decode()
            record.append(f"{path},sha256={digest},{len(content)}")
        record.append(f"{dist}/RECORD,,")
        z.writestr(zipfile.ZipInfo(f"{dist}/RECORD", STAMP), "\n".join(record) + "\n")
    return fn

def sdist(name, version):
    fn = f"{name}-{version}.tar.gz"
    files = {
        "pyproject.toml": f'[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n[project]\nname = "{name}"\nversion = "{version}"\n',
        f"{name}/__init__.py": f"VERSION = '{version}'\n",
    }
    with gzip.GzipFile(f"{root}/files/{fn}", "wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as t:
        for path, content in files.items():
            info = tarfile.TarInfo(f"{name}-{version}/{path}")
            info.size, info.mtime = len(content), 1709294400
            t.addfile(info, io.BytesIO(content.encode()))
    return fn

def sha(fn):
    return hashlib.sha256(open(f"{root}/files/{fn}", "rb").read()).hexdigest()

projects = {
    "dlsample": [wheel("dlsample", "1.0"), wheel("dlsample", "2.0")],
    "dlextra": [wheel("dlextra", "1.0", 'Provides-Extra: pinned\nRequires-Dist: dlsample==1.0; extra == "pinned"\n')],
    "dlsdist": [sdist("dlsdist", "0.1")],
    "dlcorrupt": [wheel("dlcorrupt", "1.0")],
}
for project, files in projects.items():
    os.makedirs(f"{root}/simple/{project}")
    links = ""
    for fn in files:
        digest = "0" * 64 if project == "dlcorrupt" else sha(fn)
        links += f'<a href="../../files/{fn}#sha256={digest}" data-requires-python="&gt;=3.8">{fn}</a><br>\n'
    open(f"{root}/simple/{project}/index.html", "w").write(f"<html><body>\n{links}</body></html>\n")
print(sha("dlsample-2.0-py3-none-any.whl"))
"#;

/// 40 requests at once for names no index has, then three that are no
/// project names at all; prints the status of each.
const FLOOD: &str = r#"python3 - <<'PY'
import concurrent.futures, re, urllib.error, urllib.request
index = re.search(r"index-url = (\S+)", open("/etc/pip.conf").read()).group(1)
def ask(name):
    try:
        return urllib.request.urlopen(index + name + "/", timeout=120).status
    except urllib.error.HTTPError as e:
        return e.code
names = [f"dl-nope-{i}" for i in range(40)] + ["-r", "..", "a%2Fb"]
with concurrent.futures.ThreadPoolExecutor(len(names)) as pool:
    print(" ".join(str(code) for code in pool.map(ask, names)))
PY"#;

/// The child processes of a host process, from /proc.
fn children(pid: u32) -> Vec<u32> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).unwrap();
    tasks
        .flatten()
        .flat_map(|task| {
            std::fs::read_to_string(task.path().join("children"))
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// A package index served by the test itself (`http.server` over files
/// made by `MAKE_INDEX`), so nothing depends on the real PyPI.
pub(crate) struct FakeIndex {
    _dir: tempfile::TempDir,
    server: std::process::Child,
    pub(crate) url: String,
    /// sha256 of dlsample 2.0's wheel.
    sample_2_sha: String,
}

impl FakeIndex {
    pub(crate) fn start() -> FakeIndex {
        use std::io::BufRead;
        let dir = tempfile::tempdir().unwrap();
        let made = Command::new("python3")
            .args(["-c", MAKE_INDEX])
            .arg(dir.path().join("index"))
            .output()
            .unwrap();
        assert!(made.status.success(), "{}", stderr(&made));
        let mut server = Command::new("python3")
            .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1"])
            .current_dir(dir.path().join("index"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Readiness: http.server says where it listens once it does.
        let mut line = String::new();
        std::io::BufReader::new(server.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .split(" port ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or_else(|| panic!("http.server said: {line}"));
        FakeIndex {
            url: format!("http://127.0.0.1:{port}/simple/"),
            sample_2_sha: stdout(&made).trim().to_string(),
            server,
            _dir: dir,
        }
    }

    pub(crate) fn stop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

impl Drop for FakeIndex {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The proxy is a pull-through cache of the host's index: every version the
/// index lists installs (a pinned older one beside a cached newer one),
/// with ranges, extras, markers, `--require-hashes` and an sdist built in
/// the VM; a file that does not match its hash is refused and not kept;
/// offline, what was fetched installs and anything else fails at once.
#[test]
fn the_proxy_is_a_pull_through_cache_of_the_hosts_index() {
    let mut index = FakeIndex::start();
    let lab = Lab::new().env("PIP_INDEX_URL", index.url.clone());
    let started = lab.run(&["start", "vm-nginx"]);
    assert_eq!(started.status.code(), Some(0), "{}", stderr(&started));
    let port = ssh_port(&stdout(&started));
    let pip = |args: &str| lab.ssh(port, &format!("/tmp/v/bin/pip install {args}"));
    let version = |name: &str| {
        let out = lab.ssh(
            port,
            &format!("/tmp/v/bin/python -c 'import {name}; print({name}.VERSION)'"),
        );
        stdout(&out).trim().to_string()
    };
    let out = lab.ssh(port, VENV);
    assert!(out.status.success(), "{}", stderr(&out));

    let out = pip("dlsample");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(version("dlsample"), "2.0");
    // The newer one is cached now; the pinned older one still installs.
    let out = pip("dlsample==1.0");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(version("dlsample"), "1.0");
    let out = pip("'dlsample>=1.5,<3; python_version >= \"3\"'");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(version("dlsample"), "2.0");
    let out = pip("'dlextra[pinned]'");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(version("dlsample"), "1.0", "the extra pins dlsample 1.0");
    let hashed = format!(
        "echo 'dlsample==2.0 --hash=sha256:{}' > /tmp/req.txt && /tmp/v/bin/pip install --require-hashes -r /tmp/req.txt",
        index.sample_2_sha
    );
    let out = lab.ssh(port, &hashed);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    // Only an sdist: built in the VM (setuptools from the image's wheels).
    let out = pip("dlsdist==0.1");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(version("dlsdist"), "0.1");

    let out = pip("dlcorrupt");
    assert!(
        !out.status.success(),
        "a file that fails its hash installed"
    );
    let kept = |name: &str| {
        std::fs::read_dir(shared_cache().join("pypi"))
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(name))
    };
    assert!(!kept("dlcorrupt-"), "a file that failed its hash was kept");
    assert!(kept("dlsample-1.0-") && kept("dlsample-2.0-"));

    // A flood of made-up names from inside the VM: every one answered, bad
    // names refused before anything reaches the index, and no process
    // started on the host for any of it.
    let out = lab.ssh(port, FLOOD);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut codes: Vec<String> = stdout(&out)
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let refused = codes.split_off(40);
    assert!(codes.iter().all(|c| c == "404"), "{codes:?}");
    assert_eq!(refused, ["400", "400", "400"]);
    for pid in lab.proxies() {
        assert_eq!(
            children(pid),
            Vec::<u32>::new(),
            "the proxy started processes"
        );
    }

    // Offline: the index is gone.
    index.stop();
    let out = pip("--force-reinstall --no-deps dlsample==1.0");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let out = pip("dlnever");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("No matching distribution found for dlnever"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("index does not answer, and dlnever is not in deploylab's cache"),
        "the one line that says why: {}",
        stderr(&out)
    );
}
