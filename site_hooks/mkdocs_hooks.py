"""MkDocs hooks of the course site (``hooks:`` in mkdocs.yml).

They add to the files MkDocs builds, with no file written into ``docs/``:

* the lesson notebooks (``notebooks/*.ipynb``) and the student exercise notebooks
  (``notebooks/exercises/student/*.ipynb``) as pages, checked and made static by
  :mod:`site_hooks.notebooks`; mkdocs-jupyter renders their stored outputs and never runs
  them. Each page gets its original ``.ipynb`` beside it, to download;
* the diagrams drawn by :mod:`site_hooks.diagrams`, as ``assets/diagrams/*.svg``;
* MathJax from its installed package (:mod:`site_hooks.mathjax`), as ``assets/mathjax/``.

A notebook whose stored outputs hold an error, or a lesson notebook that was never run,
stops the build with a message naming the notebook, the cell and the command that fixes it.
"""

from __future__ import annotations

import html
import shutil
import sys
import tempfile
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import CombinedEvent, event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # MkDocs loads this file by path, not as part of a package
    sys.path.insert(0, str(ROOT))

from site_hooks import diagrams, mathjax, notebooks  # noqa: E402

DIAGRAM_DIR = "assets/diagrams"

_build: dict = {}  # per build: the staging folder and the notebooks it holds


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


@event_priority(100)  # before mkdocs-jupyter's on_files, which turns .ipynb files into pages
def _add_pages_and_assets(files: Files, config) -> Files:
    """Add the notebook pages, the diagrams and MathJax to the build."""
    _cleanup()
    staging = Path(tempfile.mkdtemp(prefix="lstm-course-site-"))
    _build["staging"] = staging
    try:
        course = notebooks.find_notebooks(ROOT)
        for notebook in course:
            notebooks.prepare(notebook, staging)
            # A File with a real src_dir (not File.generated): mkdocs-jupyter's page wrapper
            # finds the source through src_dir.
            files.append(File(notebook.src_uri, src_dir=str(staging),
                              dest_dir=config.site_dir,
                              use_directory_urls=config.use_directory_urls))
        rendered = diagrams.render_all()
        site_mathjax = mathjax.site_files()
    except (notebooks.NotebookCheckError, mathjax.MathJaxMissingError) as error:
        _cleanup()
        raise PluginError(str(error)) from error
    _build["notebooks"] = {n.src_uri: n for n in course}
    for name, svg in rendered.items():
        files.append(File.generated(config, f"{DIAGRAM_DIR}/{name}", content=svg))
    for uri, path in site_mathjax.items():
        files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files


@event_priority(-100)  # after mkdocs-jupyter: these copies must stay plain downloads
def _add_downloads(files: Files, config) -> Files:
    """Add each notebook's original .ipynb beside its page (see :func:`download_uri`)."""
    for src_uri, notebook in _build.get("notebooks", {}).items():
        files.append(File.generated(config, download_uri(src_uri),
                                    abs_src_path=str(notebook.path)))
    return files


on_files = CombinedEvent(_add_pages_and_assets, _add_downloads)


def on_page_content(content: str, page, config, files: Files) -> str:
    """Put a download link and JupyterLab instructions under a notebook page's title."""
    notebook = _build.get("notebooks", {}).get(page.file.src_uri)
    if notebook is None:
        return content
    download = files.get_file_from_path(download_uri(notebook.src_uri))
    href = download.url_relative_to(page.file)
    name = html.escape(notebook.path.name)
    link = f'<a href="{html.escape(href)}" download>Download {name}</a>'
    open_it = (f"<code>.venv/bin/jupyter lab {html.escape(notebook.src_uri)}</code>")
    if notebook.lesson:
        text = (f"{link} (the notebook with the outputs shown on this page), or open it from "
                f"your copy of the course: after <code>make course</code>, run {open_it}, "
                "then choose <em>Run &rsaquo; Restart Kernel and Run All Cells</em>. The "
                "<code>.py</code> file of the same name is this notebook as a script; "
                "jupytext keeps the pair in sync.")
    else:
        text = (f"{link} (the exercise, to be filled in and run), or open it from your copy "
                f"of the course: after <code>make install</code>, run {open_it}, work "
                "through its tasks and run its cells top to bottom.")
    box = ('<div class="admonition tip notebook-download">'
           '<p class="admonition-title">Run this notebook yourself</p>'
           f"<p>{text}</p></div>")
    head, found, rest = content.partition("</h1>")
    return head + found + box + rest if found else box + content


def on_post_build(config) -> None:
    _cleanup()


def on_build_error(error) -> None:
    _cleanup()


def on_serve(server, config, builder):
    """`mkdocs serve` also rebuilds when a notebook or these hooks change."""
    server.watch(str(ROOT / "notebooks"))
    server.watch(str(ROOT / "site_hooks"))
    return server
