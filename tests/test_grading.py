"""Grading with nbgrader, as a teacher runs it, with the scores decided on the grader's side.

One nbgrader course folder in a temporary directory. The teacher's commands, run as
subprocesses from the repository root (so nbgrader reads the course's nbgrader_config.py):
``python -m classroom.assignments`` (source/ and the release), ``nbgrader zip_collect`` for a
folder of handed-in files, ``nbgrader autograde`` for every exercise but the first, and the
course's ``python -m classroom.autograde`` for the first (every student graded, then the list
of those who need attention), ``nbgrader generate_feedback`` and ``nbgrader export``.

Every exercise: ``solution`` (full marks) and ``wrong`` (a typical slip, among them answers
that pass the visible check but not the grader-only cases). Exercise 1, the quick one, also
takes the forgeries of issue 22, each with the placeholder answer and one added line (the
check replaced, ``Feedback.require`` or ``Feedback.passed`` replaced, the grading switch
reset, a fake ``checks`` in the notebook, the reference formula called, builtins,
``sys.modules``, a hook, the environment, frames, a forged verdict and an early exit): all
score 0 and are named in the log. A submission that tries to write the gradebook and read
another student's work fails at both (the operating system refuses: student code runs as the
grader user) and scores 0. The malformed ones are graded with everyone else and named: a
copied answer cell (the first copy is graded), an answer cell turned into Markdown (restored),
a deleted check cell (0), an edited locked cell (restored), a renamed notebook (graded). The
untouched solution produces no warning at all.

The Python and this checkout must be readable by the grader user (``nobody``): where they are
not (pyenv in root's home, here and in CI), the test lets it through for its duration
(tests/unprivileged.py), as a teacher installs the course for a class.
"""

from __future__ import annotations

import ast
import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from unprivileged import reachable

from classroom.assignments import exercise_sources, nbgrader_config, source_notebook
from classroom.autograde import needing_attention
from classroom.grading import confinement
from classroom.grading.hidden import HIDDEN_DIR, load_hidden_checks
from classroom.grading.plan import build_plan
from classroom.grading.verdicts import GraderVerdicts, read_verdict
from classroom.grading.worker import VERDICT_PREFIX
from classroom.markers import solution_only
from lstm_helpers import checks, resolve_root

REPO = Path(__file__).resolve().parents[1]
STUDENT = REPO / "notebooks" / "exercises" / "student"
SOURCES = {source.stem: source for source in exercise_sources()}
# A developer's shortcut: GRADING_TEST_EXERCISES=ex1_parameter_count,ex3_input_shapes grades
# those alone (exercise 7 trains, and takes most of the time). CI grades every exercise.
if os.environ.get("GRADING_TEST_EXERCISES"):
    SOURCES = {name: SOURCES[name] for name in os.environ["GRADING_TEST_EXERCISES"].split(",")}
COMMAND_TIMEOUT_S = 1800  # one nbgrader command; autograding exercise 7 takes about 2 min

