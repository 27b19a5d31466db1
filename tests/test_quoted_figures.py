"""Quoted figures stay true: every accuracy and percentage in README.md and docs/**/*.md is
a stored notebook output (or a results file) it names, or a published figure with its
source, as listed in tests/quoted_figures.yml.

A figure is a number followed by ``%`` in the prose, or a list of them sharing one
(``96.05 / 95.24 / 91.22 %``), or a range (``5-8%``); code (fenced blocks and inline
``code``) is not prose: it shows commands and printed text, not claims. A figure matches a
stored number when the number, rounded to the figure's digits, equals it (``11%`` matches
``11.35``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
REGISTRY = yaml.safe_load((REPO / "tests" / "quoted_figures.yml").read_text(encoding="utf-8"))
PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
NUMBER = r"\d+(?:\.\d+)?"
FIGURE = re.compile(rf"(?<![\w.])({NUMBER}(?:\s*/\s*{NUMBER})*)\s?%|(?<![\w.])({NUMBER}-{NUMBER})%")


def prose(markdown: str) -> str:
    """``markdown`` without fenced code blocks and inline code."""
    markdown = re.sub(r"(?ms)^```.*?^```", "", markdown)
    return re.sub(r"`[^`\n]*`", "", markdown)


def quoted_figures(markdown: str) -> list[str]:
    """Each figure of the prose: ``"95.51%"``, ``"5-8%"``; a list gives one per number."""
    found = []
    for match in FIGURE.finditer(prose(markdown)):
        if match[2]:
            found.append(f"{match[2]}%")
        else:
            found += [f"{number.strip()}%" for number in match[1].split("/")]
    return found


def matches(figure: str, numbers: list[str]) -> bool:
    """Whether ``figure`` (``"11%"``) equals one of ``numbers`` to the digits it shows."""
    value = figure.removesuffix("%")
    digits = len(value.partition(".")[2])
    return any(f"{float(number):.{digits}f}" == value for number in numbers)


def notebook_numbers(name: str) -> list[str]:
    """Every number printed in the stored outputs of ``notebooks/<name>.ipynb``."""
    notebook = json.loads((REPO / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))
    texts = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            texts.append("".join(output.get("text", "")))
            for kind in ("text/plain", "text/markdown", "text/html"):
                texts.append("".join(output.get("data", {}).get(kind, "")))
    return re.findall(NUMBER, "\n".join(texts))


def listed() -> dict[str, list[str]]:
    """``{figure: [where it is listed]}`` over the whole registry."""
    where: dict[str, list[str]] = {}
    for group in ("notebooks", "files"):
        for source, figures in REGISTRY[group].items():
            for figure in figures:
                where.setdefault(figure, []).append(f"{group}: {source}")
    for figure in REGISTRY["published"]:
        where.setdefault(figure, []).append("published")
    return where


def test_the_figure_finder_reads_lists_ranges_and_skips_code():
    text = ("Model C 88.80% and 96.05 / 95.24 / 91.22 % there, 5-8% above; `100%|###|`\n"
            "```\nprinted 12.5%\n```\n")
    assert quoted_figures(text) == ["88.80%", "96.05%", "95.24%", "91.22%", "5-8%"]
    assert matches("11%", ["11.35"]) and not matches("11.2%", ["11.35", "12"])


def test_the_old_readme_figure_for_adam_is_not_a_stored_output():
    # The README once said "Model C with Adam 98.51%"; the stored run of 06 shows 96.36%.
    numbers = notebook_numbers("06_deep_learning_notes")
    assert matches("96.36%", numbers) and not matches("98.51%", numbers)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_quoted_figure_is_listed(page):
    known = listed()
    unknown = [figure for figure in quoted_figures(page.read_text(encoding="utf-8"))
               if figure not in known]
    assert not unknown, (f"{page.relative_to(REPO)} quotes {unknown}: add each to "
                         f"tests/quoted_figures.yml with the notebook, file or published "
                         f"source it comes from (or correct it)")


@pytest.mark.parametrize("name", sorted(REGISTRY["notebooks"]))
def test_a_notebook_figure_is_a_stored_output_of_that_notebook(name):
    numbers = notebook_numbers(name)
    wrong = [f for f in REGISTRY["notebooks"][name] if not matches(f, numbers)]
    assert not wrong, f"notebooks/{name}.ipynb's stored outputs show no {wrong}"


@pytest.mark.parametrize("path", sorted(REGISTRY["files"]))
def test_a_file_figure_is_in_that_file(path):
    numbers = re.findall(NUMBER, (REPO / path).read_text(encoding="utf-8"))
    wrong = [f for f in REGISTRY["files"][path] if not matches(f, numbers)]
    assert not wrong, f"{path} holds no {wrong}"


def test_published_figures_name_their_source_and_every_listed_figure_is_quoted():
    assert all(isinstance(source, str) and len(source) > 20
               for source in REGISTRY["published"].values())
    quoted = {figure for page in PAGES for figure in quoted_figures(
        page.read_text(encoding="utf-8"))}
    assert set(listed()) - quoted == set(), "listed in tests/quoted_figures.yml, quoted nowhere"
