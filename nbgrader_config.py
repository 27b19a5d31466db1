"""nbgrader's settings for this course. Every `nbgrader` command run from the repository
root reads them (see docs/teachers.md for the teacher's commands).

* The course folder (nbgrader's source/, release/, submitted/, autograded/, feedback/ and
  gradebook.db) is build/grading, ignored by git; LSTM_GRADING_ROOT moves it elsewhere.
  `python -m classroom.assignments` writes its source/ from notebooks/exercises/*.py.
* Kernels started by nbgrader inherit this process's environment: no progress bars
  (TQDM_DISABLE=1), and LSTM_HELPERS_DATA as an absolute path (the kernels run inside the
  submission folders, where a relative ./data would find nothing).
* Solutions are replaced by the course's placeholders (classroom/placeholders.py), so the
  release is exactly the student notebook of notebooks/exercises/student/.
* Scores are decided on the grader's side (classroom/grading/): after nbgrader's kernel ran
  the submission, a fresh grader process runs the answers against the checks and the
  grader-only cases, and its verdict replaces the graded cells' outputs before nbgrader
  records the scores. Both run student code as the grader user (LSTM_GRADER_USER, default
  nobody), which needs root (LSTM_GRADING_UNCONFINED=1 to run it as yourself). A malformed
  submission is graded with the others and named in the log (classroom/grading/submissions.py).
"""

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO))  # classroom/ is found from the repository root

from classroom.grading.pipeline import autograde_preprocessors, sanitize_preprocessors  # noqa: E402
from classroom.grading.submissions import before_each_submission  # noqa: E402
from classroom.placeholders import generate_assignment_preprocessors  # noqa: E402

c = get_config()  # noqa: F821 (defined by the traitlets loader that reads this file)

c.CourseDirectory.root = os.environ.get("LSTM_GRADING_ROOT", str(REPO / "build" / "grading"))
c.CourseDirectory.course_id = "lstm-course"
# nbgrader's exchange (release_assignment, fetch_assignment, submit, collect) on a shared
# machine; /srv/nbgrader/exchange is nbgrader's default, writable by every user.
c.Exchange.root = os.environ.get("LSTM_EXCHANGE_ROOT", "/srv/nbgrader/exchange")

# Solutions out, placeholders in: nbgrader's own pipeline with one step swapped.
c.GenerateAssignment.preprocessors = generate_assignment_preprocessors()
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\n..."}

# Grades decided on the grader's side; malformed submissions named, never fatal.
c.Autograde.sanitize_preprocessors = sanitize_preprocessors()
c.Autograde.autograde_preprocessors = autograde_preprocessors()
c.Autograde.pre_convert_hook = before_each_submission
c.Execute.kernel_manager_class = "classroom.grading.kernel.ConfinedKernelManager"
c.GraderVerdicts.timeout = 900  # one notebook in the grader process (exercise 7 trains)

# Per cell. The longest cells, exercise 7's baseline and check, each train Model C for 200
# iterations: about 10 s on an idle 2-core CPU (the whole notebook, 20 to 30 s). On a
# 2-core machine shared with a dozen other busy processes the same notebook once took 38
# minutes: grade on a machine that is not doing much else. A cell that runs past the limit
# scores zero (CellTimeoutError); the rest of the notebook is still graded.
c.Execute.timeout = 600
# A grading machine running other work starts kernels and delivers their last output
# slowly; nbclient's defaults (60 s to start, 4 s for trailing output) then fail healthy
# notebooks.
c.Execute.startup_timeout = 180
c.Execute.iopub_timeout = 30

# A folder of files handed in outside nbgrader's exchange (`nbgrader zip_collect`): each
# student's notebook (or a .zip of it) in a folder named after the student, under
# <course>/downloaded/<assignment>/archive/<student_id>/.
c.ZipCollectApp.collector_plugin = "nbgrader.plugins.FileNameCollectorPlugin"
c.FileNameCollectorPlugin.named_regexp = (
    r".*[/\\](?P<student_id>[A-Za-z0-9_.@-]+)[/\\](?P<file_id>[^/\\]+\.ipynb)$")

os.environ["TQDM_DISABLE"] = "1"
_data = Path(os.environ.get("LSTM_HELPERS_DATA") or REPO / "data").expanduser()
os.environ["LSTM_HELPERS_DATA"] = str(_data if _data.is_absolute() else Path.cwd() / _data)
