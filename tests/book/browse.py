#!/usr/bin/env python3
"""Opens the built course book in a real headless browser (Debian's
chromium) through the DevTools protocol, as a reader would:

- every page of every language loads without a console error, an uncaught
  exception or a resource that fails to load;
- every internal link and #anchor leads somewhere that exists;
- the language switch of a lab page leads to the same page in the other
  language, and back;
- the search finds a lab page from a word of it, in each language;
- a screenshot of a lab page in each language is kept.

    browse.py BOOK_DIR SCREENSHOT_DIR

Prints a JSON report; exits 1 if anything failed. Needs `chromium` and
python3-websocket (Debian's packages).
"""

import base64
import functools
import html.parser
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

import websocket

LAB_PAGE = "labs/vm-nginx.html"
SEARCHES = {"en": "gunicorn", "pt-BR": "gunicorn"}
WAIT = 20  # seconds any one page or answer may take
NETWORK_CHANGED = "net::ERR_NETWORK_CHANGED"


class Links(html.parser.HTMLParser):
    """The links, sources and ids of one HTML page."""

    def __init__(self):
        super().__init__()
        self.targets, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for name in ("href", "src"):
            if attrs.get(name):
                self.targets.append(attrs[name])


def pages(root):
    """Every HTML page of the built books, relative to root."""
    out = []
    for folder, _, files in os.walk(root):
        for name in files:
            if name.endswith(".html"):
                out.append(os.path.relpath(os.path.join(folder, name), root))
    return sorted(out)


@functools.lru_cache(maxsize=None)
def parsed(path):
    parser = Links()
    with open(path, encoding="utf-8") as f:
        parser.feed(f.read())
    return parser


def broken_links(root):
    """Internal links and anchors that lead nowhere."""
    broken = []
    for page in pages(root):
        here = os.path.join(root, page)
        for target in parsed(here).targets:
            url = urllib.parse.urlsplit(target)
            if url.scheme or url.netloc or target.startswith(("mailto:", "javascript:", "data:")):
                continue
            if not url.path:
                path = here
            elif url.path.startswith("/"):  # from the site's root (mdbook's site-url)
                path = os.path.join(root, urllib.parse.unquote(url.path).lstrip("/"))
            else:
                path = os.path.normpath(os.path.join(os.path.dirname(here), urllib.parse.unquote(url.path)))
            if os.path.isdir(path):
                path = os.path.join(path, "index.html")
            if not os.path.exists(path):
                broken.append(f"{page}: {target} (no such file)")
            elif url.fragment and path.endswith(".html") and url.fragment not in parsed(path).ids:
                broken.append(f"{page}: {target} (no such anchor)")
    return broken


