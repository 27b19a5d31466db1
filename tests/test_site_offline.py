"""The site loads nothing from other hosts, whatever a page holds: diagrams are drawn by its
own Mermaid, and content that would pull from a CDN is refused at build time.

Fixture sites are built in a temporary folder with the course's own hooks, theme and
configuration (``mkdocs.yml``, ``site_hooks/``), only the pages and notebooks differ:

* one with a ```mermaid diagram in a ``docs/*.md`` page and one in a notebook's Markdown
  cell: it builds, and in Chromium both pages draw their diagram, in the light and the dark
  palette, requesting nothing but the site's own host (Material would fetch Mermaid from
  unpkg.com);
* one with each kind of content that pulls from another host by itself (a remote image in
  Markdown and in a notebook, an iframe, a plotly output's CDN script, a vega loader in an
  inline script, a stylesheet importing a web font) and diagrams without a text
  alternative (in Markdown, in a cell's ``text/vnd.mermaid`` output): the build fails,
  naming every page and what it would load or lack.

The fast tests check the pieces (:mod:`site_hooks.offline`, :mod:`site_hooks.mermaid`) on
HTML snippets. The builds need Mermaid from npm (``make site`` installs it).
"""

from __future__ import annotations

import functools
import http.server
import io
import os
import shutil
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest
import yaml

from site_hooks import mermaid, offline, pages

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "site-diagrams"  # the drawn diagrams, to look at

DOCS_DIAGRAM = """# Training, as a diagram

The loop of Step 7, drawn by Mermaid:

```mermaid
flowchart LR
  accTitle: One training iteration
  accDescr: The images are shaped into sequences, the gradients cleared, the loss computed.
  shape[Shape the images] --> clear[Clear gradients] --> forward[Logits] --> loss[Loss]
  loss --> backward[Backward] --> update[Update] --> shape
```
"""

NOTEBOOK_DIAGRAM = """## Model A as a diagram

```mermaid
flowchart TD
  accTitle: Model A
  accDescr { 28 rows of 28 pixels go through one LSTM layer of 100 units;
  the last hidden state goes through a linear layer to 10 logits. }
  rows[28 rows of 28 pixels] --> lstm[LSTM, 100 units] --> fc[Linear 100 to 10]
  fc --> logits[10 logits]
```
"""


def _code_cell(source: str, outputs: list) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source, execution_count=1)
    cell.outputs = outputs
    return cell


def diagram_notebook() -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# A lesson with a diagram"),
        nbformat.v4.new_markdown_cell(NOTEBOOK_DIAGRAM),
        _code_cell("print(28 * 28)", [nbformat.v4.new_output("stream", name="stdout",
                                                             text="784\n")]),
    ]
    return notebook


def cdn_notebook() -> nbformat.NotebookNode:
    """Outputs as plotly and Altair write them (text/html with their CDN loaders)."""
    html = nbformat.v4.new_output
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Outputs from CDNs\n\n"
                                      "![a remote figure](https://example.org/figure.png)"),
        _code_cell("fig.show()", [html("display_data", data={
            "text/html": '<div id="plot"></div><script src="https://cdn.plot.ly/plotly-2.35.2'
                         '.min.js"></script><script>Plotly.newPlot("plot", []);</script>',
            "text/plain": "Figure()"})]),
        _code_cell("chart", [html("execute_result", execution_count=1, data={
            "text/html": '<div id="vis"></div><script>requirejs.config({paths: {vega: '
                         '"https://cdn.jsdelivr.net/npm/vega@5?noext"}});</script>',
            "text/plain": "alt.Chart(...)"})]),
        nbformat.v4.new_markdown_cell("```mermaid\nflowchart LR\n  a --> b\n```"),
        _code_cell("display(diagram)", [html("display_data", data={
            "text/vnd.mermaid": "sequenceDiagram\n  kernel->>page: output", "text/plain": "D"})]),
    ]
    return notebook


DOCS_REMOTE = """# Remote things

![A logo](https://example.org/logo.png)

<iframe src="https://www.youtube-nocookie.com/embed/abc"></iframe>

[A link is fine](https://example.org/)
"""


