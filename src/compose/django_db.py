# deploylab: which database the app's settings name, and whether it can be
# reached, run with `python manage.py shell -c` in a container of the image
# (or of the running app).
from django.db import connection

print("VENDOR", connection.vendor)
print("HOST", connection.settings_dict.get("HOST") or "")
print("NAME", connection.settings_dict.get("NAME") or "")
try:
    connection.ensure_connection()
    print("CONNECTED")
except Exception as error:  # the error's kind and first line is the lesson
    print("ERROR", type(error).__name__ + ":", str(error).strip().splitlines()[0] if str(error).strip() else "")
