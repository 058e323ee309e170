# Put in front of every step of the reference solution: each step runs as
# `bash -s` over SSH, as the student, with this text first. The defaults are
# the course's; tests override them to prove that variations pass.
set -euo pipefail
APP_DIR="${APP_DIR:-/app}"
APP_USER="${APP_USER:-$USER}"
VENV="${VENV:-/home/$APP_USER/.venv}"
SOCKET="${SOCKET:-/run/gunicorn.sock}"
APP_SERVER="${APP_SERVER:-gunicorn}"
# `root`: the app folder is made the course's way (see 04-code.sh).
APP_DIR_OWNER="${APP_DIR_OWNER:-user}"

# Runs a command as the user the app runs as.
as_app() {
    if [ "$APP_USER" = "$USER" ]; then "$@"; else sudo -u "$APP_USER" -H "$@"; fi
}
# django-admin with the production settings, from the app folder.
django() {
    (cd "$APP_DIR" && as_app env BLOG_ENV=production DJANGO_SETTINGS_MODULE=blog.settings \
        DJANGO_SUPERUSER_PASSWORD="${DJANGO_SUPERUSER_PASSWORD:-}" \
        "$VENV/bin/django-admin" "$@")
}
