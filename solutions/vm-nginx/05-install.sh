as_app "$VENV/bin/python" -m pip install "$APP_DIR/blog"
