"""The grader-side verdict: nbgrader's Autograde asks the grader process for every score.

``nbgrader_config.py`` puts :class:`GraderVerdicts` into Autograde's pipeline after
nbgrader's ``Execute`` (the student's kernel ran the notebook) and before ``SaveAutoGrades``
(which records the scores). For each notebook it

1. builds the job from nbgrader's **source** notebook (the locked cells and the check calls,
   :mod:`.plan`) and the submission's answer cells (by grade id, the first copy);
2. runs :mod:`.worker` in a fresh process (confined, :mod:`.confinement`), the job on stdin;
3. reads the one verdict line that carries this run's nonce; anything else (no verdict, a
   line with another nonce, a crash, a time-out) scores 0 for every part;
4. rewrites every graded cell's outputs from the verdict: the checks' feedback, and an error
   when the part failed, so SaveAutoGrades scores the verdict. Nothing the student's kernel
   printed, raised or returned in a graded cell is kept.

Everything a teacher should look at goes to the log as one line starting with
``[needs attention]``, naming the student and the notebook (:mod:`.attention`).
"""

from __future__ import annotations

import ast
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import nbformat
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer

from .attention import flag, suspicious_lines
from .confinement import grader_identity, private_home, remove_home, unconfined_warning
from .plan import PlanError, build_plan
from .submissions import DELETED
from .worker import VERDICT_PREFIX

REPO = Path(__file__).resolve().parents[2]


def submission_answers(notebook) -> dict[str, str]:
    """``{grade id: source}`` of the answer cells, the first copy of each."""
    answers: dict[str, str] = {}
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and meta.get("grade_id") not in answers:
            answers[meta["grade_id"]] = cell.source if cell.cell_type == "code" else ""
    return answers


def read_verdict(stdout: str, nonce: str) -> tuple[list, list[str]] | None:
    """``(parts, notes)`` from the worker's output, or None; a forged line adds a note."""
    verdict, forged = None, []
    for line in stdout.splitlines():
        if not line.startswith(VERDICT_PREFIX):
            continue
        try:
            found = ast.literal_eval(line[len(VERDICT_PREFIX):])
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            found = None
        if isinstance(found, tuple) and len(found) == 3 and found[0] == nonce:
            verdict = (list(found[1]), list(found[2]))
        else:
            forged.append("the grader's output held a verdict line without this run's "
                          "nonce: student code printed a forged verdict")
    if verdict is None:
        return None
    return verdict[0], verdict[1] + forged


def error_output(text: str):
    return nbformat.v4.new_output("error", ename="NotPassed", evalue=text.split("\n")[0],
                                  traceback=text.split("\n"))


class GraderVerdicts(NbGraderPreprocessor):
    """Scores every graded cell from the grader process's verdict (see the module)."""

    timeout = Integer(900, help="Seconds the grader process may take for one notebook; "
                                "past them every part scores 0.").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        student, notebook_id = info["student"], info["notebook"]
        where = f"student {student}, {info['assignment']}/{notebook_id}.ipynb"
        coursedir = CourseDirectory(config=self.config)
        source_path = Path(coursedir.format_path(coursedir.source_directory, ".",
                                                 info["assignment"])) / f"{notebook_id}.ipynb"
        try:
            plan = build_plan(nbformat.read(source_path, as_version=4), source_path.name)
        except (OSError, PlanError) as error:
            flag(self.log, where, f"not graded, the source notebook cannot be graded: {error}")
            return self._write(nb, resources, {}, where,
                               "The source notebook cannot be graded (see the log).")
        answers = submission_answers(nb)
        for line in suspicious_lines(answers):
            flag(self.log, where, line)
        plan.use_answers(answers)
        parts, notes = self._ask_grader(plan, notebook_id)
        for note in notes:
            flag(self.log, where, note)
        return self._write(nb, resources, parts, where, "Not graded: the grader gave no "
                                                        "verdict for this cell (see the log).")

    def _ask_grader(self, plan, exercise: str) -> tuple[dict, list[str]]:
        identity = grader_identity()
        if identity is None:
            self.log.warning(unconfined_warning())
        home = private_home(identity)
        nonce = secrets.token_hex(16)
        job = {**plan.as_job(), "nonce": nonce, "exercise": exercise, "user": identity,
               "home": home}
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
        try:
            done = subprocess.run([sys.executable, "-m", "classroom.grading.worker"],
                                  input=json.dumps(job).encode(), capture_output=True,
                                  timeout=self.timeout, cwd=home, env=environment,
                                  check=False)
        except subprocess.TimeoutExpired:
            return {}, [f"the grader process ran over {self.timeout} s and was stopped: "
                        f"every part scores 0 (an endless loop in an answer?)"]
        finally:
            remove_home(home)
        verdict = read_verdict(done.stdout.decode("utf-8", "replace"), nonce)
        if verdict is None:
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            return {}, [f"the grader process ended (status {done.returncode}) without a "
                        f"verdict: every part scores 0. {' | '.join(tail)}"]
        parts, notes = verdict
        return {grade_id: (ok, text) for grade_id, ok, text in parts}, notes

    def _write(self, nb, resources, parts: dict, where: str, missing: str):
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if not meta.get("grade") or cell.cell_type != "code":
                continue
            if cell.source.startswith(DELETED):
                ok, text = False, ("This check cell was deleted from the submission: it "
                                   "scores 0.")
                flag(self.log, where, f"the check cell {meta['grade_id']} was deleted: that "
                                      f"part scores 0")
            else:
                ok, text = parts.get(meta["grade_id"], (False, missing))
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text + "\n")]
            if not ok:
                cell.outputs.append(error_output(text))
        return nb, resources
