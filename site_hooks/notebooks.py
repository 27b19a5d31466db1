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
need a widget manager script from a third-party host and still show nothing useful. It also
takes the test suite's plumbing off the page: cell tags (``nbval-ignore-output`` and the
like, which the page template would print above each cell) and nbval's marker comments
(``# NBVAL_IGNORE_OUTPUT``) in the code.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

import lstm_course_setup
from site_hooks import launch

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# A code line that is only one of nbval's cell markers (nbval matches the whole comment).
NBVAL_MARKER = re.compile(r"^[ \t]*#[ \t]*NBVAL_[A-Z_]+[ \t]*\n?", re.MULTILINE)
# What a lesson prints when it picks its device ("device: cpu (...)"), see notebooks/04_gpu.
DEVICE_LINE = re.compile(r"^device: (?P<device>.+)$", re.MULTILINE)


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

    @property
    def fix_command(self) -> str:
        """The command that stores fresh outputs in this notebook.

        A lesson is executed by ``scripts/run_course.py``; a student exercise notebook is
        generated from its instructor notebook by ``make student``.
        """
        if self.lesson:
            return f"`.venv/bin/python scripts/run_course.py {self.src_uri}`"
        return ("`make student` (it rewrites the student notebooks from "
                "notebooks/exercises/*.py; fix the instructor notebook first)")


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
                         require_executed: bool, fix: str | None = None) -> None:
    """Refuse a notebook whose stored outputs hold an error or that was never run.

    Args:
        notebook: the notebook as read by ``nbformat.read(..., as_version=4)``.
        name: how to name it in the message (its path in the repository).
        require_executed: also refuse code cells that have no execution count.
        fix: the command the message recommends (default: run_course.py on ``name``);
            see :attr:`CourseNotebook.fix_command`.

    Raises:
        NotebookCheckError: naming the first offending cell (numbered from 1 among all
            cells) and the command that fixes it.
    """
    fix = fix or f"`.venv/bin/python scripts/run_course.py {name}`"
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                raise NotebookCheckError(
                    f"{name}, cell {number}: the stored output is an error "
                    f"({output.get('ename', '?')}: {output.get('evalue', '')}). Fix the "
                    f"code, then store fresh outputs with {fix}.")
        if (require_executed and cell.source.strip() and cell.get("execution_count") is None
                and not is_setup_cell(cell)):
            raise NotebookCheckError(
                f"{name}, cell {number} was never executed, so the page would show no "
                f"output. Store the outputs of a full run with {fix} (or `make course`).")


def is_setup_cell(cell) -> bool:
    """Whether ``cell`` is the course's set-up cell (lstm_course_setup.py). It prints
    nothing in the course's environment, so a stored run that predates it (a notebook whose
    cell a new version rewrote, before ``make course``) shows the same page."""
    return cell.cell_type == "code" and cell.source.startswith(lstm_course_setup.FIRST_LINE)


def static_copy(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy for the page: no widget views or widget state, no cell tags, no nbval marker
    lines in the code, no launch line under the title (the page has its own box with the
    same links). Every other output and line is kept as is."""
    clean = copy.deepcopy(notebook)
    clean.metadata.pop("widgets", None)
    for cell in clean.cells:
        cell.metadata.pop("tags", None)
        if cell.cell_type == "markdown":
            cell.source = launch.strip_block(cell.source)
        if cell.cell_type == "code":
            cell.source = NBVAL_MARKER.sub("", cell.source)
            cell.outputs = [o for o in cell.get("outputs", [])
                            if WIDGET_VIEW not in o.get("data", {})]
    return clean


def stored_device(notebook: nbformat.NotebookNode) -> str | None:
    """The device a notebook's stored run used, from its printed ``device: ...`` line.

    E.g. ``"cpu (no CUDA or MPS GPU found: ...)"``; None when no output prints one.
    """
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                match = DEVICE_LINE.search(output.get("text", ""))
                if match:
                    return match.group("device").strip()
    return None


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
                         require_executed=course_notebook.lesson,
                         fix=course_notebook.fix_command)
    target = Path(out_dir) / course_notebook.src_uri
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(static_copy(notebook), target)
    return target
