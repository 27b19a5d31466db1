"""The HTML of the site's pages, made lighter and cleaner after it is rendered.

mkdocs-jupyter (0.26) renders a notebook as one block of HTML that carries, on every
notebook page, about 600 KB of inline CSS (JupyterLab's stylesheet), inline scripts, a
MathJax 2 configuration, a Mermaid loader that imports from a CDN, and every figure as a
base64 ``data:`` URI. It offers no option to serve these once. :func:`clean_notebook_html`
takes that block apart:

* inline ``<style>`` and ``<script>`` blocks are returned, to be served once as files by
  the hooks (identical on every page, so the browser caches them);
* the MathJax 2 configuration and nbconvert's Mermaid loader (an import from a CDN) are
  dropped: the site runs its own MathJax 3 and its own Mermaid (:mod:`site_hooks.mermaid`);
  a script that loads a file (``src``) stays where it is, for the hooks to judge
  (:mod:`site_hooks.offline` refuses one from another host);
* figures become files beside the page (and lazy-loaded ``<img>`` elements);
* the notebook's ``$...$`` math is wrapped like pymdownx.arithmatex wraps Markdown math, so
  MathJax finds it, and search can leave it out;
* what search must not index is marked ``data-search-exclude`` (Material's search plugin
  skips such elements): the hidden copies of the code for the copy button, the "Copied!"
  notice, prompts and the TeX source of formulas.

:func:`toc_tokens` lists the headings a page really has, for a table of contents whose
links all land (mkdocs-jupyter builds its own from a Markdown export, whose anchors differ
from the page's when a heading holds code).
"""

from __future__ import annotations

import base64
import hashlib
import html as html_text
import re
from dataclasses import dataclass, field

from bs4 import BeautifulSoup, Comment, NavigableString

SEARCH_EXCLUDE = "data-search-exclude"
# Elements that must not reach the search index: the code copies behind the copy buttons
# (with the "Copied!" notice), prompts, and typeset formulas (their TeX source).
NOT_SEARCHED = (".zeroclipboard-container", ".clipboard-copy-txt", ".jp-InputPrompt",
                ".jp-OutputPrompt", ".arithmatex")
# $$...$$ first, then $...$ (not "$ 5" or "5 $": TeX math starts and ends next to a symbol).
_MATH = re.compile(r"\$\$(?P<display>.+?)\$\$|(?<![\\$])\$(?P<inline>[^\s$](?:[^$]*?[^\s\\$])?)\$",
                   re.DOTALL)
_DATA_URI = re.compile(r"data:image/(?P<type>png|jpeg|gif|svg\+xml);base64,(?P<data>.+)",
                       re.DOTALL)
_EXTENSIONS = {"png": "png", "jpeg": "jpg", "gif": "gif", "svg+xml": "svg"}


@dataclass
class CleanPage:
    """A notebook page's HTML and what was taken out of it.

    Attributes:
        html: the page content to publish.
        css: the inline stylesheets, in page order (to be served as one file).
        js: the inline classic scripts, in page order (to be served as one file).
        figures: ``{file name: bytes}`` of the figures, to be written beside the page.
    """

    html: str
    css: list[str] = field(default_factory=list)
    js: list[str] = field(default_factory=list)
    figures: dict[str, bytes] = field(default_factory=dict)


def _is_unwanted_script(script) -> bool:
    source = script.get("src", "")
    kind = script.get("type", "text/javascript")
    text = script.string or ""
    return (source.startswith("data:")                   # nbconvert's MathJax 2 placeholder
            or kind == "text/x-mathjax-config"           # MathJax 2 settings
            or (kind == "module" and "mermaid" in text))  # imports Mermaid from a CDN


def _wrap_math(soup: BeautifulSoup) -> int:
    """Wrap $...$ and $$...$$ in the notebook's Markdown cells; return how many."""
    count = 0
    for block in soup.select(".jp-RenderedMarkdown"):
        for text in list(block.find_all(string=True)):
            if isinstance(text, Comment) or text.find_parent(["code", "pre", "script",
                                                              "style"]):
                continue
            pieces, last = [], 0
            for match in _MATH.finditer(text):
                pieces.append(text[last:match.start()])
                span = soup.new_tag("span", attrs={"class": "arithmatex"})
                if match.group("display") is not None:
                    span["class"] = "arithmatex arithmatex-display"
                    span.string = f"\\[{match.group('display')}\\]"
                else:
                    span.string = f"\\({match.group('inline')}\\)"
                pieces.append(span)
                last = match.end()
                count += 1
            if last:
                pieces.append(text[last:])
                for piece in pieces:
                    text.insert_before(piece if not isinstance(piece, str)
                                       else NavigableString(piece))
                text.extract()
    return count


