"""The grader's audit hook: what student code may not do while it runs in the grader.

``sys.addaudithook`` installs a hook that lasts as long as the process (PEP 578); this one is
installed after the checks and the originals are loaded, and refuses these events to student
code, raising ``PermissionError`` and keeping a note for the teacher's log:

* reaching the grader's own state: ``sys._getframe``, frames of tracebacks and generators,
  the garbage collector's object lists, trace and profile functions, new audit hooks;
* making or changing code: ``code.__new__``, ``function.__new__``, ``marshal.loads``,
  assigning a function's ``__code__`` or defaults, an object's ``__class__``;
* leaving the process's control: threads, processes, signals to others, ``ctypes``,
  ``os.putenv``/``os.unsetenv``, a new ``io.open_code`` hook;
* the grader-only files: importing or opening anything under the protected folders;
  importing the ``classroom`` package; opening ``/proc`` (the grader's memory and stdin).

"Student code" is code compiled from an answer cell (its file name starts with ``<answer``)
or executed by it (``exec`` of a string). Reading frames, making code and changing functions'
code are refused when student code does it itself (or through ``inspect``/``traceback``):
libraries it calls may do them (typing_extensions reads frames). Threads, processes, the
garbage collector, the environment and the protected files are refused whenever student code
is anywhere on the stack. The checks' own frames, which call the student's functions, are not
student code, so they may read tracebacks and patch ``nn.Module.__init__`` for a moment, as
exercise 1's check does.
"""

from __future__ import annotations

import os
import sys
from types import CodeType

# Refused when student code itself (or inspect/traceback on its behalf) does it: libraries
# that student code calls use some of these legitimately (typing_extensions reads frames).
REFUSED_TO_THE_CALLER = frozenset({
    "sys._getframe", "sys._current_frames", "sys.settrace", "sys.setprofile",
    "code.__new__", "function.__new__", "marshal.loads", "marshal.load",
    "object.__setattr__", "object.__delattr__", "object.__getattr__",
})
# Refused whenever student code is anywhere on the stack.
REFUSED_BELOW_STUDENT_CODE = frozenset({
    "gc.get_objects", "gc.get_referrers", "gc.get_referents", "_thread.start_new_thread",
    "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
    "subprocess.Popen", "os.kill", "os.killpg", "signal.pthread_kill", "os.putenv",
    "os.unsetenv", "setopencode", "sys.set_asyncgen_hooks_firstiter",
    "sys.set_asyncgen_hooks_finalizer",
})
HELPERS = ("/inspect.py", "/traceback.py")  # they read frames for whoever calls them
FRAME_ATTRIBUTES = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame", "f_back"})


def install_guard(student_prefix: str, protected: list[str]):
    """Install the hook; return ``attempts()``, the refused events so far (one line each).

    ``student_prefix`` starts the file name of every answer cell's code (``<answer``);
    ``protected`` are folders no student code may open or import from.
    """
    getframe, startswith, isinstance_, len_, str_ = (sys._getframe, str.startswith,
                                                     isinstance, len, str)
    fspath, realpath, sep, pathlike = os.fspath, os.path.realpath, os.sep, os.PathLike
    roots = tuple(realpath(path) + sep for path in protected)
    student_codes: set = set()
    refused: list[str] = []
    busy = [False]

    def is_student(code) -> bool:
        return code in student_codes or startswith(code.co_filename, student_prefix)

    def below_student() -> bool:
        frame = getframe(2)  # 0 this function, 1 the hook, 2 where the event was raised
        while frame is not None:
            if is_student(frame.f_code):
                return True
            frame = frame.f_back
        return False

    def student_caller() -> bool:
        frame = getframe(2)
        while frame is not None and frame.f_code.co_filename.endswith(HELPERS):
            frame = frame.f_back
        return frame is not None and is_student(frame.f_code)

    def protected_path(path) -> bool:
        try:
            text = realpath(fspath(path))
        except (TypeError, ValueError):
            return False
        return startswith(text + sep, roots)

    def remember(code) -> None:
        """``code`` and every function or class body compiled inside it."""
        waiting = [code]
        while waiting:
            item = waiting.pop()
            student_codes.add(item)
            waiting.extend(const for const in item.co_consts if isinstance_(const, CodeType))

    def refuse(what: str):
        refused.append(what)
        raise PermissionError(f"refused by the course's grader: {what}")

    def hook(event: str, args: tuple) -> None:
        if busy[0]:
            return
        if event == "sys.addaudithook":
            refuse("sys.addaudithook")
        frames = event == "object.__getattr__"
        if frames and not (len_(args) > 1 and args[1] in FRAME_ATTRIBUTES):
            return
        caller = event in REFUSED_TO_THE_CALLER or startswith(event, "ctypes.") or event == "exec"
        if not caller and event not in REFUSED_BELOW_STUDENT_CODE and event not in (
                "open", "import"):
            return
        busy[0] = True
        try:
            student = student_caller() if caller else below_student()
        finally:
            busy[0] = False
        if not student:
            return
        if event == "exec":
            remember(args[0])  # code that student code runs counts as student code
        elif event == "open":
            if args and isinstance_(args[0], (str_, bytes, pathlike)):
                if protected_path(args[0]):
                    refuse(f"open {args[0]!s}")
                if startswith(str_(args[0]), "/proc/"):  # the grader's memory, its stdin
                    busy[0] = True
                    try:
                        direct = student_caller()
                    finally:
                        busy[0] = False
                    if direct:
                        refuse(f"open {args[0]!s}")
        elif event == "import":
            name, filename = args[0], args[1] if len_(args) > 1 else None
            if startswith(str_(name), "classroom") or (filename and protected_path(filename)):
                refuse(f"import {name}")
        else:
            detail = f" {args[1]}" if startswith(event, "object.") and len_(args) > 1 else ""
            refuse(event + detail)

    sys.addaudithook(hook)

    def attempts(_list=list) -> list[str]:
        return _list(refused)

    return attempts
