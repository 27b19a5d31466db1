"""MkDocs hooks of the course site (``hooks:`` in mkdocs.yml).

They add to the files MkDocs builds, with no file written into ``docs/``:

* the lesson notebooks (``notebooks/*.ipynb``) and the student exercise notebooks
  (``notebooks/exercises/student/*.ipynb``) as pages, checked and made static by
  :mod:`site_hooks.notebooks`; mkdocs-jupyter renders their stored outputs and never runs
  them. Each page gets its original ``.ipynb`` beside it, to download, and links that open
  it in Colab and on Binder (:mod:`site_hooks.launch`, from CITATION.cff and the version);
* the diagrams drawn by :mod:`site_hooks.diagrams`, as ``assets/diagrams/*.svg``;
* MathJax from its installed package (:mod:`site_hooks.mathjax`), as ``assets/mathjax/``,
  loaded only by the pages that hold a formula;
* Mermaid from its npm package (:mod:`site_hooks.mermaid`), as ``assets/mermaid/``, loaded
  only by the pages that hold a diagram (a ```mermaid block, in Markdown or in a notebook).

They also make the rendered pages lighter and cleaner (:mod:`site_hooks.pages`): the CSS and
scripts every notebook page carried inline are served once, as files; figures become image
files; tables scroll inside their own box; search skips code copies, prompts and TeX; the
tables of contents list the headings the pages really have. A notebook page whose stored
run printed its device (``device: ...``) says so under its title. ``repo_url``, ``site_url``
and the Citation page's BibTeX come from ``CITATION.cff`` (:mod:`site_hooks.citation`).

A notebook whose stored outputs hold an error, or a lesson notebook that was never run,
stops the build with a message naming the notebook, the cell and the command that fixes it.
So does, once every page is built, anything that would load from another host (a remote
image, a notebook output that pulls its library from a CDN: :mod:`site_hooks.offline`) and
a diagram without a text alternative, each named with its page.
"""

from __future__ import annotations

import html
import re
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
from mkdocs import utils
from mkdocs.exceptions import PluginError
from mkdocs.plugins import CombinedEvent, event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.toc import get_toc

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # MkDocs loads this file by path, not as part of a package
    sys.path.insert(0, str(ROOT))

from site_hooks import (  # noqa: E402
    citation,
    diagrams,
    launch,
    mathjax,
    mermaid,
    notebooks,
    offline,
    pages,
)

DIAGRAM_DIR = "assets/diagrams"
NOTEBOOK_ASSETS = {"css": "assets/stylesheets", "js": "assets/javascripts"}
MATHJAX_SCRIPTS = ("javascripts/mathjax-config.js", f"{mathjax.SITE_DIR}/{mathjax.ENTRY}")
TOC_DEPTH = 3

_build: dict = {}  # per build: the staging folder, the notebooks, what pages left behind


def _cleanup() -> None:
    staging = _build.pop("staging", None)
    if staging is not None:
        shutil.rmtree(staging, ignore_errors=True)
    _build.clear()


def download_uri(src_uri: str) -> str:
    """Where a notebook's own ``.ipynb`` is served: in its page's folder.

    ``notebooks/01_model_a.ipynb`` -> ``notebooks/01_model_a/01_model_a.ipynb``.
    """
    folder, _, name = src_uri.rpartition("/")
    stem = name[: -len(".ipynb")]
    return f"{folder}/{stem}/{name}" if folder else f"{stem}/{name}"


def dark_notebook_css() -> str:
    """mkdocs-jupyter's dark notebook colours, applied when the reader picks the dark
    palette (Material's ``slate`` scheme) instead of fixed at build time."""
    import mkdocs_jupyter

    path = (Path(mkdocs_jupyter.__file__).parent / "templates" / "mkdocs_html" / "assets" /
            "theme-dark.css")
    return path.read_text(encoding="utf-8").replace(
        ".jupyter-wrapper{", '[data-md-color-scheme="slate"] .jupyter-wrapper{')


