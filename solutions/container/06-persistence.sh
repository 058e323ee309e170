# Everything down and up again: the data is in the named volume.
$COMPOSE down
$COMPOSE up -d
wait_for_http "http://$PUBLISHED:80/admin/login/"
