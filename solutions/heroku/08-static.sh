# No nginx on Heroku: WhiteNoise serves the collected static files.
cd blog
python3 - <<'PY'
from pathlib import Path
settings = Path("blog/settings.py")
text = settings.read_text()
line = '    "django.middleware.security.SecurityMiddleware",\n'
if "whitenoise" not in text:
    text = text.replace(line, line + '    "whitenoise.middleware.WhiteNoiseMiddleware",\n')
    settings.write_text(text)
PY
deploy "Serve static files with WhiteNoise"
wait_for_web
