"""Every launch link (Open in Colab, Launch Binder) in the README and in every notebook
points at a path that exists in this repository at the ref it names (the site's pages:
tests/test_site.py, with the same checker).

The links name the release tag ``v<version>`` (site_hooks/launch.py). Between releases the
tag does not exist yet: a link's path is then looked up at ``HEAD``, the commit the release
steps will tag (docs/developers.md), and the test says so. A file not yet committed fails:
a link to it would not resolve once pushed.
"""

from __future__ import annotations

import functools
import re
import subprocess
import warnings
from pathlib import Path
from urllib.parse import unquote

import pytest

from site_hooks import citation

REPO = Path(__file__).resolve().parents[1]
LINK = re.compile(
    r"https://colab\.research\.google\.com/github/(?P<colab_slug>[\w.-]+/[\w.-]+)/blob/"
    r"(?P<colab_ref>[^/\s)\"']+)/(?P<colab_path>[^\s)\"'#?]+)"
    r"|https://mybinder\.org/v2/gh/(?P<binder_slug>[\w.-]+/[\w.-]+)/(?P<binder_ref>[^/?\s)\"']+)"
    r"\?urlpath=(?P<binder_path>[^\s)\"'&]+)")


def launch_links(text: str) -> list[tuple[str, str, str, str]]:
    """``(kind, owner/name, ref, repository path)`` of each Colab or Binder link in
    ``text``; Binder's path is the one JupyterLab opens (``lab/tree/<path>``)."""
    found = []
    for match in LINK.finditer(text):
        if match["colab_slug"]:
            found.append(("colab", match["colab_slug"], match["colab_ref"], match["colab_path"]))
        else:
            path = unquote(match["binder_path"]).removeprefix("lab/tree/")
            found.append(("binder", match["binder_slug"], match["binder_ref"], path))
    return found


@functools.cache  # one warning per ref
def resolve(ref: str) -> str:
    """The commit ``ref`` names here: the tag when it exists, else HEAD (the release steps
    tag HEAD), with a warning that says so."""
    tag = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"refs/tags/{ref}"],
                         cwd=REPO, capture_output=True, text=True)
    if tag.returncode == 0:
        return tag.stdout.strip()
    warnings.warn(f"the tag {ref} does not exist yet: launch links checked at HEAD, the "
                  f"commit a release would tag", stacklevel=2)
    return "HEAD"


def exists_at(rev: str, path: str) -> bool:
    return subprocess.run(["git", "cat-file", "-e", f"{rev}:{path}"], cwd=REPO,
                          capture_output=True).returncode == 0


def broken_links(text: str) -> list[str]:
    """What is wrong with the launch links of ``text`` (empty when each one resolves)."""
    repository, _ = citation.site_urls(citation.load())
    slug = repository.rstrip("/").split("github.com/")[-1]
    problems = []
    for kind, linked_slug, ref, path in launch_links(text):
        rev = resolve(ref)
        if linked_slug != slug:
            problems.append(f"{kind} link to {linked_slug}, not CITATION.cff's {slug}")
        if not exists_at(rev, path.rstrip("/")):
            problems.append(f"{kind} link to {path} at {ref}: no such path there")
        if kind == "binder" and not exists_at(rev, "binder/postBuild"):
            problems.append(f"binder link at {ref}: no binder/ configuration there")
    return problems


NOTEBOOKS = sorted(p for p in (REPO / "notebooks").rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)


@pytest.mark.parametrize("path", [REPO / "README.md", *NOTEBOOKS],
                         ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_launch_link_resolves_to_a_file_of_this_repository(path):
    text = path.read_text(encoding="utf-8")
    links = launch_links(text)
    assert {kind for kind, *_ in links} == {"colab", "binder"}, path.name
    assert not broken_links(text)


def test_the_checker_finds_a_link_to_a_missing_file():
    repository, _ = citation.site_urls(citation.load())
    slug = repository.split("github.com/")[-1]
    text = (f"https://colab.research.google.com/github/{slug}/blob/v0.0.0/notebooks/nope.ipynb"
            f" https://mybinder.org/v2/gh/someone/else/v0.0.0?urlpath=lab%2Ftree%2FREADME.md")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        problems = broken_links(text)
    assert problems == [
        "colab link to notebooks/nope.ipynb at v0.0.0: no such path there",
        f"binder link to someone/else, not CITATION.cff's {slug}"]
