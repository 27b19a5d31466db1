"""What every exercise check shares: the Feedback it returns, and calling student code safely.

A check (``check_*`` in the exercise's module) takes a student's answer (a value, a function
or a class) and returns a :class:`Feedback` with one of three statuses:

* ``PASSED``: the answer is right, with a sentence saying what it shows;
* ``NOT_DONE``: the answer is still the placeholder ``...`` (or ``None``, or raises
  ``NotImplementedError``): nothing to judge yet;
* ``WRONG``: what is wrong, and a hint towards the fix (never the answer itself).

A check **never raises because of the answer**. Whatever the student hands in (a
placeholder, ``None``, a wrong type, a wrong shape, a function that crashes), the check
returns a ``Feedback``; only a mistake in the notebook's own set-up (not in the answer), such
as passing a ``nn.GRU`` where the exercise builds an ``nn.LSTM``, raises ``TypeError``.

Its text starts with a word, "Correct", "Not yet" or "Not done yet", so it reads without
colour or an emoji font; a symbol follows only as decoration.

Grading: the notebooks' check cells call :meth:`Feedback.require`. It prints the feedback,
and when nbgrader executes the notebook (``nbgrader autograde`` or ``validate``, which set
``NBGRADER_EXECUTION``) it raises ``AssertionError`` unless the answer PASSED, so the cell
scores zero. In a student's own session nothing raises: every check cell just shows its
message, and "Run all" reaches the end of the notebook.

The helpers below (``call``, ``describe``, ``same``, ``seeded``, ...) are the shared set-up of
the exercise modules; a new exercise uses them so that its checks behave like the others.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum

import torch

__all__ = ["Feedback", "Status", "grading"]

GRADING_VARIABLE = "NBGRADER_EXECUTION"  # set by nbgrader while it autogrades or validates


class Status(str, Enum):
    """The outcome of a check."""

    PASSED = "passed"
    WRONG = "wrong"
    NOT_DONE = "not done"


# The word says the state; the symbol after it is decoration (fonts without emoji show it).
LABELS = {Status.PASSED: ("Correct", "✓"), Status.WRONG: ("Not yet", "✗"),
          Status.NOT_DONE: ("Not done yet", "")}


# Read once, when the notebook's first cell imports the checks: an answer cell that later
# removes the variable does not switch grading off.
_GRADING_AT_IMPORT = bool(os.environ.get(GRADING_VARIABLE))


def grading() -> bool:
    """True while nbgrader executes the notebook (autograde or validate)."""
    return _GRADING_AT_IMPORT or bool(os.environ.get(GRADING_VARIABLE))


@dataclass(frozen=True)
class Feedback:
    """What a check says about an answer.

    Attributes:
        title: the exercise, e.g. "Exercise 1 (parameter count)".
        status: PASSED, WRONG or NOT_DONE.
        message: what was found, one or more sentences.
        hint: for WRONG, a pointer towards the fix; empty otherwise.
    """

    title: str
    status: Status
    message: str
    hint: str = ""

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED

    @property
    def label(self) -> str:
        """The state in words: "Correct", "Not yet" or "Not done yet"."""
        return LABELS[self.status][0]

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        word, symbol = LABELS[self.status]
        lines = [f"{word}: {self.title}" + (f" {symbol}" if symbol else ""), self.message]
        if self.hint:
            lines.append("Hint: " + self.hint)
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle) -> None:  # how IPython/Jupyter shows it
        printer.text(str(self))

    def require(self, strict: bool | None = None) -> None:
        """Show this feedback; when grading, fail unless the answer PASSED.

        The one line of an autograded test cell: ``checks.check_x(answer).require()``.

        Args:
            strict: raise unless PASSED. Default: only while nbgrader executes the notebook
                (``NBGRADER_EXECUTION`` set), so a student's own run never stops here.

        Raises:
            AssertionError: ``strict`` (or grading) and the status is WRONG or NOT_DONE; the
                message is this feedback's text, which nbgrader's feedback then shows.
        """
        if (grading() if strict is None else strict) and not self.passed:
            raise AssertionError(str(self))
        print(self)


# ---------------------------------------------------------------------------------------------
# Calling student code safely and describing what came back.

def is_placeholder(value) -> bool:
    """True for ``...`` and ``None``: an answer not written yet."""
    return value is Ellipsis or value is None


def call(function: Callable, *args):
    """``(value, error)``: the return value, or the exception the student's code raised.

    ``NotImplementedError`` counts as a placeholder (value ``...``), like ``return ...``.
    """
    try:
        return function(*args), None
    except NotImplementedError:
        return Ellipsis, None
    except Exception as error:  # the student's code may fail in any way: report, not crash
        return None, error


def error_text(error: BaseException) -> str:
    """``"TypeError: first line of its message"``, cut at 200 characters."""
    first_line = (str(error).strip().splitlines() or [""])[0]
    if len(first_line) > 200:
        first_line = first_line[:200] + "..."
    return f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__


def describe(value) -> str:
    """A short description of any value, for a message ("a tensor of shape (7, 28)")."""
    if value is Ellipsis:
        return "the placeholder `...`"
    if value is None:
        return "None"
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, type):
        return f"the class {value.__name__}"
    return f"a value of type {type(value).__name__} ({value!r:.60})"


def got(answer, expected_shape: tuple[int, ...]) -> str:
    """What the student handed in, for a message that already states the expected shape."""
    if isinstance(answer, torch.Tensor) and tuple(answer.shape) == tuple(expected_shape):
        return "a tensor of that shape, but with other values"
    return describe(answer)


def not_done(title: str, what: str) -> Feedback:
    """NOT_DONE for an answer (``what``) that is still its placeholder."""
    return Feedback(title, Status.NOT_DONE,
                    f"{what} is still the placeholder (`...` or None). Write your code in its "
                    f"cell, run that cell, then run this check again.")


def wrong(title: str, message: str, hint: str = "") -> Feedback:
    return Feedback(title, Status.WRONG, message, hint)


def passed(title: str, message: str) -> Feedback:
    return Feedback(title, Status.PASSED, message)


def first_problem(*steps: Callable[[], Feedback | None]) -> Feedback | None:
    """Run ``steps`` in order; return the first Feedback one of them gives, else None.

    (A Feedback is falsy unless PASSED, so ``a() or b()`` cannot chain such steps.)
    """
    for step in steps:
        problem = step()
        if problem is not None:
            return problem
    return None


def raised(title: str, what: str, error: BaseException, hint: str = "") -> Feedback:
    """WRONG for student code that raised: the error's first line and a hint."""
    return wrong(title, f"{what} raised {error_text(error)}", hint or
                 "the error names what failed: fix that line, run its cell, then this "
                 "check again.")


def same(answer, expected: torch.Tensor) -> bool:
    """True when ``answer`` is a tensor with ``expected``'s shape and (nearly) its values."""
    return (isinstance(answer, torch.Tensor) and tuple(answer.shape) == tuple(expected.shape)
            and answer.device == expected.device and answer.dtype.is_floating_point
            and torch.allclose(answer.detach().to(expected.dtype), expected, rtol=1e-5,
                               atol=1e-6))


def first_match(answer, candidates: dict[str, torch.Tensor]) -> str | None:
    """The key (a hint) of the first candidate tensor ``answer`` equals, else None."""
    for hint, candidate in candidates.items():
        if same(answer, candidate):
            return hint
    return None


@contextmanager
def seeded(seed: int = 0):
    """A block with torch seeded, leaving the caller's random state as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
