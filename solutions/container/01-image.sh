# A Dockerfile and a .dockerignore; gunicorn not yet configured (it binds
# 127.0.0.1:8000 by default) and no database named (SQLite).
put Dockerfile Dockerfile
sed -i '/^ENV BLOG_DATABASE_URL/d' Dockerfile
put .dockerignore .dockerignore
put deploy/entrypoint.sh deploy/entrypoint.sh
chmod +x deploy/entrypoint.sh
