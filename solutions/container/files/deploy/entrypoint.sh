#!/bin/sh
# The container's first program: a place for what must happen before the
# app starts, then the command it was given (gunicorn by default; `docker
# compose exec app python manage.py migrate` runs beside it).
set -e
if [ "${1#-}" != "$1" ]; then
    # Options alone are gunicorn's.
    set -- gunicorn "$@" blog.wsgi
fi
exec "$@"
