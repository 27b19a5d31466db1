"""Where a notebook opens outside the course: Colab, Binder, and the ref they both name.

Every launch link is built here from two facts kept in one place each: the repository's
address (``repository-code`` in ``CITATION.cff``, read by :mod:`site_hooks.citation`) and
the course's version (``__version__`` in ``lstm_helpers/__init__.py``, read without
importing the package). The ref is the release tag ``v<version>``; the release steps
(docs/developers.md) create it, so links and the notebooks' set-up cells name a tag that
exists once the release is pushed. The links of a student exercise open its student copy
(``notebooks/exercises/student/``), never the solution.

Used by the site's notebook pages (:mod:`site_hooks.mkdocs_hooks`) and by the tool that
writes the notebooks' set-up cell and launch line (``scripts/notebook_setup.py``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
VERSION_FILE = ROOT / "lstm_helpers" / "__init__.py"
GITHUB = re.compile(r"^https://github\.com/(?P<owner>[\w.-]+)/(?P<name>[\w.-]+?)(?:\.git)?/?$")
COLAB = "https://colab.research.google.com/github"
BINDER = "https://mybinder.org/v2/gh"


class LaunchError(ValueError):
    """The repository address cannot make launch links (Colab and Binder need GitHub)."""


def course_version(path: Path = VERSION_FILE) -> str:
    """``lstm_helpers.__version__``, read from the source without importing torch."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets):
            return ast.literal_eval(node.value)
    raise LaunchError(f"{path} assigns no __version__")


def release_ref(version: str) -> str:
    """The git tag of a release: ``v1.2.3`` for ``1.2.3``."""
    return f"v{version}"


def launched_path(src_uri: str) -> str:
    """The repository path a launch link opens for the notebook ``src_uri``.

    A lesson opens itself; an exercise, wherever it is named from (its instructor ``.py``
    or ``.ipynb``, or its student copy), opens its student copy.
    ``notebooks/exercises/ex1_parameter_count.py`` ->
    ``notebooks/exercises/student/ex1_parameter_count.ipynb``.
    """
    path = Path(src_uri)
    if path.parent.name == "exercises":
        path = path.parent / "student" / path.name
    return path.with_suffix(".ipynb").as_posix()


@dataclass(frozen=True)
class Launch:
    """The launch links of one notebook.

    Attributes:
        path: the ``.ipynb`` the links open, relative to the repository root.
        ref: the git ref they name (``v<version>``).
        colab: Open in Colab (Colab reads the notebook from GitHub at ``ref``).
        binder: Launch Binder: JupyterLab on the repository at ``ref``, with ``path`` open.
    """

    path: str
    ref: str
    colab: str
    binder: str


def launch_links(src_uri: str, repository: str, version: str) -> Launch:
    """The Colab and Binder links of the notebook ``src_uri`` (see :func:`launched_path`).

    Raises:
        LaunchError: ``repository`` is not a ``https://github.com/OWNER/NAME`` address.
    """
    found = GITHUB.match(repository)
    if not found:
        raise LaunchError(
            f"repository-code in CITATION.cff is {repository!r}: Colab and Binder open "
            f"notebooks from GitHub, so it must read https://github.com/OWNER/NAME")
    slug, ref, path = f"{found['owner']}/{found['name']}", release_ref(version), \
        launched_path(src_uri)
    return Launch(
        path=path, ref=ref,
        colab=f"{COLAB}/{slug}/blob/{ref}/{path}",
        binder=f"{BINDER}/{slug}/{ref}?urlpath={quote(f'lab/tree/{path}', safe='')}")


def course_binder(repository: str, version: str) -> str:
    """Launch Binder on the whole course: JupyterLab's file browser on ``notebooks/``."""
    found = launch_links("notebooks/01_model_a.ipynb", repository, version)
    return found.binder.split("?", 1)[0] + "?urlpath=" + quote("lab/tree/notebooks", safe="")


#: The launch line the notebooks carry under their title (scripts/notebook_setup.py writes
#: it); the site shows the same links in its own box and takes the line off its pages.
BLOCK_START = "<!-- launch links: written by scripts/notebook_setup.py -->"
BLOCK_END = "<!-- end of launch links -->"
_BLOCK = re.compile(re.escape(BLOCK_START) + r".*?" + re.escape(BLOCK_END) + r"\n*", re.DOTALL)


def strip_block(markdown: str) -> str:
    """``markdown`` without its launch line (the markers and what lies between them)."""
    return _BLOCK.sub("", markdown)