def build_fixture_site(folder: Path, pages_md: dict[str, str],
                       notebooks: dict[str, nbformat.NotebookNode],
                       assets: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """A copy of the course's site set-up in ``folder`` with these pages, built strictly
    into ``folder/site``."""
    shutil.copytree(ROOT / "site_hooks", folder / "site_hooks",
                    ignore=shutil.ignore_patterns("__pycache__", "node_modules"))
    if (ROOT / "site_hooks" / "node_modules").is_dir():
        (folder / "site_hooks" / "node_modules").symlink_to(ROOT / "site_hooks" / "node_modules")
    shutil.copy(ROOT / "CITATION.cff", folder / "CITATION.cff")
    # The launch links name the course version, read from the package source.
    (folder / "lstm_helpers").mkdir()
    shutil.copy(ROOT / "lstm_helpers" / "__init__.py", folder / "lstm_helpers" / "__init__.py")
    for asset in ("stylesheets", "javascripts"):
        shutil.copytree(ROOT / "docs" / asset, folder / "docs" / asset)
    for name, text in {**pages_md, **(assets or {})}.items():
        (folder / "docs" / name).write_text(text, encoding="utf-8")
    for name, notebook in notebooks.items():
        (folder / "notebooks").mkdir(exist_ok=True)
        nbformat.write(notebook, folder / "notebooks" / name)
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    config["nav"] = [*pages_md, *(f"notebooks/{name}" for name in notebooks)]
    (folder / "mkdocs.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
         str(folder / "site")], cwd=folder, env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
        capture_output=True, text=True, timeout=600)


# --- the pieces ---------------------------------------------------------------------------

@pytest.mark.parametrize("html, expected", [
    ('<img src="https://example.org/a.png" alt="a">', ['<img src="https://example.org/a.png">']),
    ('<img srcset="a.png 1x, //cdn.example.org/a@2x.png 2x">',
     ['<img srcset="//cdn.example.org/a@2x.png">']),
    ('<script src="https://cdn.plot.ly/plotly.min.js"></script>',
     ['<script src="https://cdn.plot.ly/plotly.min.js">']),
    ('<script type="module">import m from "https://cdn.jsdelivr.net/npm/mermaid.mjs"</script>',
     ["<script> https://cdn.jsdelivr.net/npm/mermaid.mjs"]),
    ("<iframe src='https://www.youtube.com/embed/x'></iframe>",
     ['<iframe src="https://www.youtube.com/embed/x">']),
    ('<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">',
     ['<link href="https://fonts.googleapis.com/css?family=Roboto">']),
    ('<style>@import "https://fonts.googleapis.com/x.css"; .a{background:url(//x.org/b.png)}'
     '</style>', ["<style> https://fonts.googleapis.com/x.css", "<style> //x.org/b.png"]),
    ('<div style="background-image: url(\'https://x.org/bg.png\')"></div>',
     ['<div style="... https://x.org/bg.png ...">']),
    ('<svg><image href="https://x.org/a.png"/></svg>', ['<image href="https://x.org/a.png">']),
    ('<video poster="http://x.org/p.jpg" src="v.mp4"></video>',
     ['<video poster="http://x.org/p.jpg">']),
])
def test_what_loads_from_another_host_is_found(html, expected):
    assert offline.remote_loads(html) == expected


def test_links_names_namespaces_and_local_files_are_not_loads():
    html = ('<a href="https://example.org/">a link</a>'
            '<link rel="canonical" href="https://lstm-course.github.io/x/">'
            '<link rel="stylesheet" href="../assets/main.css"><img src="figure-1.png">'
            '<img src="data:image/png;base64,AAAA"><script src="../notebook.1234.js"></script>'
            '<script>document.createElementNS("http://www.w3.org/2000/svg", "g");'
            '// see https://example.org/docs for why\n</script>'
            '<svg><!-- Font Awesome https://fontawesome.com --><path d="M0 0"/></svg>')
    assert offline.remote_loads(html) == []


