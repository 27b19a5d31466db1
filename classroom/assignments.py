"""nbgrader's source notebooks, written from the exercise sources, and what nbgrader makes
of them.

    python -m classroom.assignments                 # every exercise: source/ + release/
    python -m classroom.assignments ex3_input_shapes
    python -m classroom.assignments --source-only   # source/ only, for nbgrader's own commands

Each instructor notebook ``notebooks/exercises/exN_name.py`` becomes the nbgrader assignment
``exN_name`` with one notebook, ``source/exN_name/exN_name.ipynb`` in the course folder set by
``nbgrader_config.py``; then ``nbgrader generate_assignment`` writes its ``release/``. The
cells get nbgrader's metadata from what they hold (the markers are in classroom/markers.py):

* a code cell with a solution block is an answer cell (nbgrader: "autograded answer");
* a code cell that calls ``.require()`` on a check is an autograded test cell worth
  ``POINTS_PER_CHECK`` point, locked. It holds check calls only: the grader
  (classroom/grading/) calls them, and the exercise's grader-only ``hidden_check_*`` after
  them, in a process of its own; hidden tests live there, not in the notebook;
* every other cell, text or code (imports, data, demonstrations), is read-only.

The notebook metadata is what JupyterLab writes: the kernelspec, and the ``language_info``
of the executed instructor ``.ipynb``. Cell ids are fixed (``cell-<index>``) and nothing
depends on time, so the same sources always give the same files.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import jupytext
import nbformat
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from .grading.plan import PlanError, build_plan
from .markers import (
    ANY_MARKER,
    SolutionMarkerError,
    hidden_test_blocks,
    strip_solutions,
)

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "notebooks" / "exercises"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
POINTS_PER_CHECK = 1
TEST_CELL = re.compile(r"\.require\(")
CHECK_CALL = re.compile(r"\bchecks\.(check_\w+)\(")
EXERCISE_NAME = re.compile(r"ex(\d+)_\w+")
NBVAL_TAG = "nbval-ignore-output"  # student copies run under nbval without output compare
# nbval's own comment markers (# NBVAL_IGNORE_OUTPUT, ...): a cell that has one keeps it as
# its only marker, since nbval warns when a comment and a tag both speak for a cell.
NBVAL_COMMENT = re.compile(r"^\s*#\s*NBVAL_\w+", re.MULTILINE)


def exercise_sources(folder: Path = EXERCISES) -> list[Path]:
    """The instructor notebooks ``exN_name.py`` in course order (ex2 before ex10)."""
    found = [path for path in folder.glob("*.py") if EXERCISE_NAME.fullmatch(path.stem)]
    return sorted(found, key=lambda path: int(EXERCISE_NAME.fullmatch(path.stem)[1]))


def _nbgrader(grade_id: str, *, solution=False, grade=False, locked=False, points=None) -> dict:
    metadata = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
                "solution": solution, "task": False}
    if grade:
        metadata["points"] = points
    return metadata


def _answer_name(source: str, index: int) -> str:
    """A readable grade id for an answer cell: what it defines (``answer-count_parameters``)."""
    try:
        tree = ast.parse(strip_solutions(source)[0])
    except (SyntaxError, SolutionMarkerError):
        tree = ast.Module(body=[], type_ignores=[])
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            return f"answer-{node.name}"
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            return f"answer-{node.targets[0].id}"
    return f"answer-{index}"


def language_info(source: Path) -> dict:
    """The ``language_info`` of the executed instructor notebook beside ``source``.

    Raises:
        FileNotFoundError: the ``.ipynb`` is missing or was never executed.
    """
    executed = source.with_suffix(".ipynb")
    info = {}
    if executed.exists():
        info = nbformat.read(executed, as_version=4).metadata.get("language_info", {})
    if "version" not in info:
        raise FileNotFoundError(
            f"{executed} is missing or was never executed, so its language_info is unknown: "
            f"run `.venv/bin/python scripts/run_course.py {source}` first")
    return dict(info)


def source_notebook(source: Path) -> nbformat.NotebookNode:
    """nbgrader's source version of one instructor notebook, read from its ``.py``.

    Raises:
        SolutionMarkerError: a malformed block, hidden tests in the notebook, a check called
            without ``.require()``, a check cell holding anything but check calls, a check
            argument no locked cell makes, two cells with the same grade id, or no solution
            block at all.
        FileNotFoundError: the instructor ``.ipynb`` was never executed (see language_info).
    """
    instructor = jupytext.read(source)
    cells, answers, checks, grade_ids = [], 0, 0, set()
    for index, cell in enumerate(instructor.cells):
        where = f"{source.name}, cell {index + 1}"
        cell_id = f"cell-{index}"  # fixed ids: the same source always gives the same file
        if cell.cell_type != "code":
            if ANY_MARKER.search(cell.source) or hidden_test_blocks(cell.source, where):
                raise SolutionMarkerError(f"{where}: markers work in code cells only")
            new = (nbformat.v4.new_markdown_cell if cell.cell_type == "markdown"
                   else nbformat.v4.new_raw_cell)(cell.source)
            new.metadata = {"nbgrader": _nbgrader(cell_id, locked=True)}
        else:
            _, blocks = strip_solutions(cell.source, where)
            hidden = hidden_test_blocks(cell.source, where)
            is_test = bool(TEST_CELL.search(cell.source))
            called = CHECK_CALL.findall(cell.source)
            if blocks and (is_test or hidden):
                raise SolutionMarkerError(f"{where}: a cell is either an answer (solution "
                                          f"block) or a check (.require()), not both")
            if hidden:
                raise SolutionMarkerError(
                    f"{where}: hidden tests are not written in the notebook: put them in "
                    f"classroom/grading/hidden-checks/{source.stem}.py as hidden_check_NAME, "
                    f"which the grader calls after checks.check_NAME with the same "
                    f"arguments (docs/exercises/index.md, 'Adding an exercise')")
            if called and not is_test:
                raise SolutionMarkerError(f"{where}: checks.{called[0]}(...) is called without "
                                          f".require(), so nbgrader could not grade it; write "
                                          f"checks.{called[0]}(...).require()")
            if blocks:
                answers += 1
                metadata = _nbgrader(_answer_name(cell.source, answers), solution=True)
            elif is_test:
                checks += 1
                metadata = _nbgrader(called[0] if called else f"check-{checks}", grade=True,
                                     locked=True, points=POINTS_PER_CHECK)
            else:
                metadata = _nbgrader(cell_id, locked=True)
            cell_metadata = {"nbgrader": metadata}
            if not NBVAL_COMMENT.search(cell.source):
                cell_metadata["tags"] = [NBVAL_TAG]
            new = nbformat.v4.new_code_cell(cell.source, metadata=cell_metadata)
        if new.metadata["nbgrader"]["grade_id"] in grade_ids:
            raise SolutionMarkerError(f"{where}: grade id {new.metadata['nbgrader']['grade_id']!r}"
                                      f" is used twice; nbgrader needs one per cell")
        grade_ids.add(new.metadata["nbgrader"]["grade_id"])
        new.id = cell_id
        cells.append(new)
    if answers == 0:
        raise SolutionMarkerError(f"{source.name}: no ### BEGIN SOLUTION block; an exercise "
                                  f"notebook needs at least one")
    if checks == 0:
        raise SolutionMarkerError(f"{source.name}: no check cell (checks.check_...(...)"
                                  f".require()); nbgrader would have nothing to grade")
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": language_info(source)}
    nbformat.validate(notebook)
    try:
        build_plan(notebook, source.name)  # the grader can run it: refused now, not at grading
    except PlanError as error:
        raise SolutionMarkerError(str(error)) from error
    return notebook


def write_sources(course_root: Path, sources: list[Path]) -> list[Path]:
    """Write ``source/<id>/<id>.ipynb`` under ``course_root`` for each exercise source."""
    written = []
    for source in sources:
        path = course_root / "source" / source.stem / f"{source.stem}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = nbformat.writes(source_notebook(source)) + "\n"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def venv_environment() -> dict[str, str]:
    """This environment with the virtual environment's bin/ first on PATH: nbgrader runs
    the ``alembic`` command when it creates a gradebook, and finds it there."""
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")])}


def nbgrader_config(**overrides) -> Config:
    """The course's nbgrader_config.py, loaded as nbgrader loads it, plus ``overrides``
    (``{"CourseDirectory": {"root": ...}}``)."""
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    config.merge(Config(overrides))
    return config


def released_notebooks(sources: list[Path]) -> dict[str, nbformat.NotebookNode]:
    """What ``nbgrader generate_assignment`` releases for each source, without a gradebook:
    the student version (solutions replaced by placeholders, hidden tests removed, cells
    locked and checksummed by nbgrader). Runs nbgrader in this process, in a scratch course.
    """
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory

    with tempfile.TemporaryDirectory(prefix="lstm-course-release-") as scratch:
        root = Path(scratch)
        write_sources(root, sources)
        config = nbgrader_config(
            CourseDirectory={"root": str(root), "assignment_id": "*"},
            GenerateAssignment={"no_database": True}, SaveCells={"enabled": False},
            Application={"log_level": "WARN"})
        converter = GenerateAssignment(coursedir=CourseDirectory(config=config), config=config)
        converter.start()
        return {source.stem: nbformat.read(root / "release" / source.stem
                                           / f"{source.stem}.ipynb", as_version=4)
                for source in sources}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description="Write nbgrader's source/ from notebooks/exercises/*.py, then run "
                    "`nbgrader generate_assignment` for each exercise.")
    parser.add_argument("exercises", nargs="*", help="exercise names (default: all), e.g. "
                                                     "ex1_parameter_count")
    parser.add_argument("--source-only", action="store_true",
                        help="write source/ and stop (no nbgrader generate_assignment)")
    args = parser.parse_args(argv)
    sources = exercise_sources()
    known = {source.stem: source for source in sources}
    unknown = [name for name in args.exercises if name not in known]
    if unknown:
        print(f"error: no exercise called {', '.join(unknown)}; the exercises are "
              f"{', '.join(known)}", file=sys.stderr)
        return 2
    chosen = [known[name] for name in args.exercises] or sources
    config = nbgrader_config()
    course_root = Path(config.CourseDirectory.root)
    try:
        for path in write_sources(course_root, chosen):
            print(f"nbgrader source: {path}")
    except (SolutionMarkerError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.source_only:
        return 0
    # nbgrader's own command, run from the repository root so that it reads the course's
    # nbgrader_config.py; "*" releases every assignment in one run.
    ids = [source.stem for source in chosen] if args.exercises else ["*"]
    for assignment in ids:
        command = ["nbgrader", "generate_assignment", "--force", assignment]
        print("$", " ".join(command), flush=True)
        done = subprocess.run(command, cwd=ROOT, env=venv_environment(), check=False)
        if done.returncode:
            return done.returncode
    print(f"released: {course_root / 'release'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
