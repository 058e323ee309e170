#!/usr/bin/env python3
"""deploylab benchmark: prints figures, asserts nothing (tests assert behaviour).

Usage: python3 bench/bench.py [--runs-start 5] [--runs-check 10] [--cold] [--testinfra]
       [--only-heroku | --only-container | --only-machines | --only-k8s | --only-ansible
        | --only-speed]

Measures, with the release binary (built first):
  - with --only-speed, issue 28's ratios, each to the engine's own floor in
    the same run: `start vm-nginx` claiming a spare and with spares off,
    against a bare `docker run` of the lab's image to an SSH banner (and
    the same on a private network made for it); `check`
    on a fresh and on a deployed VM, against one `docker exec true`; one
    grade and 8 with --jobs 2
  - image build: no-op rebuild (recipe unchanged); cold build with --cold
  - `start vm-nginx` warm (image present) until SSH answers, median of N
  - `check` latency on a fresh VM and on one with the course's packages, median of N
  - idle VM memory (the container's cgroup, as `docker stats` counts it)
  - deploylab's own peak RSS during start and check
  - the full reference solution of vm-nginx from a fresh VM (offline), then
    `check` on the deployed lab, median of N, and `check` right after a change
    to the settings (Django asked afresh, not from the probe's cache)
  - a pinned requirements.txt (real PyPI; skipped offline) installed in a
    fresh venv through the package proxy: first with those files removed
    from the shared cache, then again from the cache
  - with --testinfra: the same checks written for pytest-testinfra (docker
    backend, installed into target/bench-venv), run on the same VM, and the
    ratio testinfra / deploylab
  - the heroku lab (needs the real CLI unpacked in target/heroku-cli-11.10.0,
    as the tests do): `start heroku` warm, `addons:create heroku-postgresql`,
    the first push, a push of the blog to released and answering through
    the router (warm cache), median of N, and one push that adds a
    requirement (new packages volume from a copy of the cache); `heroku apps`; the API request
    `heroku ps` makes (GET /apps/{app}/dynos) and `heroku ps` itself; `check`
    on the deployed app; the fake's RSS and a web dyno's memory
    (--only-heroku skips the VM part)
  - the container lab (--only-container skips the rest): `start container`
    with the stand-in images made from scratch, then with them present; the
    reference solution's `docker-compose up -d --build`, cold (pip through the
    proxy) and warm; `check` of a new image (deploylab builds nothing, runs
    the image alone twice) and of the running stack, median of N
  - the k8s lab on the built-in cluster (--only-k8s skips the rest):
    `start k8s` warm (stand-ins present), median of N; `kubectl apply` of the
    reference Deployment (2 replicas, image built) to all pods Ready and the
    rollout finished; `check` on it, median of N; the API server's idle RSS
    with the blog and its database running
  - the vm-ansible lab (--only-ansible skips the rest): `start vm-ansible`
    warm (two VMs, the inventory), median of N; the reference playbook's first
    run through `deploylab ansible-playbook`; the first `check` after it
    (deploylab's second run of the playbook, then the probes); `check` on the
    converged, rebooted lab, median of N
  - a lab of two machines (--only-machines skips the rest): `start` to both
    SSH-ready and `check` on both, median of N
  - grading: `submit` of the deployed reference solution (time, file size),
    one `grade` of it (fresh VM, restore, reboot, checks: total and phases),
    and 8 copies graded with --jobs 2
  - hardening (figures; the tests assert the bounds): a flood of 200 unknown
    package names asked at once from inside a VM — the proxy's RSS and child
    processes, host memory, before and after; the fake Heroku's RSS after 4
    unauthenticated 50 MB POSTs; how long an idle connection that never starts
    its TLS handshake is held
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "deploylab")


def env_with(**extra):
    env = dict(os.environ)
    env.update(extra)
    return env


def timed(args, env, check=True):
    """Runs deploylab under GNU time; returns (seconds, process, peak RSS in KiB)."""
    t = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "peak-rss-kib=%M", BIN, *args],
                          env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    peak = 0
    for line in proc.stderr.splitlines():
        if line.startswith("peak-rss-kib="):
            peak = int(line.split("=")[1])
    if check and proc.returncode not in (0, 1):
        sys.exit(f"deploylab {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return elapsed, proc, peak


def ms(seconds):
    return f"{seconds * 1000:.0f} ms"


def container_memory_mib(container_id):
    """Memory of the container's cgroup minus reclaimable page cache (what
    `docker stats` shows), read from the kernel's cgroup files."""
    for base in (f"/sys/fs/cgroup/memory/docker/{container_id}",
                 f"/sys/fs/cgroup/system.slice/docker-{container_id}.scope"):
        if not os.path.isdir(base):
            continue
        stat = {}
        stat_file = os.path.join(base, "memory.stat")
        for line in open(stat_file):
            k, v = line.split()
            stat[k] = int(v)
        usage_file = os.path.join(base, "memory.usage_in_bytes")
        if os.path.exists(usage_file):
            usage = int(open(usage_file).read())
            inactive = stat.get("total_inactive_file", 0)
        else:
            usage = int(open(os.path.join(base, "memory.current")).read())
            inactive = stat.get("inactive_file", 0)
        return (usage - inactive) / 2**20
    return float("nan")


TWO_MACHINES = """schema: 1
id: two-vms
title: Two machines
environment: vm
machines: [control, web]
stages:
  - id: access
    title: Both answer
    checks:
      - { id: ssh, title: SSH, expect: { ssh_banner: {} }, hint: h }
      - { id: sudo, title: sudo, expect: { sudo_allowed: {} }, hint: h }
      - { id: key, title: key, expect: { ssh_key_authorized: {} }, hint: h }
"""


