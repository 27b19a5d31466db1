"""What ``make course`` shows while it runs: where it is, and how long it still needs.

:class:`CourseProgress` follows the run of ``scripts/run_course.py``: which notebook, how
many of its code cells are done, the progress bar of a model in training (the ``n/total``
of the course's tqdm bar, read from the kernel's output messages), the time so far and an
estimate of the time left. In a terminal that is one line, redrawn every second; without
one (a log file, CI) a plain line is printed every 30 seconds (``--status-every``), so a
slow run never looks like a hung one.

The estimate comes from the previous run on this machine: :class:`RecordedTimes` keeps the
time of every code cell of every notebook that finished, in ``build/course-times.json``
(git-ignored; ``make clean`` forgets it). A notebook never run here has no estimate, and the
line says how many such notebooks remain.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parents[1]
TIMES_FILE = ROOT / "build" / "course-times.json"
TERMINAL_EVERY = 1.0   # seconds between two redraws of the terminal line
PLAIN_EVERY = 30.0     # seconds between two plain lines without a terminal

# tqdm's text bar, as the course's progress_bar draws it in a notebook:
# "training:  45%|████▌     | 1350/3000 [00:14<00:17, 95.12it/s]"
BAR = re.compile(r"(?:(?P<desc>[^\r\n|:]+):\s*)?\d+%\|[^|\r\n]*\|\s*(?P<n>\d+)/(?P<total>\d+)")


def duration(seconds: float) -> str:
    """``42 s``, ``3:05`` (minutes:seconds) or ``1:02:09``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}:{seconds:02d}"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"


def read_bar(text: str) -> tuple[str, int, int] | None:
    """``(label, n, total)`` of the last tqdm bar state in ``text``, or None."""
    found = list(BAR.finditer(text))
    if not found:
        return None
    found = found[-1]
    return (found["desc"] or "progress").strip(), int(found["n"]), int(found["total"])


class RecordedTimes:
    """The cell times of the last finished run of each notebook, kept in a JSON file.

    ``{"notebooks/01_model_a.py": {"seconds": 49.1, "cells": [0.9, 3.2, ...]}, ...}``:
    ``cells`` holds one time per executed code cell, in order. A file that is missing or
    unreadable counts as empty (the estimates wait for the next run); it is written whole
    or not at all.
    """

    def __init__(self, path: Path = TIMES_FILE):
        self.path = Path(path)
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        self.notebooks: dict[str, dict] = data if isinstance(data, dict) else {}

    def seconds(self, name: str) -> float | None:
        entry = self.notebooks.get(name)
        return float(entry["seconds"]) if isinstance(entry, dict) and "seconds" in entry \
            else None

    def cells(self, name: str) -> list[float]:
        entry = self.notebooks.get(name)
        return [float(s) for s in entry.get("cells", [])] if isinstance(entry, dict) else []

    def record(self, name: str, seconds: float, cells: Sequence[float]) -> None:
        """Store one finished notebook's times and write the file (atomically)."""
        self.notebooks[name] = {"seconds": round(seconds, 2),
                                "cells": [round(s, 2) for s in cells]}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(self.notebooks, file, indent=1, sort_keys=True)
        os.replace(temporary, self.path)


