# What Heroku needs to know about the app: its packages, its Python and its
# processes.
# Heroku judges the code it was sent: this passes with the next step's push.
# deploylab: this stage passes with stage build
cd blog
cat > requirements.txt <<'REQ'
django>=5.2,<6
dynaconf
dj-database-url
gunicorn
whitenoise
psycopg[binary]
REQ
echo "3.11" > .python-version
echo "web: gunicorn blog.wsgi" > Procfile
git add -A
git commit -q -m "Heroku: requirements.txt, .python-version, Procfile"
