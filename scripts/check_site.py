"""Check the documentation site in a real headless browser, offline: every equation typeset by the
MathJax the site serves itself, no TeX error, no raw TeX in a table of contents.

    python scripts/check_site.py                 # builds the site into a temporary folder
    python scripts/check_site.py --site site     # checks a site already built

Needs Chromium (Debian: `apt install chromium`). The site is served on 127.0.0.1 and Chromium
resolves every other host to nothing (`--host-resolver-rules`), so a page that needed a CDN would
show its equations as raw TeX here. Exit status 0 when every checked page passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("index.html", "equations/index.html", "grn/index.html", "studies/index.html", "api/policies/index.html")
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser() -> str | None:
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def build(site: Path) -> None:
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(site)]
    subprocess.run(command, cwd=ROOT, check=True, env=environment)


def rendered(chrome: str, url: str) -> str:
    """The page's DOM after its scripts ran, with every host but 127.0.0.1 unreachable."""
    command = [
        chrome,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--virtual-time-budget=20000",
        "--dump-dom",
        url,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout


def problems_of(page: str, dom: str) -> list[str]:
    """What is wrong with one rendered page (empty: it passes)."""
    problems = []
    equations = len(re.findall(r'class="arithmatex"', dom))
    typeset = len(re.findall(r"<mjx-container", dom))
    if equations and typeset < equations:
        problems.append(f"{page}: {typeset} of {equations} equations typeset")
    for error in re.findall(r'<mjx-merror[^>]*data-mjx-error="([^"]*)"', dom):
        problems.append(f"{page}: MathJax reports a TeX error: {error}")
    if "<mjx-merror" in dom and not re.search(r"data-mjx-error=", dom):
        problems.append(f"{page}: MathJax reports a TeX error")
    for entry in re.findall(r'<a href="#[^"]*" class="md-nav__link">(.*?)</a>', dom, re.DOTALL):
        if "\\(" in entry or "$" in entry:
            problems.append(f"{page}: raw TeX in the table of contents: {' '.join(entry.split())[:80]}")
    return problems


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def check(site: Path, chrome: str) -> list[str]:
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        problems, counts = [], []
        for page in PAGES:
            dom = rendered(chrome, f"http://127.0.0.1:{server.server_address[1]}/{page}")
            counts.append((page, dom.count("<mjx-container")))
            problems += problems_of(page, dom)
    finally:
        server.shutdown()
        server.server_close()
    for page, count in counts:
        print(f"{page}: {count} equations typeset")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, help="a built site (default: build one into a temporary folder)")
    args = parser.parse_args(argv)
    chrome = browser()
    if chrome is None:
        print("check_site: no Chromium found (Debian: apt install chromium)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        site = args.site or Path(scratch) / "site"
        if args.site is None:
            build(site)
        problems = check(site, chrome)
    for problem in problems:
        print(problem, file=sys.stderr)
    print("site: every equation typeset offline" if not problems else f"site: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
