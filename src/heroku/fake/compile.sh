#!/bin/bash
# The fake Heroku's Python build, run as the dyno user inside a build
# container from the stack image, with no network but the package proxy's.
# /app/.heroku is the slug's packages volume: a fresh Python (the stack's,
# copied in by Docker), or the packages of a previous build of the same
# requirements, mounted read-only (pip finds everything satisfied). When
# the requirements changed, the previous packages are at /tmp/cache: they
# are copied in first, Heroku's build cache. The pushed source is in
# /tmp/source.tar; the app's config vars are in the environment; pip
# installs from deploylab's package proxy ($PIP_INDEX_URL: cached wheels,
# and the host's package index when it is online) or, without one, from
# its offline wheels (/etc/pip.conf). Prints what Heroku's Python buildpack
# prints; deploylab prints the steps before and after (detection, Python
# version, Procfile). What it leaves: /tmp/slug/source.tar (/app but its
# packages) and /tmp/slug/size.
set -uo pipefail
cd /app

indent() { sed -u 's/^/       /'; }
fail() {
    while [ $# -gt 0 ]; do echo " !     $1"; shift; done
    exit 1
}

# The stack's home files go; then the pushed source.
find /app -mindepth 1 -maxdepth 1 ! -name .heroku -exec rm -rf {} +
tar -xf /tmp/source.tar -C /app || fail "Error: Unable to unpack the pushed source."
if [ -d /tmp/cache/python ]; then
    cp -a /tmp/cache/. /app/.heroku/ || fail "Error: Unable to restore the build cache."
fi
[ -x /app/.heroku/python/bin/python ] || python3 -m venv /app/.heroku/python \
    || fail "Error: Unable to create the Python environment."
export PATH="/app/.heroku/python/bin:$PATH"

echo "-----> Installing dependencies using 'pip install -r requirements.txt'"
if ! pip install --no-input --progress-bar off --disable-pip-version-check \
        -r requirements.txt 2>&1 | indent; then
    if [ -n "${DEPLOYLAB_PACKAGE_INDEX:-}" ]; then
        # Every requirement the index can't provide, named at once.
        mapfile -t unavailable < <(python /tmp/unavailable.py 2>/dev/null)
        fail "Error: Unable to install dependencies using pip." \
             "" \
             "See the log output above for more information." \
             ${unavailable[@]+"${unavailable[@]}"}
    fi
    fail "Error: Unable to install dependencies using pip." \
         "" \
         "See the log output above for more information." \
         "deploylab builds offline here: packages come from its wheel cache (the" \
         "packages of the course). A package it lacks cannot be installed here."
fi

if [ -f manage.py ] && python -c 'import django' 2>/dev/null; then
    if [ "${DISABLE_COLLECTSTATIC:-0}" != "0" ]; then
        echo "-----> Skipping Django collectstatic since the env var DISABLE_COLLECTSTATIC is set."
    else
        echo "-----> \$ python manage.py collectstatic --noinput"
        if ! python manage.py collectstatic --noinput 2>&1 | indent; then
            fail "Error: Unable to generate Django static files." \
                 "" \
                 "The 'python manage.py collectstatic --noinput' Django" \
                 "management command to generate static files failed." \
                 "" \
                 "See the traceback above for details." \
                 "" \
                 "You may need to update application code to resolve this error." \
                 "Or, you can disable collectstatic for this application:" \
                 "" \
                 "   $ heroku config:set DISABLE_COLLECTSTATIC=1" \
                 "" \
                 "https://devcenter.heroku.com/articles/django-assets"
        fi
    fi
fi

# The slug: /app but its packages, which stay in their volume.
mkdir -p /tmp/slug
tar -cf /tmp/slug/source.tar -C /app --exclude=./.heroku . \
    || fail "Error: Unable to save the slug."
du -sb /app | cut -f1 > /tmp/slug/size