WRONG_ANSWERS = {  # exercise -> {answer cell's grade id: the cell a student hands in}
    "ex1_parameter_count": {"answer-count_parameters": (
        "def count_parameters(input_dim, hidden_dim, layer_dim, output_dim):\n"
        "    model = lh.LSTMModel(input_dim, hidden_dim, layer_dim, output_dim)\n"
        "    return sum(p.numel() for p in model.parameters())")},
    "ex2_last_time_step": {"answer-last_step": (  # part (a) wrong, part (b) right
        "last_step = out[-1]\nfinal_hidden = h_n[-1]")},
    "ex3_input_shapes": {
        "answer-batch_first_input": "def batch_first_input(images):\n"
                                    "    return images.squeeze()",
        "answer-seq_first_input": "def seq_first_input(images):\n"
                                  "    return images.squeeze().permute(1, 0, 2)"},
    "ex4_one_device": {"answer-prepare": (  # right for the visible sizes only
        "def prepare(model, images, device):\n"
        "    x = images.to(device).view(-1, 28, 28)\n"
        "    h0 = torch.zeros(2, 6, 16, device=device)\n"
        "    return model.to(device), x, (h0, torch.zeros_like(h0))")},
    "ex5_evaluation_loop": {"answer-accuracy": (
        "def accuracy(model, batches):\n"
        "    model.eval()\n"
        "    correct = 0\n"
        "    with torch.no_grad():\n"
        "        for images, labels in batches:\n"
        "            logits = model(images.view(-1, 28, 28))\n"
        "            correct += (logits.argmax(dim=1) == labels).sum().item()\n"
        "    return 100.0 * correct / 300")},
    "ex6_bidirectional": {"answer-BiLSTMModel": (  # a readout sized for hidden_dim=16 only
        "class BiLSTMModel(nn.Module):\n"
        "    def __init__(self, input_dim, hidden_dim, layer_dim, output_dim):\n"
        "        super().__init__()\n"
        "        self.lstm = nn.LSTM(input_dim, hidden_dim, layer_dim, batch_first=True,\n"
        "                            bidirectional=True)\n"
        "        self.fc = nn.Linear(32, output_dim)\n\n"
        "    def forward(self, x):\n"
        "        _, (h_n, _) = self.lstm(x)\n"
        "        return self.fc(torch.cat([h_n[-2], h_n[-1]], dim=1))")},
    "ex7_slow_start": {"answer-make_optimizer": (
        "def make_optimizer(model):\n"
        "    return torch.optim.SGD(model.parameters(), lr=0.1)")},
    "ex8_training_loop": {"answer-train_step": (  # part (a) wrong, part (b) right
        "def train_step(model, criterion, optimizer, images, labels, seq_dim, input_dim):\n"
        "    images = images.view(-1, seq_dim, input_dim)\n"
        "    outputs = model(images)\n"
        "    loss = criterion(outputs, labels)\n"
        "    loss.backward()\n"
        "    optimizer.step()\n"
        "    return loss.item()")},
    "ex9_forget_gate": {"answer-set_forget_bias": (  # part (a) wrong, part (b) right
        "def set_forget_bias(lstm, bias):\n"
        "    hidden_dim = lstm.hidden_size\n"
        "    with torch.no_grad():\n"
        "        for layer in range(lstm.num_layers):\n"
        "            getattr(lstm, f'bias_ih_l{layer}')[hidden_dim:2 * hidden_dim] = bias\n"
        "    return lstm")},
    "ex10_honest_protocol": {"answer-honest_run": (  # part (b) wrong, part (a) right
        "def honest_run(model, train_batches, validation_batches, test_batches, epochs,\n"
        "               train_one_epoch, accuracy):\n"
        "    best_epoch, best_test = 0, -1.0\n"
        "    for epoch in range(1, epochs + 1):\n"
        "        train_one_epoch(model, train_batches)\n"
        "        test_accuracy = accuracy(model, test_batches)\n"
        "        if test_accuracy > best_test:\n"
        "            best_epoch, best_test = epoch, test_accuracy\n"
        "    return best_epoch, best_test, best_test")},
}
MAX_SCORE = {"ex1_parameter_count": 1, "ex2_last_time_step": 2, "ex3_input_shapes": 2,
             "ex4_one_device": 1, "ex5_evaluation_loop": 1, "ex6_bidirectional": 1,
             "ex7_slow_start": 1, "ex8_training_loop": 2, "ex9_forget_gate": 2,
             "ex10_honest_protocol": 2}
EXPECTED = {"solution": MAX_SCORE,
            "wrong": {**dict.fromkeys(MAX_SCORE, 0), "ex2_last_time_step": 1,
                      "ex8_training_loop": 1, "ex9_forget_gate": 1,
                      "ex10_honest_protocol": 1}}
FIRST = "ex1_parameter_count"  # the quick exercise that takes every forgery and malformation
PLACEHOLDER = ("def count_parameters(input_dim, hidden_dim, layer_dim, output_dim):\n"
               "    return ...\n")