def test_the_refusal_names_every_page_and_says_what_to_do():
    message = offline.refusal({"docs/a.md": ['<img src="https://x.org/a.png">'],
                               "notebooks/02.ipynb": [f"<script> https://cdn/{n}.js"
                                                      for n in range(7)]})
    lines = message.splitlines()
    assert lines[0] == "2 page(s) or file(s) would load content from other hosts:"
    assert lines[1] == '  docs/a.md: <img src="https://x.org/a.png">'
    assert lines[2].endswith("<script> https://cdn/4.js; ... and 2 more")
    assert "Save an image" in lines[3] and "static figure" in lines[3]


def test_a_diagram_gets_its_text_alternative_and_stays_out_of_search():
    content = ('<p>Before</p><pre class="mermaid"><code>flowchart LR\n  accTitle: Two steps.\n'
               '  accDescr: A goes to B.\n  A --&gt; B</code></pre>')
    html, count, problems = mermaid.prepare(content)
    assert (count, problems) == (1, [])
    assert ('<figure aria-label="Two steps. A goes to B." class="diagram" role="img">'
            '<pre class="mermaid" data-search-exclude="">') in html
    assert mermaid.text_alternative("graph TD\naccTitle: T\naccDescr {\n one\n two\n}\n") == \
        "T. one two"
    assert mermaid.prepare("<p>no diagram</p>") == ("<p>no diagram</p>", 0, [])
    _, count, problems = mermaid.prepare('<pre class="mermaid">flowchart LR\n a --> b</pre>')
    assert count == 1 and problems == [
        "the diagram starting 'flowchart LR a --> b' has no text alternative: add an "
        "`accTitle: what it shows` line to its source (and `accDescr: ...` for more)"]


def test_a_notebook_keeps_a_remote_script_in_place_for_the_check():
    """It was dropped without a word, and the output's inline code failed in the browser."""
    cleaned = pages.clean_notebook_html(
        '<div class="jp-OutputArea-output"><script src="https://cdn.plot.ly/plotly.min.js">'
        '</script><script>Plotly.newPlot("p", [])</script></div>', "02")
    assert offline.remote_loads(cleaned.html) == [
        '<script src="https://cdn.plot.ly/plotly.min.js">']
    assert cleaned.js == ['Plotly.newPlot("p", [])']


# --- fixture sites ---------------------------------------------------------------------------

@pytest.mark.slow  # builds a site
def test_content_from_other_hosts_is_refused_naming_each_page(tmp_path, site_mermaid):
    bad_diagram = nbformat.v4.new_notebook()
    bad_diagram.cells = [nbformat.v4.new_markdown_cell("# No text alternative\n\n```mermaid\n"
                                                       "flowchart LR\n  a --> b\n```")]
    done = build_fixture_site(
        tmp_path, {"index.md": "# Home\n", "remote.md": DOCS_REMOTE},
        {"01_cdn.ipynb": cdn_notebook(), "02_bad_diagram.ipynb": bad_diagram},
        assets={"stylesheets/fonts.css": '@import url("https://fonts.googleapis.com/css2");'})
    log = done.stdout + done.stderr
    assert done.returncode != 0, log[-3000:]
    assert "3 page(s) or file(s) would load content from other hosts:" in log
    assert '  docs/remote.md: <img src="https://example.org/logo.png">; <iframe src="https://' \
           'www.youtube-nocookie.com/embed/abc">' in log
    assert "example.org/\"" not in log  # the link is fine
    for expected in ('<img src="https://example.org/figure.png">',
                     '<script src="https://cdn.plot.ly/plotly-2.35.2.min.js">',
                     "<script> https://cdn.jsdelivr.net/npm/vega@5?noext"):
        assert expected in log.split("  notebooks/01_cdn.ipynb: ")[1].splitlines()[0]
    assert "  docs/stylesheets/fonts.css: https://fonts.googleapis.com/css2" in log
    assert "notebooks/01_cdn.ipynb: the diagram starting 'flowchart LR a --> b' has no text " \
           "alternative" in log
    assert "notebooks/01_cdn.ipynb: the diagram starting 'sequenceDiagram kernel->>page: " \
           "output' has no text alternative" in log  # a cell's text/vnd.mermaid output
    assert "notebooks/02_bad_diagram.ipynb: the diagram starting" in log


