# The course's deploy of `notes` (requirements only, run from the checkout,
# settings in the unit's Environment=), run over SSH as the student.
set -euo pipefail
sudo apt-get update
sudo apt-get install -y python3-dev python-is-python3 nginx git sqlite3 python3.11-venv
python3 -m venv ~/.venv
~/.venv/bin/python -m pip install --upgrade pip
sudo install -d -o "$USER" -g www-data -m 775 /opt/notes
git clone http://git.deploylab.test/notes.git /opt/notes
~/.venv/bin/python -m pip install -r /opt/notes/requirements.txt
sudo install -d -o "$USER" -g www-data -m 755 /var/www/notes-static
secret="$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')"
production=(NOTES_PRODUCTION=1 "NOTES_SECRET_KEY=$secret" NOTES_DATABASE=/opt/notes/db.sqlite3
    NOTES_STATIC_ROOT=/var/www/notes-static)
manage() { (cd /opt/notes && env "${production[@]}" ~/.venv/bin/python manage.py "$@"); }
manage migrate --noinput
DJANGO_SUPERUSER_PASSWORD="admin-$RANDOM$RANDOM" manage createsuperuser --noinput --username root-of-notes --email n@notes.test
manage collectstatic --noinput
sudo tee /etc/systemd/system/notes.socket >/dev/null <<UNIT
[Socket]
ListenStream=/run/notes.sock

[Install]
WantedBy=sockets.target
UNIT
sudo tee /etc/systemd/system/notes.service >/dev/null <<UNIT
[Service]
User=$USER
Group=www-data
WorkingDirectory=/opt/notes
Environment="NOTES_PRODUCTION=1" "NOTES_SECRET_KEY=$secret"
Environment=NOTES_DATABASE=/opt/notes/db.sqlite3 NOTES_STATIC_ROOT=/var/www/notes-static
ExecStart=/home/$USER/.venv/bin/gunicorn --workers 2 --bind unix:/run/notes.sock notes_project.wsgi
UNIT
sudo systemctl daemon-reload
sudo systemctl enable --now notes.socket
sudo rm -f /etc/nginx/sites-enabled/default
sudo tee /etc/nginx/sites-available/notes >/dev/null <<'SITE'
server {
    listen 80 default_server;
    server_name notes.example.org;
    location /static/ { alias /var/www/notes-static/; }
    location / {
        include proxy_params;
        proxy_pass http://unix:/run/notes.sock;
    }
}
SITE
sudo ln -sf /etc/nginx/sites-available/notes /etc/nginx/sites-enabled/notes
sudo nginx -t
sudo systemctl enable nginx
sudo systemctl restart nginx
