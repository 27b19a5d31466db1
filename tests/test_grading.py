"""Grading with nbgrader, as a teacher runs it: every exercise, three submissions each.

One nbgrader course folder in a temporary directory. The teacher's commands, run as
subprocesses from the repository root (so nbgrader reads the course's nbgrader_config.py):
``python -m classroom.assignments`` (nbgrader's source/ from the exercise sources, then
``nbgrader generate_assignment``), ``nbgrader zip_collect`` for a folder of handed-in files,
``nbgrader autograde`` once per assignment (all its submissions in one run),
``nbgrader generate_feedback`` and ``nbgrader export`` to CSV. Three submissions per exercise:

* ``solution``: the instructor's answers typed into the student notebook: full marks;
* ``wrong``: the solution with a typical wrong answer in place of one (or two), among them
  the three loopholes the plain checks once let through (a model built inside exercise 1's
  formula; ``squeeze()`` without a dimension in exercise 3; counts of one test set written
  into exercise 5's loop), answers that pass the visible check but not the hidden tests
  (exercises 4 and 6), a training step that never clears its gradients (exercise 8), and a
  forget-gate bias set in one of the two bias vectors that add (exercise 9);
* ``cheat``: the committed student notebook, its check cells edited to print the success
  message and an answer cell that removes nbgrader's environment variable: zero.

The exact scores are read from the CSV. Then: the committed student notebooks are exactly
nbgrader's release (so a copy pulled by nbgitpuller can be collected and graded), and neither
holds a solution or a hidden test.
"""

from __future__ import annotations

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

from classroom.assignments import exercise_sources, source_notebook
from classroom.markers import solution_only

pytestmark = pytest.mark.slow

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
}
MAX_SCORE = {"ex1_parameter_count": 1, "ex2_last_time_step": 2, "ex3_input_shapes": 2,
             "ex4_one_device": 1, "ex5_evaluation_loop": 1, "ex6_bidirectional": 1,
             "ex7_slow_start": 1, "ex8_training_loop": 2, "ex9_forget_gate": 2}
EXPECTED = {"solution": MAX_SCORE,
            "wrong": {**dict.fromkeys(MAX_SCORE, 0), "ex2_last_time_step": 1,
                      "ex8_training_loop": 1, "ex9_forget_gate": 1},
            "cheat": dict.fromkeys(MAX_SCORE, 0)}
COLLECTED_FROM_A_FOLDER = "ex1_parameter_count"  # handed in as files: nbgrader zip_collect


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


