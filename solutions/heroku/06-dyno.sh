heroku ps:scale web=1 -a "$APP"
wait_for_web
