"""The course site: built with ``mkdocs build --strict``, then walked in a real browser.

The site is built once into a temporary folder, served on 127.0.0.1 (a free port) and
every page of the navigation is opened in headless Chromium, Debian's ``chromium`` package
driven by Playwright. Each page must load with status 200, log no console error, fail no
request, request nothing from any other host, load every image, show no raw TeX (every
formula typeset by MathJax), and carry the tutorial's section headings.

A screenshot of the Model A page is saved under ``test-artifacts/`` (git-ignored).

Without ``/usr/bin/chromium`` the browser tests are skipped locally and FAIL in CI
(``CI=true``). Install it with ``apt-get update && apt-get install -y chromium``.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
MODEL_A = "notebooks/01_model_a.ipynb"

# The tutorial's section headings each page must show (case-insensitive substrings of the
# page's h1-h4 headings). Exercise pages only need a title.
EXPECTED_HEADINGS = {
    "index.md": ["LSTM networks with PyTorch", "Run it yourself",
                 "What this course fixes in the source"],
    "about-lstms.md": ["About LSTMs", "RNN transition to LSTM"],
    "model-a.md": ["Model A: 1 hidden layer", "28 time steps", "The seven steps", "Step 6"],
    MODEL_A: ["Model A", "Step 1:", "Step 2:", "Step 3:", "Step 4:", "Step 5:", "Step 6:",
              "Parameters in depth", "Parameters breakdown", "Step 7:"],
    "notebooks/02_model_b.ipynb": ["Model B", "Step 4", "Step 7"],
    "notebooks/03_model_c.ipynb": ["Model C", "Step 4", "Step 7"],
    "notebooks/04_gpu.ipynb": ["GPU", "Step 3", "Step 4", "Step 7"],
    "notebooks/05_rnn_vs_lstm.ipynb": ["Comparison with RNN"],
    "notebooks/06_deep_learning_notes.ipynb": ["Deep Learning Notes"],
    "summary.md": ["Summary"],
    "troubleshooting.md": ["Troubleshooting"],
    "citation.md": ["Citation"],
    "exercises/index.md": ["Exercises"],
}
# Pages whose formulas prove that math renders, in Markdown and in notebook cells alike:
# at least this many typeset formulas (MathJax <mjx-container> elements).
MIN_FORMULAS = {"index.md": 2, "about-lstms.md": 5, "model-a.md": 5, "summary.md": 2,
                MODEL_A: 6}

# Text that would mean a formula was left untypeset.
RAW_TEX = [
    (re.compile(r"\$\$"), "a raw $$ delimiter"),
    (re.compile(r"\$[^$\s][^$]*\$"), "a raw $...$ formula"),
    (re.compile(r"\\[()\[\]]"), "a raw \\( \\) or \\[ \\] delimiter"),
    (re.compile(r"\\(?:begin|frac|theta|eta|nabla|sigma|odot|tanh|mathcal|times)\b"),
     "a raw TeX command"),
]

# In the browser: the visible prose of the page's article, without code and typeset math.
_PROSE_JS = """() => {
  const article = document.querySelector("article") || document.body;
  const copy = article.cloneNode(true);
  copy.querySelectorAll("pre, code, script, style, mjx-container, .clipboard-copy-txt")
      .forEach((element) => element.remove());
  return copy.textContent;
}"""
_MATHJAX_DONE_JS = """async () => {
  if (!window.MathJax || !MathJax.startup || !MathJax.startup.promise) return "no MathJax";
  await MathJax.startup.promise;
  return "ok";
}"""
_IMAGES_JS = """() => Array.from(document.images).map((img) => ({
  src: img.currentSrc || img.src, complete: img.complete, width: img.naturalWidth }))"""
_HEADINGS_JS = """() => Array.from(document.querySelectorAll(
  "article h1, article h2, article h3, article h4")).map((h) => h.textContent.trim())"""


def nav_pages() -> list[str]:
    """The source path of every page in mkdocs.yml's nav, in order."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))

    def walk(items):
        for item in items:
            value = next(iter(item.values())) if isinstance(item, dict) else item
            if isinstance(value, list):
                yield from walk(value)
            else:
                yield value

    return list(walk(config["nav"]))


def page_url(src: str) -> str:
    """The page's URL path with use_directory_urls: ``model-a.md`` -> ``model-a/``."""
    stem = src.rsplit(".", 1)[0]
    if stem == "index":
        return ""
    if stem.endswith("/index"):
        return stem[: -len("index")]
    return stem + "/"


