"""MathJax for the site, taken at build time from an installed Python package.

The package is ``django-static-mathjax`` (pinned in requirements.txt): a plain copy of the
MathJax 3 release files, importable as ``mathjax`` (Django is not needed to use them). The
site serves MathJax's SVG output build (``tex-svg.js``), which draws every formula as SVG
paths, so no web font is fetched either. The folders beside it hold the components that
MathJax loads on demand (TeX extensions, accessibility, the context menu).
"""

from __future__ import annotations

import importlib.util
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "django-static-mathjax"
ENTRY = "tex-svg.js"
# Components tex-svg.js may load lazily, relative to its own URL.
COMPONENT_DIRS = ("a11y", "adaptors", "input", "output", "sre", "ui")
SITE_DIR = "assets/mathjax"  # where the files land in the built site


class MathJaxMissingError(RuntimeError):
    """The MathJax package is not installed; the message says how to install it."""


def mathjax_root() -> Path:
    """The folder of the installed MathJax ``es5`` build (holding ``tex-svg.js``).

    Raises:
        MathJaxMissingError: the package is not installed, or lacks ``tex-svg.js``.
    """
    spec = importlib.util.find_spec("mathjax")
    if spec is None or spec.origin is None:
        raise MathJaxMissingError(
            f"MathJax is not installed: run `.venv/bin/pip install -r requirements.txt` "
            f"(it pins {DISTRIBUTION}), or `make install`.")
    root = Path(spec.origin).parent / "static" / "mathjax" / "es5"
    if not (root / ENTRY).is_file():
        raise MathJaxMissingError(f"{root / ENTRY} is missing: the installed 'mathjax' "
                                  f"module is not {DISTRIBUTION}; reinstall it.")
    return root


def version() -> str:
    """The installed package version, e.g. ``3.2.2.1`` (MathJax 3.2.2)."""
    return metadata.version(DISTRIBUTION)


def site_files() -> dict[str, Path]:
    """``{path in the built site: installed file}`` for everything the site serves.

    Holds ``assets/mathjax/tex-svg.js``, the lazily loaded components, and MathJax's
    licence as ``assets/mathjax/LICENSE``.
    """
    root = mathjax_root()
    files = {f"{SITE_DIR}/{ENTRY}": root / ENTRY}
    for folder in COMPONENT_DIRS:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file():
                files[f"{SITE_DIR}/{path.relative_to(root).as_posix()}"] = path
    licence = root.parent / "LICENSE"
    if licence.is_file():
        files[f"{SITE_DIR}/LICENSE"] = licence
    return files
