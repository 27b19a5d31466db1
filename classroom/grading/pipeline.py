"""nbgrader's Autograde pipelines with the course's steps swapped in (nbgrader_config.py).

* sanitizing: :class:`~.submissions.FirstCopyOfEachCell` in place of DeduplicateIds and
  :class:`~.submissions.HonestOverwriteCells` in place of OverwriteCells;
* autograding: :class:`~.verdicts.GraderVerdicts` right before SaveAutoGrades, after Execute
  and LimitOutput, so the scores nbgrader saves are the grader's.
"""

from __future__ import annotations


def sanitize_preprocessors() -> list[type]:
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import DeduplicateIds, OverwriteCells

    from .submissions import FirstCopyOfEachCell, HonestOverwriteCells

    swap = {DeduplicateIds: FirstCopyOfEachCell, OverwriteCells: HonestOverwriteCells}
    defaults = Autograde.class_traits()["sanitize_preprocessors"].default()
    return [swap.get(step, step) for step in defaults]


def autograde_preprocessors() -> list[type]:
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import SaveAutoGrades

    from .verdicts import GraderVerdicts

    steps = list(Autograde.class_traits()["autograde_preprocessors"].default())
    steps.insert(steps.index(SaveAutoGrades), GraderVerdicts)
    return steps
