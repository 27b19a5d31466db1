"""Letting an unprivileged user reach this checkout and its Python, for a test's duration.

The hub's students and the grader user run the course's Python. Where that Python lives
where other users cannot reach (pyenv's in root's home, here and in CI), a test lets them
through: search permission (``o+x``, no listing) on the directories in the way, restored
afterwards. A class or a grading machine installs a Python every user can read
(docs/teachers.md).
"""

from __future__ import annotations

import stat
from contextlib import contextmanager
from pathlib import Path


def blocked_directories(paths: list[Path]) -> list[Path]:
    """Directories on the way to ``paths`` that other users may not enter (no o+x)."""
    blocked = []
    for path in paths:
        for folder in [*reversed(path.resolve().parents), path.resolve()]:
            if folder.is_dir() and not folder.stat().st_mode & stat.S_IXOTH \
                    and folder not in blocked:
                blocked.append(folder)
    return blocked


@contextmanager
def reachable(paths: list[Path]):
    """Inside: every user may pass through the directories on the way to ``paths``."""
    modes = {folder: stat.S_IMODE(folder.stat().st_mode)
             for folder in blocked_directories(paths)}
    try:
        for folder, mode in modes.items():
            folder.chmod(mode | stat.S_IXOTH)
        yield
    finally:
        for folder, mode in modes.items():
            folder.chmod(mode)
