django collectstatic --noinput
