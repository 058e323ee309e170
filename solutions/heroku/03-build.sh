cd blog
git push heroku main
