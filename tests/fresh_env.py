"""Fresh environments for the tests of the course outside its checkout: a copy of the
course's files, and a new virtual environment with only the packages a test names (from
pip's cache: torch takes 1-2 minutes to install)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def pinned(names) -> list[str]:
    """``name==version`` for each of ``names``, from requirements.txt."""
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (REPO / "requirements.txt")
                           .read_text(encoding="utf-8"), re.M))
    return [f"{name}=={pins[name]}" for name in names]


def course_files() -> list[str]:
    """The checkout's files as git sees them (tracked, and new ones not ignored)."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout
    return [name for name in listed.split("\0") if name and (REPO / name).is_file()]


def copy_course(target: Path) -> Path:
    """Copy the course's files into ``target`` (as a clone would hold them); return it."""
    for name in course_files():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target / name)
    return target


def fresh_venv(venv: Path, requirements: list[str]) -> Path:
    """A new virtual environment at ``venv`` holding ``requirements``; its python."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", *requirements],
                          capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    return python