class CourseProgress:
    """The state of a course run, and the line that shows it.

    The runner calls :meth:`start_notebook`, then for each code cell :meth:`start_cell`,
    :meth:`output` (every output message's text) and :meth:`end_cell`, and
    :meth:`end_notebook`; :meth:`say` prints a permanent line. Used as a context manager it
    shows the status by itself: redrawn in place on a terminal (``interactive``), else as a
    plain line every ``every`` seconds.

    Args:
        names: the notebooks of this run, in order (as they are named in ``times``).
        times: the previous run's times (:class:`RecordedTimes`).
        stream: where to write (default stdout).
        interactive: redraw one line in place; default: whether ``stream`` is a terminal.
        every: seconds between two plain lines (default 30) or two redraws (default 1).
        clock: the time source, in seconds.
    """

    def __init__(self, names: Sequence[str], times: RecordedTimes, stream: TextIO | None = None,
                 interactive: bool | None = None, every: float | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.names, self.times = list(names), times
        self.stream = stream or sys.stdout
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self.every = every or (TERMINAL_EVERY if self.interactive else PLAIN_EVERY)
        self.clock = clock
        self.started = clock()
        self.index = -1                 # the notebook running (index in names)
        self.code_cells = 0             # code cells of that notebook
        self.cell_times: list[float] = []
        self.notebook_started = self.cell_started = self.started
        self.running_cell = False
        self.bar: tuple[str, int, int] | None = None
        self._lock = threading.Lock()
        self._drawn = False             # a status line is on the terminal
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- events from the runner ---------------------------------------------------------

    def start_notebook(self, name: str, code_cells: int) -> None:
        self.index = self.names.index(name)
        self.code_cells, self.cell_times = code_cells, []
        self.notebook_started = self.clock()
        self.running_cell, self.bar = False, None

    def start_cell(self) -> None:
        self.cell_started, self.running_cell, self.bar = self.clock(), True, None

    def output(self, text: str) -> None:
        """Text of a kernel output message; a progress bar in it is remembered."""
        bar = read_bar(text)
        if bar is not None:
            self.bar = bar

    def end_cell(self) -> None:
        self.cell_times.append(self.clock() - self.cell_started)
        self.running_cell, self.bar = False, None

    def end_notebook(self) -> float:
        """Record the notebook's times (for the next run's estimate); return its seconds."""
        seconds = self.clock() - self.notebook_started
        self.times.record(self.names[self.index], seconds, self.cell_times)
        self.running_cell, self.bar = False, None
        return seconds

    # --- the estimate and the line ------------------------------------------------------

    def _left_in_notebook(self, name: str, now: float) -> float | None:
        previous = self.times.cells(name)
        done = len(self.cell_times)
        if len(previous) == self.code_cells and self.code_cells:
            running = now - self.cell_started if self.running_cell else 0.0
            rest = previous[done:]
            return (max(rest[0] - running, 0.0) + sum(rest[1:])) if rest else 0.0
        total = self.times.seconds(name)
        return None if total is None else max(total - (now - self.notebook_started), 0.0)

    def estimate(self, now: float | None = None) -> tuple[float, int]:
        """``(seconds left, notebooks left without a recorded time)`` by the previous run."""
        now = self.clock() if now is None else now
        left, unknown = 0.0, 0
        for position, name in enumerate(self.names[max(self.index, 0):], max(self.index, 0)):
            seconds = (self._left_in_notebook(name, now) if position == self.index
                       else self.times.seconds(name))
            if seconds is None:
                unknown += 1
            else:
                left += seconds
        return left, unknown

    def status(self, now: float | None = None) -> str:
        """One line: notebook, cells, training bar, time so far, time left."""
        now = self.clock() if now is None else now
        parts = []
        if self.index >= 0:
            name = self.names[self.index]
            parts.append(f"{Path(name).stem} ({self.index + 1}/{len(self.names)}): "
                         f"{len(self.cell_times)}/{self.code_cells} cells done")
            if self.bar is not None:
                label, n, total = self.bar
                parts.append(f"{label} {n}/{total}")
        parts.append(f"{duration(now - self.started)} so far")
        left, unknown = self.estimate(now)
        if unknown == len(self.names) - max(self.index, 0):
            parts.append("no estimate yet (the first run here records the times)")
        else:
            text = f"about {duration(left)} left"
            if unknown:
                text += f" + {unknown} notebook{'s' if unknown > 1 else ''} not timed yet"
            parts.append(text)
        return ", ".join(parts)

    # --- writing ------------------------------------------------------------------------

    def say(self, line: str) -> None:
        """Print a permanent line (above the status line in a terminal)."""
        with self._lock:
            self._clear()
            print(line, file=self.stream, flush=True)
            if self.interactive and self._thread is not None:
                self._draw()

    def _clear(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self._drawn = False

    def _draw(self) -> None:
        width = shutil.get_terminal_size().columns - 1
        self.stream.write("\r" + self.status()[:width] + "\x1b[K")
        self.stream.flush()
        self._drawn = True

    def show(self) -> None:
        """Show the status now: redraw the terminal line, or print a plain line."""
        with self._lock:
            if self.interactive:
                self._draw()
            else:
                print(self.status(), file=self.stream, flush=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self.show()

    def __enter__(self) -> CourseProgress:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="course-progress",
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._lock:
            self._clear()
            self.stream.flush()
