"""Write the set-up cell and the launch line into every lesson and exercise notebook.

    python scripts/notebook_setup.py           # rewrite the .py sources, then sync each pair
    python scripts/notebook_setup.py --check   # write nothing; exit 1 when one is out of date

Every lesson (``notebooks/*.py``) and exercise (``notebooks/exercises/exN_*.py``) gets:

* as its first code cell, the set-up cell of ``lstm_course_setup.setup_cell`` for the
  course's version and CITATION.cff's repository: in the course's environment it does
  nothing; anywhere else it installs the package (see lstm_course_setup.py);
* right under the title of its first markdown cell, the launch line: Open in Colab and
  Launch Binder (links from site_hooks/launch.py: an exercise opens its student copy),
  what to expect there (the CPU time of a longer lesson, Colab's GPU runtime for the GPU
  lesson, Binder's idle shutdown) and how to keep one's work. The site shows the same links
  in its own box, and takes this line off its pages.

The README's lesson table takes its Colab and Binder links from a block of link
definitions at its end, written here too. All are replaced wherever they already are, so a
new version or a new address is one run away: change ``__version__`` or CITATION.cff, run
this, then ``make student`` (the student copies are generated from the exercises) and
re-execute the notebooks (``make course``).
Only the ``.py`` sources are edited here; ``jupytext --sync`` carries the change into each
paired ``.ipynb`` and keeps its stored outputs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import lstm_course_setup  # noqa: E402 (after the sys.path line)
from classroom.assignments import exercise_sources  # noqa: E402
from site_hooks import citation, launch  # noqa: E402

NOTEBOOKS = ROOT / "notebooks"
CELL = "# %%"
MARKDOWN_CELL = "# %% [markdown]"
#: Minutes a lesson takes on a 2-core CPU (Colab's free runtime has two), from the stored
#: run of the whole course (docs/laptop.md); lessons under a minute are not listed.
CPU_MINUTES = {"02_model_b": 2, "03_model_c": 3, "04_gpu": 3, "05_rnn_vs_lstm": 7,
               "06_deep_learning_notes": 4, "07_lstm_memory": 2,
               "08_beyond_the_tutorial": 5}
#: Lessons that ask Colab for a GPU runtime (their .py header carries Colab's metadata).
GPU_LESSONS = {"04_gpu"}


def sources() -> list[Path]:
    """The notebook sources that get the cell: the lessons, then the exercises (in course
    order: ex2 before ex10)."""
    return sorted(NOTEBOOKS.glob("*.py")) + exercise_sources()


def _cells(text: str) -> list[list[str]]:
    """The percent-format text as cells (lines), a header before the first ``# %%`` kept as
    a cell of its own."""
    cells: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.startswith(CELL) and cells[-1]:
            cells.append([])
        cells[-1].append(line)
    return cells


def _strip_blank_tail(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def launch_line(path: Path, links: launch.Launch) -> list[str]:
    """The launch line's Markdown, between its markers (one comment line each)."""
    opens = f"`{Path(links.path).name}`"
    if path.parent.name == "exercises":
        expect = "It opens the exercise without its solutions."
    elif path.stem in GPU_LESSONS:
        expect = ("Colab opens it on a GPU runtime (free, when one is available: "
                  "*Runtime › Change runtime type*); on a CPU it runs in about "
                  f"{CPU_MINUTES[path.stem]} minutes.")
    elif path.stem in CPU_MINUTES:
        expect = (f"It runs in about {CPU_MINUTES[path.stem]} minutes on a 2-core CPU, as "
                  f"Colab's free runtime and Binder give.")
    else:
        expect = "It runs in about a minute on a CPU."
    return [
        launch.BLOCK_START,
        f"**Run it in the cloud:** [Open in Colab]({links.colab}) · "
        f"[Launch Binder]({links.binder}) (JupyterLab, with {opens} open). Run the first code "
        f"cell first: there it installs the course's package. {expect} Binder shuts a "
        "session down after 10 minutes without activity and keeps nothing: download your "
        "notebook (*File › Download*) to keep your work; in Colab, *File › Save a copy in "
        "Drive*.",
        launch.BLOCK_END,
    ]


