#!/usr/bin/env bash
# Records the facts that src/vm/fixtures.rs judges without Docker:
# a fresh vm-nginx VM, the reference solution at two points, and the
# breakages the integration tests build. Run it after changing what the
# probe gathers, then `cargo insta review`:
#
#   cargo build && tests/record-vm-fixtures.sh target/debug/deploylab
#
# It uses a home of its own (a VM of the lab, removed at the end).
set -euo pipefail

deploylab="$(realpath "${1:-target/debug/deploylab}")"
out="$(cd "$(dirname "$0")/.." && pwd)/src/vm/fixtures"
export DEPLOYLAB_HOME="${DEPLOYLAB_HOME:-$(mktemp -d)}"
trap '"$deploylab" stop --all -q >/dev/null 2>&1 || true' EXIT

record() {
    DEPLOYLAB_RECORD_FACTS="$out/$1.json" "$deploylab" check -q >/dev/null || true
    echo "recorded $1"
}
# A script run inside the VM as the student (over stdin: nothing of it
# stays attached to the SSH session).
vm() { printf '%s\n' "$1" | "$deploylab" ssh -- bash -s; }

"$deploylab" start vm-nginx --fresh -q
record fresh
"$deploylab" solve database -q
record database
"$deploylab" solve reboot -q
record deployed

# The course's test command, left running: gunicorn by hand on port 8000.
vm 'cd /app && BLOG_ENV=production setsid ~/.venv/bin/gunicorn --bind 0.0.0.0:8000 --daemon blog.wsgi </dev/null >/dev/null 2>&1'
record gunicorn-by-hand
vm 'pkill -u student -f "bind 0.0.0.0:8000" || true'

vm 'sudo systemctl disable --now gunicorn.socket gunicorn.service 2>/dev/null'
record socket-disabled
vm 'sudo systemctl enable --now gunicorn.socket 2>/dev/null'

vm 'sed -i "s/^debug = false/debug = true/" /app/blog_settings.toml && sudo systemctl restart gunicorn.service'
record debug-on
vm 'sed -i "s/^debug = true/debug = false/" /app/blog_settings.toml && sudo systemctl restart gunicorn.service'

vm 'sudo chown root:www-data /app && sudo chmod 2755 /app'
record app-dir-not-writable
# The course's way: root's folder, group www-data with write and setgid,
# the student in www-data.
vm 'sudo chmod 2775 /app && sudo usermod -aG www-data student'
record app-dir-course-way
