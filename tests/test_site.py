"""The course site: built with ``mkdocs build --strict``, then read as a reader would.

The site is built once into a temporary folder. Build-level tests read its files (search
index, sitemap, notebook assets, BibTeX). The browser tests serve it on 127.0.0.1 (a free
port) and open every page of the navigation in headless Chromium (Debian's ``chromium``,
driven by Playwright), at a laptop's 1280 x 900 and a phone's 390 x 844. On every page and
at both sizes:

* status 200, no console error, no failed request, nothing requested from another host;
* every image loaded, with an alt text that says what it shows (not nbconvert's default,
  not an untitled figure), drawn for the width it is shown at, and a click-to-enlarge link;
* no table and no code cell wider than its box at 1280 px; on the phone, a wide table
  scrolls inside its own box and the page itself never scrolls sideways;
* printed outputs wrap between words only; no prompt column;
* no test plumbing visible (nbval tags or markers);
* every in-page link lands on an element, every table-of-contents entry on a heading, and
  the headings go down one level at a time;
* MathJax loaded exactly on the pages with math, every formula typeset, no raw TeX;
* the tutorial's section headings where the page mirrors the tutorial.

Each page leaves a screenshot per size in ``test-artifacts/site/`` (git-ignored).

Without ``/usr/bin/chromium`` the browser tests are skipped locally and FAIL in CI
(``CI=true``). Install it with ``apt-get update && apt-get install -y chromium``. They are
marked ``slow`` (``make check`` leaves them out).
"""

from __future__ import annotations

import base64
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
ARTIFACTS = ROOT / "test-artifacts" / "site"
SIZES = {"laptop": (1280, 900), "phone": (390, 844)}
MODEL_A = "notebooks/01_model_a.ipynb"
GPU = "notebooks/04_gpu.ipynb"
DEFAULT_ALT = "No description has been provided for this image"  # nbconvert's stand-in

