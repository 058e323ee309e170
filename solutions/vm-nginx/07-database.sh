django migrate --noinput
exists="from django.contrib.auth.models import User; raise SystemExit(0 if User.objects.filter(username='admin').exists() else 1)"
if ! django shell -c "$exists"; then
    DJANGO_SUPERUSER_PASSWORD=admin-$RANDOM$RANDOM django createsuperuser --noinput --username admin --email admin@example.com
fi