class Browser:
    """One headless Chromium and one page of it, driven over DevTools."""

    def __init__(self):
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        if not binary:
            raise SystemExit("chromium is not installed (apt-get install chromium)")
        self.profile = tempfile.mkdtemp(prefix="deploylab-book-")
        self.process = subprocess.Popen(
            [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-dev-shm-usage", "--remote-debugging-port=0",
             f"--user-data-dir={self.profile}", "--window-size=1280,900", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        port = None
        for line in self.process.stderr:  # the readiness signal: DevTools listens
            found = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
            if found:
                port = int(found.group(1))
                break
        if port is None:
            raise SystemExit("chromium did not start its DevTools server")
        threading.Thread(target=self.process.stderr.read, daemon=True).start()
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        page = next(t for t in targets if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=WAIT)
        self.next_id, self.events = 0, []
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride",
                  width=1280, height=900, deviceScaleFactor=1, mobile=False)

    def close(self):
        self.ws.close()
        self.process.terminate()
        self.process.wait(timeout=WAIT)
        shutil.rmtree(self.profile, ignore_errors=True)

    def call(self, method, **params):
        self.next_id += 1
        ident = self.next_id
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_event(self, method):
        deadline = time.time() + WAIT
        while time.time() < deadline:
            for i, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(i)
            self.events.append(json.loads(self.ws.recv()))
        raise TimeoutError(method)

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def until(self, expression):
        """Polls a condition in the page; its value once truthy."""
        deadline = time.time() + WAIT
        while time.time() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(expression)

    def open(self, url):
        """Loads a page; the console errors, exceptions and failed loads it had.

        Chromium aborts loads with ERR_NETWORK_CHANGED whenever the machine's
        interfaces change (Docker making or removing a network, as the rest of
        the test suite does meanwhile): such a load is tried again, up to three
        times; a real failure (404, a missing file) fails every time."""
        for _ in range(3):
            self.events = []
            self.call("Page.navigate", url=url)
            self.wait_event("Page.loadEventFired")
            found = self.errors()
            if not any(NETWORK_CHANGED in e for e in found):
                return found
        return found

    def errors(self):
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(params["exceptionDetails"].get("exception", {}).get("description")
                             or params["exceptionDetails"].get("text"))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(" ".join(str(a.get("value", a.get("description"))) for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                found.append(f"{params['entry'].get('text')} {params['entry'].get('url', '')}".strip())
        self.events = []
        return found

    def settled_errors(self):
        """The errors since the last look, but for the machine's network
        changing under Chromium (see `open`)."""
        return [e for e in self.errors() if NETWORK_CHANGED not in e]

    def click(self, selector):
        """Clicks a link and waits for the page it leads to."""
        self.evaluate(f"document.querySelector({json.dumps(selector)}).click()")
        self.wait_event("Page.loadEventFired")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(root):
    handler = functools.partial(Quiet, directory=root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def main(root, shots):
    os.makedirs(shots, exist_ok=True)
    report = {"pages": 0, "failures": [], "screenshots": [], "searches": {}}
    fail = report["failures"].append
    for broken in broken_links(root):
        fail(f"broken link: {broken}")
    server, base = serve(root)
    browser = Browser()
    try:
        for page in pages(root):
            for error in browser.open(f"{base}/{page}"):
                fail(f"{page}: console: {error}")
            report["pages"] += 1
        languages = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
        for lang in languages:
            # The language switch: the same page in the other language.
            browser.open(f"{base}/{lang}/{LAB_PAGE}")
            other = browser.evaluate("document.querySelector('a.deploylab-lang').hreflang")
            browser.click("a.deploylab-lang")
            where = browser.evaluate("[location.pathname, document.documentElement.lang]")
            if where != [f"/{other}/{LAB_PAGE}", other]:
                fail(f"{lang}: the language switch led to {where}, not /{other}/{LAB_PAGE}")
            browser.click("a.deploylab-lang")
            back = browser.evaluate("location.pathname")
            if back != f"/{lang}/{LAB_PAGE}":
                fail(f"{lang}: switching back led to {back}")
            # A screenshot of the lab page, as a reader sees it.
            browser.open(f"{base}/{lang}/{LAB_PAGE}")
            browser.evaluate("document.querySelector('main blockquote').scrollIntoView()")
            shot = os.path.join(shots, f"{lang}-{LAB_PAGE.replace('/', '-')}.png")
            browser.screenshot(shot)
            report["screenshots"].append(shot)
            # The search: a word of the lab page finds it.
            word = SEARCHES.get(lang, "nginx")
            browser.open(f"{base}/{lang}/index.html")
            browser.evaluate("document.getElementById('mdbook-search-toggle').click()")
            browser.until("document.getElementById('mdbook-searchbar') !== null && "
                          "getComputedStyle(document.getElementById('mdbook-search-wrapper')).display !== 'none'")
            browser.evaluate(
                "(() => { const bar = document.getElementById('mdbook-searchbar');"
                f" bar.value = {json.dumps(word)};"
                " bar.dispatchEvent(new Event('input', {bubbles: true}));"
                " bar.dispatchEvent(new KeyboardEvent('keyup', {bubbles: true, key: 'n'})); })()")
            try:
                found = browser.until(
                    "Array.from(document.querySelectorAll('#mdbook-searchresults a'))"
                    ".map(a => a.getAttribute('href')).filter(h => h.includes('labs/'))")
                report["searches"][lang] = found[:5]
            except TimeoutError:
                fail(f"{lang}: searching '{word}' found no lab page")
            for error in browser.settled_errors():
                fail(f"{lang}: console while switching or searching: {error}")
    finally:
        browser.close()
        server.shutdown()
    print(json.dumps(report, indent=2))
    return 1 if report["failures"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