def with_setup(text: str, path: Path, setup_cell: str, links: launch.Launch) -> str:
    """``text`` (a percent-format source) with the launch line and the set-up cell in
    place, replacing earlier ones.

    Raises:
        ValueError: the notebook has no markdown cell with a ``#`` title, or no code cell.
    """
    cells = _cells(text)
    cells = [cell for cell in cells
             if not (cell[0] == CELL and len(cell) > 1
                     and cell[1].startswith(lstm_course_setup.FIRST_LINE))]
    title = next((cell for cell in cells if cell[0] == MARKDOWN_CELL), None)
    if title is None or len(title) < 2 or not title[1].startswith("# # "):
        raise ValueError(f"{path}: the first markdown cell must start with a # title")
    rest = title[2:]
    if rest[:1] == ["#"]:
        rest = rest[1:]
    if rest[:1] == [f"# {launch.BLOCK_START}"]:  # the line written last time: replace it
        rest = rest[rest.index(f"# {launch.BLOCK_END}") + 1:]
        rest = rest[1:] if rest[:1] == ["#"] else rest
    title[2:] = ["#", *(f"# {line}" for line in launch_line(path, links)),
                 *(["#", *rest] if rest else [])]
    first_code = next((i for i, cell in enumerate(cells) if cell[0] == CELL), None)
    if first_code is None:
        raise ValueError(f"{path}: no code cell to put the set-up cell before")
    cells.insert(first_code, [CELL, *setup_cell.splitlines(), "", ""])
    cells = [_strip_blank_tail(cell) + [""] for cell in cells]
    cells[-1] = _strip_blank_tail(cells[-1])
    return "\n".join(line for cell in cells for line in cell) + "\n"


README = ROOT / "README.md"


def readme_links(repository: str, site: str, version: str) -> list[str]:
    """The README's links, as Markdown reference definitions between the markers:
    ``[colab-01_model_a]``, ``[binder-01_model_a]`` for each lesson and exercise,
    ``[binder-course]`` for JupyterLab on the whole course, ``[site]`` for the site."""
    lines = [launch.BLOCK_START, f"[site]: {site}"]
    for path in sources():
        links = launch.launch_links(path.relative_to(ROOT).as_posix(), repository, version)
        lines += [f"[colab-{path.stem}]: {links.colab}", f"[binder-{path.stem}]: {links.binder}"]
    lines += [f"[binder-course]: {launch.course_binder(repository, version)}",
              launch.BLOCK_END]
    return lines


def expected_readme(text: str) -> str:
    """The README with its launch links block rewritten (appended when missing)."""
    repository, site = citation.site_urls(citation.load())
    block = "\n".join(readme_links(repository, site, launch.course_version())) + "\n"
    kept = launch.strip_block(text).rstrip("\n")
    return f"{kept}\n\n{block}"


def expected_text(path: Path) -> str:
    """What ``path`` should hold, for the course's version and CITATION.cff's address."""
    repository, _ = citation.site_urls(citation.load())
    version = launch.course_version()
    src_uri = path.resolve().relative_to(ROOT).as_posix()
    return with_setup(path.read_text(encoding="utf-8"), path,
                      lstm_course_setup.setup_cell(version, repository),
                      launch.launch_links(src_uri, repository, version))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a notebook's set-up cell or launch "
                             "line is out of date")
    args = parser.parse_args(argv)
    stale = [path for path in sources()
             if path.read_text(encoding="utf-8") != expected_text(path)]
    readme = README.read_text(encoding="utf-8")
    if readme != expected_readme(readme):
        stale.append(README)
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)}: set-up cell or launch links out of date",
                  file=sys.stderr)
        if stale:
            print("run `python scripts/notebook_setup.py`, then `make student`",
                  file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        if path == README:
            README.write_text(expected_readme(readme), encoding="utf-8")
            print(path.relative_to(ROOT))
            continue
        path.write_text(expected_text(path), encoding="utf-8")
        subprocess.run([sys.executable, "-m", "jupytext", "--quiet", "--sync", str(path)],
                       check=True)
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
