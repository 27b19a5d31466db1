"""The site loads nothing from another host: what in a page would, found at build time.

The course site must work offline (a classroom without internet, a copy on a laptop) and
tell no third party who reads it. What it needs it serves itself: MathJax
(:mod:`site_hooks.mathjax`), Mermaid (:mod:`site_hooks.mermaid`), the notebook styles and
figures (:mod:`site_hooks.pages`), system fonts. What a writer adds could still pull from
elsewhere by itself, as soon as the page opens, without a click:

* a remote image in Markdown (``![](https://...)``), an ``<iframe>``, a video;
* a notebook output that loads its library from a CDN: plotly, Altair/vega, bokeh, Jupyter
  widgets, nbconvert's own scripts;
* a stylesheet or font from another host, in a page, a ``<style>`` or ``docs/*.css``;
* a script in a page or in ``docs/*.js`` that imports or fetches from an absolute URL;
* the theme configured to use Google Fonts or an analytics service.

:func:`remote_loads` finds them in a page's HTML (every element and attribute that makes a
browser fetch, inline CSS, and absolute URLs written as strings in inline scripts);
:func:`remote_urls_in_css` and :func:`remote_urls_in_script` read stylesheets and scripts.
The hooks refuse the build with one message naming every page and what it would load
(:func:`refusal`). Links (``<a href>``) are fine: the reader chooses to follow them.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

# "https://host/...", "http://...", "//host/..." (protocol-relative), also ws(s) and ftp.
_REMOTE = re.compile(r"^\s*(?:(?:https?|wss?|ftp):)?//", re.IGNORECASE)
# CSS: url(...) and @import "..."
_CSS_URL = re.compile(r"""url\(\s*(['"]?)(?P<url>[^'")]*)\1\s*\)"""
                      r"""|@import\s+(['"])(?P<import>[^'"]*)\3""", re.IGNORECASE)
# A quoted absolute URL in a script: what an import, a fetch or a script loader would use.
_SCRIPT_URL = re.compile(r"""(['"`])(?P<url>(?:(?:https?|wss?):)?//[^'"`\s]+)\1""", re.IGNORECASE)
# XML namespaces are names, never fetched (document.createElementNS(SVG_NS, ...)).
NAMESPACES = ("http://www.w3.org/2000/svg", "http://www.w3.org/1999/xhtml",
              "http://www.w3.org/1999/xlink", "http://www.w3.org/1998/Math/MathML",
              "http://www.w3.org/XML/1998/namespace", "http://www.w3.org/2000/xmlns/")

# Attributes that make the browser fetch by itself, per element (HTML and SVG).
FETCHING = {
    "img": ("src", "srcset"), "source": ("src", "srcset"), "script": ("src",),
    "iframe": ("src",), "frame": ("src",), "embed": ("src",), "object": ("data",),
    "audio": ("src",), "video": ("src", "poster"), "track": ("src",), "input": ("src",),
    "image": ("href", "xlink:href"), "use": ("href", "xlink:href"),
    "feimage": ("href", "xlink:href"),
}
# <link rel=...> values that only name a page (canonical address, next page, licence).
LINK_NAMES = {"canonical", "alternate", "prev", "next", "author", "license", "help",
              "bookmark", "me", "search"}

ADVICE = ("The site serves every file it shows itself and loads nothing from other hosts. "
          "Save an image or other file beside the page and link it by a relative path; for a "
          "notebook output that needs a library from a CDN (plotly, Altair/vega, bokeh, "
          "widgets), store a static figure instead (matplotlib, or the library's PNG or SVG "
          "export); keep `font: false` and no analytics in mkdocs.yml.")


def is_remote(url: str | None) -> bool:
    """True for an absolute URL of another host (``https://``, ``//host``), not for a
    relative path, ``#anchor``, ``data:`` or ``blob:``."""
    return bool(url) and bool(_REMOTE.match(url))


def remote_urls_in_css(css: str) -> list[str]:
    """The absolute URLs a stylesheet loads (``url(...)``, ``@import``)."""
    urls = [m["url"] if m["url"] is not None else m["import"] for m in _CSS_URL.finditer(css)]
    return [url for url in urls if is_remote(url)]


def remote_urls_in_script(script: str) -> list[str]:
    """The absolute URLs a script holds as strings (XML namespace names left out)."""
    return [m["url"] for m in _SCRIPT_URL.finditer(script)
            if m["url"].rstrip("/") not in {ns.rstrip("/") for ns in NAMESPACES}]


def _srcset_urls(value: str) -> list[str]:
    return [candidate.split()[0] for candidate in value.split(",") if candidate.strip()]


def remote_loads(html: str) -> list[str]:
    """What in ``html`` would make a browser fetch from another host, one short line each
    (``<img src="https://...">``, ``<style> url(https://...)``, ...); empty when nothing."""
    soup = BeautifulSoup(html, "html.parser")
    found = []
    for element in soup.find_all(True):
        tag = element.name.lower()
        attributes = FETCHING.get(tag, ())
        if tag == "link" and not LINK_NAMES & set(element.get("rel", [])):
            attributes = ("href",)
        for attribute in attributes:
            value = element.get(attribute)
            urls = _srcset_urls(value) if attribute == "srcset" and value else [value]
            found += [f'<{tag} {attribute}="{url}">' for url in urls if is_remote(url)]
        for attribute in ("style", "background"):
            value = element.get(attribute)
            if value:
                urls = remote_urls_in_css(value) if attribute == "style" else (
                    [value] if is_remote(value) else [])
                found += [f'<{tag} {attribute}="... {url} ...">' for url in urls]
        text = "".join(element.find_all(string=True, recursive=False))
        if tag == "style":
            found += [f"<style> {url}" for url in remote_urls_in_css(text)]
        elif tag == "script" and not element.get("src"):
            found += [f"<script> {url}" for url in remote_urls_in_script(text)]
    return found


def refusal(pages: dict[str, list[str]]) -> str:
    """The build's error message: every page (or file) and what it would load."""
    lines = [f"{len(pages)} page(s) or file(s) would load content from other hosts:"]
    for name, found in pages.items():
        shown = found[:5] + ([f"... and {len(found) - 5} more"] if len(found) > 5 else [])
        lines.append(f"  {name}: " + "; ".join(shown))
    lines.append(ADVICE)
    return "\n".join(lines)