FORGERIES = {  # student -> lines added to the placeholder answer: each must score 0
    "forge_check": "from lstm_helpers import checks as c\n"
                   "from lstm_helpers.checks.feedback import Feedback, Status\n"
                   "c.check_parameter_count = lambda f: Feedback('x', Status.PASSED, 'ok')",
    "forge_require": "from lstm_helpers.checks.feedback import Feedback\n"
                     "Feedback.require = lambda self, strict=None: print('Correct')",
    "forge_switch": "import lstm_helpers.checks.feedback as fb\n"
                    "fb._GRADING_AT_IMPORT = False\nfb.grading = lambda: False",
    "forge_passed": "from lstm_helpers.checks.feedback import Feedback\n"
                    "Feedback.passed = property(lambda self: True)",
    "forge_namespace": "class _Passed:\n    def require(self): print('Correct')\n"
                       "class _Checks:\n"
                       "    def __getattr__(self, name): return lambda *a: _Passed()\n"
                       "checks = _Checks()",
    "forge_reference": "import importlib.util as u\n"
                       f"s = u.spec_from_file_location('h', {str(HIDDEN_DIR / FIRST)!r} + '.py')\n"
                       "h = u.module_from_spec(s); s.loader.exec_module(h)\n"
                       "count_parameters = lambda *sizes: h.model_count(sizes)",
    "forge_builtins": "import builtins\nbuiltins.round = lambda *a, **k: 0",
    "forge_modules": "import sys, types\n"
                     "sys.modules['lstm_helpers.checks'] = types.SimpleNamespace()",
    "forge_cases": "import lstm_helpers.checks.ex1_parameter_count as m\nm.CASES.clear()",
    "forge_hook": "import sys\nsys.excepthook = lambda *a: None",
    "forge_environment": "import os\nos.environ.pop('NBGRADER_EXECUTION', None)",
    "forge_frames": "import sys\ncaller = sys._getframe(1)",
    # aimed at the grader (its answers print into a buffer): a verdict line, then an exit
    "forge_verdict": "import io, os, sys\nif isinstance(sys.stdout, io.StringIO):\n"
                     f"    os.write(1, b'\\n' + {VERDICT_PREFIX!r}.encode() + "
                     "b\"('x', (('check_parameter_count', True, 'Correct'),), ())\\n\")\n"
                     "    os._exit(0)",
}
CONFINED = "confined"  # tries to write the gradebook and read another student's notebook
MALFORMED = {"duplicate": 1, "markdown": 1, "deleted_check": 0, "edited_lock": 1,
             "renamed": 1}


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _answers(notebook, replacements: dict[str, str]):
    """A copy of ``notebook`` with the answer cells named in ``replacements`` rewritten."""
    notebook = nbformat.from_dict(notebook)
    for cell in notebook.cells:
        if _grade_id(cell) in replacements:
            cell.source = replacements.pop(_grade_id(cell))
    assert not replacements, f"no answer cell called {sorted(replacements)}"
    return notebook


def _solution_answers(exercise: str) -> dict[str, str]:
    return {_grade_id(cell): solution_only(cell.source)
            for cell in source_notebook(SOURCES[exercise]).cells
            if cell.metadata["nbgrader"]["solution"]}


def _cheat(exercise: str):
    """The committed student notebook: checks replaced by their success line, and the first
    answer cell removing NBGRADER_EXECUTION from the kernel's environment."""
    notebook = nbformat.read(STUDENT / f"{exercise}.ipynb", as_version=4)
    first_answer = True
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            cell.source = f'print("Correct: {exercise} ✓")'
        elif meta.get("solution") and first_answer:
            cell.source = 'import os\nos.environ.pop("NBGRADER_EXECUTION", None)\n' + cell.source
            first_answer = False
    return notebook


def _confined(released, root: Path):
    """The placeholder answer, plus an attempt on the gradebook and on another's notebook."""
    other = root / "submitted" / "solution" / FIRST / f"{FIRST}.ipynb"
    attempt = (f"for path, mode in (({str(root / 'gradebook.db')!r}, 'a'), "
               f"({str(other)!r}, 'r')):\n"
               f"    try:\n"
               f"        with open(path, mode) as file:\n"
               f"            print('OPENED', path,\n"
               f"                  file.write('x') if 'a' in mode else file.read())\n"
               f"    except OSError as error:\n"
               f"        print('refused:', type(error).__name__, path)\n")
    return _answers(released, {"answer-count_parameters": PLACEHOLDER + attempt})


