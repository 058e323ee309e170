# deploylab: what an app image holds, read inside a container of it (the
# container lab's probe). Prints one JSON object. Looks outside the
# system's and Python's own folders: where an app's files are.
import json
import os
import sys

STATIC = sys.argv[1]
WORKDIR = os.getcwd()
# System folders are skipped; app folders under /usr and /var are not.
SKIP_TOP = {"proc", "sys", "dev", "run", "tmp", "boot", "bin", "sbin", "lib",
            "lib32", "lib64", "libx32", "etc", "usr", "var", "mnt", "media"}
EXTRA = ["/usr/src", "/usr/local/src", "/var/www", "/usr/share/nginx", "/srv"]
SKIP_DIRS = {"site-packages", "dist-packages", "node_modules", "__pycache__"}
found = {"static_files": [], "git": [], "venvs": [], "databases": [],
         "dotenv": [], "migrations": [], "manage_py": os.path.isfile("manage.py")}


def walk():
    for top, dirs, files in os.walk("/"):
        if top == "/":
            dirs[:] = [d for d in dirs if d not in SKIP_TOP]
        yield top, dirs, files
    for extra in EXTRA:
        yield from os.walk(extra)


for top, dirs, files in walk():
    if ".git" in dirs:
        found["git"].append(os.path.join(top, ".git"))
        dirs.remove(".git")
    if "pyvenv.cfg" in files:
        found["venvs"].append(top)
        dirs[:] = []
        continue
    dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
    for name in files:
        path = os.path.join(top, name)
        if path.endswith("/" + STATIC):
            found["static_files"].append(path)
        elif name.endswith((".sqlite3", ".sqlite", ".db")):
            found["databases"].append(path)
        elif name == ".env" or name.startswith(".env."):
            found["dotenv"].append(path)
        elif (os.path.basename(top) == "migrations" and name[:1].isdigit()
              and name.endswith(".py") and top.startswith(WORKDIR.rstrip("/") + "/")):
            app = os.path.basename(os.path.dirname(top))
            found["migrations"].append(app + "." + name[:-3])
for key in found:
    if isinstance(found[key], list):
        found[key] = sorted(set(found[key]))[:50]
print(json.dumps(found))
