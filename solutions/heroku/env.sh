# Put in front of every step of the heroku lab's reference solution. Steps
# run on the student's machine with bash, in deploylab's work folder, with
# the environment of `deploylab heroku env`, using the real heroku CLI and
# git. Tests override APP to prove other names pass.
set -euo pipefail
APP="${APP:-meu-blog}"
export GIT_AUTHOR_NAME=student GIT_AUTHOR_EMAIL=student@deploylab.test
export GIT_COMMITTER_NAME=student GIT_COMMITTER_EMAIL=student@deploylab.test

# Commits every change in the blog and pushes it to Heroku.
deploy() {
    git add -A
    git commit -q -m "$1"
    git push -q heroku main
}
# Waits (up to 2 minutes) until `heroku ps` shows a web dyno up: Heroku's
# own readiness signal, as a student would watch it.
wait_for_web() {
    for _ in $(seq 240); do
        if heroku ps web -a "$APP" 2>/dev/null | grep -q '^web\.1: up'; then return 0; fi
        sleep 0.5
    done
    heroku ps -a "$APP"; return 1
}
