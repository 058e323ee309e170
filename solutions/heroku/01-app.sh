# The course's blog, and an app for it (which adds the `heroku` remote).
[ -d blog ] || git clone -q "$DEPLOYLAB_BLOG_REPO" blog
cd blog
if heroku apps:info -a "$APP" >/dev/null 2>&1; then
    heroku git:remote -a "$APP"
else
    heroku create "$APP"
fi
