# deploylab: which database the app's settings name, and whether it can be
# reached, run with `python manage.py shell -c` in a container of the image.
from django.db import connection

print("VENDOR", connection.vendor)
try:
    connection.ensure_connection()
    print("CONNECTED")
except Exception as error:  # the error's kind and first line is the lesson
    print("ERROR", type(error).__name__ + ":", str(error).strip().splitlines()[0] if str(error).strip() else "")
