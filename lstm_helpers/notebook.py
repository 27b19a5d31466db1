"""The course's own errors read as one short message in a notebook.

When the package raises an error on purpose (the data folder is wrong, a checkpoint does not
fit, an argument is out of range), its message already says what went wrong and how to fix
it; the 20 to 40 lines of traceback through the package above it only bury that message.
Imported inside IPython (JupyterLab, any Jupyter kernel, the IPython terminal), the package
installs a handler with IPython's ``set_custom_exc`` that shows such an error as::

    MNISTDataError: The MNIST files are missing in /home/me/data/MNIST/raw ...
    (raised by lstm_helpers, called from Cell In[3], line 2; run %tb for the full traceback)

"On purpose" means: the innermost frame of the traceback is in the ``lstm_helpers`` package
and stopped on a ``raise`` statement. Everything else keeps IPython's full traceback: errors
raised by PyTorch or Python inside the package (a shape mismatch, a bug), errors of the
user's own code, ``assert`` failures. The error itself is unchanged (``ename``/``evalue`` of
the output, ``sys.last_value``), so ``%tb`` prints the full traceback of the last error and
``%debug`` opens the debugger on it. ``LSTM_HELPERS_TRACEBACK=full`` (or ``%env
LSTM_HELPERS_TRACEBACK=full`` in a notebook) switches the short form off.

The handler is not installed over another custom handler someone else set.
"""

from __future__ import annotations

import dis
import linecache
import os
import sys
from pathlib import Path

#: Environment variable: ``full`` shows the full traceback for the course's errors too.
TRACEBACK_ENV = "LSTM_HELPERS_TRACEBACK"

PACKAGE_DIR = Path(__file__).resolve().parent

#: Exception types the package raises on purpose (MNISTDataError is a RuntimeError,
#: CheckpointError a ValueError, FileNotFoundError an OSError). Only these reach the handler.
HANDLED_TYPES = (ValueError, TypeError, RuntimeError, OSError)

_RED, _DIM, _RESET = "\x1b[0;31m", "\x1b[2m", "\x1b[0m"


def _in_package(filename: str) -> bool:
    try:
        return Path(filename).resolve().is_relative_to(PACKAGE_DIR)
    except (OSError, ValueError):
        return False


def _frames(tb) -> list:
    frames = []
    while tb is not None:
        frames.append(tb)
        tb = tb.tb_next
    return frames


def is_course_error(error: BaseException) -> bool:
    """True when ``error`` was raised by a ``raise`` statement of the lstm_helpers package.

    An ``AssertionError`` (an internal check) is never a course error.
    """
    frames = _frames(error.__traceback__)
    if not frames or isinstance(error, AssertionError):
        return False
    innermost = frames[-1]
    code = innermost.tb_frame.f_code
    if not _in_package(code.co_filename):
        return False
    opnames = {ins.offset: ins.opname for ins in dis.get_instructions(code)}
    return opnames.get(innermost.tb_lasti) == "RAISE_VARARGS"


def _caller(shell, error: BaseException) -> str | None:
    """Where the user's code called into the package: ``Cell In[3], line 2`` (or a file)."""
    frames = _frames(error.__traceback__)
    first_in_package = next((i for i, tb in enumerate(frames)
                             if _in_package(tb.tb_frame.f_code.co_filename)), None)
    if not first_in_package:
        return None
    tb = frames[first_in_package - 1]
    filename, line = tb.tb_frame.f_code.co_filename, tb.tb_lineno
    cells = getattr(getattr(shell, "compile", None), "_filename_map", {})
    where = (f"Cell In[{cells[filename]}], line {line}" if filename in cells
             else f"{filename}, line {line}")
    source = linecache.getline(filename, line).strip()
    return f"{where}: {source}" if source else where


def short_traceback(shell, error: BaseException) -> list[str]:
    """The lines shown for a course error: ``Type: message``, its notes and cause, and
    where it was called from with how to see the full traceback."""
    lines = [f"{_RED}{type(error).__name__}{_RESET}: {error}"]
    lines += [str(note) for note in getattr(error, "__notes__", ())]
    if error.__cause__ is not None:
        lines.append(f"(caused by {type(error.__cause__).__name__}: {error.__cause__})")
    caller = _caller(shell, error)
    called = f", called from {caller}" if caller else ""
    lines.append(f"{_DIM}(raised by lstm_helpers{called}; run %tb for the full "
                 f"traceback){_RESET}")
    return lines


def _handler(shell, etype, value, tb, tb_offset=None):
    """IPython's custom exception handler: short form for course errors, else the usual."""
    if (os.environ.get(TRACEBACK_ENV, "").strip().lower() != "full"
            and is_course_error(value)):
        # Keep what %tb and %debug read, exactly as IPython's own handler does.
        sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb
        if sys.version_info >= (3, 12):
            sys.last_exc = value
        shell._showtraceback(etype, value, short_traceback(shell, value))
    else:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset,
                            running_compiled_code=True)
    return None  # shown above; IPython ignores what a custom handler returns


def install_short_errors(shell=None) -> bool:
    """Show the course's own errors briefly in the running IPython (see the module doc).

    Called when the package is imported. Does nothing outside IPython, and leaves a custom
    exception handler that something else installed alone.

    Returns:
        True if the handler is installed (now or before), else False.
    """
    if shell is None:
        ipython = sys.modules.get("IPython")
        shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    if shell.custom_exceptions and not _is_ours(shell):
        return False  # another tool's handler: keep it
    shell.set_custom_exc(HANDLED_TYPES, _handler)
    shell.CustomTB.__func__.lstm_helpers = True  # so that a second import re-installs it
    return True


def _is_ours(shell) -> bool:
    return getattr(getattr(shell.CustomTB, "__func__", None), "lstm_helpers", False)
