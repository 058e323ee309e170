# The blog through the router, as a browser sees it. Nothing to do: with its
# settings in place, a web dyno up is all the blog needs to answer.
# deploylab: this stage passes with stage dyno
URL="$(heroku apps:info -a "$APP" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["app"]["web_url"])')"
wait_for_web
curl -fsS -o /dev/null "$URL"
