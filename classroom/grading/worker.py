"""The grader process: one submission's answers checked where the student's kernel cannot
reach, in a fresh Python started for that one notebook (``python -m classroom.grading.worker``,
by :mod:`classroom.grading.verdicts`; the job comes on stdin, the verdict goes to stdout).

In order, everything in ``main``'s local variables (no module global holds what the grader
trusts):

1. read the job (the plan, the student's answer cells, a one-time nonce), load the course's
   checks and the exercise's grader-only checks (by path, not in ``sys.modules``), and every
   module the notebooks use;
2. confine itself: as root, switch to the grader user (no way back) in an empty private
   folder; from then on the gradebook and other submissions are out of reach;
3. capture the originals (:mod:`classroom.grading.integrity`) and install an audit hook
   (:mod:`classroom.grading.guard`), which cannot be removed and refuses, to student code,
   what would let it reach the grader (frames, the garbage collector, ctypes, threads,
   processes, the grader-only files, new audit hooks, code objects);
4. run the locked cells that make the checks' other arguments, in a namespace of their own;
5. run the notebook in order, the locked cells the answers use from the source and the
   answer cells from the submission; at each check cell call the captured checks, answers
   from the notebook's namespace, everything else from the locked one. After every answer
   cell and every check call, compare everything with the originals: a change (or a refused
   attempt) scores 0 for that part and every later one, and names what changed;
6. write the verdict as one line, ``GRADER-VERDICT <repr>``, whose first field is the nonce:
   a line printed by student code cannot carry it, and a process that ends before the verdict
   scores 0 (the parent, :mod:`.verdicts`, decides that).

Python has no sandbox: this raises the bar far above "one line in the answer cell", and every
refused attempt is named in the teacher's log, but a determined expert can still find a way.
"""

from __future__ import annotations

import io
import json
import os
import sys

VERDICT_PREFIX = "GRADER-VERDICT "
STUDENT_FILE = "<answer {}>"  # the file name answer cells are compiled under
PRELOAD = (  # imported before the switch of user: student code may use them afterwards
    "math", "random", "statistics", "itertools", "functools", "collections", "numbers",
    "fractions", "decimal", "copy", "dataclasses", "typing", "string", "textwrap", "operator",
    "numpy", "torch", "torch.nn", "torch.nn.functional", "torch.optim", "torch.utils.data",
    "lstm_helpers", "lstm_helpers.checks")


def _preload() -> None:
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    import torch  # every optimizer class wraps its step() on first use: done now, not later

    for value in vars(torch.optim).values():
        if isinstance(value, type) and issubclass(value, torch.optim.Optimizer):
            try:
                value([torch.zeros(1, requires_grad=True)])
            except Exception:  # noqa: BLE001 (one that needs arguments wraps nothing)
                pass


