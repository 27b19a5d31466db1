"""The course notebooks as the site shows them: found, checked, and made static.

The site renders the outputs stored in ``notebooks/**/*.ipynb`` by ``make course``; it never
executes a notebook. Before a notebook becomes a page it is checked:

* no stored output may be an error (a cell that raised when the notebook was run), and
* every code cell of a lesson notebook (``notebooks/*.ipynb``) must have been executed.

The site shows the lessons and the students' exercise notebooks
(``notebooks/exercises/student/*.ipynb``), which are meant to be run by the student and may
hold no outputs. The exercises' worked solutions stay off the site.

Then :func:`static_copy` removes what only a live kernel can show: Jupyter widget views
(a progress bar, say) and the widget state saved beside them. On a static page they would
need a widget manager script from a third-party host and still show nothing useful.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import nbformat

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class NotebookCheckError(ValueError):
    """A stored notebook cannot become a page; the message says which cell and what to do."""


@dataclass(frozen=True)
class CourseNotebook:
    """One notebook of the course.

    Attributes:
        path: absolute path of the ``.ipynb`` file.
        src_uri: its path relative to the repository root, with ``/`` (e.g.
            ``notebooks/01_model_a.ipynb``); the page is built from it as if it lay there
            inside ``docs/``.
        lesson: True for a lesson notebook directly in ``notebooks/``, which must hold the
            outputs of a full run; False for a student exercise notebook.
    """

    path: Path
    src_uri: str
    lesson: bool


LESSONS = "notebooks/*.ipynb"
STUDENT_EXERCISES = "notebooks/exercises/student/*.ipynb"


def find_notebooks(root: Path) -> list[CourseNotebook]:
    """The notebooks the site shows: the lessons, then the student exercise notebooks.

    Each group is sorted by file name.

    Raises:
        NotebookCheckError: ``root/notebooks`` does not exist (not a course checkout).
    """
    root = Path(root)
    if not (root / "notebooks").is_dir():
        raise NotebookCheckError(f"no notebooks folder at {root / 'notebooks'}; run mkdocs "
                                 "from the repository root (where mkdocs.yml is)")
    found = []
    for pattern, lesson in ((LESSONS, True), (STUDENT_EXERCISES, False)):
        for path in sorted(root.glob(pattern)):
            found.append(CourseNotebook(path=path.resolve(),
                                        src_uri=path.relative_to(root).as_posix(),
                                        lesson=lesson))
    return found


def check_stored_outputs(notebook: nbformat.NotebookNode, name: str, *,
                         require_executed: bool) -> None:
    """Refuse a notebook whose stored outputs hold an error or that was never run.

    Args:
        notebook: the notebook as read by ``nbformat.read(..., as_version=4)``.
        name: how to name it in the message (its path in the repository).
        require_executed: also refuse code cells that have no execution count.

    Raises:
        NotebookCheckError: naming the first offending cell (numbered from 1 among all
            cells) and the command that fixes it.
    """
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                raise NotebookCheckError(
                    f"{name}, cell {number}: the stored output is an error "
                    f"({output.get('ename', '?')}: {output.get('evalue', '')}). Fix the "
                    f"code, then store fresh outputs with "
                    f"`.venv/bin/python scripts/run_course.py {name}`.")
        if require_executed and cell.source.strip() and cell.get("execution_count") is None:
            raise NotebookCheckError(
                f"{name}, cell {number} was never executed, so the page would show no "
                f"output. Store the outputs of a full run with "
                f"`.venv/bin/python scripts/run_course.py {name}` (or `make course`).")


def static_copy(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy without widget views and widget state; every other output is kept as is."""
    clean = copy.deepcopy(notebook)
    clean.metadata.pop("widgets", None)
    for cell in clean.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", [])
                            if WIDGET_VIEW not in o.get("data", {})]
    return clean


def prepare(course_notebook: CourseNotebook, out_dir: Path) -> Path:
    """Check one notebook and write its static copy to ``out_dir/<src_uri>``.

    Returns the path written. Raises :class:`NotebookCheckError` as
    :func:`check_stored_outputs` does, or when the file is not a valid notebook.
    """
    try:
        notebook = nbformat.read(course_notebook.path, as_version=4)
    except Exception as error:  # nbformat raises several kinds for a broken file
        raise NotebookCheckError(f"{course_notebook.src_uri} is not a readable notebook: "
                                 f"{error}") from error
    check_stored_outputs(notebook, course_notebook.src_uri,
                         require_executed=course_notebook.lesson)
    target = Path(out_dir) / course_notebook.src_uri
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(static_copy(notebook), target)
    return target