def on_config(config):
    """repo_url and site_url from CITATION.cff, unless mkdocs.yml sets them; ```mermaid
    blocks in Markdown become diagrams (pymdownx.superfences' custom fence)."""
    try:
        repo_url, site_url = citation.site_urls(citation.load())
    except citation.CitationError as error:
        raise PluginError(str(error)) from error
    if not config.get("repo_url"):
        config["repo_url"] = repo_url
        config["repo_name"] = repo_url.rstrip("/").split("github.com/")[-1]
    if not config.get("site_url"):
        config["site_url"] = site_url
    fences = config.mdx_configs.setdefault("pymdownx.superfences", {}).setdefault(
        "custom_fences", [])
    if not any(fence.get("name") == "mermaid" for fence in fences):
        fences.append(mermaid.superfences_fence())
    return config


@event_priority(100)  # before mkdocs-jupyter's on_files, which turns .ipynb files into pages
def _add_pages_and_assets(files: Files, config) -> Files:
    """Add the notebook pages, the diagrams and MathJax to the build."""
    _cleanup()
    staging = Path(tempfile.mkdtemp(prefix="lstm-course-site-"))
    _build["staging"] = staging
    _build.update(assets={}, figures={}, math_pages=set(), notebook_pages={},
                  diagram_pages=set(), remote={}, refused={})
    try:
        course = notebooks.find_notebooks(ROOT)
        devices = {}
        for notebook in course:
            notebooks.prepare(notebook, staging)
            devices[notebook.src_uri] = notebooks.stored_device(
                nbformat.read(notebook.path, as_version=4))
            # A File with a real src_dir (not File.generated): mkdocs-jupyter's page wrapper
            # finds the source through src_dir.
            files.append(File(notebook.src_uri, src_dir=str(staging),
                              dest_dir=config.site_dir,
                              use_directory_urls=config.use_directory_urls))
        repository, _ = citation.site_urls(citation.load())
        version = launch.course_version()
        _build["launch"] = {n.src_uri: launch.launch_links(n.src_uri, repository, version)
                            for n in course}
        rendered = diagrams.render_all()
        site_mathjax = mathjax.site_files()
    except (notebooks.NotebookCheckError, mathjax.MathJaxMissingError, launch.LaunchError,
            citation.CitationError) as error:
        _cleanup()
        raise PluginError(str(error)) from error
    _build["notebooks"] = {n.src_uri: n for n in course}
    _build["devices"] = devices
    for name, svg in rendered.items():
        files.append(File.generated(config, f"{DIAGRAM_DIR}/{name}", content=svg))
    for uri, path in site_mathjax.items():
        files.append(File.generated(config, uri, abs_src_path=str(path)))
    if mermaid.installed():  # else a page with a diagram is refused, saying how to install
        for uri, path in mermaid.site_files().items():
            files.append(File.generated(config, uri, abs_src_path=str(path)))
    _check_own_assets(files, config)
    return files


def _check_own_assets(files: Files, config) -> None:
    """The stylesheets and scripts of docs/ must not load from another host either."""
    docs = Path(config.docs_dir)
    for file in files:
        if file.abs_src_path and Path(file.abs_src_path).is_relative_to(docs) and \
                file.src_uri.endswith((".css", ".js")):
            text = Path(file.abs_src_path).read_text(encoding="utf-8")
            found = (offline.remote_urls_in_css(text) if file.src_uri.endswith(".css")
                     else offline.remote_urls_in_script(text))
            if found:
                _build["remote"][f"{docs.name}/{file.src_uri}"] = found


def _page_name(page, config) -> str:
    """How messages name a page: ``notebooks/01_model_a.ipynb`` or ``docs/index.md``."""
    if page.file.src_uri in _build.get("notebooks", {}):
        return page.file.src_uri
    return f"{Path(config.docs_dir).name}/{page.file.src_uri}"


