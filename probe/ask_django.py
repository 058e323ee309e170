"""Ask Django itself what the deployed app is, as its service runs it.

The probe runs this with the venv's Python, as the service's user and
group, in its working directory and with its environment (or, before a
service exists, as `manage.py` would run for the lab's user). It imports
the app the service serves exactly as the app server would, then reports
the effective settings, the migrations Django would still apply and the
superusers, reading the database and never writing to it.

Output, on the real standard output (the app's own prints go to stderr):
  line 1   one JSON object (read by the host: `src/vm/django.rs`)
  `D path` a file or folder the answer depends on (the probe's cache key)
  `N`      the answer cannot be cached (a database other than SQLite)
  `S path` STATIC_ROOT, whose files the probe counts itself
  `H host` a Host header the app accepts, for the probe's requests

  `C path` a configuration file the app read (for "changed since reboot")

argv: the working directory, then `service` and the service's ExecStart
words, or `manage`, the settings module and the folder of manage.py.
"""

import builtins
import io
import json
import os
import sys

out = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)  # whatever the app prints goes to stderr

opened = set()
real_open = builtins.open


def recording_open(file, *args, **kwargs):
    if isinstance(file, (str, bytes, os.PathLike)):
        opened.add(os.path.abspath(os.fsdecode(file)))
    return real_open(file, *args, **kwargs)


builtins.open = io.open = recording_open

facts = {
    "target": None,
    "error": None,
    "django_version": None,
    "django_path": None,
    "module_file": None,
    "distribution": None,
    "settings_module": None,
    "debug": None,
    "allowed_hosts": None,
    "secret_key": None,
    "static_root": None,
    "static_url": None,
    "database": None,
    "migrations": None,
    "superusers": None,
    # Why a part could not be answered (the rest still is).
    "database_error": None,
    "migrations_error": None,
    "superusers_error": None,
}
extra = []


def failure(exc):
    return f"{type(exc).__name__}: {exc}".strip().splitlines()[0][:400]


def app_target(argv):
    """(module, attribute, extra sys.path entries) the app server imports."""
    words = list(argv)
    if words and os.path.basename(words[0]).startswith("python") and words[1:2] == ["-m"]:
        words = words[2:]
    elif words and os.path.basename(words[0]).startswith("python"):
        words = words[1:]
    if not words:
        return None, None, []
    server = os.path.basename(words[0])
    app, paths = None, []
    if server.startswith("gunicorn"):
        from gunicorn.config import Config

        args = Config().parser().parse_args(words[1:])
        app = args.args[0] if args.args else None
        if args.chdir:
            os.chdir(args.chdir)
        paths = [p for p in (args.pythonpath or "").split(",") if p]
        for pair in args.raw_env or []:
            key, _, value = pair.partition("=")
            os.environ[key] = value
        paths.insert(0, os.getcwd())
    elif server.startswith("uvicorn"):
        from uvicorn.main import main as command

        params = command.make_context("uvicorn", words[1:]).params
        app = params.get("app")
        paths = [os.path.abspath(params.get("app_dir") or ".")]
    else:
        names = [w for w in words[1:] if not w.startswith("-") and ("." in w or ":" in w)]
        app = names[-1] if names else None
        paths = [os.getcwd()]
    if not app:
        return None, None, paths
    module, _, attribute = app.partition(":")
    return module, attribute or "application", paths


def import_app(argv):
    os.chdir(argv[0])
    if argv[1] == "manage":
        # No service yet: import the settings as the course's commands
        # would, from the app folder, the project importable either way.
        settings_module = argv[2]
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
        sys.path.insert(0, os.getcwd())
        sys.path.append(argv[3])
        facts["target"] = settings_module
        import django

        django.setup()
        return settings_module
    module, attribute, paths = app_target(argv[2:])
    if module is None:
        raise LookupError("the service's command names no app module")
    for path in reversed(paths):
        sys.path.insert(0, path)
    facts["target"] = f"{module}:{attribute}"
    import importlib

    loaded = importlib.import_module(module)
    getattr(loaded, attribute.split("(")[0])
    return module