def _submissions(release: Path, exercise: str) -> dict[str, nbformat.NotebookNode]:
    released = nbformat.read(release / exercise / f"{exercise}.ipynb", as_version=4)
    right = _solution_answers(exercise)
    return {"solution": _answers(released, dict(right)),
            # one slip (or two) in an otherwise right notebook
            "wrong": _answers(released, {**right, **WRONG_ANSWERS[exercise]}),
            "cheat": _cheat(exercise)}


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

    def run(self, *command: str) -> str:
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
        assert process.returncode == 0, (f"{' '.join(command)} failed ({process.returncode}):\n"
                                         f"{stdout[-3000:]}\n{stderr[-5000:]}")
        return stdout + stderr

    def nbgrader(self, *args: str) -> str:
        return self.run(str(Path(sys.executable).with_name("nbgrader")), *args)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Generate, collect, autograde, give feedback, export: the course folder and its CSV."""
    course = Course(tmp_path_factory.mktemp("grading") / "course")
    course.run(sys.executable, "-m", "classroom.assignments",
               *(SOURCES if len(SOURCES) < len(exercise_sources()) else []))
    release = course.root / "release"
    for exercise in SOURCES:
        for student, notebook in _submissions(release, exercise).items():
            if exercise == COLLECTED_FROM_A_FOLDER:  # a folder of files, one per student
                folder = course.root / "downloaded" / exercise / "archive" / student
            else:  # where `nbgrader collect` puts what came through the exchange
                folder = course.root / "submitted" / student / exercise
            folder.mkdir(parents=True)
            nbformat.write(notebook, folder / f"{exercise}.ipynb")
    if COLLECTED_FROM_A_FOLDER in SOURCES:
        course.nbgrader("zip_collect", COLLECTED_FROM_A_FOLDER)
    for exercise in SOURCES:
        course.nbgrader("autograde", exercise)
    course.nbgrader("generate_feedback", next(iter(SOURCES)))
    grades = course.root / "grades.csv"
    course.nbgrader("export", "--to", str(grades))
    for command, seconds in course.seconds.items():
        print(f"{seconds:7.1f} s  {command}")
    with grades.open(newline="") as file:
        return course, list(csv.DictReader(file))


def test_every_submission_gets_its_exact_score(graded):
    _, rows = graded
    scores = {(row["student_id"], row["assignment"]): (float(row["score"]),
                                                        float(row["max_score"]))
              for row in rows}
    expected = {(student, exercise): (float(score), float(MAX_SCORE[exercise]))
                for student, by_exercise in EXPECTED.items()
                for exercise, score in by_exercise.items() if exercise in SOURCES}
    assert scores == expected


@pytest.mark.skipif(COLLECTED_FROM_A_FOLDER not in SOURCES, reason="exercise 1 not graded")
def test_the_feedback_gives_the_checks_message(graded):
    course, _ = graded
    folder = course.root / "feedback"
    wrong = (folder / "wrong" / COLLECTED_FROM_A_FOLDER / f"{COLLECTED_FROM_A_FOLDER}.html")
    text = wrong.read_text(encoding="utf-8")
    assert "Not yet: Exercise 1 (parameter count)" in text
    assert "builds a model" in text
    solution = folder / "solution" / COLLECTED_FROM_A_FOLDER / f"{COLLECTED_FROM_A_FOLDER}.html"
    assert "The formula also holds on 5 further sizes." in solution.read_text(encoding="utf-8")


def _wrong_answer_feedback(graded, exercise: str) -> str:
    """Every output of the autograded typical wrong answer to ``exercise``, as one text."""
    course, _ = graded
    autograded = nbformat.read(course.root / "autograded" / "wrong" / exercise
                               / f"{exercise}.ipynb", as_version=4)
    return "".join(str(output) for cell in autograded.cells
                   for output in cell.get("outputs", []))


@pytest.mark.skipif("ex6_bidirectional" not in SOURCES, reason="exercise 6 not graded")
def test_hidden_tests_run_in_grading_only(graded):
    outputs = _wrong_answer_feedback(graded, "ex6_bidirectional")
    assert "Correct: Exercise 6 (bidirectional LSTM)" in outputs  # the visible check passed
    assert "Not yet: Exercise 6 (bidirectional LSTM), other sizes" in outputs


@pytest.mark.skipif("ex8_training_loop" not in SOURCES, reason="exercise 8 not graded")
def test_a_graded_slip_is_named_and_the_other_part_still_scores(graded):
    outputs = _wrong_answer_feedback(graded, "ex8_training_loop")
    assert "Not yet: Exercise 8 (one training iteration)" in outputs
    assert "zero_grad forgotten: the gradients accumulate" in outputs
    assert "Correct: Exercise 8 (evaluation between iterations)" in outputs


@pytest.mark.skipif("ex9_forget_gate" not in SOURCES, reason="exercise 9 not graded")
def test_a_bias_set_in_one_of_the_two_vectors_is_named_in_the_feedback(graded):
    outputs = _wrong_answer_feedback(graded, "ex9_forget_gate")
    assert "Not yet: Exercise 9 (setting the forget gate's bias)" in outputs
    assert "PyTorch adds b_if and b_hf: set the other one to 0" in outputs
    assert "Correct: Exercise 9 (the memory a forget gate keeps)" in outputs


def test_the_committed_student_notebooks_are_nbgraders_release(graded):
    course, _ = graded
    for exercise in SOURCES:
        released = nbformat.read(course.root / "release" / exercise / f"{exercise}.ipynb",
                                 as_version=4)
        committed = nbformat.read(STUDENT / f"{exercise}.ipynb", as_version=4)
        assert committed.cells == released.cells, exercise
        text = (STUDENT / f"{exercise}.ipynb").read_text(encoding="utf-8")
        assert "HIDDEN TESTS" not in text and "hidden_check" not in text
        assert "BEGIN SOLUTION" not in text


def test_the_course_folder_is_outside_git():
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(["git", "check-ignore", "-q", "build/grading/gradebook.db"],
                             cwd=REPO, check=False)
    assert ignored.returncode == 0, "build/ (nbgrader's default course folder) must be ignored"
