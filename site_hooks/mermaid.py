"""Mermaid diagrams on the site, drawn by a copy of Mermaid the site serves itself.

A writer draws a diagram in a fenced block whose language is ``mermaid``, in a ``docs/*.md``
page or in a notebook's Markdown cell (or a cell may display ``text/vnd.mermaid``)::

    ```mermaid
    flowchart LR
      accTitle: The seven steps
      accDescr: Load the data, make it iterable, ..., train the model.
      load[Load MNIST] --> iterate[Make it iterable] --> model[Model class]
    ```

Both become a ``<pre class="mermaid">`` holding the source (pymdownx.superfences' custom
fence for the Markdown pages, configured by :func:`superfences_fence`; nbconvert for
notebooks). Material for MkDocs draws every such block with the global ``mermaid`` when the
page defines it, in the light or dark palette the reader picks (its CSS variables); if none
is defined it fetches ``mermaid.min.js`` from unpkg.com, a host the site never calls. So
the hooks load the site's own copy, and only on the pages that hold a diagram:

* :func:`site_files`: ``mermaid.min.js`` (the self-contained build of the npm package
  ``mermaid``, pinned with its lock file in ``site_hooks/package.json``, installed by
  ``make site`` with ``npm ci --prefix site_hooks``) and its licence, as
  ``assets/mermaid/``;
* :func:`prepare`: every diagram needs a text alternative, written in its source as
  Mermaid's accessibility lines, ``accTitle:`` (required) and ``accDescr:`` (optional,
  one line or ``accDescr { ... }``). Mermaid puts them in the drawn SVG; the hooks also put
  them on a ``<figure role="img" aria-label="...">`` around the block, which is what screen
  readers and the tests find (Material draws into a closed shadow root). The source itself
  stays out of the search index.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from bs4 import BeautifulSoup

PACKAGE_DIR = Path(__file__).resolve().parent  # package.json, package-lock.json, node_modules
DIST = PACKAGE_DIR / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
SITE_DIR = "assets/mermaid"
SCRIPT = f"{SITE_DIR}/mermaid.min.js"
INSTALL = "`make site` (it runs `npm ci --prefix site_hooks`)"

_TITLE = re.compile(r"^\s*accTitle\s*:\s*(?P<text>.+?)\s*$", re.MULTILINE)
_DESCRIPTION = re.compile(r"^\s*accDescr\s*(?::\s*(?P<line>.+?)\s*$|\{(?P<block>.*?)\})",
                          re.MULTILINE | re.DOTALL)


class MermaidMissingError(RuntimeError):
    """The npm package is not installed; the message says how to install it."""


def installed() -> bool:
    """Whether ``npm ci --prefix site_hooks`` installed Mermaid's files."""
    return DIST.is_file()


def site_files() -> dict[str, Path]:
    """``{path in the built site: installed file}``: the script and Mermaid's licence.

    Raises:
        MermaidMissingError: the npm package is not installed.
    """
    if not installed():
        raise MermaidMissingError(f"Mermaid is not installed ({DIST} is missing): run "
                                  f"{INSTALL}; it needs npm.")
    return {SCRIPT: DIST, f"{SITE_DIR}/LICENSE": DIST.parents[1] / "LICENSE"}


def superfences_fence() -> dict:
    """pymdownx.superfences' custom fence for ```mermaid blocks: the source in a
    ``<pre class="mermaid">``, which Material draws."""
    from pymdownx.superfences import fence_code_format

    return {"name": "mermaid", "class": "mermaid", "format": fence_code_format}


def text_alternative(source: str) -> str | None:
    """``accTitle`` and ``accDescr`` of a diagram's source, as one text; None without a
    title."""
    title = _TITLE.search(source)
    if title is None:
        return None
    description = _DESCRIPTION.search(source)
    text = title["text"].rstrip(".")
    if description is not None:
        text += ". " + " ".join((description["line"] or description["block"]).split())
    return text


def prepare(content: str) -> tuple[str, int, list[str]]:
    """Give every diagram of a page's content its text alternative.

    Returns:
        (content, diagrams, problems): the new content (unchanged without a diagram), the
        number of ``<pre class="mermaid">`` blocks, and one line per block that has no
        ``accTitle`` (quoting the start of its source).
    """
    if "mermaid" not in content:
        return content, 0, []
    soup = BeautifulSoup(content, "html.parser")
    blocks = soup.select("pre.mermaid")
    problems = []
    for block in blocks:
        source = block.get_text()
        alternative = text_alternative(source)
        if alternative is None:
            start = " ".join(source.split())[:60]
            problems.append(f"the diagram starting {start!r} has no text alternative: add "
                            "an `accTitle: what it shows` line to its source (and "
                            "`accDescr: ...` for more)")
            continue
        figure = soup.new_tag("figure", attrs={"class": "diagram", "role": "img",
                                               "aria-label": alternative})
        block["data-search-exclude"] = ""
        block.wrap(figure)
    return (str(soup) if blocks else content), len(blocks), problems


def script_tag(src: str) -> str:
    """The ``<script>`` that loads the site's Mermaid, for ``src`` relative to the page."""
    return f'<script src="{html.escape(src)}"></script>'
