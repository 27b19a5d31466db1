"""Argument checks shared by the package: one rule, one message, wherever a value comes from.

Each check exists in two forms: a function for Python callers (``positive_int("n_iters",
n_iters)``, raising ``ValueError``) and an ``argparse`` type built on it
(``type=positive_int_argument``, raising ``argparse.ArgumentTypeError``, which argparse turns
into ``prog: error: argument --iters: ...`` and exit status 2). The package, its command
line and the benchmarks all use these, so a value is accepted or refused alike everywhere.
"""

from __future__ import annotations

import argparse
import math
import operator
import os
from pathlib import Path

_POSITIVE = "must be a positive integer"
_NON_NEGATIVE = "must be 0 or a positive integer"


def _as_int(value) -> int | None:
    """``value`` as an ``int`` if it is an integer (``__index__``), bools excluded; else None."""
    if isinstance(value, bool):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


def finite_number(value) -> float | None:
    """``value`` as a ``float`` if it is a finite ``int`` or ``float`` (bools, strings, nan
    and infinities excluded); else None. The caller says what range it needs and why."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def positive_int(name: str, value) -> int:
    """``value`` as an ``int`` >= 1, for sizes and counts (hidden_dim, n_iters, ...).

    Python and NumPy integers are accepted (anything with ``__index__``); bools, floats
    (even ``3.0``) and strings are not, so a typo such as ``hidden_dim=1e2`` is caught.

    Raises:
        ValueError: ``value`` is not an integer or is below 1; the message names ``name``.
    """
    number = _as_int(value)
    if number is None or number < 1:
        raise ValueError(f"{name} {_POSITIVE}, got {value!r}")
    return number


def non_negative_int(name: str, value) -> int:
    """``value`` as an ``int`` >= 0 (a count that may be zero, e.g. retries); same rules as
    :func:`positive_int` otherwise.

    Raises:
        ValueError: ``value`` is not an integer or is negative; the message names ``name``.
    """
    number = _as_int(value)
    if number is None or number < 0:
        raise ValueError(f"{name} {_NON_NEGATIVE}, got {value!r}")
    return number


def _parse_int(text: str):
    """The integer a command-line word spells (``"3"``, ``"+3"``, ``"3_000"``), else the text
    unchanged, so the check refuses it (``"3.0"``, ``"1e2"`` and ``"ten"`` are not integers)."""
    try:
        return int(text)
    except ValueError:
        return text


def positive_int_argument(text: str) -> int:
    """``argparse`` type: a positive integer, by the rule of :func:`positive_int`.

    Raises:
        argparse.ArgumentTypeError: ``"expected a positive integer, got '0'"``.
    """
    try:
        return positive_int("value", _parse_int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None


def non_negative_int_argument(text: str) -> int:
    """``argparse`` type: 0 or a positive integer, by the rule of :func:`non_negative_int`.

    Raises:
        argparse.ArgumentTypeError: ``"expected 0 or a positive integer, got '-1'"``.
    """
    try:
        return non_negative_int("value", _parse_int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 0 or a positive integer, "
                                         f"got {text!r}") from None


# --- output files ------------------------------------------------------------------------

def output_file(path: str | os.PathLike, name: str = "the output file") -> Path:
    """Check, before any work, that a file can later be written at ``path``; return it.

    Nothing is created: the file's folder may be missing (it is created when the file is
    written), but its nearest existing ancestor must be a folder this process may write
    into. Used for every file the course writes on request (checkpoints, benchmark results),
    so a typo fails at once instead of after minutes of training.

    Raises:
        ValueError: ``path`` is a folder, lies under a file, or cannot be written (a
            read-only folder or file); the message names ``name``, the absolute path and
            the fix.
    """
    if str(path).endswith(("/", os.sep)):
        raise ValueError(f"{name} {str(path)!r} ends with a slash, so it names a folder: "
                         f"give a file name such as {str(Path(path) / 'model.pt')!r}")
    path = Path(path).expanduser()
    shown = path.absolute()
    if path.is_dir():
        raise ValueError(f"{name} {str(shown)!r} is a folder: give a file name such as "
                         f"{str(shown / 'model.pt')!r}")
    ancestor = shown.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ValueError(f"{name} {str(shown)!r} cannot be written: {str(ancestor)!r} is a "
                         f"file, not a folder; choose a path in a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise ValueError(f"{name} {str(shown)!r} cannot be written: the folder "
                         f"{str(ancestor)!r} is not writable; choose a folder you can "
                         f"write to")
    if path.exists() and not os.access(path, os.W_OK):
        raise ValueError(f"{name} {str(shown)!r} exists and is read-only; choose another "
                         f"file name or make it writable")
    return path


def output_file_argument(text: str) -> Path:
    """``argparse`` type: a file that can be written later (see :func:`output_file`).

    Raises:
        argparse.ArgumentTypeError: the path is a folder, under a file, or not writable.
    """
    try:
        return output_file(text, "the file")
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
