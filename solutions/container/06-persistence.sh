# Everything down and up again: the data is in the named volume.
$COMPOSE down
$COMPOSE up -d
wait_for_http http://127.0.0.1:80/admin/login/