@event_priority(-100)  # after mkdocs-jupyter: these copies must stay plain downloads
def _add_downloads(files: Files, config) -> Files:
    """Add each notebook's original .ipynb beside its page (see :func:`download_uri`)."""
    for src_uri, notebook in _build.get("notebooks", {}).items():
        files.append(File.generated(config, download_uri(src_uri),
                                    abs_src_path=str(notebook.path)))
    return files


on_files = CombinedEvent(_add_pages_and_assets, _add_downloads)


def on_page_markdown(markdown: str, page, config, files: Files) -> str:
    """The Citation page's BibTeX, written from CITATION.cff."""
    if citation.PLACEHOLDER.search(markdown):
        return citation.fill_placeholders(markdown, citation.load())
    return markdown


def _intro_boxes(notebook, page, files: Files) -> str:
    """The "run this notebook yourself" box (Colab, Binder, Download, make lab), and where
    the stored run was made."""
    download = files.get_file_from_path(download_uri(notebook.src_uri))
    href = download.url_relative_to(page.file)
    name = html.escape(notebook.path.name)
    links = _build["launch"][notebook.src_uri]
    opened = html.escape(links.path.rpartition("/")[2])
    cloud = (f'<a href="{html.escape(links.colab)}">Open in Colab</a> · '
             f'<a href="{html.escape(links.binder)}">Launch Binder</a> (JupyterLab in the '
             f"browser, with <code>{opened}</code> open) · "
             f'<a href="{html.escape(href)}" download>Download {name}</a>')
    # make lab serves notebooks/: the notebook's path as JupyterLab's file browser shows it.
    in_lab = html.escape(notebook.src_uri.removeprefix("notebooks/"))
    open_it = f"run <code>make lab</code> and open <code>{in_lab}</code>"
    if notebook.lesson:
        text = (f"{cloud} (the notebook with the outputs shown on this page). Its first cell "
                "installs the course's package wherever it runs. In your copy of the course, "
                f"{open_it}, then choose <em>Run &rsaquo; Restart Kernel and Run All "
                "Cells</em>. The <code>.py</code> file of the same name is this notebook as a "
                "script; jupytext keeps the pair in sync.")
    else:
        text = (f"{cloud} (the exercise, to be filled in and run; its first cell installs the "
                f"course's package wherever it runs). In your copy of the course, {open_it}, "
                "work through its tasks and run its cells top to bottom.")
    boxes = ('<div class="admonition tip notebook-download">'
             '<p class="admonition-title">Run this notebook yourself</p>'
             f"<p>{text}</p></div>")
    device = _build.get("devices", {}).get(notebook.src_uri)
    if device:
        boxes += pages.stored_run_note(device)
    return boxes


@event_priority(50)  # before mkdocs-glightbox, so that it links the figure files
def on_page_content(content: str, page, config, files: Files) -> str:
    """Clean a notebook page (see :mod:`site_hooks.pages`), mark math for MathJax and away
    from search, and leave the lightbox off pages without an image."""
    notebook = _build.get("notebooks", {}).get(page.file.src_uri)
    if notebook is not None:
        cleaned = pages.clean_notebook_html(content, notebook.path.stem)
        # Its scripts and styles leave the page for files: checked here, the rest below.
        found = [f"<script> {url}" for js in cleaned.js
                 for url in offline.remote_urls_in_script(js)]
        found += [f"<style> {url}" for css in cleaned.css
                  for url in offline.remote_urls_in_css(css)]
        if found:
            _build["remote"].setdefault(_page_name(page, config), []).extend(found)
        refs = {}
        for kind, texts in (("css", cleaned.css + [dark_notebook_css()]), ("js", cleaned.js)):
            if texts:
                uri = f"{NOTEBOOK_ASSETS[kind]}/{pages.asset_name(kind, texts)}"
                _build["assets"][uri] = "\n".join(texts)
                refs[kind] = uri
        _build["notebook_pages"][page.file.src_uri] = refs
        folder = Path(page.file.dest_uri).parent.as_posix()
        for name, data in cleaned.figures.items():
            _build["figures"][f"{folder}/{name}"] = data
        content = cleaned.html
        head, found, rest = content.partition("</h1>")
        boxes = _intro_boxes(notebook, page, files)
        content = head + found + boxes + rest if found else boxes + content
        page.toc = get_toc(pages.toc_tokens(content, TOC_DEPTH))
    else:
        content = pages.clean_markdown_html(content)
    if pages.has_math(content):
        _build["math_pages"].add(page.file.src_uri)
    content, drawn, problems = mermaid.prepare(content)
    if drawn:
        _build["diagram_pages"].add(page.file.src_uri)
        if not mermaid.installed():
            problems.append(f"it holds a diagram, but Mermaid is not installed: run "
                            f"{mermaid.INSTALL}")
    if problems:
        _build["refused"].setdefault(_page_name(page, config), []).extend(problems)
    if "<img" not in content:
        page.meta["glightbox"] = False  # no lightbox script on a page without images
    return content


