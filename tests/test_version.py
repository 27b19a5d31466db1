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
