# The app, PostgreSQL and nginx (its default page for now) in one Compose
# project; secrets in .env; migrations applied through the app's container.
if [ ! -f .env ]; then
    key="$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')"
    password="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
    printf 'BLOG_SECRET_KEY=%s\nPOSTGRES_PASSWORD=%s\n' "$key" "$password" > .env
fi
put docker-compose.yml docker-compose.yml
# nginx neither published nor configured yet: that is the next stage.
python3 - <<'PY'
import re
text = open("docker-compose.yml").read()
text = re.sub(r"    ports:\n      - \"80:80\"\n", "", text)
text = text.replace("      - static:/static:ro\n      - ./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro\n", "")
text = text.replace("    volumes:\n    depends_on:\n      - app", "    depends_on:\n      - app")
open("docker-compose.yml", "w").write(text)
PY
$COMPOSE up -d --build
$COMPOSE exec -T app python manage.py migrate --noinput