def _link(uri: str, page) -> str:
    return html.escape(utils.get_relative_url(uri, page.url))


def on_post_page(output: str, page, config) -> str:
    """Link the notebook CSS and scripts, MathJax where the page holds math and Mermaid
    where it holds a diagram; note what the page would load from other hosts."""
    refs = _build.get("notebook_pages", {}).get(page.file.src_uri, {})
    if "css" in refs:
        tag = f'<link rel="stylesheet" href="{_link(refs["css"], page)}">'
        # before the course's own stylesheet (extra_css), which adjusts it
        course_css = re.search(r'<link rel="stylesheet" href="[^"]*stylesheets/course\.css"',
                               output)
        at = course_css.start() if course_css else output.index("</head>")
        output = output[:at] + tag + "\n" + output[at:]
    scripts = []
    if "js" in refs:
        scripts.append(refs["js"])
    if page.file.src_uri in _build.get("math_pages", set()):
        scripts += MATHJAX_SCRIPTS
    if scripts:
        tags = "".join(f'<script src="{_link(uri, page)}"></script>' for uri in scripts)
        at = output.rindex("</body>")
        output = output[:at] + tags + "\n" + output[at:]
    if page.file.src_uri in _build.get("diagram_pages", set()):
        # Before Material's bundle, which fetches Mermaid from unpkg.com unless it is defined.
        bundle = re.search(r'<script src="[^"]*assets/javascripts/bundle\.[^"]*"', output)
        at = bundle.start() if bundle else output.rindex("</body>")
        output = output[:at] + mermaid.script_tag(_link(mermaid.SCRIPT, page)) + output[at:]
    found = offline.remote_loads(output)
    if found:
        _build["remote"].setdefault(_page_name(page, config), []).extend(found)
    return output


def on_post_build(config) -> None:
    """Refuse the build if a page would load from another host or has a diagram without a
    text alternative (all named at once); else write the notebook CSS and scripts (once
    each) and the figures of the notebooks."""
    messages = []
    if _build.get("remote"):
        messages.append(offline.refusal(_build["remote"]))
    for name, problems in _build.get("refused", {}).items():
        messages += [f"{name}: {problem}" for problem in problems]
    if messages:
        _cleanup()
        raise PluginError("\n".join(messages))
    site = Path(config.site_dir)
    for uri, text in _build.get("assets", {}).items():
        target = site / uri
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    for uri, data in _build.get("figures", {}).items():
        target = site / uri
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    _cleanup()


def on_build_error(error) -> None:
    _cleanup()


def on_serve(server, config, builder):
    """`mkdocs serve` also rebuilds when a notebook, CITATION.cff or these hooks change
    (not site_hooks/node_modules: thousands of files that change only with the lock)."""
    server.watch(str(ROOT / "notebooks"))
    server.watch(str(ROOT / "site_hooks"), recursive=False)
    server.watch(str(ROOT / "site_hooks" / "theme"))
    server.watch(str(citation.CFF))
    return server
