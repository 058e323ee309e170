# A database that outlives dynos: Heroku Postgres (it sets DATABASE_URL,
# which the blog reads). A dyno's own disk is wiped when it restarts.
cd blog
if ! heroku addons -a "$APP" | grep -q heroku-postgresql; then
    heroku addons:create heroku-postgresql:essential-0 -a "$APP"
fi
# Migrations on every deploy, in the release phase.
echo "release: python manage.py migrate --noinput" >> Procfile
deploy "Heroku: migrate in the release phase"
