# Migrations on every deploy, in the release phase.
cd blog
echo "release: python manage.py migrate --noinput" >> Procfile
deploy "Heroku: migrate in the release phase"
