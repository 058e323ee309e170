sudo rm -f /etc/nginx/sites-enabled/default
sudo tee /etc/nginx/sites-available/blog >/dev/null <<SITE
server {
    listen 80 default_server;
    listen [::]:80 default_server;
    server_name _;

    location = /favicon.ico { access_log off; log_not_found off; }
    location /static/ {
        alias $APP_DIR/static/;
    }
    location / {
        include proxy_params;
        proxy_pass http://unix:$SOCKET;
    }
}
SITE
sudo ln -sf /etc/nginx/sites-available/blog /etc/nginx/sites-enabled/blog
sudo nginx -t
sudo systemctl restart nginx
