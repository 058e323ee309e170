# Production settings through config vars (the blog reads BLOG_*).
SECRET="$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')"
heroku config:set -a "$APP" BLOG_DEBUG=false BLOG_SECRET_KEY="$SECRET" \
    BLOG_ALLOWED_HOSTS="[\"$APP.localhost\"]"