def two_machines(env, home, runs_start, runs_check):
    """A lab of two machines (the built-in labs beside it, so the VM image
    is the same): `start` to both SSH-ready, and `check` on both."""
    labs = tempfile.mkdtemp(prefix="deploylab-bench-labs-")
    shutil.copytree(os.path.join(ROOT, "labs"), os.path.join(labs, "labs"))
    os.makedirs(os.path.join(labs, "labs", "two-vms"))
    with open(os.path.join(labs, "labs", "two-vms", "lab.yaml"), "w") as f:
        f.write(TWO_MACHINES)
    two = dict(env, DEPLOYLAB_LABS=os.path.join(labs, "labs"))
    try:
        starts = []
        for _ in range(runs_start):
            timed(["stop", "--all", "--quiet"], two)
            starts.append(timed(["start", "two-vms", "--quiet"], two)[0])
        print(f"start of a two-machine lab, warm, to both SSH-ready, median of {len(starts)}: "
              f"{ms(statistics.median(starts))}")
        checks = [timed(["check", "--format", "json"], two)[0] for _ in range(runs_check)]
        print(f"check of a two-machine lab (3 checks on each), median of {len(checks)}: "
              f"{ms(statistics.median(checks))}")
    finally:
        subprocess.run([BIN, "stop", "--all", "--quiet"], env=two, capture_output=True)
        shutil.rmtree(labs, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs-start", type=int, default=5)
    parser.add_argument("--runs-check", type=int, default=10)
    parser.add_argument("--cold", action="store_true", help="also time a cold image build (~30 s)")
    parser.add_argument("--testinfra", action="store_true", help="compare with pytest-testinfra")
    parser.add_argument("--runs-push", type=int, default=3)
    parser.add_argument("--only-heroku", action="store_true", help="only the heroku lab's figures")
    parser.add_argument("--only-container", action="store_true", help="only the container lab's figures")
    parser.add_argument("--only-machines", action="store_true", help="only the two-machine lab's figures")
    parser.add_argument("--only-k8s", action="store_true", help="only the k8s lab's figures")
    parser.add_argument("--only-ansible", action="store_true", help="only the vm-ansible lab's figures")
    parser.add_argument("--only-speed", action="store_true",
                        help="only the ratios of start, check and grading to the engine's floor")
    args = parser.parse_args()

    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    home = tempfile.mkdtemp(prefix="deploylab-bench-")
    env = env_with(DEPLOYLAB_HOME=home)
    print(f"deploylab benchmark · {time.strftime('%Y-%m-%d %H:%M')} · {os.cpu_count()} cores")

    if args.cold:
        cache = tempfile.mkdtemp(prefix="deploylab-bench-cache-")
        t, _, _ = timed(["images", "build", "--quiet"], env_with(DEPLOYLAB_HOME=home, DEPLOYLAB_CACHE=cache))
        print(f"image build, cold (mmdebstrap + import + offline repo + wheels): {t:.1f} s")
        shutil.rmtree(cache, ignore_errors=True)
    timed(["images", "build", "--quiet"], env)  # make sure it exists
    noop = [timed(["images", "build", "--quiet"], env)[0] for _ in range(5)]
    print(f"image build, no-op (recipe unchanged), median of 5: {ms(statistics.median(noop))}")

    only = None
    if args.only_container:
        only = lambda: container_lab(env, home, args.runs_check)
    elif args.only_heroku:
        only = lambda: heroku(env, home, args.runs_push)
    elif args.only_machines:
        only = lambda: two_machines(env, home, args.runs_start, args.runs_check)
    elif args.only_k8s:
        only = lambda: k8s_lab(env, home, args.runs_start, args.runs_check)
    elif args.only_ansible:
        only = lambda: ansible_lab(env, home, args.runs_start, args.runs_check)
    elif args.only_speed:
        only = lambda: speed(env, home, args.runs_start, args.runs_check)
    if only:
        try:
            only()
        finally:
            subprocess.run([BIN, "stop", "--all", "--quiet"], env=env, capture_output=True)
            shutil.rmtree(home, ignore_errors=True)
        return

    starts, peak_start = [], 0
    try:
        for _ in range(args.runs_start):
            timed(["stop", "--all", "--quiet"], env)
            t, proc, peak = timed(["start", "vm-nginx", "--quiet"], env)
            starts.append(t)
            peak_start = max(peak_start, peak)
        print(f"start vm-nginx, warm, to SSH-ready, median of {len(starts)}: {ms(statistics.median(starts))}"
              f" (min {ms(min(starts))}, max {ms(max(starts))})")

        checks, peak_check = [], 0
        for _ in range(args.runs_check):
            t, _, peak = timed(["check", "--format", "json"], env)
            checks.append(t)
            peak_check = max(peak_check, peak)
        print(f"check, fresh VM, median of {len(checks)}: {ms(statistics.median(checks))}")

        state = json.load(open(os.path.join(home, "state.json")))
        container = state["labs"]["vm-nginx"]["machines"][0]["container_id"]
        time.sleep(3)  # let the VM settle before reading idle memory
        print(f"idle VM memory (cgroup, minus page cache): {container_memory_mib(container):.1f} MiB")

        # The course's packages, then check again (more files for the probe to verify).
        subprocess.run([BIN, "ssh", "--", "sudo apt-get update -qq && sudo apt-get install -y -qq "
                        "python3-dev python-is-python3 nginx git sqlite3 python3-venv"],
                       env=env, capture_output=True, check=True)
        checks = [timed(["check", "--format", "json"], env)[0] for _ in range(args.runs_check)]
        print(f"check, packages installed, median of {len(checks)}: {ms(statistics.median(checks))}")
        print(f"deploylab peak RSS: start {peak_start / 1024:.1f} MiB, check {peak_check / 1024:.1f} MiB")
        proxy_flood(env, home)

        # The whole lab: the reference solution from a fresh VM, offline.
        timed(["start", "vm-nginx", "--fresh", "--quiet"], env)
        t, proc, _ = timed(["solve", "reboot"], env)
        if proc.returncode != 0:
            sys.exit(f"the reference solution failed:\n{proc.stderr}")
        print(f"vm-nginx reference solution, fresh VM to all stages solved (offline): {t:.1f} s")
        timed(["check"], env)  # wakes the socket-activated app
        full = [timed(["check", "--format", "json"], env)[0] for _ in range(args.runs_check)]
        deploylab_ms = statistics.median(full)
        print(f"check, vm-nginx fully deployed (all stages), median of {len(full)}: {ms(deploylab_ms)}")
        changed = []
        for _ in range(max(1, args.runs_check // 2)):
            subprocess.run([BIN, "ssh", "--", "touch /app/blog_settings.toml"], env=env,
                           capture_output=True, check=True)
            changed.append(timed(["check", "--format", "json"], env)[0])
        print(f"check right after a settings change (Django asked afresh), median of {len(changed)}: "
              f"{ms(statistics.median(changed))}")
        pinned_install(env)
        grading(env, home)
        if args.testinfra:
            testinfra(env, home, deploylab_ms)
        subprocess.run([BIN, "stop", "--all", "--quiet"], env=env, capture_output=True)
        heroku(env, home, args.runs_push)
        subprocess.run([BIN, "stop", "--all", "--quiet"], env=env, capture_output=True)
        container_lab(env, home, args.runs_check)
        subprocess.run([BIN, "stop", "--all", "--quiet"], env=env, capture_output=True)
        k8s_lab(env, home, args.runs_start, args.runs_check)
        subprocess.run([BIN, "stop", "--all", "--quiet"], env=env, capture_output=True)
        ansible_lab(env, home, args.runs_start, args.runs_check)
        subprocess.run([BIN, "stop", "--all", "--quiet"], env=env, capture_output=True)
        two_machines(env, home, args.runs_start, args.runs_check)
    finally:
        subprocess.run([BIN, "stop", "--all", "--quiet"], env=env, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


STANDINS = ["deploylab/python", "deploylab/nginx", "deploylab/postgres"]


def container_lab(env, home, runs):
    """The container lab: stand-ins, the reference stack, and check."""
    app = tempfile.mkdtemp(prefix="deploylab-bench-app-")
    shutil.copytree(os.path.join(ROOT, "labs", "shared", "blog"), app, dirs_exist_ok=True)
    compose = ["docker-compose"]
    cenv = env_with(DEPLOYLAB_HOME=home, COMPOSE="docker-compose")
    try:
        # Only deploylab's stand-ins (by label), never a pulled image.
        gone = []
        for kind in ("python-standin", "nginx-standin", "postgres-standin"):
            listed = subprocess.run(["docker", "images", "--filter", f"label=deploylab.image={kind}",
                                     "--format", "{{.Repository}}:{{.Tag}}"],
                                    capture_output=True, text=True).stdout.split()
            gone += [i for i in listed if i.split(":")[0] in STANDINS
                     or i.startswith(("python:3.11", "postgres:15", "nginx:"))]
        subprocess.run(["docker", "rmi", "-f", *gone], capture_output=True)
        t, proc, _ = timed(["start", "container", "--dir", app, "--quiet"], cenv)
        print(f"start container, stand-in images made from scratch (python, postgres, nginx): {t:.1f} s")
        warm = []
        for _ in range(3):
            timed(["stop", "container", "--quiet"], cenv)
            warm.append(timed(["start", "container", "--dir", app, "--quiet"], cenv)[0])
        print(f"start container, stand-ins present (no-op), median of 3: {ms(statistics.median(warm))}")
        t, proc, _ = timed(["solve", "compose"], cenv)
        if proc.returncode != 0:
            sys.exit(f"the reference solution failed:\n{proc.stderr}")
        print(f"container reference solution to a migrated Compose stack, cold (pip through the proxy): {t:.1f} s")
        subprocess.run(compose + ["down"], cwd=app, capture_output=True, check=True)
        start = time.perf_counter()
        subprocess.run(compose + ["up", "-d", "--build"], cwd=app, capture_output=True, check=True)
        print(f"reference `docker-compose up -d --build`, warm: {ms(time.perf_counter() - start)}")
        timed(["solve", "persistence"], cenv)
        shutil.rmtree(os.path.join(home, "container", "probes"), ignore_errors=True)
        t, _, _ = timed(["check", "--format", "json"], cenv)
        print(f"check, a new image (run alone twice, then the stack): {ms(t)}")
        checks, peak = [], 0
        for _ in range(runs):
            t, _, rss = timed(["check", "--format", "json"], cenv)
            checks.append(t)
            peak = max(peak, rss)
        print(f"check, the running stack, median of {len(checks)}: {ms(statistics.median(checks))}"
              f" (peak RSS {peak / 1024:.1f} MiB)")
    finally:
        subprocess.run(compose + ["down", "-v", "--rmi", "local"], cwd=app, capture_output=True)
        subprocess.run([BIN, "stop", "container", "--quiet"], env=cenv, capture_output=True)
        shutil.rmtree(app, ignore_errors=True)


def warm_starts(env, lab, extra, runs, what):
    """`start <lab>` again after a `stop`, images present: prints the median."""
    starts = []
    for _ in range(runs):
        timed(["stop", lab, "--quiet"], env)
        starts.append(timed(["start", lab, *extra, "--quiet"], env)[0])
    print(f"{what}, warm, median of {len(starts)}: {ms(statistics.median(starts))}"
          f" (min {ms(min(starts))}, max {ms(max(starts))})")


def k8s_lab(env, home, runs_start, runs_check):
    """The k8s lab: start, apply to Ready, check, the API server's memory."""
    app = tempfile.mkdtemp(prefix="deploylab-bench-k8s-")
    shutil.copytree(os.path.join(ROOT, "labs", "shared", "blog"), app, dirs_exist_ok=True)
    files = os.path.join(ROOT, "solutions", "k8s", "files")
    try:
        timed(["start", "k8s", "--dir", app, "--quiet"], env)  # stand-ins made if missing
        warm_starts(env, "k8s", ["--dir", app], runs_start, "start k8s (built-in cluster)")
        state = json.load(open(os.path.join(home, "state.json")))
        cluster = state["labs"]["k8s"]["cluster"]
        kenv = env_with(KUBECONFIG=os.path.join(cluster["dir"], "kubeconfig"), HOME=home)
        for name in ("Dockerfile", ".dockerignore", "gunicorn.conf.py"):
            shutil.copy(os.path.join(files, name), os.path.join(app, name))
        subprocess.run(["docker", "build", "-q", "-t", "blog:1", "."], cwd=app, capture_output=True, check=True)
        kubectl = lambda *a: subprocess.run(["kubectl", *a], env=kenv, cwd=app, capture_output=True, text=True)
        kubectl("apply", "-f", os.path.join(files, "k8s", "db.yaml"))
        kubectl("rollout", "status", "deployment/db", "--timeout=120s")
        start = time.perf_counter()
        applied = kubectl("apply", "-f", os.path.join(files, "k8s", "blog-production.yaml"))
        if applied.returncode != 0:
            sys.exit(f"kubectl apply failed:\n{applied.stderr}")
        rolled = kubectl("rollout", "status", "deployment/blog", "--timeout=180s")
        ready = time.perf_counter() - start
        if rolled.returncode != 0:
            sys.exit(f"rollout failed:\n{rolled.stderr}")
        print(f"kubectl apply of the reference Deployment (2 replicas, migrations, readiness probe) "
              f"to rolled out and every pod Ready: {ready:.1f} s")
        kubectl("apply", "-f", os.path.join(files, "k8s", "service.yaml"))
        timed(["check", "--format", "json"], env)
        checks, peak = [], 0
        for _ in range(runs_check):
            t, _, rss = timed(["check", "--format", "json"], env)
            checks.append(t)
            peak = max(peak, rss)
        print(f"check, the reference deployed (API reads, two requests through the service proxy), "
              f"median of {len(checks)}: {ms(statistics.median(checks))} (peak RSS {peak / 1024:.1f} MiB)")
        time.sleep(3)
        print(f"built-in API server RSS, idle, with the blog (2 pods) and PostgreSQL running: "
              f"{rss_mib(cluster['pid']):.1f} MiB")
    finally:
        subprocess.run([BIN, "stop", "k8s", "--quiet"], env=env, capture_output=True)
        subprocess.run(["docker", "image", "rm", "-f", "blog:1"], capture_output=True)
        shutil.rmtree(app, ignore_errors=True)


def ansible_lab(env, home, runs_start, runs_check):
    """The vm-ansible lab: start, the reference playbook's two runs, check."""
    project = tempfile.mkdtemp(prefix="deploylab-bench-ansible-")
    shutil.copytree(os.path.join(ROOT, "solutions", "vm-ansible", "files"), project, dirs_exist_ok=True)
    try:
        timed(["start", "vm-ansible", "--quiet"], env)  # the control image made if missing
        warm_starts(env, "vm-ansible", [], runs_start, "start vm-ansible (two VMs, the inventory)")
        start = time.perf_counter()
        run = subprocess.run([BIN, "ansible-playbook", "playbook.yaml", "--ask-become-pass"], env=env,
                             cwd=project, input="student\n", capture_output=True, text=True)
        first = time.perf_counter() - start
        if run.returncode != 0:
            sys.exit(f"the reference playbook failed:\n{run.stdout[-3000:]}{run.stderr}")
        print(f"reference playbook, first run on two fresh VMs (deploylab ansible-playbook): {first:.1f} s")
        t, proc, _ = timed(["check", "--format", "json"], env)
        second = json.loads(proc.stdout)
        print(f"first check after it (deploylab's second run of the playbook, then the probes): {t:.1f} s; "
              f"idempotence {'passes' if second['stages'][2]['status'] == 'pass' else 'FAILS'}")
        timed(["restart"], env)
        timed(["check"], env)  # Django asked afresh after the reboot
        checks, peak = [], 0
        for _ in range(runs_check):
            t, _, rss = timed(["check", "--format", "json"], env)
            checks.append(t)
            peak = max(peak, rss)
        print(f"check, vm-ansible converged and rebooted (29 checks on 2 hosts), median of {len(checks)}: "
              f"{ms(statistics.median(checks))} (peak RSS {peak / 1024:.1f} MiB)")
    finally:
        subprocess.run([BIN, "stop", "vm-ansible", "--quiet"], env=env, capture_output=True)
        shutil.rmtree(project, ignore_errors=True)


PINS = ["Django==5.1.15", "gunicorn==22.0.0", "whitenoise==6.6.0", "psycopg2-binary==2.9.9",
        "dj-database-url==2.1.0", "python-dotenv==1.0.1"]


def pinned_install(env):
    """A real project's pinned requirements through the proxy, cold then cached."""
    cache = os.path.join(env.get("DEPLOYLAB_CACHE") or os.path.expanduser("~/.cache/deploylab"), "pypi")
    prefixes = [pin.replace("==", "-").replace("-", "_").lower() for pin in PINS]
    for name in os.listdir(cache) if os.path.isdir(cache) else []:
        if name.replace("-", "_").lower().startswith(tuple(prefixes)):
            os.remove(os.path.join(cache, name))
    requirements = "\\n".join(PINS)
    times = []
    for run in range(2):
        script = (f"rm -rf /tmp/pins && python3 -m venv /tmp/pins && printf '{requirements}\\n' > /tmp/req.txt"
                  f" && /tmp/pins/bin/pip install -q --no-cache-dir -r /tmp/req.txt")
        t = time.perf_counter()
        proc = subprocess.run([BIN, "ssh", "--", script], env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        if proc.returncode != 0:
            print(f"pinned requirements.txt: skipped (offline? {proc.stderr.strip().splitlines()[-1:]})")
            return
    print(f"pinned requirements.txt ({len(PINS)} pins) in a fresh venv: first {times[0]:.1f} s "
          f"(fetched from PyPI), second {times[1]:.1f} s (from the shared cache)")


def testinfra(env, home, deploylab_s):
    venv = os.path.join(ROOT, "target", "bench-venv")
    if not os.path.exists(os.path.join(venv, "bin", "pytest")):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([os.path.join(venv, "bin", "pip"), "install", "--quiet", "pytest-testinfra"], check=True)
    state = json.load(open(os.path.join(home, "state.json")))
    container = state["labs"]["vm-nginx"]["machines"][0]["container_id"]
    test_file = os.path.join(ROOT, "bench", "testinfra", "test_vm_nginx.py")
    runs = []
    for _ in range(3):
        t = time.perf_counter()
        proc = subprocess.run([os.path.join(venv, "bin", "pytest"), "-q", "-p", "no:cacheprovider",
                               f"--hosts=docker://{container}", test_file], capture_output=True, text=True)
        runs.append(time.perf_counter() - t)
        if proc.returncode != 0:
            print(proc.stdout[-2000:])
            sys.exit("testinfra checks failed on the deployed VM")
    median = statistics.median(runs)
    print(f"testinfra equivalent (docker backend), median of {len(runs)}: {ms(median)}"
          f" → testinfra / deploylab = {median / deploylab_s:.1f}×")


def grading(env, home):
    """submit the deployed lab, then grade it once and 8 times with --jobs 2."""
    work = tempfile.mkdtemp(prefix="deploylab-bench-grade-")
    try:
        sub = os.path.join(work, "ref.submission")
        t, proc, _ = timed(["submit", "-o", sub], env)
        if proc.returncode != 0:
            print(f"grading: skipped (submit failed: {proc.stderr.strip()})")
            return
        print(f"submit of the reference solution: {t:.1f} s, {os.path.getsize(sub) / 1e6:.1f} MB")
        # The first grade of a package set makes its graded image; the
        # next ones start from it.
        subprocess.run(["docker", "image", "rm", "-f"] + subprocess.run(
            ["docker", "images", "-q", "deploylab/vm-graded"], capture_output=True, text=True).stdout.split(),
            capture_output=True)
        for which in ["first (makes the graded images)", "again (graded images ready)"]:
            busy = host_busy()
            t, proc, _ = timed(["grade", "vm-nginx", sub, "--format", "json"], env)
            cpu = host_busy() - busy
            graded = json.loads(proc.stdout)["submissions"][0]
            phases = graded["timings"]
            print(f"grade of one vm-nginx submission, {which}: {t:.1f} s ({graded['points']}/{graded['max_points']}; "
                  f"start {phases['start_ms'] / 1000:.1f} s, restore + boot {phases['restore_ms'] / 1000:.1f} s, "
                  f"checks {phases['check_ms'] / 1000:.1f} s; the host's CPUs busy {cpu:.1f} s)")
        copies = []
        for n in range(8):
            folder = os.path.join(work, f"student-{n}")
            os.mkdir(folder)
            shutil.copy(sub, os.path.join(folder, "deploylab-vm-nginx.submission"))
            copies.append(folder)
        t8, proc, _ = timed(["grade", "vm-nginx", *copies, "--jobs", "2", "--format", "json"], env)
        points = [s["points"] for s in json.loads(proc.stdout)["submissions"]]
        print(f"grade of 8 submissions, --jobs 2: {t8:.1f} s ({t8 / t:.1f} x one grade; points {points})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def host_busy():
    """Seconds the host's CPUs have been busy (all processes, the engine's
    and the VMs' included), from /proc/stat: what bounds grades side by side."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()[1:]
    except OSError:
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def banner(port, deadline):
    """Waits for an SSH banner on 127.0.0.1:port; True if one came in time."""
    import socket
    while time.perf_counter() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.settimeout(0.5)
                if sock.recv(64).startswith(b"SSH-"):
                    return True
        except OSError:
            pass
        time.sleep(0.02)
    return False


def bare_run(image, network=None):
    """The engine's floor for a VM: `docker run` of the lab's image as the
    same container (systemd's flags, its two published ports), until sshd's
    banner answers on its published port; with `network`, on a private
    network made for it (as a lab's VM is), its making timed too."""
    import socket
    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    port = ports[0]
    t = time.perf_counter()
    on = []
    if network:
        subprocess.run(["docker", "network", "create", network], capture_output=True, check=True)
        on = ["--network", network]
    cid = subprocess.run(["docker", "run", "-d", "--tmpfs", "/run", "--tmpfs", "/run/lock",
                          "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro", "--cgroupns", "host",
                          "--stop-signal", "SIGRTMIN+3", "-t", "-p", f"127.0.0.1:{port}:22",
                          "-p", f"127.0.0.1:{ports[1]}:80", *on, image],
                         capture_output=True, text=True, check=True).stdout.strip()
    ok = banner(port, t + 60)
    elapsed = time.perf_counter() - t
    subprocess.run(["docker", "rm", "-f", cid], capture_output=True)
    if network:
        subprocess.run(["docker", "network", "rm", network], capture_output=True)
    return elapsed if ok else float("nan")


def exec_floor(container):
    t = time.perf_counter()
    subprocess.run(["docker", "exec", container, "true"], check=True)
    return time.perf_counter() - t


def spare_ready(home, lab, deadline=90):
    """Waits until the spare of `lab` is booted (its record written, its
    maker done)."""
    import fcntl
    record = os.path.join(home, "spares", f"{lab}.json")
    lock = os.path.join(home, "spares", f"{lab}.lock")
    end = time.time() + deadline
    while time.time() < end:
        if os.path.exists(record) and os.path.exists(lock):
            with open(lock, "a") as f:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return True
                except OSError:
                    pass
        time.sleep(0.05)
    return False


def speed(env, home, runs_start, runs_check):
    """Issue 28's figures, each a ratio to the engine's own floor measured in
    the same run: start with a spare and without, against a bare `docker run`
    of the same image; check on a fresh and on a deployed VM, against one
    `docker exec true`; one grade, and 8 with --jobs 2."""
    timed(["start", "vm-nginx", "--no-spare", "--quiet"], env)
    tag = json.load(open(os.path.join(home, "state.json")))["labs"]["vm-nginx"]["image"]
    off = dict(env, DEPLOYLAB_SPARE="off")
    bare, private, with_spare, without = [], [], [], []
    timed(["stop", "--all", "--quiet"], env)
    for _ in range(runs_start):
        bare.append(bare_run(tag))
        private.append(bare_run(tag, "deploylab-bench-private"))
        # Without: spares off for the stop and the start.
        timed(["stop", "--all", "--quiet"], off)
        without.append(timed(["start", "vm-nginx", "--quiet"], off)[0])
        # With: the stop leaves a spare booting; the start claims it once ready.
        timed(["stop", "vm-nginx", "--quiet"], env)
        spare_ready(home, "vm-nginx")
        with_spare.append(timed(["start", "vm-nginx", "--quiet"], env)[0])
        # The next spare booting must not weigh on the next figures.
        spare_ready(home, "vm-nginx")
    b = statistics.median(bare)
    print(f"bare `docker run` of {tag} to an SSH banner, median of {len(bare)}: {ms(b)}")
    p = statistics.median(private)
    print(f"the same on a private network made for it (as a lab's VM is), median of {len(private)}: "
          f"{ms(p)} = {p / b:.2f} x bare")
    print(f"start vm-nginx, no spare, median of {len(without)}: {ms(statistics.median(without))} "
          f"= {statistics.median(without) / b:.2f} x bare (target <= 1.1)")
    print(f"start vm-nginx, claiming a spare, median of {len(with_spare)}: {ms(statistics.median(with_spare))} "
          f"= {statistics.median(with_spare) / b:.2f} x bare (target <= 0.3)")
    spare_ready(home, "vm-nginx")
    spare = json.load(open(os.path.join(home, "spares", "vm-nginx.json")))
    time.sleep(3)  # idle, as it waits
    vm, git = container_memory_mib(spare["container_id"]), container_memory_mib(spare["git"] or "")
    print(f"a waiting spare's memory (cgroup, minus page cache): VM {vm:.1f} MiB + git server {git:.1f} MiB "
          f"= {vm + git:.1f} MiB (bound: 32)")
    timed(["start", "vm-nginx", "--fresh", "--no-spare", "--quiet"], env)
    state = json.load(open(os.path.join(home, "state.json")))
    container = state["labs"]["vm-nginx"]["machines"][0]["container_id"]
    floor, fresh = [], []
    for _ in range(runs_check):
        floor.append(exec_floor(container))
        fresh.append(timed(["check", "--format", "json"], env)[0])
    f = statistics.median(floor)
    print(f"`docker exec true`, median of {len(floor)}: {ms(f)}")
    print(f"check, fresh VM, median of {len(fresh)}: {ms(statistics.median(fresh))} "
          f"= {statistics.median(fresh) / f:.2f} x exec (target <= 1.5)")
    t, proc, _ = timed(["solve", "reboot"], env)
    if proc.returncode != 0:
        sys.exit(f"the reference solution failed:\n{proc.stderr}")
    timed(["check"], env)  # wakes the socket-activated app
    floor, deployed = [], []
    for _ in range(runs_check):
        floor.append(exec_floor(container))
        deployed.append(timed(["check", "--format", "json"], env)[0])
    f = statistics.median(floor)
    print(f"`docker exec true`, median of {len(floor)}: {ms(f)}")
    print(f"check, deployed VM, median of {len(deployed)}: {ms(statistics.median(deployed))} "
          f"= {statistics.median(deployed) / f:.2f} x exec (target <= 2)")
    grading(env, home)


FLOOD = r'''python3 - <<'PY'
import concurrent.futures, re, urllib.error, urllib.request
index = re.search(r"index-url = (\S+)", open("/etc/pip.conf").read()).group(1)
def ask(name):
    try:
        return urllib.request.urlopen(index + name + "/", timeout=120).status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0
names = [f"dl-bench-nope-{i}" for i in range(200)]
with concurrent.futures.ThreadPoolExecutor(100) as pool:
    codes = list(pool.map(ask, names))
print(sum(c == 404 for c in codes), len(codes))
PY'''


def rss_mib(pid):
    line = [l for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS")][0]
    return int(line.split()[1]) / 1024


def children(pid):
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            found += f.read().split()
    return found


def host_used_mib():
    info = {l.split(":")[0]: int(l.split()[1]) for l in open("/proc/meminfo")}
    return (info["MemTotal"] - info["MemAvailable"]) / 1024


def proxy_flood(env, home):
    """200 unknown names at once from inside the VM, through the package proxy."""
    state = json.load(open(os.path.join(home, "state.json")))
    pid = state["labs"]["vm-nginx"].get("proxy_pid")
    if not pid:
        print("package proxy flood: skipped (no proxy on this host)")
        return
    before = (rss_mib(pid), host_used_mib())
    peak_children = [0]
    done = [False]

    def watch():
        while not done[0]:
            peak_children[0] = max(peak_children[0], len(children(pid)))
            time.sleep(0.05)
    import threading
    watcher = threading.Thread(target=watch)
    watcher.start()
    t0 = time.perf_counter()
    out = subprocess.run([BIN, "ssh", "--", FLOOD], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    done[0] = True
    watcher.join()
    answered = out.stdout.split()
    print(f"package proxy flood (200 unknown names at once from the VM): {answered[0] if answered else '?'}"
          f"/200 answered 404 in {elapsed:.1f} s; proxy RSS {before[0]:.1f} -> {rss_mib(pid):.1f} MiB; "
          f"host memory used {before[1]:.0f} -> {host_used_mib():.0f} MiB; "
          f"host processes started by the proxy, at most: {peak_children[0]}")


def fake_hardening(henv, pid):
    """Large unauthenticated bodies and idle connections against the fake's API."""
    import socket
    import http.client
    import ssl
    api_port = int(henv["HEROKU_HOST"].rsplit(":", 1)[1])
    context = ssl.create_default_context(cafile=henv["NODE_EXTRA_CA_CERTS"])
    before = rss_mib(pid)
    body = b"x" * (50 * 1024 * 1024)
    statuses = []
    for _ in range(4):
        conn = http.client.HTTPSConnection("localhost", api_port, context=context, timeout=30)
        try:
            conn.request("POST", "/apps", body=body,
                         headers={"Accept": "application/vnd.heroku+json; version=3"})
            statuses.append(conn.getresponse().status)
        except OSError:
            statuses.append("closed")  # refused mid-upload
        conn.close()
    print(f"fake Heroku, 4 unauthenticated 50 MB POSTs ({', '.join(map(str, statuses))}): "
          f"RSS {before:.1f} -> {rss_mib(pid):.1f} MiB")
    idle = socket.create_connection(("127.0.0.1", api_port))
    idle.settimeout(60)
    t0 = time.perf_counter()
    try:
        idle.recv(16)
    except OSError:
        pass
    print(f"fake Heroku, a connection that never starts TLS: closed after {time.perf_counter() - t0:.1f} s")
    idle.close()


def heroku(env, home, runs):
    """The heroku lab with the real CLI and git."""
    cli_bin = os.path.join(ROOT, "target", "heroku-cli-11.10.0", "node_modules", ".bin")
    if not os.path.exists(os.path.join(cli_bin, "heroku")):
        print("heroku lab: skipped (unpack ../shared/clients/heroku-cli-11.10.0.tar.xz into "
              "target/heroku-cli-11.10.0, or run the tests once)")
        return
    t, proc, _ = timed(["start", "heroku", "--quiet"], env)
    timed(["stop", "heroku", "--quiet"], env)
    # Not quiet: the banner names the router's port and the blog's repository.
    t, proc, _ = timed(["start", "heroku"], env)
    print(f"start heroku, warm (images present): {ms(t)}")
    router = int(proc.stdout.split(".localhost:")[1].split("/")[0])
    blog = proc.stdout.split("git clone ")[1].split()[0]
    out = subprocess.run([BIN, "heroku", "env"], env=env, capture_output=True, text=True, check=True).stdout
    henv = dict(env, HOME=home, PATH=cli_bin + os.pathsep + env["PATH"],
                GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@deploylab.test",
                GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@deploylab.test")
    for line in out.splitlines():
        key, value = line.removeprefix("export ").split("=", 1)
        henv[key] = value.strip("'").replace("'\\''", "'")
    work = os.path.join(home, "bench-blog")
    run = lambda *cmd: subprocess.run(list(cmd), cwd=work, env=henv, capture_output=True, text=True, check=True)
    subprocess.run(["git", "clone", "-q", blog, work], env=henv, check=True)
    app = "bench-blog"
    run("heroku", "create", app)
    t0 = time.perf_counter()
    run("heroku", "addons:create", "heroku-postgresql:essential-0", "-a", app)
    print(f"heroku addons:create heroku-postgresql (real PostgreSQL up, with the CLI): {ms(time.perf_counter() - t0)}")
    with open(os.path.join(work, "requirements.txt"), "w") as f:
        f.write("django>=5.2,<6\ndynaconf\ndj-database-url\ngunicorn\nwhitenoise\npsycopg[binary]\n")
    with open(os.path.join(work, ".python-version"), "w") as f:
        f.write("3.11\n")
    with open(os.path.join(work, "Procfile"), "w") as f:
        f.write("web: gunicorn blog.wsgi\nrelease: python manage.py migrate --noinput\n")
    run("heroku", "config:set", "BLOG_DEBUG=false", "BLOG_SECRET_KEY=" + "k" * 60,
        f'BLOG_ALLOWED_HOSTS=["{app}.localhost"]', "-a", app)
    run("git", "add", "-A")
    run("git", "commit", "-qm", "heroku")
    t0 = time.perf_counter()
    run("git", "push", "-q", "heroku", "main")
    print(f"first git push of the blog (no build cache; release phase migrates PostgreSQL): "
          f"{time.perf_counter() - t0:.1f} s")

    def answering(version):
        import http.client
        try:
            conn = http.client.HTTPConnection("127.0.0.1", router, timeout=5)
            conn.request("GET", "/", headers={"Host": f"{app}.localhost:{router}"})
            response = conn.getresponse()
            response.read()
            return response.status == 200 and response.getheader("x-deploylab-release") == str(version)
        except OSError:
            return False

    pushes = []
    for n in range(runs):
        with open(os.path.join(work, "bench.txt"), "w") as f:
            f.write(f"{n}\n")
        run("git", "add", "-A")
        run("git", "commit", "-qm", f"bench {n}")
        t0 = time.perf_counter()
        out = run("git", "push", "heroku", "main").stderr
        version = int(out.split("Released v")[1].split()[0])
        while not answering(version):
            time.sleep(0.05)
        pushes.append(time.perf_counter() - t0)
    print(f"git push of the blog to released and answering (release phase, warm), median of {len(pushes)}: "
          f"{statistics.median(pushes):.1f} s (min {min(pushes):.1f}, max {max(pushes):.1f})")
    # New requirements: a new packages volume, filled from a copy of the
    # previous one (the build cache), then pip installs what is new.
    with open(os.path.join(work, "requirements.txt"), "a") as f:
        f.write("requests\n")
    run("git", "add", "-A")
    run("git", "commit", "-qm", "bench: requests")
    t0 = time.perf_counter()
    out = run("git", "push", "heroku", "main").stderr
    version = int(out.split("Released v")[1].split()[0])
    while not answering(version):
        time.sleep(0.05)
    print(f"git push adding a requirement (cache copied, one package installed) to answering: "
          f"{time.perf_counter() - t0:.1f} s")

    # The API request `heroku ps` makes, over HTTPS with the local CA.
    import ssl
    import http.client
    api_port = int(henv["HEROKU_HOST"].rsplit(":", 1)[1])
    context = ssl.create_default_context(cafile=henv["NODE_EXTRA_CA_CERTS"])
    latencies = []
    for _ in range(20):
        conn = http.client.HTTPSConnection("localhost", api_port, context=context)
        t0 = time.perf_counter()
        conn.request("GET", f"/apps/{app}/dynos", headers={
            "Authorization": "Bearer " + henv["HEROKU_API_KEY"],
            "Accept": "application/vnd.heroku+json; version=3"})
        conn.getresponse().read()
        latencies.append(time.perf_counter() - t0)
        conn.close()
    print(f"API GET /apps/{{app}}/dynos (what `heroku ps` asks; new TLS connection each), median of 20: "
          f"{statistics.median(latencies) * 1000:.1f} ms")
    cli = []
    for _ in range(3):
        t0 = time.perf_counter()
        run("heroku", "ps", "-a", app)
        cli.append(time.perf_counter() - t0)
    print(f"`heroku ps` with the real CLI (Node start-up included), median of 3: {ms(statistics.median(cli))}")
    t0 = time.perf_counter()
    run("heroku", "apps")
    print(f"`heroku apps` with the real CLI (it also asks Heroku's account service, offline here): "
          f"{ms(time.perf_counter() - t0)}")
    checks = [timed(["check", "--format", "json"], env)[0] for _ in range(5)]
    print(f"check, heroku lab deployed (8 stages, one-off settings dyno), median of 5: {ms(statistics.median(checks))}")
    state = json.load(open(os.path.join(home, "state.json")))
    pid = state["labs"]["heroku"]["pid"]
    rss = [l for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS")][0].split()[1]
    print(f"fake Heroku process RSS: {int(rss) / 1024:.1f} MiB")
    fake_hardening(henv, pid)
    dyno = subprocess.run(["docker", "ps", "-q", "--no-trunc", "--filter", f"label=deploylab.heroku.app={app}"],
                          capture_output=True, text=True).stdout.split()
    if dyno:
        print(f"web dyno memory (gunicorn, 2 workers; cgroup minus page cache): {container_memory_mib(dyno[0]):.1f} MiB")
    run("heroku", "apps:destroy", app, "--confirm", app)


if __name__ == "__main__":
    main()
