# nginx on the host's port 80: static files from the shared volume, the
# rest proxied to gunicorn.
put deploy/nginx.conf deploy/nginx.conf
put docker-compose.yml docker-compose.yml
$COMPOSE up -d
wait_for_http "http://$PUBLISHED:80/admin/login/"
