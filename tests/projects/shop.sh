# The course's deploy of examples/shop (a sub-folder of the `examples`
# repository), run over SSH as the student. The "new login" line below
# starts a new SSH session (the course: log out and in again after usermod).
set -euo pipefail
sudo apt-get update
sudo apt-get install -y python3-dev python-is-python3 nginx git sqlite3 python3.11-venv
python3 -m venv ~/.venv
~/.venv/bin/python -m pip install --upgrade pip
# The course's folder: root's, group www-data with write and setgid, the
# student in www-data.
sudo mkdir -p /srv/shop
sudo chgrp www-data /srv/shop
sudo chmod g+rwxs /srv/shop
sudo usermod -aG www-data "$USER"
# --- new login ---
set -euo pipefail
id -nG | grep -qw www-data
git clone http://git.deploylab.test/examples.git /srv/shop/examples
~/.venv/bin/python -m pip install /srv/shop/examples/shop
mkdir -p /srv/shop/data /srv/shop/staticfiles
secret="$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')"
sudo install -d -m 755 /etc/shop
sudo tee /etc/shop/shop.env >/dev/null <<ENV
SHOP_DEBUG=0
SHOP_SECRET_KEY=$secret
SHOP_ALLOWED_HOSTS=shop.test,www.shop.test
SHOP_DATABASE=/srv/shop/data/shop.sqlite3
SHOP_STATIC_ROOT=/srv/shop/staticfiles
ENV
sudo chmod 640 /etc/shop/shop.env
shop_admin() {
    (cd /srv/shop && set -a && . <(sudo cat /etc/shop/shop.env) && set +a &&
        DJANGO_SETTINGS_MODULE=shopsite.settings ~/.venv/bin/django-admin "$@")
}
shop_admin migrate --noinput
DJANGO_SUPERUSER_PASSWORD="admin-$RANDOM$RANDOM" shop_admin createsuperuser --noinput --username boss --email boss@shop.test
shop_admin collectstatic --noinput
~/.venv/bin/python -m pip install gunicorn
sudo tee /etc/systemd/system/shop.socket >/dev/null <<UNIT
[Unit]
Description=shop socket

[Socket]
ListenStream=/run/shop.sock

[Install]
WantedBy=sockets.target
UNIT
sudo tee /etc/systemd/system/shop.service >/dev/null <<UNIT
[Unit]
Description=shop
Requires=shop.socket
After=network.target

[Service]
User=$USER
Group=www-data
WorkingDirectory=/srv/shop
EnvironmentFile=/etc/shop/shop.env
Environment=DJANGO_SETTINGS_MODULE=shopsite.settings
ExecStart=/home/$USER/.venv/bin/gunicorn \\
    --workers 2 \\
    --access-logfile - \\
    --bind unix:/run/shop.sock \\
    shopsite.wsgi:application

[Install]
WantedBy=multi-user.target
UNIT
sudo systemctl daemon-reload
sudo systemctl enable --now shop.socket
sudo rm -f /etc/nginx/sites-enabled/default
sudo tee /etc/nginx/sites-available/shop >/dev/null <<'SITE'
server {
    listen 80 default_server;
    server_name shop.test www.shop.test;

    location /assets/ {
        alias /srv/shop/staticfiles/;
    }
    location / {
        include proxy_params;
        proxy_pass http://unix:/run/shop.sock;
    }
}
SITE
sudo ln -sf /etc/nginx/sites-available/shop /etc/nginx/sites-enabled/shop
sudo nginx -t
sudo systemctl enable nginx
sudo systemctl restart nginx