def expected_headings(src: str) -> list[str]:
    if src.startswith(("exercises/", "notebooks/exercises/")) and src not in EXPECTED_HEADINGS:
        return []
    if src not in EXPECTED_HEADINGS:
        pytest.fail(f"{src} is in the nav but tests/test_site.py has no EXPECTED_HEADINGS "
                    "entry for it: add the tutorial's section headings the page must show")
    return EXPECTED_HEADINGS[src]


# --- the build ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict:
    """The site built by ``mkdocs build --strict`` into a temporary folder."""
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - start
    print(f"\nmkdocs build --strict: {seconds:.1f} s")
    return {"dir": out, "result": result, "seconds": seconds}


@pytest.mark.slow
def test_site_builds_strict_without_warnings(site):
    result = site["result"]
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{log[-4000:]}"
    warnings = [line for line in log.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert warnings == []
    assert (site["dir"] / "index.html").is_file()


@pytest.mark.slow
def test_diagrams_are_reproducible_and_self_contained(site):
    """The built SVGs equal a fresh drawing, byte for byte, and reference nothing remote."""
    from site_hooks import diagrams

    fresh = diagrams.render_all()
    assert set(fresh) == {"rnn-vs-lstm.svg", "unrolled-image.svg", "parameter-groups.svg"}
    for name, svg in fresh.items():
        built = (site["dir"] / "assets" / "diagrams" / name).read_bytes()
        assert built == svg, f"{name} differs between two drawings"
        text = svg.decode()
        linked = [h for h in re.findall(r'<image[^>]*?href="([^"]*)"', text)
                  if not h.startswith("data:")]
        assert linked == [], f"{name} links images"
        remote = set(re.findall(r"https?://[^\s\"'<>]+", text)) - {
            "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink",
            "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd",
            "http://purl.org/dc/elements/1.1/", "http://creativecommons.org/ns#",
            "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
            "http://purl.org/dc/dcmitype/StillImage", "https://matplotlib.org/"}
        assert remote == set(), f"{name} refers to {remote}"
        assert "@font-face" not in text and "<text" not in text  # glyphs drawn as paths


@pytest.mark.slow
def test_mathjax_is_served_from_the_site(site):
    from site_hooks import mathjax

    served = site["dir"] / "assets" / "mathjax" / "tex-svg.js"
    assert served.read_bytes() == (mathjax.mathjax_root() / "tex-svg.js").read_bytes()
    assert (site["dir"] / "assets" / "mathjax" / "input" / "tex" / "extensions").is_dir()


# --- build errors -----------------------------------------------------------------------

def _broken_notebook() -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("1 / 0", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("error", ename="ZeroDivisionError",
                                           evalue="division by zero", traceback=[])]
    notebook.cells = [nbformat.v4.new_markdown_cell("# Broken"), cell]
    return notebook


@pytest.mark.slow
def test_a_stored_cell_error_fails_the_build(tmp_path):
    """A copy of the site whose only notebook stored an error: the build stops, naming it."""
    for name in ("mkdocs.yml", "docs", "site_hooks"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (tmp_path / name).write_bytes(source.read_bytes())
    (tmp_path / "notebooks").mkdir()
    nbformat.write(_broken_notebook(), tmp_path / "notebooks" / "99_broken.ipynb")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
         str(tmp_path / "out")],
        cwd=tmp_path, env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
        capture_output=True, text=True, timeout=300)
    log = result.stdout + result.stderr
    assert result.returncode != 0
    assert "notebooks/99_broken.ipynb, cell 2: the stored output is an error" in log
    assert "ZeroDivisionError" in log


def test_notebook_checks():
    from site_hooks.notebooks import NotebookCheckError, check_stored_outputs, static_copy

    with pytest.raises(NotebookCheckError, match="cell 2: the stored output is an error"):
        check_stored_outputs(_broken_notebook(), "x.ipynb", require_executed=False)

    never_run = nbformat.v4.new_notebook()
    never_run.cells = [nbformat.v4.new_code_cell("print(1)")]
    with pytest.raises(NotebookCheckError, match="cell 1 was never executed"):
        check_stored_outputs(never_run, "lesson.ipynb", require_executed=True)
    check_stored_outputs(never_run, "exercise.ipynb", require_executed=False)  # allowed

    with_widget = nbformat.v4.new_notebook()
    with_widget.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    cell = nbformat.v4.new_code_cell("train()", execution_count=1)
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={
            "application/vnd.jupyter.widget-view+json": {"model_id": "abc"},
            "text/plain": "training:   0%|"}),
        nbformat.v4.new_output("stream", name="stdout", text="Iteration: 500\n"),
    ]
    with_widget.cells = [cell]
    clean = static_copy(with_widget)
    assert "widgets" not in clean.metadata
    assert [o.output_type for o in clean.cells[0].outputs] == ["stream"]
    assert len(with_widget.cells[0].outputs) == 2  # the original is untouched


