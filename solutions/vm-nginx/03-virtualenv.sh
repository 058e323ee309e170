if ! id "$APP_USER" >/dev/null 2>&1; then
    sudo useradd --create-home --shell /bin/bash "$APP_USER"
fi
as_app python3 -m venv "$VENV"
as_app "$VENV/bin/python" -m pip install --upgrade pip
