"""Who student code runs as while it is graded, and where.

``nbgrader autograde`` runs each submission twice: nbgrader's kernel (the notebook as the
student wrote it, for the feedback page) and the grader process (the scores,
:mod:`classroom.grading.worker`). Both start as the teacher's process and, before the first
line of student code, switch for good to the **grader user** (``LSTM_GRADER_USER``, default
``nobody``), in an empty folder of their own; the course folder is made private to its owner
(mode 700). So student code can neither write the gradebook nor read another submission:
the operating system refuses it.

Switching users needs root. Run as anyone else, autograding refuses to start, unless the
teacher sets ``LSTM_GRADING_UNCONFINED=1``: then student code runs as the teacher, with the
teacher's rights, and every run says so in its log (for submissions the teacher trusts, such
as their own tests). docs/teachers.md says how to give a teacher the rights without a root
shell (a sudo rule for the one command).
"""

from __future__ import annotations

import functools
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

USER_VARIABLE = "LSTM_GRADER_USER"
UNCONFINED_VARIABLE = "LSTM_GRADING_UNCONFINED"
DEFAULT_USER = "nobody"


class ConfinementError(RuntimeError):
    """Student code could not be confined; the message says what to do."""


def grader_identity() -> dict | None:
    """``{"uid", "gid", "name"}`` of the grader user when this process can switch to it;
    None when the teacher chose to grade unconfined.

    Raises:
        ConfinementError: not root and ``LSTM_GRADING_UNCONFINED`` not set, or an unknown
            grader user.
    """
    name = os.environ.get(USER_VARIABLE) or DEFAULT_USER
    if os.geteuid() != 0:
        if os.environ.get(UNCONFINED_VARIABLE) == "1":
            return None
        raise ConfinementError(
            f"autograding runs student code as the user {name!r}, which needs root: run it "
            f"with sudo (docs/teachers.md, 'Confinement'), or set {UNCONFINED_VARIABLE}=1 to "
            f"run student code as yourself, with your rights over the gradebook and every "
            f"submission (only for submissions you trust)")
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise ConfinementError(f"the grader user {name!r} ({USER_VARIABLE}) does not exist: "
                               f"create it (useradd --system {name}) or name another") from None
    if entry.pw_uid == 0:
        raise ConfinementError(f"the grader user {name!r} is root: name an unprivileged user")
    _can_run_python(entry.pw_uid, entry.pw_gid, name)
    return {"uid": entry.pw_uid, "gid": entry.pw_gid, "name": name}


@functools.cache
def _can_run_python(uid: int, gid: int, name: str) -> None:
    """The grader user must be able to read the course's Python and the course itself.

    Raises:
        ConfinementError: it cannot (a Python inside root's home, say), naming the fix.
    """
    probe = "import encodings.hex_codec, fractions, lstm_helpers"
    try:
        done = subprocess.run([sys.executable, "-c", probe], user=uid, group=gid,
                              extra_groups=[], capture_output=True, text=True, cwd="/",
                              check=False, timeout=300)
        last = (done.stderr.strip().splitlines() or ["?"])[-1] if done.returncode else None
    except OSError as error:
        last = str(error)
    if last is not None:
        raise ConfinementError(
            f"the grader user {name!r} cannot run the course's Python ({sys.executable}): "
            f"{last}. Install the course where every user can read it (docs/teachers.md, "
            f"'Confinement'), or name another user in {USER_VARIABLE}")


def unconfined_warning() -> str:
    return (f"{UNCONFINED_VARIABLE}=1: student code runs as {pwd.getpwuid(os.getuid())[0]}, "
            f"NOT confined: it can read every submission and write the gradebook")


def make_private(folder: Path) -> bool:
    """Remove group and other permissions from ``folder``; True if it changed."""
    mode = stat.S_IMODE(folder.stat().st_mode)
    if mode & 0o077:
        folder.chmod(mode & ~0o077)
        return True
    return False


def private_home(identity: dict | None) -> str:
    """A new empty folder for one confined process, owned by the grader user."""
    home = tempfile.mkdtemp(prefix="lstm-grading-")
    if identity is not None:
        os.chown(home, identity["uid"], identity["gid"])
    return home


def remove_home(home: str | None) -> None:
    if home:
        shutil.rmtree(home, ignore_errors=True)


def drop_privileges(identity: dict | None, home: str | None) -> None:
    """In this process, for good: become the grader user, in ``home``, with a private umask.

    Does nothing to the user when ``identity`` is None (unconfined).
    """
    if home:
        os.chdir(home)
        for variable in ("HOME", "IPYTHONDIR", "MPLCONFIGDIR", "JUPYTER_RUNTIME_DIR",
                         "JUPYTER_DATA_DIR", "TMPDIR"):
            os.environ[variable] = home
        tempfile.tempdir = home
    os.umask(0o077)
    if identity is None:
        return
    os.setgroups([])
    os.setresgid(identity["gid"], identity["gid"], identity["gid"])
    os.setresuid(identity["uid"], identity["uid"], identity["uid"])
    if os.getuid() == 0 or os.geteuid() == 0:
        raise ConfinementError("could not leave root")
