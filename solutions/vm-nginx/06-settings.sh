secret="$(python3 -c 'import secrets; print(secrets.token_urlsafe(40))')"
as_app tee "$APP_DIR/blog_settings.toml" >/dev/null <<TOML
[production]
debug = false
allowed_hosts = ["*"]
secret_key = "$secret"
db_path = "$APP_DIR/db.sqlite3"
static_root = "$APP_DIR/static/"
static_url = "/static/"
TOML
