"""Render a page in headless Chromium (when installed): a screenshot, and what the page saw.

``render(path)`` copies the page, adds two small scripts (one first in <head> that records
JavaScript errors, one at the end that measures the page after it has loaded), runs
``chromium --headless --dump-dom`` on the copy and reads the measurements back from the dumped
DOM. The page under test itself has no script; only the copy gets these.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile

CHROMIUM = next(
    (
        p
        for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser", shutil.which("chromium") or "")
        if p and os.path.exists(p)
    ),
    None,
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--virtual-time-budget=10000",
]

ERRORS = """<script>window.__errors = [];
window.addEventListener('error', function (e) {
  window.__errors.push(e.message || ('failed to load ' + (e.target && (e.target.src || e.target.tagName))));
}, true);</script>"""

MEASURE = """<script>window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var wide = Array.prototype.slice.call(document.querySelectorAll('body *')).filter(function (el) {
    var r = el.getBoundingClientRect();
    return r.right > window.innerWidth + 1 && !el.closest('.table-wrap, pre');
  }).map(function (el) { return el.tagName + '.' + el.className; });
  var out = {errors: window.__errors, width: window.innerWidth,
             scrollWidth: document.documentElement.scrollWidth,
             images: imgs.length,
             broken: imgs.filter(function (i) { return !i.complete || i.naturalWidth === 0; }).length,
             imageWidths: imgs.map(function (i) { return Math.round(i.getBoundingClientRect().width); }),
             tooWide: wide.slice(0, 10),
             h1: (document.querySelector('h1') || {}).textContent || null,
             verdictTop: document.getElementById('verdict') ?
               Math.round(document.getElementById('verdict').getBoundingClientRect().top) : null};
  var pre = document.createElement('pre');
  pre.id = '__checks';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});</script>"""


def render(path, width=1400, height=2400, screenshot=None):
    """Load ``path`` in headless Chromium at ``width`` px; returns the measurements (a dict:
    errors, scrollWidth, width, images, broken, imageWidths, tooWide, verdictTop) and writes a
    PNG screenshot to ``screenshot`` when given."""
    if CHROMIUM is None:
        raise RuntimeError("chromium is not installed")
    text = open(path, encoding="utf-8").read()
    text = text.replace("<head>", "<head>" + ERRORS, 1).replace("</body>", MEASURE + "</body>", 1)
    with tempfile.TemporaryDirectory() as tmp:
        page = os.path.join(tmp, "page.html")
        with open(page, "w", encoding="utf-8") as f:
            f.write(text)
        base = [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={os.path.join(tmp, 'profile')}",
            f"--window-size={width},{height}",
        ]
        dom = subprocess.run(
            base + ["--dump-dom", f"file://{page}"], capture_output=True, text=True, timeout=120
        )
        if screenshot:
            subprocess.run(
                base + [f"--screenshot={screenshot}", f"file://{os.path.join(tmp, 'page.html')}"],
                capture_output=True,
                text=True,
                timeout=120,
            )
    found = re.search(r'<pre id="__checks">(.*?)</pre>', dom.stdout, re.S)
    if not found:
        raise AssertionError(
            f"chromium gave no measurements (exit {dom.returncode}): {dom.stderr[-2000:]}"
        )
    import html

    return json.loads(html.unescape(found.group(1)))
