# Put in front of every step of the container lab's reference solution.
# Steps run on the student's machine with bash, in the app folder (a clone
# of the blog), with the real docker CLI and Compose. $SOLUTION holds the
# solution's files; tests set COMPOSE to prove Compose v1 and v2.
set -euo pipefail
COMPOSE="${COMPOSE:-docker-compose}"
# Where published ports answer: 127.0.0.1, or what deploylab is told
# (DEPLOYLAB_PUBLISH_HOST) where it runs apart from the engine's host.
PUBLISHED="${DEPLOYLAB_PUBLISH_HOST:-127.0.0.1}"

# Copies one of the solution's files into the app folder.
put() {
    mkdir -p "$(dirname "$2")"
    cp "$SOLUTION/$1" "$2"
}

# Waits (up to 2 minutes) until a URL of the host answers 200: the
# readiness signal a student watches in the browser.
wait_for_http() {
    python3 - "$1" <<'PY'
import sys, time, urllib.request
deadline = time.time() + 120
while True:
    try:
        with urllib.request.urlopen(urllib.request.Request(sys.argv[1], headers={"Host": "localhost"}), timeout=5) as r:
            if r.status == 200:
                break
    except Exception as error:
        if time.time() > deadline:
            sys.exit(f"{sys.argv[1]} did not answer 200 within 2 minutes: {error}")
    time.sleep(0.5)
PY
}
