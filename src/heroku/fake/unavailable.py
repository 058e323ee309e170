"""deploylab: after `pip install -r requirements.txt` failed in a build,
names every requirement the package index cannot provide, at once, so a
student fixes them all before the next push (pip stops at the first).

Run with the build's Python; pip's own copy of `packaging` reads the
requirements as pip does. The index is deploylab's package proxy
($DEPLOYLAB_PACKAGE_INDEX): online, it lists what the real index has;
offline, what deploylab's cache holds, and says so in its Content-Type.
Prints nothing when every requirement has some version to offer (the
failure was elsewhere: a dependency's build, a conflict).
"""

import os
import re
import sys
import urllib.error
import urllib.request

from pip._vendor.packaging.requirements import InvalidRequirement, Requirement
from pip._vendor.packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

INDEX = os.environ["DEPLOYLAB_PACKAGE_INDEX"]

# What this prints, in one place for translation.
HEADER = "These requirements can't be installed in this build:"
NO_PROJECT = "{req}: the package index has no project of that name"
OFFLINE = "{req}: not in deploylab's offline cache, and the host's package index does not answer"
NO_VERSION = "{req}: no version matches (the index offers {versions})"
NO_VERSION_OFFLINE = (
    "{req}: no version in deploylab's offline cache matches (it has {versions};"
    " the host's package index does not answer)"
)
FOOTER = "Fix all of them in requirements.txt, commit, and push again."


def requirements(path, seen):
    """The requirements of a file, following -r includes; options, URLs and
    editable installs are pip's business."""
    if path in seen or not os.path.isfile(path):
        return
    seen.add(path)
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = re.sub(r"(^|\s)#.*", "", line).strip()
            if not line:
                continue
            include = re.match(r"^(-r|--requirement)\s*=?\s*(\S+)", line)
            if include:
                yield from requirements(
                    os.path.join(os.path.dirname(path), include.group(2)), seen
                )
                continue
            if line.startswith("-") or "://" in line:
                continue
            try:
                req = Requirement(line)
            except InvalidRequirement:
                continue
            if req.url or (req.marker and not req.marker.evaluate()):
                continue
            yield req


def versions(name):
    """(versions offered, whether the index answered or only deploylab's
    cache, why none): why is 'missing' or 'offline'."""
    url = INDEX + canonicalize_name(name) + "/"
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            kind = response.headers.get("Content-Type", "")
            cache_only = response.headers.get("X-Deploylab-Offline") == "1"
            page = response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return set(), False, "missing" if e.code == 404 else "offline"
    except OSError:
        return set(), False, "offline"
    if kind.startswith("deploylab/offline"):
        return set(), False, "offline"
    found = set()
    for file in re.findall(r">([^<>]+)</a>", page):
        try:
            if file.endswith(".whl"):
                found.add(parse_wheel_filename(file)[1])
            else:
                found.add(parse_sdist_filename(file)[1])
        except (InvalidWheelFilename, InvalidSdistFilename):
            continue
    return found, cache_only, None


def main():
    problems = []
    for req in requirements(os.path.abspath("requirements.txt"), set()):
        offered, cache_only, why = versions(req.name)
        if why == "missing":
            problems.append(NO_PROJECT.format(req=req))
        elif why == "offline" or not offered:
            problems.append(OFFLINE.format(req=req))
        elif req.specifier and not any(
            req.specifier.contains(v, prereleases=True) for v in offered
        ):
            newest = ", ".join(str(v) for v in sorted(offered)[-5:])
            text = NO_VERSION_OFFLINE if cache_only else NO_VERSION
            problems.append(text.format(req=req, versions=newest))
    if problems:
        print(HEADER)
        for problem in problems:
            print("  " + problem)
        print(FOOTER)


if __name__ == "__main__":
    sys.exit(main())
