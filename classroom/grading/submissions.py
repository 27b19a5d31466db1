"""A malformed submission is graded with the others and named, never the end of the run.

What nbgrader does by itself, and what the course's configuration does instead:

* **a graded cell copied** (the same grade id twice, nbgrader #1933, #1941): nbgrader's
  DeduplicateIds empties the metadata of every copy but the last, and the emptied metadata
  then reads as "an old version of the nbgrader metadata format", which aborts the whole run.
  :class:`FirstCopyOfEachCell` keeps the **first** copy graded, turns the others into plain
  cells and names the student;
* **a cell's type changed**, **a locked cell edited**: nbgrader restores them and logs a line
  without the student's name. :class:`HonestOverwriteCells` restores them the same way and
  names the student. An untouched locked cell is recognised as such whether or not the
  source version carries nbgrader's hidden tests (the released cell never has them), so it
  is never reported;
* **a check cell deleted**: put back (nbgrader's ``add_missing_cells``) and scored 0 by the
  grader, the student named (:mod:`.verdicts`);
* **the notebook renamed** (``ex1_parameter_count (1).ipynb``): :func:`find_renamed_notebook`
  grades it when it is the only notebook in the student's folder (a copy under the expected
  name is added next to it), and names the student either way.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from nbformat.notebooknode import NotebookNode
from nbgrader.api import Gradebook
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor, OverwriteCells

from .attention import flag
from .confinement import grader_identity, make_private


def _where(resources) -> str:
    info = resources["nbgrader"]
    return f"student {info['student']}, {info['assignment']}/{info['notebook']}.ipynb"


class FirstCopyOfEachCell(NbGraderPreprocessor):
    """In place of nbgrader's DeduplicateIds: the first copy of a graded, answer or locked
    cell keeps its grade id; a later copy becomes a plain cell, and the student is named."""

    def preprocess(self, nb, resources):
        seen: dict[str, int] = {}
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader")
            if not meta or not (meta.get("grade") or meta.get("solution")
                                or meta.get("locked")):
                continue
            grade_id = meta.get("grade_id")
            seen[grade_id] = seen.get(grade_id, 0) + 1
            if seen[grade_id] > 1:
                del cell.metadata["nbgrader"]
                cell.metadata.pop("editable", None)
                cell.metadata.pop("deletable", None)
        for grade_id, count in seen.items():
            if count > 1:
                flag(self.log, _where(resources),
                     f"the cell {grade_id} appears {count} times: the first copy is graded, "
                     f"the others are ignored")
        return nb, resources


def released_source(source_cell) -> str:
    """The source of ``source_cell`` (from the gradebook) as nbgrader releases it: without
    its hidden tests."""
    cell = NotebookNode({
        "cell_type": source_cell.cell_type, "source": source_cell.source, "metadata": {
            "nbgrader": {"grade": False, "solution": False, "locked": source_cell.locked,
                         "grade_id": source_cell.name}}})
    if source_cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    ClearHiddenTests()._remove_hidden_test_region(cell)
    return cell.source


DELETED = "# Deleted from the submission, put back by the grader: this part scores 0.\n"


class HonestOverwriteCells(OverwriteCells):
    """nbgrader's OverwriteCells, naming the student in every report, quiet about an untouched
    locked cell whose source version carries hidden tests, and putting a deleted check cell
    back (at the end, marked: :mod:`.verdicts` scores it 0). nbgrader's own
    ``add_missing_cells`` fails when the cell before the deleted one is not a graded cell."""

    def preprocess(self, nb, resources):
        self._where = _where(resources)
        nb, resources = super().preprocess(nb, resources)
        with Gradebook(self.db_url) as gradebook:
            notebook = gradebook.find_notebook(self.notebook_id, self.assignment_id)
            present = {cell.metadata.get("nbgrader", {}).get("grade_id") for cell in nb.cells}
            for graded in notebook.grade_cells:
                if graded.name in present:
                    continue
                source = gradebook.find_source_cell(graded.name, self.notebook_id,
                                                    self.assignment_id)
                cell = self.missing_cell_transform(source, graded.max_score)
                cell.source = DELETED + "".join(f"# {line}\n" for line in
                                                source.source.splitlines())
                nb.cells.append(cell)
        return nb, resources

    def report_change(self, name, attr, old, new) -> None:
        what = {"cell_type": f"the cell {name} was turned from {old} into {new}: restored "
                             f"and graded",
                "locked": f"the cell {name} was unlocked: locked again",
                "points": f"the points of the cell {name} were changed from {old} to {new}: "
                          f"restored",
                "checksum": f"the locked cell {name} was edited: the original was put back "
                            f"and graded"}.get(attr, f"{attr} of the cell {name} changed")
        flag(self.log, self._where, what)

    def preprocess_cell(self, cell, resources, cell_index):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is not None and cell.cell_type == "code":
            try:
                source_cell = self.gradebook.find_source_cell(grade_id, self.notebook_id,
                                                              self.assignment_id)
            except Exception:  # noqa: BLE001 (unknown cells: nbgrader's own handling below)
                source_cell = None
            if (source_cell is not None and source_cell.locked
                    and cell.source == released_source(source_cell)):
                cell.source = source_cell.source  # untouched: the source version, quietly
        return super().preprocess_cell(cell, resources, cell_index)


def before_each_submission(assignment: str, student: str, notebooks: list[str]) -> None:
    """nbgrader's ``pre_convert_hook``: the course folder made private (student code runs as
    the grader user, who must not read it), then :func:`find_renamed_notebook`."""
    if notebooks and grader_identity() is not None:
        root = Path(notebooks[0]).parents[3]
        if make_private(root):
            logging.getLogger("nbgrader").warning(
                "the course folder %s was readable by other users: made private (mode 700), "
                "so that student code, run as the grader user, cannot read it", root)
    find_renamed_notebook(assignment, student, notebooks)


def find_renamed_notebook(assignment: str, student: str, notebooks: list[str]) -> None:
    """nbgrader's ``pre_convert_hook``: a submission whose notebook has another name.

    ``notebooks`` is nbgrader's own list of the student's notebook files (changed in place).
    When the assignment's notebook is missing and the student's folder holds exactly one
    notebook, a copy of it is added under the expected name (the original stays) and graded;
    the student is named either way.
    """
    log = logging.getLogger("nbgrader")
    if not notebooks:
        return
    folder = Path(notebooks[0]).parent
    student = folder.parent.name  # nbgrader passes "*" when it grades every student
    root = folder.parents[2]  # <course>/submitted/<student>/<assignment>/<notebook>
    expected = sorted(path.name for path in (root / "source" / assignment).glob("*.ipynb"))
    present = {Path(path).name for path in notebooks}
    missing = [name for name in expected if name not in present]
    strays = sorted(present - set(expected))
    if not missing or not strays:
        return
    where = f"student {student}, {assignment}"
    if len(expected) == 1 and len(strays) == 1:
        copy = folder / expected[0]
        shutil.copy2(folder / strays[0], copy)
        notebooks[:] = [str(copy)]
        flag(log, where, f"the notebook was renamed to {strays[0]!r}: graded as "
                         f"{expected[0]!r} (a copy was added beside it)")
    else:
        flag(log, where, f"{', '.join(missing)} missing and {', '.join(map(repr, strays))} "
                         f"found instead: not graded, rename the right one and grade again")

