# The blog through the router, as a browser sees it.
URL="$(heroku apps:info -a "$APP" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["app"]["web_url"])')"
wait_for_web
curl -fsS -o /dev/null "$URL"