def _malformed(solution) -> dict[str, nbformat.NotebookNode]:
    """The solution, spoilt in the ways a real class spoils notebooks."""
    made = {}
    cells = solution.cells
    answer = next(i for i, c in enumerate(cells) if _grade_id(c) == "answer-count_parameters")
    check = next(i for i, c in enumerate(cells) if _grade_id(c) == "check_parameter_count")
    duplicate = nbformat.from_dict(solution)  # a copy of the answer cell, wrong, further down
    copy = nbformat.from_dict(cells[answer])
    copy.source, copy.id = PLACEHOLDER, "copied-answer"
    duplicate.cells.insert(check + 1, copy)
    made["duplicate"] = duplicate
    markdown = nbformat.from_dict(solution)  # the answer cell turned into Markdown
    cell = markdown.cells[answer]
    cell.cell_type = "markdown"
    del cell["outputs"], cell["execution_count"]
    made["markdown"] = markdown
    deleted = nbformat.from_dict(solution)
    del deleted.cells[check]
    made["deleted_check"] = deleted
    edited = nbformat.from_dict(solution)  # a locked, ungraded cell edited
    lock = next(c for c in edited.cells if c.cell_type == "code"
                and not c.metadata.get("nbgrader", {}).get("solution")
                and not c.metadata.get("nbgrader", {}).get("grade"))
    lock.source += "\nprint('edited')"
    made["edited_lock"] = edited
    made["renamed"] = nbformat.from_dict(solution)
    return made


def _submissions(release: Path, exercise: str) -> dict[str, nbformat.NotebookNode]:
    released = nbformat.read(release / exercise / f"{exercise}.ipynb", as_version=4)
    right = _solution_answers(exercise)
    made = {"solution": _answers(released, dict(right)),
            # one slip (or two) in an otherwise right notebook
            "wrong": _answers(released, {**right, **WRONG_ANSWERS[exercise]})}
    if exercise == FIRST:
        made["cheat"] = _cheat(exercise)
        made.update({student: _answers(released, {"answer-count_parameters": PLACEHOLDER + lines})
                     for student, lines in FORGERIES.items()})
        made[CONFINED] = _confined(released, release.parent)
        made.update(_malformed(made["solution"]))
    return made


