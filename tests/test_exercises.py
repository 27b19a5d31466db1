"""The classroom exercises: the checks, the student notebooks and the generator behind them.

* every check answers placeholders with NOT_DONE, slips with WRONG and a hint, and the right
  answer with PASSED, without raising on whatever a student hands in;
* every instructor notebook, executed, passes all its checks;
* every student notebook, executed, runs to the end and all its checks say NOT_DONE;
* the generator is idempotent and the committed student notebooks are current.

nbval executes the same notebooks in a Jupyter kernel (the student ones with their outputs
ignored); here they run in-process so that the checks' results can be read directly.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import importlib.util
import io
from pathlib import Path

import jupytext
import nbformat
import pytest
import torch
from torch import nn

from lstm_helpers import checks
from lstm_helpers.checks import Feedback, Status

ROOT = Path(__file__).resolve().parents[1]


def _load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generator = _load_script("make_student_notebooks")
SOURCES = generator.exercise_sources()
STUDENT = [generator.STUDENT / f"{source.stem}.ipynb" for source in SOURCES]
# Exercises that train models for about half a minute: marked slow, so make check skips them.
SLOW_EXERCISES = {"ex7_slow_start"}


def _marked(paths: list[Path]) -> list:
    return [pytest.param(path, marks=pytest.mark.slow) if path.stem in SLOW_EXERCISES else path
            for path in paths]


# ---------------------------------------------------------------------------------------------
# Running a notebook in this process and collecting what its checks returned.

def _run_cells(cells: list[str]) -> tuple[list[Feedback], str]:
    """Execute code cells in one namespace; return the Feedback values shown and stdout.

    Like Jupyter, the value of a cell's last expression is its result; every result that is
    a Feedback is collected, in order.
    """
    namespace: dict = {"__name__": "__main__"}
    results, stdout = [], io.StringIO()
    with contextlib.redirect_stdout(stdout):
        for source in cells:
            tree = ast.parse(source)
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            exec(compile(tree, "<cell>", "exec"), namespace)
            if last is not None:
                value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace)
                if isinstance(value, Feedback):
                    results.append(value)
    return results, stdout.getvalue()


def _code_cells(notebook) -> list[str]:
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def _check_calls(cells: list[str]) -> int:
    return sum(source.count("checks.check_") for source in cells)


@pytest.fixture(autouse=True)
def _no_progress_bars(monkeypatch):
    monkeypatch.setenv("TQDM_DISABLE", "1")


def test_there_are_at_least_six_exercises_each_with_a_student_version():
    assert len(SOURCES) >= 6
    assert all(path.exists() for path in STUDENT)


@pytest.mark.parametrize("source", _marked(SOURCES), ids=lambda p: p.stem)
def test_every_solution_passes_its_check(source):
    cells = _code_cells(jupytext.read(source))
    results, _ = _run_cells(cells)
    assert len(results) == _check_calls(cells) >= 1
    failed = [str(r) for r in results if not r.passed]
    assert not failed, "\n\n".join(failed)


@pytest.mark.parametrize("student", _marked(STUDENT), ids=lambda p: p.stem)
def test_every_student_version_runs_and_reports_not_done(student):
    cells = _code_cells(nbformat.read(student, as_version=4))
    results, _ = _run_cells(cells)
    assert len(results) == _check_calls(cells) >= 1
    assert [r.status for r in results] == [Status.NOT_DONE] * len(results), \
        "\n\n".join(map(str, results))
    assert all(str(r).startswith("⏳") for r in results)


# ---------------------------------------------------------------------------------------------
# The generator.

def test_committed_student_notebooks_are_up_to_date():
    assert generator.stale_files() == [], "run `make student` and commit the result"


def test_generation_is_idempotent(tmp_path):
    first = generator.write_student_notebooks(tmp_path)
    texts = {path.name: path.read_bytes() for path in first}
    (tmp_path / "old_exercise.ipynb").write_text("{}")  # an orphan is removed
    second = generator.write_student_notebooks(tmp_path)
    assert first == second
    assert {path.name: path.read_bytes() for path in second} == texts
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(texts)
    assert generator.stale_files(tmp_path) == []


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_student_version_differs_only_where_the_solutions_were(source):
    instructor = jupytext.read(source)
    student = nbformat.read(generator.STUDENT / f"{source.stem}.ipynb", as_version=4)
    assert [c.cell_type for c in student.cells] == [c.cell_type for c in instructor.cells]
    changed = 0
    for mine, theirs in zip(instructor.cells, student.cells):
        assert theirs.get("outputs", []) == []
        if "### BEGIN SOLUTION" not in mine.source:
            assert theirs.source == mine.source
            continue
        changed += 1
        assert "# YOUR CODE HERE" in theirs.source and "SOLUTION" not in theirs.source
        kept = set(theirs.source.splitlines())
        solution = _solution_lines(mine.source)
        assert solution and not (solution & kept), "solution code left in the student version"
    assert changed >= 1


def _solution_lines(source: str) -> set[str]:
    lines, inside = set(), False
    for line in source.splitlines():
        marker = line.strip()
        if marker == "### BEGIN SOLUTION":
            inside = True
        elif marker in ("### PLACEHOLDER", "### END SOLUTION"):
            inside = False
        elif inside and marker and not marker.startswith("#"):
            lines.add(line)
    return lines


def test_student_notebooks_are_not_paired_or_run_as_course_sources():
    config = (generator.STUDENT / "jupytext.toml").read_text()
    assert 'formats = "ipynb"' in config
    assert not list(generator.STUDENT.glob("*.py"))
    course = _load_script("run_course").course_notebooks()
    assert set(SOURCES) <= set(course)
    assert not [path for path in course if "student" in path.parts]


def test_strip_solutions_keeps_indent_and_uncomments_the_placeholder():
    source = ("def f(x):\n"
              "    '''Doc.'''\n"
              "    ### BEGIN SOLUTION\n"
              "    y = x + 1\n"
              "    return y\n"
              "    ### PLACEHOLDER\n"
              "    # y = ...\n"
              "    #\n"
              "    # return ...\n"
              "    ### END SOLUTION\n"
              "\n"
              "z = 1")
    student, blocks = generator.strip_solutions(source)
    assert blocks == 1
    assert student == ("def f(x):\n    '''Doc.'''\n    # YOUR CODE HERE\n    y = ...\n\n"
                       "    return ...\n\nz = 1")


def test_a_block_without_placeholder_leaves_an_ellipsis():
    student, blocks = generator.strip_solutions("### BEGIN SOLUTION\nprint(1)\n### END SOLUTION")
    assert (student, blocks) == ("# YOUR CODE HERE\n...", 1)
    assert generator.strip_solutions("x = 1  # no markers") == ("x = 1  # no markers", 0)


@pytest.mark.parametrize("source, message", [
    ("### BEGIN SOLUTION\nx = 1", "never closed"),
    ("x = 1\n### END SOLUTION", "outside a solution block"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside a solution block"),
    ("### BEGIN SOLUTION\nx = 1\n### PLACEHOLDER\nx = ...\n### END SOLUTION",
     "must be comments"),
    ("def f():\n### BEGIN SOLUTION\n    return 1\n### END SOLUTION", "not valid Python"),
])
def test_malformed_solution_blocks_are_refused_with_the_place(source, message):
    with pytest.raises(generator.SolutionMarkerError, match=message) as error:
        generator.strip_solutions(source, "ex9.py, cell 3")
    assert "ex9.py, cell 3" in str(error.value)


def test_a_notebook_without_any_solution_block_is_refused(tmp_path):
    source = tmp_path / "ex0_empty.py"
    source.write_text("# %% [markdown]\n# # No exercise\n\n# %%\nx = 1\n")
    with pytest.raises(generator.SolutionMarkerError, match="no ### BEGIN SOLUTION"):
        generator.student_notebook(source)


# ---------------------------------------------------------------------------------------------
# The checks, one answer at a time. Half-finished answers must never raise.

NOT_READY = [..., None]
WRONG_TYPES = ["abc", 42, [1, 2]]


def _expect(feedback: Feedback, status: Status, *phrases: str) -> None:
    assert isinstance(feedback, Feedback)
    assert feedback.status is status, str(feedback)
    text = str(feedback)
    for phrase in phrases:
        assert phrase in text, f"{phrase!r} not in:\n{text}"


def test_feedback_shows_a_headline_message_and_hint():
    feedback = Feedback("Exercise 9 (x)", Status.WRONG, "It is off.", "look again.")
    assert str(feedback) == "❌ Exercise 9 (x): not yet.\nIt is off.\nHint: look again."
    assert not feedback and not feedback.passed
    passed = Feedback("E", Status.PASSED, "Fine.")
    assert passed and str(passed) == "✅ E: correct.\nFine."


def _count(i, h, layers, o):
    return 4 * h * (i + h) + 8 * h + (layers - 1) * (8 * h * h + 8 * h) + h * o + o


@pytest.mark.parametrize("answer, status, phrase", [
    (..., Status.NOT_DONE, "placeholder"),
    (None, Status.NOT_DONE, "placeholder"),
    (lambda *sizes: ..., Status.NOT_DONE, "placeholder"),
    (lambda *sizes: None, Status.NOT_DONE, "`return` line"),
    (42, Status.WRONG, "should be a function"),
    (lambda *sizes: "many", Status.WRONG, "whole number"),
    (lambda *sizes: 1 / 0, Status.WRONG, "ZeroDivisionError"),
    (lambda i, h, l, o: _count(i, h, l, o) - 4 * h * l, Status.WRONG, "two bias vectors"),
    (lambda i, h, l, o: _count(i, h, 1, o), Status.WRONG, "count every layer"),
    (lambda i, h, l, o: _count(i, h, l, o) - h * o - o, Status.WRONG, "readout"),
    (lambda i, h, l, o: _count(i, h, l, o) + (l - 1) * 4 * h * (i - h), Status.WRONG,
     "hidden_dim features, not input_dim"),
    (lambda i, h, l, o: _count(i, h, l, o) + 1, Status.WRONG, "describe_parameters"),
    (_count, Status.PASSED, "214,610"),
    (lambda *sizes: float(_count(*sizes)), Status.PASSED, "Model A (53,010)"),
])
def test_check_parameter_count(answer, status, phrase):
    _expect(checks.check_parameter_count(answer), status, phrase)


@pytest.fixture(scope="module")
def two_layer_lstm():
    torch.manual_seed(0)
    lstm = nn.LSTM(28, 16, num_layers=2, batch_first=True)
    x = torch.rand(5, 28, 28)
    with torch.no_grad():
        out, (h_n, c_n) = lstm(x)
    return lstm, x, out, h_n, c_n


def test_check_last_step(two_layer_lstm):
    lstm, x, out, h_n, c_n = two_layer_lstm
    for answer in NOT_READY:
        _expect(checks.check_last_step(lstm, x, answer, h_n[-1]), Status.NOT_DONE)
        _expect(checks.check_last_step(lstm, x, out[:, -1, :], answer), Status.NOT_DONE)
    for answer in WRONG_TYPES:
        _expect(checks.check_last_step(lstm, x, answer, h_n[-1]), Status.WRONG, "shape (5, 16)")
    _expect(checks.check_last_step(lstm, x, out[-1], h_n[-1]), Status.WRONG,
            "the second picks time steps")
    _expect(checks.check_last_step(lstm, x, out[:, 0, :], h_n[-1]), Status.WRONG, "first time")
    _expect(checks.check_last_step(lstm, x, out[:, -1, :], h_n[0]), Status.WRONG, "bottom")
    _expect(checks.check_last_step(lstm, x, out[:, -1, :], c_n[-1]), Status.WRONG, "cell state")
    _expect(checks.check_last_step(lstm, x, out[:, -1, :], h_n), Status.WRONG, "per layer")
    _expect(checks.check_last_step(lstm, x, out[:, -1, :], h_n[-1]), Status.PASSED)
    with pytest.raises(TypeError, match="batch_first=True"):
        checks.check_last_step(nn.LSTM(28, 16), x, out[:, -1, :], h_n[-1])


def test_check_last_step_seq_first():
    torch.manual_seed(0)
    lstm, x = nn.LSTM(28, 16, num_layers=2), torch.rand(28, 5, 28)
    with torch.no_grad():
        out, _ = lstm(x)
    for answer in NOT_READY:
        _expect(checks.check_last_step_seq_first(lstm, x, answer), Status.NOT_DONE)
    _expect(checks.check_last_step_seq_first(lstm, x, out[:, -1, :]), Status.WRONG,
            "last image of the batch")
    _expect(checks.check_last_step_seq_first(lstm, x, "out[-1]"), Status.WRONG)
    _expect(checks.check_last_step_seq_first(lstm, x, out[-1]), Status.PASSED)


@pytest.mark.parametrize("answer, status, phrase", [
    (..., Status.NOT_DONE, "placeholder"),
    (lambda images: ..., Status.NOT_DONE, "placeholder"),
    ("view", Status.WRONG, "should be a function"),
    (lambda images: images.view(100, 28, 28), Status.WRONG, "do not write the batch size"),
    (lambda images: images.view(-1, 784), Status.WRONG, "no time axis"),
    (lambda images: images.view(-1, 28, 28).transpose(1, 2), Status.WRONG, "a column"),
    (lambda images: images.numpy(), Status.WRONG, "ndarray"),
    (lambda images: images.squeeze(1), Status.PASSED, "28 time steps"),
    (lambda images: images.reshape(-1, 28, 28), Status.PASSED, ""),
])
def test_check_batch_first_input(answer, status, phrase):
    _expect(checks.check_batch_first_input(answer), status, phrase)


@pytest.mark.parametrize("answer, status, phrase", [
    (None, Status.NOT_DONE, "placeholder"),
    (lambda images: None, Status.NOT_DONE, "placeholder"),
    (lambda images: images.view(28, -1, 28), Status.WRONG, "right shape, wrong content"),
    (lambda images: images.reshape(28, images.size(0), 28), Status.WRONG, "memory order"),
    (lambda images: images.view(-1, 28, 28), Status.WRONG, "batch-first layout"),
    (lambda images: images.view(-1, 28, 28).permute(2, 0, 1), Status.WRONG, "a column"),
    (lambda images: images.permute(2, 0, 3, 1), Status.WRONG, "shape (28, 7, 28)"),
    (lambda images: images.squeeze(1).transpose(0, 1), Status.PASSED, "permute"),
    (lambda images: images.view(-1, 28, 28).permute(1, 0, 2).contiguous(), Status.PASSED, ""),
])
def test_check_seq_first_input(answer, status, phrase):
    _expect(checks.check_seq_first_input(answer), status, phrase)


def _prepare(model, images, device):
    model = model.to(device)
    x = images.to(device).view(-1, 28, 28)
    return model, x, (x.new_zeros(model.layer_dim, x.size(0), model.hidden_dim),
                      x.new_zeros(model.layer_dim, x.size(0), model.hidden_dim))


def _forgets_the_states(model, images, device):
    model, x, _ = _prepare(model, images, device)
    zeros = torch.zeros(model.layer_dim, x.size(0), model.hidden_dim)
    return model, x, (zeros, zeros)


def _forgets_to_assign(model, images, device):
    images.to(device)
    model, _, states = _prepare(model, images, device)
    return model, images.view(-1, 28, 28), states


@pytest.mark.parametrize("answer, status, phrase", [
    (..., Status.NOT_DONE, "placeholder"),
    (lambda model, images, device: None, Status.NOT_DONE, "placeholder"),
    (lambda model, images, device: (model, images), Status.WRONG, "return three things"),
    (lambda model, images, device: (copy.deepcopy(model),) + _prepare(model, images,
                                                                      device)[1:],
     Status.WRONG, "model's parameters are on cpu"),
    (_forgets_to_assign, Status.WRONG, "returns a new tensor"),
    (_forgets_the_states, Status.WRONG, "h0 is on cpu"),
    (lambda model, images, device: (model.to(device), images.to(device),
                                    _prepare(model, images, device)[2]), Status.WRONG,
     "(6, 28, 28)"),
    (lambda model, images, device: _prepare(model, images, device)[:2] + ((1, 2),),
     Status.WRONG, "h0 should be a tensor"),
    (_prepare, Status.PASSED, "meta"),
])
def test_check_one_device(answer, status, phrase):
    _expect(checks.check_one_device(answer), status, phrase)


def _accuracy(model, batches, *, train_mode=False, grads=False, as_int=False, per_batch=False):
    if not train_mode:
        model.eval()
    correct = total = 0
    scores = []
    with torch.set_grad_enabled(grads):
        for images, labels in batches:
            hits = (model(images.view(-1, 28, 28)).argmax(dim=1) == labels).sum().item()
            scores.append(100 * hits / labels.numel())
            correct, total = correct + hits, total + labels.numel()
    if per_batch:
        return sum(scores) / len(scores)
    return 100 * correct // total if as_int else 100.0 * correct / total


def _calls_the_model_but_returns_nothing(model, batches):
    for images, _ in batches:
        model(images.view(-1, 28, 28))


@pytest.mark.parametrize("answer, status, phrases", [
    (..., Status.NOT_DONE, ["placeholder"]),
    (lambda model, batches: None, Status.NOT_DONE, ["placeholder"]),
    (_calls_the_model_but_returns_nothing, Status.NOT_DONE, ["`return` line"]),
    (lambda model, batches: [_accuracy(model, batches)], Status.WRONG, ["as a float"]),
    ("accuracy", Status.WRONG, ["should be a function"]),
    (lambda model, batches: model(next(iter(batches))[0]), Status.WRONG, ["(batch, 1, 28, 28)"]),
    (lambda model, batches: _accuracy(model, batches, train_mode=True), Status.WRONG,
     ["training mode"]),
    (lambda model, batches: _accuracy(model, batches, grads=True), Status.WRONG,
     ["Gradients were recorded"]),
    (lambda model, batches: _accuracy(model, batches, as_int=True), Status.WRONG,
     ["whole number 70", "floor"]),
    (lambda model, batches: _accuracy(model, batches) / 100, Status.WRONG, ["percent"]),
    (lambda model, batches: _accuracy(model, batches, per_batch=True), Status.WRONG,
     ["smaller last batch"]),
    (lambda model, batches: torch.tensor(_accuracy(model, batches)), Status.WRONG, [".item()"]),
    (lambda model, batches: 12.5, Status.WRONG, ["never called", "argmax"]),
    (_accuracy, Status.PASSED, ["float percentage"]),
])
def test_check_accuracy_function(answer, status, phrases):
    _expect(checks.check_accuracy_function(answer), status, *phrases)


class _BiLSTM(nn.Module):
    def __init__(self, input_dim, hidden_dim, layer_dim, output_dim, readout="states",
                 bidirectional=True, batch_first=True, fc_in=None):
        super().__init__()
        self.readout = readout
        self.lstm = nn.LSTM(input_dim, hidden_dim, layer_dim, batch_first=batch_first,
                            bidirectional=bidirectional)
        self.fc = nn.Linear(fc_in or 2 * hidden_dim, output_dim)

    def forward(self, x):
        out, (h_n, _) = self.lstm(x)
        if self.readout == "last step":
            return self.fc(out[:, -1, :])
        if self.readout == "mean":
            return self.fc(out.mean(dim=1))
        if self.readout == "placeholder":
            return ...
        first, second = (h_n[-1], h_n[-2]) if self.readout == "swapped" else (h_n[-2], h_n[-1])
        return self.fc(torch.cat([first, second], dim=1))


def _variant(**options):
    return lambda *sizes: _BiLSTM(*sizes, **options)


class _Empty(nn.Module):
    def __init__(self, *sizes):
        super().__init__()

    def forward(self, x):
        return ...


@pytest.mark.parametrize("answer, status, phrase", [
    (..., Status.NOT_DONE, "placeholder"),
    (_Empty, Status.NOT_DONE, "no layers yet"),
    (_variant(readout="placeholder"), Status.NOT_DONE, "forward still returns"),
    ("BiLSTM", Status.WRONG, "should be a class"),
    (lambda *sizes: 3, Status.WRONG, "nn.Module"),
    (lambda *sizes: nn.Linear(2, 2), Status.WRONG, "exactly one nn.LSTM"),
    (_variant(bidirectional=False, fc_in=16), Status.WRONG, "one direction"),
    (_variant(batch_first=False), Status.WRONG, "(seq, batch, feature)"),
    (_variant(fc_in=16), Status.WRONG, "needs 32 inputs"),
    (_variant(readout="last step"), Status.WRONG, "after a single step"),
    (_variant(readout="mean"), Status.WRONG, "final states"),
    (_variant(), Status.PASSED, "Both directions"),
    (_variant(readout="swapped"), Status.PASSED, ""),
])
def test_check_bidirectional(answer, status, phrase):
    _expect(checks.check_bidirectional(answer), status, phrase)


@pytest.mark.parametrize("answer, status, phrase", [
    (..., Status.NOT_DONE, "placeholder"),
    (lambda model: None, Status.NOT_DONE, "placeholder"),
    (lambda model: "Adam", Status.WRONG, "optimizer from torch.optim"),
    (lambda model: torch.optim.Adam(nn.Linear(2, 2).parameters()), Status.WRONG,
     "does not update 14"),
    (lambda model: torch.optim.Adam(model.fc.parameters()), Status.WRONG, "does not update 12"),
    (lambda model: 1 / 0, Status.WRONG, "ZeroDivisionError"),
])
def test_check_slow_start_fix_before_training(answer, status, phrase):
    # These answers are judged before any training; the passing one trains (see the
    # notebook tests above).
    _expect(checks.check_slow_start_fix(answer, [], []), status, phrase)


def test_checks_leave_the_random_state_alone():
    torch.manual_seed(123)
    state = torch.get_rng_state()
    checks.check_bidirectional(_variant())
    checks.check_accuracy_function(_accuracy)
    checks.check_one_device(_prepare)
    assert torch.equal(torch.get_rng_state(), state)