# The tutorial's section headings a page that mirrors the tutorial must show
# (case-insensitive substrings of its h1-h4 headings). Other pages need a title (h1).
EXPECTED_HEADINGS = {
    "index.md": ["LSTM networks with PyTorch", "Run it yourself",
                 "What this course fixes in the source"],
    "about-lstms.md": ["About LSTMs", "RNN transition to LSTM"],
    "model-a.md": ["Model A: 1 hidden layer", "28 time steps", "The seven steps", "Step 6"],
    MODEL_A: ["Model A", "Step 1:", "Step 2:", "Step 3:", "Step 4:", "Step 5:", "Step 6:",
              "Parameters in depth", "Parameters breakdown", "Step 7:"],
    "notebooks/02_model_b.ipynb": ["Model B", "Step 4", "Step 7"],
    "notebooks/03_model_c.ipynb": ["Model C", "Step 4", "Step 7"],
    GPU: ["GPU", "Step 3", "Step 4", "Step 7"],
    "notebooks/05_rnn_vs_lstm.ipynb": ["Comparison with RNN"],
    "notebooks/06_deep_learning_notes.ipynb": ["Deep Learning Notes"],
    "notebooks/07_lstm_memory.ipynb": ["Why an LSTM", "The cell opened up", "Memory measured"],
    "notebooks/08_beyond_the_tutorial.ipynb": ["Beyond the tutorial", "Three groups",
                                               "one ingredient at a time", "The final run"],
    "summary.md": ["Summary"],
    "citation.md": ["Citation"],
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
# Test-suite plumbing that must never show: nbval's tags (nbval-ignore-output, ...) and
# its marker comments (# NBVAL_IGNORE_OUTPUT).
TEST_PLUMBING = re.compile(r"nbval[-_]|NBVAL_", re.IGNORECASE)

# In the browser: what the checks below need, measured on the page as laid out.
_PAGE_JS = """async () => {
  const article = document.querySelector("article");
  const box = (el) => el.getBoundingClientRect();
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const scroller = (el) => {  // the nearest ancestor that scrolls sideways
    for (let p = el.parentElement; p && p !== article; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === "auto" || o === "scroll") return p;
    }
    return null;
  };
  const describe = (el) => (el.textContent || "").trim().slice(0, 60);
  // lazy images: load them all before measuring
  const images = Array.from(article.querySelectorAll("img"));
  images.forEach((img) => { img.loading = "eager"; });
  await Promise.all(images.map((img) => img.decode().catch(() => null)));
  const copy = article.cloneNode(true);
  copy.querySelectorAll("pre, code, script, style, mjx-container, .clipboard-copy-txt")
      .forEach((element) => element.remove());
  const headings = Array.from(article.querySelectorAll("h1, h2, h3, h4, h5, h6"));
  // the page's table of contents (in the left navigation: toc.integrate)
  const tocLinks = Array.from(document.querySelectorAll(".md-nav--secondary a"))
      .filter((a) => (a.getAttribute("href") || "").startsWith("#"));
  return {
    prose: copy.textContent,
    visibleText: article.innerText,
    headings: headings.map((h) => ({level: +h.tagName[1], text: h.textContent.trim()})),
    formulas: document.querySelectorAll("mjx-container").length,
    mathErrors: document.querySelectorAll("mjx-merror").length,
    mathElements: article.querySelectorAll(".arithmatex").length,
    images: images.map((img) => ({
      src: (img.currentSrc || img.src).slice(0, 120), alt: img.getAttribute("alt"),
      loaded: img.complete && img.naturalWidth > 0, shown: box(img).width,
      natural: img.naturalWidth, declared: +(img.getAttribute("width") || 0),
      lightbox: !!img.closest("a.glightbox") })),
    tables: Array.from(article.querySelectorAll("table")).map((t) => {
      const s = scroller(t);
      return { text: describe(t.querySelector("th") || t), width: t.scrollWidth,
               box: s ? s.clientWidth : box(t.parentElement).width,
               scrolls: !!s, headerInBox: !!s && s.contains(t.querySelector("thead, th")),
               thBreak: Array.from(t.querySelectorAll("th")).some((th) =>
                   getComputedStyle(th).wordBreak === "break-all" ||
                   getComputedStyle(th).overflowWrap === "anywhere") };
    }),
    code: Array.from(article.querySelectorAll(".jp-InputArea pre, .highlight pre"))
        .filter(visible).map((pre) => ({ text: describe(pre), width: pre.scrollWidth,
                                         box: pre.clientWidth })),
    outputs: Array.from(article.querySelectorAll(".jp-OutputArea-output pre")).map((pre) => {
      const style = getComputedStyle(pre);
      return { text: describe(pre), wordBreak: style.wordBreak, wrap: style.overflowWrap };
    }),
    prompts: Array.from(article.querySelectorAll(".jp-InputPrompt, .jp-OutputPrompt"))
        .filter(visible).map((p) => box(p).width),
    tags: Array.from(article.querySelectorAll(".celltoolbar, .cell-tag")).filter(visible)
        .map(describe),
    pageWidth: document.scrollingElement.scrollWidth,
    anchors: Array.from(document.querySelectorAll("a[href^='#']"))
        .map((a) => decodeURIComponent(a.getAttribute("href").slice(1)))
        .filter((id) => id && !document.getElementById(id)),
    toc: tocLinks.map((a) => {
      const target = document.getElementById(decodeURIComponent(a.hash.slice(1)));
      return { href: a.getAttribute("href"), heading: !!target && /^H[1-6]$/.test(target.tagName) };
    }),
  };
}"""
_MATHJAX_DONE_JS = """async () => {
  if (!window.MathJax || !MathJax.startup || !MathJax.startup.promise) return "no MathJax";
  await MathJax.startup.promise;
  return "ok";
}"""


def nav_pages() -> list[str]:
    """The source path of every page in mkdocs.yml's nav, in order (the build's strict
    ``omitted_files`` check makes sure every page is in it)."""
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


def artifact_name(src: str, size: str) -> str:
    stem = src.rsplit(".", 1)[0].replace("/", "_")
    return f"{stem}-{size}.png"


# --- the build ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory, site_mermaid) -> dict:
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


@pytest.fixture(scope="module")
def built(site) -> Path:
    """The site folder, once the build succeeded."""
    if site["result"].returncode != 0:
        pytest.fail("the site did not build; see test_site_builds_strict_without_warnings")
    return site["dir"]


@pytest.mark.slow  # builds the site
def test_site_builds_strict_without_warnings(site):
    result = site["result"]
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{log[-4000:]}"
    warnings = [line for line in log.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert warnings == []
    assert (site["dir"] / "index.html").is_file()


@pytest.mark.slow  # builds the site
def test_diagrams_are_reproducible_and_self_contained(built):
    """The built SVGs equal a fresh drawing, byte for byte, and reference nothing remote."""
    from site_hooks import diagrams

    fresh = diagrams.render_all()
    assert set(fresh) == {"rnn-vs-lstm.svg", "unrolled-image.svg", "parameter-groups.svg"}
    for name, svg in fresh.items():
        assert (built / "assets" / "diagrams" / name).read_bytes() == svg, \
            f"{name} differs between two drawings"
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


def test_diagrams_ignore_the_users_matplotlib_settings(monkeypatch):
    import matplotlib

    from site_hooks import diagrams

    reference = diagrams.render_all()["rnn-vs-lstm.svg"]
    with matplotlib.rc_context({"lines.linewidth": 7, "font.size": 30,
                                "axes.facecolor": "black"}):
        assert diagrams.render_all()["rnn-vs-lstm.svg"] == reference


@pytest.mark.slow  # builds the site
def test_mathjax_is_served_from_the_site(built):
    from site_hooks import mathjax

    served = built / "assets" / "mathjax" / "tex-svg.js"
    assert served.read_bytes() == (mathjax.mathjax_root() / "tex-svg.js").read_bytes()
    assert (built / "assets" / "mathjax" / "input" / "tex" / "extensions").is_dir()


def _html_pages(site_dir: Path) -> dict[str, str]:
    return {page: (site_dir / page_url(page) / "index.html").read_text(encoding="utf-8")
            for page in nav_pages()}


@pytest.mark.slow  # builds the site
def test_notebook_css_and_scripts_are_served_once(built):
    """No notebook page carries the notebook stylesheet inline; all link the same file."""
    pages = {src: text for src, text in _html_pages(built).items() if src.endswith(".ipynb")}
    assert MODEL_A in pages
    linked = set()
    for src, text in pages.items():
        inline_css = sum(len(m) for m in re.findall(r"<style[^>]*>(.*?)</style>", text, re.S))
        assert inline_css < 5_000, f"{src} carries {inline_css} bytes of inline CSS"
        assert "data:image/" not in text, f"{src} embeds an image instead of linking it"
        assert "cdnjs" not in text and "x-mathjax-config" not in text
        linked |= set(re.findall(r'href="[./]*(assets/stylesheets/notebook\.[0-9a-f]+\.css)"',
                                 text))
        assert len(text.encode()) < 250_000, f"{src} weighs {len(text.encode())} bytes"
    assert len(linked) == 1
    css = (built / linked.pop()).read_text(encoding="utf-8")
    assert ".jp-OutputArea" in css and '[data-md-color-scheme="slate"] .jupyter-wrapper' in css


@pytest.mark.slow  # builds the site
def test_search_index_has_no_tex_prompts_or_copy_notices(built):
    index = json.loads((built / "search" / "search_index.json").read_text(encoding="utf-8"))
    texts = {doc["location"]: doc["text"] for doc in index["docs"]}
    assert any("forget gate" in text for text in texts.values())  # prose is indexed
    for location, text in texts.items():
        for pattern, what in [(r"Copied!", "the copy button's notice"),
                              (r"In\s*\[\d*\]:", "a prompt"),
                              (r"\\[()\[\]]|\$[^$\s][^$]*\$", "raw TeX")]:
            match = re.search(pattern, text)
            assert match is None, f"{what} in the search index at {location}: " \
                                  f"...{text[max(0, match.start() - 40):match.end() + 40]}..."


@pytest.mark.slow  # builds the site
def test_site_url_sitemap_and_repository_come_from_citation_cff(built):
    from site_hooks import citation

    repo_url, site_url = citation.site_urls(citation.load())
    sitemap = (built / "sitemap.xml").read_text(encoding="utf-8")
    locations = re.findall(r"<loc>([^<]+)</loc>", sitemap)
    assert len(locations) == len(nav_pages())
    assert all(loc.startswith(site_url) for loc in locations)
    home = (built / "index.html").read_text(encoding="utf-8")
    assert f'href="{repo_url}"' in home  # the link to the source in the header
    assert f'<link rel="canonical" href="{site_url}">' in home


@pytest.mark.slow  # builds the site
def test_citation_page_shows_bibtex_for_the_tutorial_and_the_course(built):
    text = (built / "citation" / "index.html").read_text(encoding="utf-8")
    for key in ("@misc{lstm_pytorch_course", "@misc{ng_long_short_term",
                "@misc{ng_deep_learning_wizard", "@article{hochreiter1997_long_short_term"):
        assert key in re.sub(r"<[^>]+>", "", text), f"{key} missing from the Citation page"
    assert "zenodo.org/badge/latestdoi/139945544" in text
    assert "10.1162/neco.1997.9.8.1735" in text


def test_citation_cff_is_complete():
    from site_hooks import citation

    data = citation.load()
    assert data["cff-version"] == "1.2.0"
    assert {r["type"] for r in data["references"]} == {"website", "software", "article"}
    tutorial = citation.entry_to_bibtex(data["references"][0])
    assert "author       = {Ng, Ritchie}" in tutorial
    assert "{(LSTM)}" in tutorial and "{PyTorch}" in tutorial  # capitals kept by BibTeX


@pytest.mark.slow  # builds the site
def test_gpu_page_states_the_device_of_its_stored_run(built):
    from site_hooks import notebooks

    device = notebooks.stored_device(nbformat.read(ROOT / GPU, as_version=4))
    assert device, f"{GPU} stores no 'device: ...' line"
    text = (built / page_url(GPU) / "index.html").read_text(encoding="utf-8")
    note = re.search(r'<div class="admonition info stored-run">(.*?)</div>', text, re.S)
    assert note, "the GPU page does not say where its outputs were computed"
    kind = device.split()[0]
    assert (("on the CPU" in note.group(1)) if kind == "cpu" else kind in note.group(1))


def test_every_stored_figure_has_an_alt_text():
    """Every image a notebook stores is an <img> with an alt text made from its title."""
    from lstm_helpers import plots

    missing = []
    for path in sorted(ROOT.glob("notebooks/**/*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for number, cell in enumerate(notebook.cells, start=1):
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if not {"image/png", "image/jpeg", "image/svg+xml"} & set(data):
                    continue
                alt = re.search(r'<img [^>]*alt="([^"]+)"', data.get("text/html", ""))
                if not alt or alt.group(1).startswith(plots.UNTITLED):
                    missing.append(f"{path.relative_to(ROOT)}, cell {number}")
    assert missing == [], ("figures stored without a real alt text (give each figure a title "
                           "and re-run the notebook with scripts/run_course.py): "
                           + "; ".join(missing))


# --- build errors -----------------------------------------------------------------------

def _broken_notebook() -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("1 / 0", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("error", ename="ZeroDivisionError",
                                           evalue="division by zero", traceback=[])]
    notebook.cells = [nbformat.v4.new_markdown_cell("# Broken"), cell]
    return notebook


def _build_copy_with(tmp_path: Path, notebook_path: str) -> str:
    """Build a copy of the site whose only notebook is a broken one; return the log."""
    for name in ("mkdocs.yml", "docs", "site_hooks", "CITATION.cff"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (tmp_path / name).write_bytes(source.read_bytes())
    target = tmp_path / notebook_path
    target.parent.mkdir(parents=True)
    nbformat.write(_broken_notebook(), target)
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
         str(tmp_path / "out")],
        cwd=tmp_path, env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
        capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    return result.stdout + result.stderr


@pytest.mark.slow  # builds the site
def test_a_stored_cell_error_fails_the_build(tmp_path):
    """A copy of the site whose only notebook stored an error: the build stops, naming it."""
    log = _build_copy_with(tmp_path, "notebooks/99_broken.ipynb")
    assert "notebooks/99_broken.ipynb, cell 2: the stored output is an error" in log
    assert "ZeroDivisionError" in log
    assert "scripts/run_course.py notebooks/99_broken.ipynb" in log


@pytest.mark.slow  # builds the site
def test_a_broken_student_notebook_names_make_student(tmp_path):
    """The advice for a student notebook is the command that writes it (issue 14, case 9)."""
    log = _build_copy_with(tmp_path, "notebooks/exercises/student/ex9_broken.ipynb")
    assert "ex9_broken.ipynb, cell 2: the stored output is an error" in log
    assert "`make student`" in log and "run_course" not in log
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^student:.*\n\t.*make_student_notebooks\.py", makefile, re.MULTILINE)


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


def test_static_copy_takes_test_plumbing_off_the_page():
    from site_hooks.notebooks import static_copy

    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x = 1\n# NBVAL_IGNORE_OUTPUT\n  #NBVAL_SKIP\nMarkdown(x)")
    cell.metadata["tags"] = ["nbval-ignore-output"]
    notebook.cells = [cell]
    clean = static_copy(notebook).cells[0]
    assert clean.source == "x = 1\nMarkdown(x)"
    assert "tags" not in clean.metadata


def test_pages_module_cleans_a_notebook_page():
    from site_hooks import pages

    png = base64.b64encode(b"\x89PNG fake").decode()
    html = (
        '<style>.jp-Cell{}</style><style>["pre {}"]</style><script>var a = 1;</script>'
        '<script src="data:text/javascript,"></script>'
        '<script type="text/x-mathjax-config">MathJax.Hub.Config({})</script>'
        '<script type="module">import("https://cdnjs.cloudflare.com/mermaid.mjs")</script>'
        '<div class="jp-RenderedMarkdown"><h2 id="the-cell-state">The cell state $c_t$<a '
        'class="anchor-link" href="#the-cell-state">¶</a></h2><p>Costs $5 and $x_t$, and '
        '$$a = b$$ and <code>$HOME$</code>.</p></div>'
        f'<div class="jp-OutputArea-output"><img src="data:image/png;base64,{png}" alt="A"/>'
        '</div><div class="zeroclipboard-container"><span class="notice">Copied!</span></div>')
    page = pages.clean_notebook_html(html, "01_model_a")
    assert page.css == [".jp-Cell{}"] and page.js == ["var a = 1;"]
    assert page.figures == {"01_model_a-figure-1.png": b"\x89PNG fake"}
    image = re.search(r"<img [^>]*>", page.html).group(0)
    for attribute in ('src="01_model_a-figure-1.png"', 'alt="A"', 'loading="lazy"'):
        assert attribute in image
    assert "<script" not in page.html and "<style" not in page.html
    assert '<span class="arithmatex" data-search-exclude="">\\(x_t\\)</span>' in page.html
    assert '<span class="arithmatex arithmatex-display" data-search-exclude="">\\[a = b\\]' \
        in page.html
    assert "Costs $5 and" in page.html and "<code>$HOME$</code>" in page.html
    assert 'class="zeroclipboard-container" data-search-exclude=""' in page.html
    assert pages.toc_tokens(page.html) == [
        {"level": 2, "id": "the-cell-state", "name": "The cell state c_t", "children": []}]


def test_stored_run_note_names_the_device():
    from site_hooks import notebooks, pages

    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(device)", execution_count=1)
    cell.outputs = [nbformat.v4.new_output(
        "stream", name="stdout", text="seed 0\ndevice: cuda (NVIDIA H200, 139 GiB)\n")]
    notebook.cells = [cell]
    device = notebooks.stored_device(notebook)
    assert device == "cuda (NVIDIA H200, 139 GiB)"
    note = pages.stored_run_note(device)
    assert "on the GPU (<code>cuda</code>)" in note and "NVIDIA H200" in note
    assert "on the CPU" in pages.stored_run_note("cpu (no CUDA or MPS GPU found)")
    assert notebooks.stored_device(nbformat.v4.new_notebook()) is None


# --- the browser ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(built):
    """The built site served over HTTP on 127.0.0.1, a free port; yields the base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(built))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def visit(browser, url: str, size: str, screenshot: Path) -> dict:
    """Open url at one size; return what it logged, requested and shows."""
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    log = {"console_errors": [], "page_errors": [], "failed": [], "requests": []}
    page.on("console", lambda m: m.type == "error" and log["console_errors"].append(
        f"{m.text} ({m.location.get('url', '')})"))
    page.on("pageerror", lambda e: log["page_errors"].append(str(e)))
    page.on("requestfailed", lambda r: log["failed"].append(f"{r.url}: {r.failure}"))
    page.on("request", lambda r: log["requests"].append(r.url))
    try:
        response = page.goto(url, wait_until="networkidle")
        log["status"] = response.status if response else None
        log["mathjax"] = page.evaluate(_MATHJAX_DONE_JS)
        log.update(page.evaluate(_PAGE_JS))
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot), full_page=True)
    finally:
        context.close()
    return log


def page_problems(src: str, size: str, seen: dict, server: str) -> list[str]:
    """Everything a reader would trip over on one page at one size (empty: all good)."""
    problems = []
    laptop = size == "laptop"

    def check(ok: bool, message: str) -> None:
        if not ok:
            problems.append(message)

    check(seen["status"] == 200, f"the page answered {seen['status']}")
    check(not seen["console_errors"] and not seen["page_errors"],
          f"console errors: {seen['console_errors'] + seen['page_errors']}")
    check(not seen["failed"], f"requests that failed: {seen['failed']}")
    local = urlsplit(server).netloc
    foreign = [u for u in seen["requests"]
               if urlsplit(u).scheme not in ("data", "blob", "about")
               and urlsplit(u).netloc != local]
    check(not foreign, f"requests to other hosts: {foreign}")

    # images: loaded, described, drawn for their width, enlargeable
    for image in seen["images"]:
        name = image["src"].rsplit("/", 1)[-1]
        alt = (image["alt"] or "").strip()
        check(image["loaded"], f"image did not load: {name}")
        check(bool(alt) and alt != DEFAULT_ALT and not alt.startswith("Untitled figure"),
              f"image without a real alt text ({alt[:50]!r}): {name}")
        check(image["lightbox"], f"image without click-to-enlarge: {name}")
        drawn = image["declared"] or image["natural"]
        check(not laptop or image["shown"] >= 0.85 * drawn,
              f"{name} is drawn {drawn} px wide but shown at {image['shown']:.0f} px")

    # tables and code fit at 1280 px; on a phone tables scroll in their own box
    for table in seen["tables"]:
        check(not table["thBreak"], f"table headers break inside words: {table['text']}")
        too_wide = table["width"] > table["box"] + 1
        if laptop:
            check(not too_wide, f"table wider than its box ({table['width']} > "
                                f"{table['box']} px): {table['text']}")
        else:
            check(not too_wide or (table["scrolls"] and table["headerInBox"]),
                  f"wide table does not scroll in its own box: {table['text']}")
    if laptop:
        cut = [c["text"] for c in seen["code"] if c["width"] > c["box"] + 1]
        check(not cut, f"code cells cut at 1280 px: {cut[:3]}")
    check(seen["pageWidth"] <= SIZES[size][0], "the page scrolls sideways")
    broken = [o["text"] for o in seen["outputs"]
              if o["wordBreak"] == "break-all" or o["wrap"] == "anywhere"]
    check(not broken, f"printed output breaks inside words: {broken[:2]}")
    check(all(width <= 40 for width in seen["prompts"]), "a prompt column takes the width")

    # no test plumbing
    check(not seen["tags"], f"cell tags are visible: {seen['tags']}")
    plumbing = TEST_PLUMBING.search(seen["visibleText"])
    check(plumbing is None, f"test-suite marker visible: {plumbing and plumbing.group(0)}")

    # anchors, table of contents, headings
    check(not seen["anchors"], f"in-page links to nowhere: {seen['anchors'][:5]}")
    missed = [e["href"] for e in seen["toc"] if not e["heading"]]
    check(not missed, f"table-of-contents links that miss a heading: {missed}")
    levels = [h["level"] for h in seen["headings"]]
    check(bool(levels) and levels[0] == 1 and levels.count(1) == 1,
          f"the page must open with its one h1: levels {levels[:6]}")
    jumps = [(seen["headings"][i - 1]["text"], seen["headings"][i]["text"])
             for i in range(1, len(levels)) if levels[i] > levels[i - 1] + 1]
    check(not jumps, f"headings skip a level: {jumps}")
    headings = [h["text"].replace("¶", "").strip().lower() for h in seen["headings"]]
    missing = [h for h in EXPECTED_HEADINGS.get(src, [])
               if not any(h.lower() in shown for shown in headings)]
    check(not missing, f"tutorial headings missing: {missing}; the page shows {headings}")

    # math: MathJax exactly where there is math, every formula typeset
    loads_mathjax = any(urlsplit(u).path.endswith("/tex-svg.js") for u in seen["requests"])
    check(loads_mathjax == (seen["mathElements"] > 0),
          f"MathJax loaded: {loads_mathjax}, formulas on the page: {seen['mathElements']}")
    if loads_mathjax:
        check(seen["mathjax"] == "ok" and seen["mathErrors"] == 0, "MathJax failed")
    check(seen["formulas"] >= MIN_FORMULAS.get(src, 0),
          f"{seen['formulas']} formulas typeset, {MIN_FORMULAS.get(src, 0)} expected")
    for pattern, what in RAW_TEX:
        match = pattern.search(seen["prose"])
        check(match is None, f"{what} is visible: ...{match and match.group(0)[:80]}...")
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("src", nav_pages())
def test_page_in_browser(browser, server, src, size):
    seen = visit(browser, server + page_url(src), size, ARTIFACTS / artifact_name(src, size))
    problems = page_problems(src, size, seen, server)
    assert problems == [], f"{src} at {SIZES[size]}:\n- " + "\n- ".join(problems)


@pytest.mark.slow
def test_dark_palette_suits_notebook_outputs(browser, server):
    """In the dark palette notebook cells turn dark, and figures keep a white background."""
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  color_scheme="dark")
    page = context.new_page()
    try:
        page.goto(server + page_url(MODEL_A), wait_until="networkidle")
        colours = page.evaluate("""() => {
          const luminance = (c) => { const [r, g, b] = c.match(/\\d+/g).map(Number);
                                     return (0.299 * r + 0.587 * g + 0.114 * b) / 255; };
          const scheme = document.body.getAttribute("data-md-color-scheme");
          const cell = getComputedStyle(document.querySelector(".jp-InputArea-editor"));
          const img = document.querySelector(".jp-OutputArea-output img");
          return { scheme, cell: luminance(cell.backgroundColor),
                   text: luminance(getComputedStyle(document.querySelector(
                       ".jp-OutputArea-output pre")).color),
                   figure: img ? luminance(getComputedStyle(img).backgroundColor) : null };
        }""")
    finally:
        context.close()
    assert colours["scheme"] == "slate"
    assert colours["cell"] < 0.35 and colours["text"] > 0.6
    assert colours["figure"] is None or colours["figure"] > 0.9


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
            box = page.locator(".notebook-download").inner_text()
            assert f"make lab and open {src.removeprefix('notebooks/')}" in box, box
            href = link.get_attribute("href")
            response = page.request.get(server + page_url(src) + href)
            assert response.status == 200
            assert json.loads(response.body()) == json.loads((ROOT / src).read_bytes())
    finally:
        page.close()


@pytest.mark.slow  # builds the site
def test_every_launch_link_of_the_site_resolves_and_every_download_starts_with_the_setup(
        built):
    """Every notebook page offers Colab and Binder; every launch link on every page names a
    file of this repository at its ref (tests/test_launch_links.py); the .ipynb each page
    offers for download starts with the set-up cell."""
    from test_launch_links import broken_links, launch_links

    import lstm_course_setup
    from site_hooks.mkdocs_hooks import download_uri

    pages = _html_pages(built)
    problems = {uri: broken_links(text) for uri, text in pages.items()}
    assert not {uri: found for uri, found in problems.items() if found}
    for src in (s for s in nav_pages() if s.endswith(".ipynb")):
        page = pages[src]
        kinds = {kind for kind, *_ in launch_links(page)}
        assert kinds == {"colab", "binder"}, src
        assert "Run it in the cloud" not in page, src  # the notebook's own line: the box has it
        offered = nbformat.read(built / download_uri(src), as_version=4)
        first_code = next(cell for cell in offered.cells if cell.cell_type == "code")
        assert first_code.source.startswith(lstm_course_setup.FIRST_LINE), src