class Course:
    """An nbgrader course folder in a temporary directory, and the teacher's commands."""

    def __init__(self, root: Path):
        self.root = root
        self.env = {**os.environ,
                    "PATH": os.pathsep.join([str(Path(sys.executable).parent),
                                             os.environ.get("PATH", "")]),
                    "LSTM_GRADING_ROOT": str(root),
                    "PYTHONPATH": os.pathsep.join(
                        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
        self.seconds: dict[str, float] = {}

    def run(self, *command: str, expect: int = 0) -> str:
        start = time.perf_counter()
        # A session of its own: on a time-out, the kernels nbgrader started end with it.
        process = subprocess.Popen(list(command), cwd=REPO, env=self.env, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   start_new_session=True)
        try:
            stdout, stderr = process.communicate(timeout=COMMAND_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            pytest.fail(f"{' '.join(command)} ran over {COMMAND_TIMEOUT_S} s:\n{stderr[-5000:]}")
        self.seconds[" ".join([Path(command[0]).name, *command[1:4]])] = \
            time.perf_counter() - start
        assert process.returncode == expect, (
            f"{' '.join(command)} exited {process.returncode}, not {expect}:\n"
            f"{stdout[-3000:]}\n{stderr[-5000:]}")
        return stdout + stderr

    def nbgrader(self, *args: str) -> str:
        return self.run(str(Path(sys.executable).with_name("nbgrader")), *args)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Generate, collect, autograde, give feedback, export: the course folder, its CSV, and the
    first exercise's autograde log and the course command's closing list."""
    if os.geteuid() != 0:
        pytest.skip("grading runs student code as the grader user, which needs root (CI runs "
                    "as root); docs/teachers.md, 'Confinement'")
    course = Course(tmp_path_factory.mktemp("grading") / "course")
    data = resolve_root().resolve()
    with reachable([Path(sys.executable), Path(sys.prefix), Path(sys.base_prefix), REPO, data]):
        course.run(sys.executable, "-m", "classroom.assignments",
                   *(SOURCES if len(SOURCES) < len(exercise_sources()) else []))
        release = course.root / "release"
        for exercise in SOURCES:
            for student, notebook in _submissions(release, exercise).items():
                name = f"{exercise}.ipynb" if student != "renamed" else f"{exercise} (1).ipynb"
                if exercise == FIRST and student in ("solution", "wrong"):  # handed in as files
                    folder = course.root / "downloaded" / exercise / "archive" / student
                else:  # where `nbgrader collect` puts what came through the exchange
                    folder = course.root / "submitted" / student / exercise
                folder.mkdir(parents=True)
                nbformat.write(notebook, folder / name)
        log = ""
        if FIRST in SOURCES:
            course.nbgrader("zip_collect", FIRST)
            log = course.run(sys.executable, "-m", "classroom.autograde", FIRST, expect=1)
        for exercise in SOURCES:
            if exercise != FIRST:
                course.nbgrader("autograde", exercise)
        course.nbgrader("generate_feedback", next(iter(SOURCES)))
    grades = course.root / "grades.csv"
    course.nbgrader("export", "--to", str(grades))
    for command, seconds in course.seconds.items():
        print(f"{seconds:7.1f} s  {command}")
    with grades.open(newline="") as file:
        return course, list(csv.DictReader(file)), log


def _expected_scores() -> dict:
    expected = {(student, exercise): (float(score), float(MAX_SCORE[exercise]))
                for student, by_exercise in EXPECTED.items()
                for exercise, score in by_exercise.items() if exercise in SOURCES}
    if FIRST in SOURCES:
        zero = {student: 0 for student in [*FORGERIES, "cheat", CONFINED]}
        for student, score in {**zero, **MALFORMED}.items():
            expected[(student, FIRST)] = (float(score), 1.0)
            for exercise in SOURCES:  # nbgrader exports every student for every assignment
                expected.setdefault((student, exercise), (0.0, float(MAX_SCORE[exercise])))
    return expected


@pytest.mark.slow
def test_every_submission_gets_its_exact_score(graded):
    _, rows, _ = graded
    scores = {(row["student_id"], row["assignment"]): (float(row["score"]),
                                                        float(row["max_score"]))
              for row in rows}
    assert scores == _expected_scores()


def _outputs(graded, student: str, exercise: str) -> str:
    """Every output of one autograded notebook, as one text."""
    course = graded[0]
    autograded = nbformat.read(course.root / "autograded" / student / exercise
                               / f"{exercise}.ipynb", as_version=4)
    return "".join(str(output) for cell in autograded.cells
                   for output in cell.get("outputs", []))


@pytest.mark.slow
@pytest.mark.skipif(FIRST not in SOURCES, reason="exercise 1 not graded")
def test_the_feedback_gives_the_checks_message(graded):
    folder = graded[0].root / "feedback"
    text = (folder / "wrong" / FIRST / f"{FIRST}.html").read_text(encoding="utf-8")
    assert "Not yet: Exercise 1 (parameter count)" in text
    assert "builds a model" in text
    solution = (folder / "solution" / FIRST / f"{FIRST}.html").read_text(encoding="utf-8")
    assert "The formula also holds on 5 further sizes." in solution


@pytest.mark.slow
@pytest.mark.skipif(FIRST not in SOURCES, reason="exercise 1 not graded")
def test_every_forgery_is_named_in_the_teachers_list(graded):
    attention = needing_attention(graded[2])
    for student in [*FORGERIES, "cheat"]:
        assert student in attention, f"{student} is not in the closing list"
    # The ones that reached the grader's state say what changed or what was refused.
    named = {"forge_check": "check_parameter_count was changed",
             "forge_require": "Feedback.require was changed",
             "forge_switch": "feedback.grading was changed",
             "forge_passed": "Feedback.passed was changed",
             "forge_reference": "refused to the answer: open",
             "forge_builtins": "builtins.round was replaced",
             "forge_modules": "sys.modules['lstm_helpers.checks'] was replaced",
             "forge_cases": "ex1_parameter_count.CASES was changed",
             "forge_hook": "sys.excepthook was changed",
             "forge_environment": "refused to the answer: os.unsetenv",
             "forge_frames": "refused to the answer: sys._getframe",
             "forge_verdict": "without a verdict",
             "forge_namespace": "touches checks"}
    for student, phrase in named.items():
        assert any(phrase in reason for reason in attention[student]), (student, attention[student])
    outputs = _outputs(graded, "forge_passed", FIRST)
    assert "changed the grader's code or state" in outputs


@pytest.mark.slow
@pytest.mark.skipif(FIRST not in SOURCES, reason="exercise 1 not graded")
def test_student_code_reaches_neither_the_gradebook_nor_another_submission(graded):
    course = graded[0]
    outputs = _outputs(graded, CONFINED, FIRST)
    assert outputs.count("refused: PermissionError") == 2, outputs
    assert "OPENED" not in outputs
    other = (course.root / "submitted" / "solution" / FIRST / f"{FIRST}.ipynb").read_text()
    assert "count_parameters" in other and other[:200] not in outputs


@pytest.mark.slow
@pytest.mark.skipif(FIRST not in SOURCES, reason="exercise 1 not graded")
def test_malformed_submissions_are_graded_with_everyone_and_named(graded):
    attention = needing_attention(graded[2])
    expected = {"duplicate": "appears 2 times: the first copy is graded",
                "markdown": "turned from code into markdown: restored and graded",
                "deleted_check": "was deleted: that part scores 0",
                "edited_lock": "was edited: the original was put back",
                "renamed": "renamed to 'ex1_parameter_count (1).ipynb': graded"}
    for student, phrase in expected.items():
        assert any(phrase in reason for reason in attention.get(student, [])), \
            (student, attention.get(student))
    for student in ("solution", "wrong"):  # nothing to look at: no line, no warning
        assert student not in attention
    assert "has changed!" not in graded[2]


@pytest.mark.slow
@pytest.mark.skipif("ex6_bidirectional" not in SOURCES, reason="exercise 6 not graded")
def test_the_grader_only_cases_decide_the_score(graded):
    outputs = _outputs(graded, "wrong", "ex6_bidirectional")
    assert "Correct: Exercise 6 (bidirectional LSTM)" in outputs  # the visible check passed
    assert "Not yet: Exercise 6 (bidirectional LSTM), other sizes" in outputs


@pytest.mark.slow
@pytest.mark.skipif("ex8_training_loop" not in SOURCES, reason="exercise 8 not graded")
def test_a_graded_slip_is_named_and_the_other_part_still_scores(graded):
    outputs = _outputs(graded, "wrong", "ex8_training_loop")
    assert "Not yet: Exercise 8 (one training iteration)" in outputs
    assert "zero_grad forgotten: the gradients accumulate" in outputs
    assert "Correct: Exercise 8 (evaluation between iterations)" in outputs


@pytest.mark.slow
@pytest.mark.skipif("ex9_forget_gate" not in SOURCES, reason="exercise 9 not graded")
def test_a_bias_set_in_one_of_the_two_vectors_is_named_in_the_feedback(graded):
    outputs = _outputs(graded, "wrong", "ex9_forget_gate")
    assert "Not yet: Exercise 9 (setting the forget gate's bias)" in outputs
    assert "PyTorch adds b_if and b_hf: set the other one to 0" in outputs
    assert "Correct: Exercise 9 (the memory a forget gate keeps)" in outputs


@pytest.mark.slow
@pytest.mark.skipif("ex10_honest_protocol" not in SOURCES, reason="exercise 10 not graded")
def test_a_loop_that_reads_the_test_set_early_is_named_in_the_feedback(graded):
    outputs = _outputs(graded, "wrong", "ex10_honest_protocol")
    assert "Not yet: Exercise 10 (choosing on validation, testing once)" in outputs
    assert "The test set was read before the end: step 2 of your loop" in outputs
    assert "Correct: Exercise 10 (a validation set apart from the training set)" in outputs


@pytest.mark.slow
def test_the_committed_student_notebooks_are_nbgraders_release(graded):
    course = graded[0]
    for exercise in SOURCES:
        released = nbformat.read(course.root / "release" / exercise / f"{exercise}.ipynb",
                                 as_version=4)
        committed = nbformat.read(STUDENT / f"{exercise}.ipynb", as_version=4)
        assert committed.cells == released.cells, exercise
        text = (STUDENT / f"{exercise}.ipynb").read_text(encoding="utf-8")
        assert "HIDDEN TESTS" not in text and "hidden_check" not in text
        assert "BEGIN SOLUTION" not in text


# ---------------------------------------------------------------------------------------------
# Fast: every exercise goes through the same grader-side path.

@pytest.mark.parametrize("exercise", list(SOURCES))
def test_every_exercise_is_scored_by_the_grader_from_its_source(exercise):
    plan = build_plan(source_notebook(SOURCES[exercise]), exercise)
    graded = [c for c in source_notebook(SOURCES[exercise]).cells
              if c.metadata["nbgrader"].get("grade")]
    assert sorted(plan.calls) == sorted(c.metadata["nbgrader"]["grade_id"] for c in graded)
    hidden = load_hidden_checks(exercise)
    for calls in plan.calls.values():
        for name, arguments in calls:
            assert callable(getattr(checks, name)), name
            assert set(arguments) <= set(plan.answers) | {
                n for i in plan.trusted for n in _stored(plan.cells[i]["source"])}
    for name in dir(hidden) if hidden is not None else []:  # each pairs with a visible check
        if name.startswith("hidden_check_"):
            assert any(name == "hidden_" + call for calls in plan.calls.values()
                       for call, _ in calls), f"{exercise}: {name} is never called"


def _stored(source: str) -> set[str]:
    from classroom.grading.plan import stored_names
    return stored_names(ast.parse(source))


def test_nbgraders_pipeline_scores_the_graders_verdict():
    config = nbgrader_config()
    steps = [step.__name__ for step in config.Autograde.autograde_preprocessors]
    assert steps.index("GraderVerdicts") == steps.index("SaveAutoGrades") - 1
    assert steps.index("Execute") < steps.index("GraderVerdicts")
    sanitize = [step.__name__ for step in config.Autograde.sanitize_preprocessors]
    assert "FirstCopyOfEachCell" in sanitize and "DeduplicateIds" not in sanitize
    assert "HonestOverwriteCells" in sanitize and "OverwriteCells" not in sanitize
    assert config.Execute.kernel_manager_class.endswith("ConfinedKernelManager")
    assert config.Autograde.pre_convert_hook.__name__ == "before_each_submission"
    assert GraderVerdicts.class_traits()["timeout"].default_value > 0


def test_the_grader_only_material_is_out_of_the_students_package():
    package = REPO / "lstm_helpers"
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for word in ("hidden_check", "HIDDEN_CASES", "def lstm_count"):
            assert word not in text, f"{path.relative_to(REPO)} holds {word}"
    assert not (HIDDEN_DIR / "__init__.py").exists() and not HIDDEN_DIR.name.isidentifier()
    assert "hidden_checks" not in " ".join(sys.modules)  # loaded by path, never registered


def test_a_verdict_counts_only_with_this_runs_nonce():
    real = VERDICT_PREFIX + repr(("abc", (("check_x", True, "Correct"),), ()))
    forged = VERDICT_PREFIX + repr(("xyz", (("check_x", True, "Correct"),), ()))
    assert read_verdict(f"noise\n{real}\n", "abc") == ([("check_x", True, "Correct")], [])
    assert read_verdict(f"{forged}\n", "abc") is None
    parts, notes = read_verdict(f"{forged}\n{real}\n", "abc")
    assert parts == [("check_x", True, "Correct")] and "forged verdict" in notes[0]
    assert read_verdict(VERDICT_PREFIX + "__import__('os')\n", "abc") is None


def test_grading_refuses_to_run_student_code_as_the_teacher_without_consent(monkeypatch):
    monkeypatch.setattr(confinement.os, "geteuid", lambda: 1000)
    monkeypatch.delenv(confinement.UNCONFINED_VARIABLE, raising=False)
    with pytest.raises(confinement.ConfinementError, match="needs root"):
        confinement.grader_identity()
    monkeypatch.setenv(confinement.UNCONFINED_VARIABLE, "1")
    assert confinement.grader_identity() is None


def test_the_autograde_command_refuses_an_unknown_grader_user_in_one_line():
    done = subprocess.run([sys.executable, "-m", "classroom.autograde", FIRST], cwd=REPO,
                          capture_output=True, text=True, check=False,
                          env={**os.environ, confinement.USER_VARIABLE: "no-such-user-22",
                               confinement.UNCONFINED_VARIABLE: ""})
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    assert "no-such-user-22" in done.stderr or "needs root" in done.stderr


def test_the_teachers_list_names_each_student_once_per_reason():
    log = ("[AutogradeApp | WARNING] [needs attention] student bob, ex1/ex1.ipynb: edited\n"
           "[AutogradeApp | WARNING] [needs attention] student bob, ex1/ex1.ipynb: edited\n"
           "[AutogradeApp | ERROR] There was an error processing assignment 'ex1' for "
           "student 'carol'\n")
    assert needing_attention(log) == {
        "bob": ["ex1/ex1.ipynb: edited"],
        "carol": ["nbgrader could not grade this submission (see the error above in the log)"]}


def test_the_course_folder_is_outside_git():
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(["git", "check-ignore", "-q", "build/grading/gradebook.db"],
                             cwd=REPO, check=False)
    assert ignored.returncode == 0, "build/ (nbgrader's default course folder) must be ignored"