def describe_app(module):
    import importlib.metadata

    import django
    from django.conf import settings

    facts["django_version"] = django.get_version()
    facts["django_path"] = os.path.dirname(django.__file__)
    loaded = sys.modules.get(module)
    facts["module_file"] = getattr(loaded, "__file__", None)
    top = module.split(".")[0]
    try:
        facts["distribution"] = importlib.metadata.packages_distributions().get(top, [None])[0]
    except Exception:
        pass
    facts["settings_module"] = os.environ.get("DJANGO_SETTINGS_MODULE")
    facts["debug"] = bool(settings.DEBUG)
    facts["allowed_hosts"] = [str(h) for h in settings.ALLOWED_HOSTS]
    facts["secret_key"] = secret_key_quality(settings.SECRET_KEY)
    facts["static_root"] = os.fspath(settings.STATIC_ROOT) if settings.STATIC_ROOT else None
    facts["static_url"] = settings.STATIC_URL
    if facts["static_root"]:
        extra.append("S " + facts["static_root"])
    extra.append("H " + usable_host(settings.ALLOWED_HOSTS))


def secret_key_quality(key):
    """What a reader of the code could know about the key, never the key."""
    if not key:
        return "missing"
    if str(key).startswith("django-insecure-"):
        return "insecure"
    # Django's own deploy check (security.W009): 50+ characters, 5+ distinct.
    if len(str(key)) < 50 or len(set(str(key))) < 5:
        return "weak"
    return "ok"


def usable_host(allowed):
    from django.http.request import validate_host

    if validate_host("localhost", allowed):
        return "localhost"
    for host in allowed:
        candidate = host.lstrip(".").replace("*", "x")
        if candidate and validate_host(candidate, allowed):
            return candidate
    return "localhost"


def describe_database():
    from django.db import DEFAULT_DB_ALIAS, connections

    connection = connections[DEFAULT_DB_ALIAS]
    name = os.fspath(connection.settings_dict.get("NAME") or "")
    facts["database"] = {"engine": connection.vendor, "name": name}
    if connection.vendor == "sqlite":
        if not os.path.isfile(name):
            extra.append("D " + os.path.dirname(os.path.abspath(name)))
            raise FileNotFoundError(f"{name} does not exist")
        extra.append("D " + os.path.abspath(name))
        # Read only: asking must never create or change the database.
        from urllib.parse import quote

        connection.settings_dict["NAME"] = "file:" + quote(os.path.abspath(name)) + "?mode=ro"
    else:
        extra.append("N")


def describe_migrations():
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    if not executor.recorder.has_table():
        raise LookupError("the database has no django_migrations table: was migrate run?")
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    facts["migrations"] = {
        "applied": len(executor.loader.applied_migrations),
        "unapplied": [f"{m.app_label}.{m.name}" for m, _ in plan],
    }


def describe_superusers():
    from django.contrib.auth import get_user_model

    users = get_user_model()
    query = users._default_manager.filter(is_superuser=True, is_active=True)
    facts["superusers"] = [str(u) for u in query.values_list(users.USERNAME_FIELD, flat=True)[:5]]


def main(argv):
    try:
        module = import_app(argv)
        describe_app(module)
    except BaseException as exc:  # SystemExit and all: the app's own failure
        facts["error"] = failure(exc)
    if facts["error"] is None:
        for step, name in (
            (describe_database, "database"),
            (describe_migrations, "migrations"),
            (describe_superusers, "superusers"),
        ):
            try:
                step()
            except BaseException as exc:
                facts[name + "_error"] = failure(exc)
                if step is describe_database:
                    break
    out.write(json.dumps(facts) + "\n")
    if facts["error"] is not None:
        # The failing file may be none of those below: ask again next time.
        out.write("N\n")
    depends = set(opened)
    for loaded in list(sys.modules.values()):
        path = getattr(loaded, "__file__", None)
        if path:
            depends.add(os.path.abspath(path))
    depends |= {os.path.dirname(p) for p in depends}
    depends |= {os.path.abspath(p or ".") for p in sys.path}
    for path in sorted(depends):
        if "\n" not in path:
            out.write("D " + path + "\n")
    settings_file = getattr(sys.modules.get(facts["settings_module"] or ""), "__file__", None)
    configuration = {p for p in opened if os.path.isfile(p) and not p.endswith((".py", ".pyc"))}
    configuration -= {p for p in configuration if p.startswith((sys.prefix, sys.base_prefix))}
    if settings_file:
        configuration.add(os.path.abspath(settings_file))
    for path in sorted(configuration):
        out.write("C " + path + "\n")
    for line in extra:
        out.write(line + "\n")
    out.flush()


main(sys.argv[1:])
