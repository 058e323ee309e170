"""Settings of the course's blog, 12-factor style.

Values come from environment variables prefixed BLOG_ (BLOG_DEBUG=false) or
from blog_settings.toml in the working directory, whose section is chosen by
BLOG_ENV (BLOG_ENV=production reads [production]). Defaults suit development.
"""
import os
from pathlib import Path

import dj_database_url
from dynaconf import Dynaconf

config = Dynaconf(
    envvar_prefix="BLOG",
    settings_files=[os.environ.get("BLOG_SETTINGS_FILE", "blog_settings.toml")],
    environments=True,
    env_switcher="BLOG_ENV",
    load_dotenv=False,
)

BASE_DIR = Path.cwd()

DEBUG = config.get("debug", True)
SECRET_KEY = config.get(
    "secret_key",
    os.environ.get("SECRET_KEY", "django-insecure-development-only-change-me"),
)
ALLOWED_HOSTS = config.get("allowed_hosts", [])

_default_db = f"sqlite:///{config.get('db_path', BASE_DIR / 'db.sqlite3')}"
DATABASES = {
    "default": dj_database_url.parse(
        config.get("database_url", os.environ.get("DATABASE_URL", _default_db))
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

STATIC_URL = config.get("static_url", "/static/")
STATIC_ROOT = config.get("static_root", str(BASE_DIR / "static"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "posts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "blog.urls"
WSGI_APPLICATION = "blog.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

LANGUAGE_CODE = "pt-br"
TIME_ZONE = "America/Sao_Paulo"
USE_I18N = True
USE_TZ = True
