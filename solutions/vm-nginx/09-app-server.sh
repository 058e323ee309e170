as_app "$VENV/bin/python" -m pip install "$APP_SERVER"
case "$APP_SERVER" in
    gunicorn) exec_start="$VENV/bin/gunicorn --access-logfile - --workers 3 --bind unix:$SOCKET blog.wsgi" ;;
    # systemd passes the listening socket as file descriptor 3.
    uvicorn) exec_start="$VENV/bin/uvicorn --fd 3 --workers 2 blog.asgi:application" ;;
esac
sudo tee /etc/systemd/system/gunicorn.socket >/dev/null <<UNIT
[Unit]
Description=gunicorn socket

[Socket]
ListenStream=$SOCKET

[Install]
WantedBy=sockets.target
UNIT
sudo tee /etc/systemd/system/gunicorn.service >/dev/null <<UNIT
[Unit]
Description=gunicorn daemon
Requires=gunicorn.socket
After=network.target

[Service]
User=$APP_USER
Group=www-data
WorkingDirectory=$APP_DIR
Environment="BLOG_ENV=production" "DJANGO_SETTINGS_MODULE=blog.settings"
ExecStart=$exec_start

[Install]
WantedBy=multi-user.target
UNIT
sudo systemctl daemon-reload
sudo systemctl enable --now gunicorn.socket