def main() -> None:  # noqa: C901 (one function on purpose: its locals are the grader's state)
    write, out_fd = os.write, 1
    # Builtins used after student code ran, bound now (a patched builtin cannot reach these).
    repr_, tuple_, str_, type_, bool_, exec_, compile_ = (repr, tuple, str, type, bool, exec,
                                                          compile)
    job = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    nonce, done = job.pop("nonce"), []

    def send(parts, notes) -> None:
        if not done:
            done.append(True)
            write(out_fd, ("\n" + VERDICT_PREFIX + repr_((nonce, tuple_(parts), tuple_(notes)))
                           + "\n").encode("utf-8"))

    # 1. Everything trusted is loaded before any student code.
    _preload()
    from classroom.grading.confinement import drop_privileges
    from classroom.grading.guard import install_guard
    from classroom.grading.hidden import HIDDEN_DIR, load_hidden_checks
    from classroom.grading.integrity import capture
    from classroom.grading.plan import python_of
    from lstm_helpers import checks
    from lstm_helpers.checks.feedback import Feedback, Status

    hidden = load_hidden_checks(job["exercise"])
    functions = {}
    for calls in job["calls"].values():
        for name, _ in calls:
            functions[name] = getattr(checks, name, None)
            extra = getattr(hidden, "hidden_" + name, None) if hidden is not None else None
            if extra is not None:
                functions["hidden_" + name] = extra
    feedback_type, passed_status = Feedback, Status.PASSED
    feedback_text = Feedback.__str__
    status_of = object.__getattribute__
    is_feedback = type_

    # 2. Confinement: the grader user, an empty private folder, no way back.
    drop_privileges(job.get("user"), job.get("home"))

    # 3. Originals, then the audit hook (it also keeps what student code tried).
    changes = capture(watched_variable=job.get("grading_variable", "NBGRADER_EXECUTION"))
    attempts = install_guard(STUDENT_FILE.split("{")[0], [str(HIDDEN_DIR)])

    sink = io.StringIO()
    real_out, real_err = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = sink  # what the answers print goes nowhere

    def run(source: str, filename: str, namespace: dict) -> str | None:
        """Execute ``source``; the error it raised, in one line, or None."""
        try:
            exec_(compile_(python_of(source), filename, "exec"), namespace)
        except BaseException as error:  # noqa: BLE001 (student code may raise anything)
            return f"{type_(error).__name__}: {error}"[:300]
        return None

    # 4. The locked cells that make the checks' other arguments, alone.
    cells = job["cells"]
    trusted_ns = {"__name__": "__main__"}
    trusted_errors = []
    for index in job["trusted"]:
        error = run(cells[index]["source"], f"<locked cell {index + 1}>", trusted_ns)
        if error is not None:  # the teacher's own code: the log says so
            trusted_errors.append(f"the locked cell {index + 1} failed in the grader: {error}")

    # 5. The notebook in order; the checks at their cells.
    namespace = {"__name__": "__main__"}
    answers, parts, notes, spoiled = set(job["answers"]), [], trusted_errors, []

    def verify(after: str) -> None:
        try:
            found = changes()
        except BaseException as error:  # noqa: BLE001 (what it uses was broken from outside)
            found = [f"the comparison with the originals failed: {type_(error).__name__}"]
        found += [f"refused to the answer: {what}" for what in attempts()]
        if found and not spoiled:
            spoiled.append(after)
            notes.extend(f"{after}: {what}" for what in found[:8])

    feeding = set(job["feeding"])
    for index, cell in enumerate(cells):
        if cell["kind"] == "locked":
            if index in feeding:  # what the answers use; demonstrations decide nothing
                run(cell["source"], f"<locked cell {index + 1}>", namespace)
        elif cell["kind"] == "answer":
            run(cell["source"], STUDENT_FILE.format(cell["grade_id"]), namespace)
            verify(f"answer cell {cell['grade_id']}")
        else:
            texts, ok = [], True
            for name, args in job["calls"][cell["grade_id"]]:
                for function_name in (name, "hidden_" + name):
                    function = functions.get(function_name)
                    if function is None:
                        if function_name == name:
                            texts.append(f"The grader has no check called {name}.")
                            ok = False
                        continue
                    missing = [a for a in args if a not in (namespace if a in answers
                                                             else trusted_ns)]
                    if missing:
                        texts.append(f"Not done yet: {', '.join(missing)} is not defined "
                                     f"(its answer cell did not run to the end).")
                        ok = False
                        break
                    values = [namespace[a] if a in answers else trusted_ns[a] for a in args]
                    try:
                        result = function(*values)
                    except BaseException as error:  # noqa: BLE001
                        result = f"The check stopped: {type_(error).__name__}: {error}"[:300]
                    verify(f"check {function_name}")
                    if spoiled:
                        break
                    if is_feedback(result) is feedback_type:
                        ok = ok and status_of(result, "status") is passed_status
                        texts.append(feedback_text(result))
                    else:
                        ok = False
                        texts.append(str_(result))
                if spoiled:
                    break
            if spoiled:
                ok = False
                texts = [f"Not graded: the submission changed the grader's code or state "
                         f"({spoiled[0]}); this part scores 0 and the teacher is told."]
            parts.append((cell["grade_id"], bool_(ok), "\n".join(texts)))

    sys.stdout, sys.stderr = real_out, real_err
    # 6. The verdict, plain data, with the nonce first.
    send(parts, notes)


if __name__ == "__main__":
    main()