# --- the browser ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(site):
    """The built site served over HTTP on 127.0.0.1, a free port; yields the base URL."""
    if site["result"].returncode != 0:
        pytest.fail("the site did not build; see test_site_builds_strict_without_warnings")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(site["dir"]))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium, driven by Playwright."""
    problem = None
    if not CHROMIUM.exists():
        problem = (f"{CHROMIUM} is missing: apt-get update && apt-get install -y chromium")
    else:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            problem = "Playwright is missing: pip install -r requirements.txt"
    if problem:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"the browser tests must run in CI: {problem}")
        pytest.skip(problem)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def visit(browser, url: str) -> dict:
    """Open url in a fresh page; return what it logged, requested and shows."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log = {"console_errors": [], "page_errors": [], "failed": [], "requests": []}
    page.on("console", lambda m: m.type == "error" and log["console_errors"].append(
        f"{m.text} ({m.location.get('url', '')})"))
    page.on("pageerror", lambda e: log["page_errors"].append(str(e)))
    page.on("requestfailed", lambda r: log["failed"].append(f"{r.url}: {r.failure}"))
    page.on("request", lambda r: log["requests"].append(r.url))
    response = page.goto(url, wait_until="networkidle")
    log["status"] = response.status if response else None
    log["mathjax"] = page.evaluate(_MATHJAX_DONE_JS)
    log["formulas"] = page.locator("mjx-container").count()
    log["math_errors"] = page.locator("mjx-merror").count()
    log["images"] = page.evaluate(_IMAGES_JS)
    log["prose"] = page.evaluate(_PROSE_JS)
    log["headings"] = page.evaluate(_HEADINGS_JS)
    log["page"] = page
    return log


@pytest.mark.slow
@pytest.mark.parametrize("src", nav_pages())
def test_page_in_browser(browser, server, src):
    url = server + page_url(src)
    seen = visit(browser, url)
    page = seen.pop("page")
    try:
        assert seen["status"] == 200, f"{url} answered {seen['status']}"
        assert seen["console_errors"] == [] and seen["page_errors"] == []
        assert seen["failed"] == [], "requests that failed"
        local = urlsplit(server).netloc
        foreign = [u for u in seen["requests"]
                   if urlsplit(u).scheme not in ("data", "blob", "about")
                   and urlsplit(u).netloc != local]
        assert foreign == [], "requests to other hosts"
        broken = [i["src"][:120] for i in seen["images"]
                  if not (i["complete"] and i["width"] > 0)]
        assert broken == [], "images that did not load"
        assert seen["mathjax"] == "ok"
        assert seen["math_errors"] == 0, "MathJax could not typeset a formula"
        for pattern, what in RAW_TEX:
            match = pattern.search(seen["prose"])
            assert match is None, f"{what} is visible: ...{match.group(0)[:80]}..."
        assert seen["formulas"] >= MIN_FORMULAS.get(src, 0), "formulas typeset"
        headings = [h.replace("¶", "").strip().lower() for h in seen["headings"]]
        assert headings, f"{src} shows no heading"
        missing = [h for h in expected_headings(src)
                   if not any(h.lower() in shown for shown in headings)]
        assert missing == [], f"tutorial headings missing on {src}; it shows {headings}"
        if src == MODEL_A:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "site-model-a.png"), full_page=True)
    finally:
        page.close()


@pytest.mark.slow
def test_notebook_pages_offer_their_ipynb(browser, server):
    """Each notebook page links its .ipynb; the file served is the stored notebook."""
    notebook_pages = [src for src in nav_pages() if src.endswith(".ipynb")]
    assert MODEL_A in notebook_pages
    page = browser.new_page()
    try:
        for src in notebook_pages:
            page.goto(server + page_url(src))
            link = page.locator("a[download]").first
            assert "jupyter lab" in page.locator(".notebook-download").inner_text()
            href = link.get_attribute("href")
            response = page.request.get(server + page_url(src) + href)
            assert response.status == 200
            assert json.loads(response.body()) == json.loads((ROOT / src).read_bytes())
    finally:
        page.close()
