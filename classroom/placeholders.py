"""nbgrader's ClearSolutions, keeping the course's placeholders.

nbgrader replaces every ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` block by one fixed
stub. The course's sources may give a block a ``### PLACEHOLDER`` section, the code the
student starts from (``last_step = ...``, ``return ...``); this preprocessor writes it in, so
nbgrader's release is exactly the course's student notebook. ``nbgrader_config.py`` puts it
in the place of ClearSolutions in nbgrader's own list of preprocessors; everything else
(locking, checksums, hidden tests, the gradebook) is nbgrader's.
"""

from __future__ import annotations

from nbgrader.preprocessors import ClearSolutions

from .markers import strip_solutions


class ClearSolutionsKeepPlaceholders(ClearSolutions):
    """ClearSolutions for code cells written with the course's markers (see markers.py)."""

    def _replace_solution_region(self, cell, language: str) -> bool:
        if cell.cell_type != "code":
            return super()._replace_solution_region(cell, language)
        cell.source, blocks = strip_solutions(cell.source)
        return blocks > 0


def generate_assignment_preprocessors() -> list[type]:
    """nbgrader's GenerateAssignment preprocessors, with ClearSolutions replaced."""
    from nbgrader.converters import GenerateAssignment

    defaults = GenerateAssignment.class_traits()["preprocessors"].default()
    return [ClearSolutionsKeepPlaceholders if step is ClearSolutions else step
            for step in defaults]