def _extract_figures(soup: BeautifulSoup, stem: str) -> dict[str, bytes]:
    figures = {}
    for number, image in enumerate(soup.find_all("img"), start=1):
        match = _DATA_URI.fullmatch(image.get("src", "").strip())
        if not match:
            continue
        data = base64.b64decode(match.group("data"))
        name = f"{stem}-figure-{number}.{_EXTENSIONS[match.group('type')]}"
        figures[name] = data
        image["src"] = name
        image["loading"] = "lazy"
        image["decoding"] = "async"
    return figures


def clean_notebook_html(html: str, stem: str) -> CleanPage:
    """Take the inline CSS, scripts and figures out of a notebook page (see module doc).

    Args:
        html: the content mkdocs-jupyter rendered for one notebook.
        stem: the start of the figure file names, e.g. ``01_model_a``.
    """
    soup = BeautifulSoup(html, "html.parser")
    page = CleanPage(html="")
    for style in soup.find_all("style"):
        text = style.string or ""
        # mkdocs-jupyter appends the Pygments CSS a second time as the repr of a Python
        # list ("['pre { ...']"): not valid CSS, and the first copy already has the rules.
        if text.strip() and not text.lstrip().startswith("[") and "jp-Mermaid" not in text:
            page.css.append(text)
        style.decompose()
    for script in soup.find_all("script"):
        if _is_unwanted_script(script):
            script.decompose()
        elif not script.get("src"):
            if script.string:
                page.js.append(script.string)
            script.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    _wrap_math(soup)
    page.figures = _extract_figures(soup, stem)
    mark_not_searched(soup)
    page.html = str(soup)
    return page


def mark_not_searched(soup: BeautifulSoup) -> None:
    """Mark every element of :data:`NOT_SEARCHED` with ``data-search-exclude``."""
    for element in soup.select(", ".join(NOT_SEARCHED)):
        element[SEARCH_EXCLUDE] = ""


def clean_markdown_html(html: str) -> str:
    """A Markdown page's content with its formulas (pymdownx.arithmatex's ``<span>`` and
    ``<div class="arithmatex">``) kept out of the search index."""
    return re.sub(r'<(span|div) class="arithmatex"',
                  rf'<\1 class="arithmatex" {SEARCH_EXCLUDE}', html)


def has_math(html: str) -> bool:
    """True if the content holds a formula for MathJax (an ``arithmatex`` element)."""
    return 'class="arithmatex' in html


def heading_text(heading) -> str:
    """A heading's text as a table of contents shows it: no permalink sign, no TeX markup."""
    parts = []
    for text in heading.find_all(string=True):
        if text.find_parent(class_=["anchor-link", "headerlink"]):
            continue
        parts.append(str(text))
    text = "".join(parts).replace("¶", "")
    text = re.sub(r"\\[()\[\]]", "", text)
    return " ".join(text.split())


def toc_tokens(html: str, depth: int = 3) -> list[dict]:
    """Nested table-of-contents tokens (as Python-Markdown's toc makes) from the headings
    with an ``id`` in ``html``, levels 1 to ``depth``."""
    soup = BeautifulSoup(html, "html.parser")
    root: list[dict] = []
    stack: list[dict] = []
    for heading in soup.find_all(re.compile(r"^h[1-6]$")):
        level = int(heading.name[1])
        if level > depth or not heading.get("id"):
            continue
        token = {"level": level, "id": heading["id"], "name": heading_text(heading),
                 "children": []}
        while stack and stack[-1]["level"] >= level:
            stack.pop()
        (stack[-1]["children"] if stack else root).append(token)
        stack.append(token)
    return root


def asset_name(kind: str, texts: list[str]) -> str:
    """A content-addressed file name for joined CSS or JS, e.g. ``notebook.3f2a9c1e.css``."""
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:10]
    return f"notebook.{digest}.{kind}"


def stored_run_note(device: str) -> str:
    """An admonition saying on which device a notebook's stored outputs were computed.

    Args:
        device: what the stored run printed after ``device:``, e.g. ``"cpu (no CUDA or MPS
            GPU found: ...)"`` or ``"cuda (NVIDIA H200, ...)"``.
    """
    kind = device.split()[0]
    if kind == "cpu":
        where = ("on the CPU: no GPU was available to the run that stored them. On a "
                 "machine with a CUDA or MPS GPU the same code runs on the GPU")
    else:
        where = f"on the GPU (<code>{html_text.escape(kind)}</code>)"
    return ('<div class="admonition info stored-run">'
            '<p class="admonition-title">Where these outputs were computed</p>'
            f"<p>The outputs on this page come from a run {where}. The stored run printed "
            f"<code>device: {html_text.escape(device)}</code>.</p></div>")