@pytest.fixture(scope="module")
def diagram_site(tmp_path_factory, site_mermaid) -> Path:
    folder = tmp_path_factory.mktemp("diagrams")
    done = build_fixture_site(folder, {"index.md": "# Home\n", "diagram.md": DOCS_DIAGRAM},
                              {"01_diagram.ipynb": diagram_notebook()})
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return folder / "site"


@pytest.mark.slow  # builds a site
def test_mermaid_is_served_only_where_there_is_a_diagram(diagram_site):
    assert (diagram_site / mermaid.SCRIPT).read_bytes() == mermaid.DIST.read_bytes()
    assert (diagram_site / mermaid.SITE_DIR / "LICENSE").is_file()
    home = (diagram_site / "index.html").read_text(encoding="utf-8")
    assert "mermaid.min.js" not in home
    for page in ("diagram", "notebooks/01_diagram"):
        text = (diagram_site / page / "index.html").read_text(encoding="utf-8")
        script = text.index("assets/mermaid/mermaid.min.js")
        assert script < text.index("assets/javascripts/bundle.")  # defined before Material
        assert text.count('<figure aria-label="') == 1


@contextmanager
def serving(folder: Path):
    """``folder`` over HTTP on 127.0.0.1, a free port; yields the base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _luminance(png: bytes) -> float:
    """Mean brightness of a screenshot, 0 (black) to 1 (white)."""
    import numpy as np
    from PIL import Image

    return float(np.asarray(Image.open(io.BytesIO(png)).convert("L")).mean()) / 255


@pytest.mark.slow  # a browser
@pytest.mark.parametrize("page_path", ["diagram/", "notebooks/01_diagram/"])
def test_both_diagrams_are_drawn_from_the_site_alone(browser, diagram_site, page_path):
    seen = {}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serving(diagram_site) as base:
        for scheme in ("light", "dark"):
            context = browser.new_context(viewport={"width": 1280, "height": 900},
                                          color_scheme=scheme)
            page = context.new_page()
            requests, errors = [], []
            page.on("request", lambda r, requests=requests: requests.append(r.url))
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            page.on("console", lambda m, errors=errors: m.type == "error" and errors.append(
                m.text))
            try:
                page.goto(base + page_path, wait_until="networkidle")
                page.wait_for_function(
                    "() => document.querySelector('figure.diagram > div.mermaid')",
                    timeout=60_000)
                figure = page.locator("figure.diagram")
                seen[scheme] = {
                    "requests": requests, "errors": errors,
                    "raw": page.locator("pre.mermaid").count(),
                    "box": figure.bounding_box(),
                    "label": figure.get_attribute("aria-label"),
                    "luminance": _luminance(figure.screenshot(
                        path=str(ARTIFACTS / f"{page_path.strip('/').replace('/', '_')}-"
                                             f"{scheme}.png"))),
                }
            finally:
                context.close()
    local = urlsplit(base).netloc
    for scheme, found in seen.items():
        foreign = [u for u in found["requests"] if urlsplit(u).netloc not in (local, "")
                   and urlsplit(u).scheme not in ("data", "blob")]
        assert foreign == [], f"{scheme}: requests to other hosts: {foreign}"
        assert any(u.endswith("/assets/mermaid/mermaid.min.js") for u in found["requests"])
        assert found["errors"] == [], f"{scheme}: {found['errors']}"
        assert found["raw"] == 0, f"{scheme}: the diagram's source is shown as text"
        # Drawn at a readable size: the wide flowchart across the column, the tall one tall.
        assert found["box"]["width"] > 600 or found["box"]["height"] > 300, found["box"]
        assert found["label"].startswith(("One training iteration. The images are shaped",
                                          "Model A. 28 rows of 28 pixels go through"))
    # The diagram follows the palette: dark on the dark page, light on the light one.
    assert seen["light"]["luminance"] > 0.6 and seen["dark"]["luminance"] < 0.4, \
        (seen["light"]["luminance"], seen["dark"]["luminance"])
