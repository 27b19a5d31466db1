"""The grader-only checks: ``classroom/grading/hidden-checks/<exercise>.py``.

Each file holds an exercise's further cases and its ``hidden_check_NAME`` functions (and any
reference answer they need, such as exercise 1's formula). The folder's name is not a Python
identifier, so no ``import`` reaches it; the grader loads a file by its path, before any
student code runs, without registering it in ``sys.modules``. It is not part of the wheel
students install (``lstm_helpers`` only), and the grader refuses student code that opens it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

HIDDEN_DIR = Path(__file__).resolve().parent / "hidden-checks"


def hidden_checks_path(exercise: str) -> Path:
    return HIDDEN_DIR / f"{exercise}.py"


def load_hidden_checks(exercise: str) -> ModuleType | None:
    """The grader-only module of ``exercise`` (``ex1_parameter_count``), or None if it has
    none. Loaded from its file each time, never entered in ``sys.modules``."""
    path = hidden_checks_path(exercise)
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"hidden_checks_{exercise}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
