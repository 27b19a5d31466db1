"""Instant feedback, and grading, for the classroom exercises in ``notebooks/exercises/``.

One module per exercise, named like its notebook (``ex1_parameter_count``, ...), holds that
exercise's ``check_*`` functions: what the student runs for instant feedback. They return a
:class:`Feedback` (see :mod:`.feedback`, which also holds the set-up they share). The further
cases that only grading tries are not here: they belong to the course's grader
(``classroom/grading/``), which is not part of this package, so a student's environment cannot
import them.

Every public name of every exercise module (its ``__all__``) is available here, so a notebook
writes ``from lstm_helpers import checks`` and then ``checks.check_parameter_count(...)``. A new
exercise is one new module ``exN_name.py`` here, found by the loop below, and one notebook.
The other modules are set-up the exercise modules share: :mod:`.feedback` (every check), and
:mod:`.training_watch` (hooks that watch a training step, for exercise 8).
"""

from __future__ import annotations

import importlib
import pkgutil
import re

from .feedback import Feedback, Status, grading

__all__ = ["Feedback", "Status", "grading"]
EXERCISE_MODULES: list[str] = []  # "ex1_parameter_count", ... in course order

_EXERCISE = re.compile(r"ex(\d+)_\w+")  # exN_name, like the notebook it checks
_found = {int(match[1]): info.name for info in pkgutil.iter_modules(__path__)
          if (match := _EXERCISE.fullmatch(info.name))}

for _number in sorted(_found):  # course order: ex2 before ex10
    _module = importlib.import_module(f"{__name__}.{_found[_number]}")
    for _name in _module.__all__:
        if _name in globals():
            raise ImportError(f"{_found[_number]}.{_name} is already defined by another "
                              f"exercise module; give it a name of its own")
        globals()[_name] = getattr(_module, _name)
    __all__ += _module.__all__
    EXERCISE_MODULES.append(_found[_number])
del _found, _number, _module, _name
