"""The classroom exercises: the checks, the student notebooks and the generator behind them.

* every check answers placeholders with NOT_DONE, slips with WRONG and a hint, and the right
  answer with PASSED, without raising on whatever a student hands in; its text starts with
  a word ("Correct", "Not yet", "Not done yet");
* ``Feedback.require()`` prints in a student's session and fails the cell when grading;
* the loopholes the plain checks once let through are caught: by the instant check where it
  is cheap, by the grader-only checks (classroom/grading/hidden-checks/) otherwise;
* every instructor notebook, executed, passes all its checks;
* every student notebook, executed, runs to the end and all its checks say NOT_DONE;
* the generator is idempotent, the committed student notebooks are current, and it never
  overwrites a student's work (only stale files, or with --force).

nbval executes the same notebooks in a Jupyter kernel (the student ones with their outputs
ignored); here they run in-process so that the checks' results can be read directly.
tests/test_grading.py grades them with nbgrader itself.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import importlib.util
import io
import json
import math
import shutil
from pathlib import Path
from unittest import mock

import jupytext
import nbformat
import pytest
import torch
from jupytext.config import load_jupytext_config
from torch import nn

from classroom import assignments, markers
from classroom.grading.hidden import load_hidden_checks
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
HIDDEN = {source.stem: load_hidden_checks(source.stem) for source in SOURCES}  # grader-only
# Exercises that train models for about half a minute: marked slow, so make check skips them.
SLOW_EXERCISES = {"ex7_slow_start"}


def _marked(paths: list[Path]) -> list:
    return [pytest.param(path, marks=pytest.mark.slow) if path.stem in SLOW_EXERCISES else path
            for path in paths]


# ---------------------------------------------------------------------------------------------
# Running a notebook in this process and collecting what its checks returned.

def _run_cells(cells: list[str]) -> tuple[list[Feedback], str]:
    """Execute code cells in one namespace; return the Feedback of every ``.require()`` call
    (in order) and stdout."""
    namespace: dict = {"__name__": "__main__"}
    results, stdout = [], io.StringIO()
    require = Feedback.require

    def recording(feedback, strict=None):
        results.append(feedback)
        return require(feedback, strict)

    with contextlib.redirect_stdout(stdout), mock.patch.object(Feedback, "require", recording):
        for source in cells:
            exec(compile(ast.parse(source), "<cell>", "exec"), namespace)
    return results, stdout.getvalue()


def _code_cells(notebook) -> list[str]:
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def _require_calls(cells: list[str]) -> int:
    return sum(source.count(".require()") for source in cells)


@pytest.fixture(autouse=True)
def _no_progress_bars(monkeypatch):
    monkeypatch.setenv("TQDM_DISABLE", "1")


def test_there_are_at_least_six_exercises_each_with_a_student_version():
    assert len(SOURCES) >= 6
    assert all(path.exists() for path in STUDENT)


def test_every_exercise_has_its_check_module_named_like_its_notebook():
    assert checks.EXERCISE_MODULES == [source.stem for source in SOURCES]
    for source in SOURCES:
        called = set(assignments.CHECK_CALL.findall(source.read_text()))
        module = getattr(checks, source.stem)
        assert called and called <= set(module.__all__), source.name


@pytest.mark.parametrize("source", _marked(SOURCES), ids=lambda p: p.stem)
def test_every_solution_passes_its_checks(source):
    cells = _code_cells(jupytext.read(source))
    results, _ = _run_cells(cells)
    assert len(results) == _require_calls(cells) >= 1
    failed = [str(r) for r in results if not r.passed]
    assert not failed, "\n\n".join(failed)


@pytest.mark.parametrize("student", _marked(STUDENT), ids=lambda p: p.stem)
def test_every_student_version_runs_and_reports_not_done(student):
    cells = _code_cells(nbformat.read(student, as_version=4))
    results, stdout = _run_cells(cells)
    assert len(results) == _require_calls(cells) >= 1
    assert [r.status for r in results] == [Status.NOT_DONE] * len(results), \
        "\n\n".join(map(str, results))
    assert stdout.count("Not done yet: Exercise") == len(results)
    assert "hidden_check" not in "".join(cells)


# ---------------------------------------------------------------------------------------------
# nbgrader's source notebooks, written from the exercise sources.

def test_the_source_notebook_marks_answers_checks_and_read_only_cells():
    notebook = assignments.source_notebook(SOURCES[0])  # exercise 1
    kinds = {}
    for cell in notebook.cells:
        meta = cell.metadata["nbgrader"]
        kind = "answer" if meta["solution"] else "check" if meta["grade"] else "read-only"
        kinds.setdefault(kind, []).append(meta["grade_id"])
        assert meta["locked"] == (kind != "answer")
        if kind == "check":
            assert meta["points"] == assignments.POINTS_PER_CHECK
            assert "HIDDEN" not in cell.source  # the grader-only checks live in classroom/
    assert kinds["answer"] == ["answer-count_parameters"]
    assert kinds["check"] == ["check_parameter_count"]
    assert len(kinds["read-only"]) == len(notebook.cells) - 2
    assert notebook.metadata["kernelspec"] == assignments.KERNELSPEC
    executed = nbformat.read(SOURCES[0].with_suffix(".ipynb"), as_version=4)
    assert notebook.metadata["language_info"] == executed.metadata["language_info"]


@pytest.mark.parametrize("text, message", [
    ("# %%\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n\n# %%\nchecks.check_x(x)\n",
     "without .require()"),
    (("# %%\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n\n# %%\nprint(x)\n"
      "### BEGIN HIDDEN TESTS\nassert x\n### END HIDDEN TESTS\n"), "not written in the notebook"),
    (("# %%\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n\n# %%\n"
      "checks.check_x(x).require()\nprint(x)\n"), "holds only calls"),
    (("# %%\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n\n# %%\n"
      "checks.check_x(x, y).require()\n"), "no locked cell makes"),
    ("# %%\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", "no check cell"),
    ("# %%\nx = 1\n\n# %%\nchecks.check_x(x).require()\n", "no ### BEGIN SOLUTION"),
    (("# %%\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n\n# %%\nchecks.check_x(x).require()"
      "\n### BEGIN HIDDEN TESTS\nassert x\n"), "never closed"),
])
def test_a_malformed_exercise_is_refused_with_the_place(tmp_path, text, message):
    source = tmp_path / "ex9_broken.py"
    source.write_text(text)
    shutil.copy2(SOURCES[0].with_suffix(".ipynb"), source.with_suffix(".ipynb"))
    with pytest.raises(markers.SolutionMarkerError, match=message) as error:
        assignments.source_notebook(source)
    assert "ex9_broken.py" in str(error.value)


def test_an_exercise_never_executed_is_refused(tmp_path):
    source = tmp_path / "ex9_new.py"
    shutil.copy2(SOURCES[0], source)
    with pytest.raises(FileNotFoundError, match="run_course.py"):
        assignments.source_notebook(source)


def test_exercise_sources_are_in_course_order(tmp_path):
    for name in ("ex10_late.py", "ex2_b.py", "ex1_a.py", "notes.py"):
        (tmp_path / name).write_text("")
    assert [p.name for p in assignments.exercise_sources(tmp_path)] == [
        "ex1_a.py", "ex2_b.py", "ex10_late.py"]


# ---------------------------------------------------------------------------------------------
# The generator.

def test_committed_student_notebooks_are_up_to_date():
    assert generator.stale_files() == [], "run `make student` and commit the result"


@pytest.mark.parametrize("student", STUDENT, ids=lambda p: p.stem)
def test_student_notebooks_carry_jupyterlabs_metadata_and_a_fingerprint(student):
    notebook = json.loads(student.read_text())
    source = next(s for s in SOURCES if s.stem == student.stem)
    executed = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    assert notebook["metadata"]["kernelspec"] == generator.KERNELSPEC
    assert notebook["metadata"]["language_info"] == executed.metadata["language_info"]
    assert notebook["metadata"]["lstm_course"]["cells_sha256"] == \
        generator.fingerprint(notebook["cells"])
    assert generator.student_changes(student) is None


@pytest.mark.parametrize("student", STUDENT, ids=lambda p: p.stem)
def test_every_student_code_cell_has_one_nbval_marker(student):
    # The tag, or the comment the instructor wrote; never both (nbval warns about overlap).
    for cell in nbformat.read(student, as_version=4).cells:
        if cell.cell_type == "code":
            tagged = assignments.NBVAL_TAG in cell.metadata.get("tags", [])
            commented = assignments.NBVAL_COMMENT.search(cell.source) is not None
            assert tagged != commented, f"{student.name}: {cell.source[:80]!r}"


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
        assert theirs.metadata.get("editable", True)  # answers stay editable
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
    student_copy = generator.STUDENT / f"{SOURCES[0].stem}.ipynb"
    assert load_jupytext_config(str(student_copy)).default_formats(str(student_copy)) == \
        "student///ipynb"  # saved alone, never paired with a .py
    assert not list(generator.STUDENT.glob("*.py"))
    course = _load_script("run_course").course_notebooks()
    assert set(SOURCES) <= set(course)
    assert not [path for path in course if "student" in path.parts]


@pytest.fixture(scope="module")
def one_exercise(tmp_path_factory):
    """A copy of exercise 1 (source and executed notebook) to edit, in its own folder."""
    folder = tmp_path_factory.mktemp("exercises")
    for suffix in (".py", ".ipynb"):
        shutil.copy2(SOURCES[0].with_suffix(suffix), folder / SOURCES[0].with_suffix(suffix).name)
    return folder / SOURCES[0].name


def _type_an_answer(path: Path) -> None:
    notebook = json.loads(path.read_text())
    answer = next(c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("solution"))
    answer["source"] = "def count_parameters(*sizes):\n    return 42\n"
    path.write_text(json.dumps(notebook, indent=1))


def test_generation_is_idempotent_and_removes_only_untouched_orphans(tmp_path, one_exercise):
    first, refusals = generator.write_student_notebooks(tmp_path, [one_exercise])
    assert refusals == []
    texts = {path.name: path.read_bytes() for path in first}
    shutil.copy2(tmp_path / f"{one_exercise.stem}.ipynb", tmp_path / "ex0_gone.ipynb")
    (tmp_path / "my_notes.ipynb").write_text("{}")  # not generated: left alone
    second, refusals = generator.write_student_notebooks(tmp_path, [one_exercise])
    assert (first, refusals) == (second, [])
    assert {path.name: path.read_bytes() for path in second} == texts
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*texts, "my_notes.ipynb"])
    assert generator.stale_files(tmp_path, [one_exercise]) == []


def test_a_student_notebook_holding_work_is_never_overwritten(tmp_path, one_exercise):
    generator.write_student_notebooks(tmp_path, [one_exercise])
    mine = tmp_path / f"{one_exercise.stem}.ipynb"
    _type_an_answer(mine)
    typed = mine.read_bytes()
    written, refusals = generator.write_student_notebooks(tmp_path, [one_exercise])
    assert written == [] and len(refusals) == 1
    assert mine.read_bytes() == typed  # nothing written at all
    message = refusals[0]
    answer = 1 + next(i for i, c in enumerate(nbformat.read(mine, as_version=4).cells)
                      if c.metadata.get("nbgrader", {}).get("solution"))
    assert str(mine) in message and f"cell {answer} (counting from the top)" in message
    assert f"mv {mine} {mine.with_name(mine.stem + '.mine.ipynb')}" in message
    assert "make student FORCE=1" in message and "--force" in message
    assert generator.preflight(tmp_path) != []
    # Kept under another name, it stays; the generated version comes back beside it.
    mine.rename(mine.with_name(mine.stem + ".mine.ipynb"))
    written, refusals = generator.write_student_notebooks(tmp_path, [one_exercise])
    assert refusals == [] and mine.exists()
    assert mine.with_name(mine.stem + ".mine.ipynb").read_bytes() == typed
    # --force discards the work.
    _type_an_answer(mine)
    written, refusals = generator.write_student_notebooks(tmp_path, [one_exercise], force=True)
    assert refusals == [] and generator.student_changes(mine) is None


def test_outputs_are_not_work_and_a_stale_notebook_is_replaced(tmp_path, one_exercise):
    generator.write_student_notebooks(tmp_path, [one_exercise])
    mine = tmp_path / f"{one_exercise.stem}.ipynb"
    notebook = nbformat.read(mine, as_version=4)
    code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", text="ran\n")]
    code.execution_count = 1
    nbformat.write(notebook, mine)  # run and saved: outputs only
    assert generator.student_changes(mine) is None
    edited = one_exercise.parent / "changed" / one_exercise.name
    edited.parent.mkdir(exist_ok=True)
    shutil.copy2(one_exercise.with_suffix(".ipynb"), edited.with_suffix(".ipynb"))
    edited.write_text(one_exercise.read_text().replace("# # Exercise 1:", "# # Exercise 1 (new):"))
    _, refusals = generator.write_student_notebooks(tmp_path, [edited])
    assert refusals == []
    assert "Exercise 1 (new):" in mine.read_text()


def test_the_command_line_refuses_and_says_so(tmp_path, one_exercise, monkeypatch, capsys):
    generator.write_student_notebooks(tmp_path, [one_exercise])
    _type_an_answer(tmp_path / f"{one_exercise.stem}.ipynb")
    monkeypatch.setattr(generator, "STUDENT", tmp_path)
    monkeypatch.setattr(generator, "exercise_sources", lambda: [one_exercise])
    for arguments in ([], ["--preflight"]):
        assert generator.main(arguments) == 1
        error = capsys.readouterr().err
        assert error.startswith(f"refused: {tmp_path}/{one_exercise.stem}.ipynb holds work")
        assert "Nothing was written" in error
    assert generator.main(["--force"]) == 0


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
    student, blocks = markers.strip_solutions(source)
    assert blocks == 1
    assert student == ("def f(x):\n    '''Doc.'''\n    # YOUR CODE HERE\n    y = ...\n\n"
                       "    return ...\n\nz = 1")
    assert markers.solution_only(source) == ("def f(x):\n    '''Doc.'''\n    y = x + 1\n"
                                             "    return y\n\nz = 1")


def test_a_block_without_placeholder_leaves_an_ellipsis():
    student, blocks = markers.strip_solutions("### BEGIN SOLUTION\nprint(1)\n### END SOLUTION")
    assert (student, blocks) == ("# YOUR CODE HERE\n...", 1)
    assert markers.strip_solutions("x = 1  # no markers") == ("x = 1  # no markers", 0)


@pytest.mark.parametrize("source, message", [
    ("### BEGIN SOLUTION\nx = 1", "never closed"),
    ("x = 1\n### END SOLUTION", "outside a solution block"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside a solution block"),
    ("### BEGIN SOLUTION\nx = 1\n### PLACEHOLDER\nx = ...\n### END SOLUTION",
     "must be comments"),
    ("def f():\n### BEGIN SOLUTION\n    return 1\n### END SOLUTION", "not valid Python"),
])
def test_malformed_solution_blocks_are_refused_with_the_place(source, message):
    with pytest.raises(markers.SolutionMarkerError, match=message) as error:
        markers.strip_solutions(source, "ex9.py, cell 3")
    assert "ex9.py, cell 3" in str(error.value)


@pytest.mark.parametrize("source, message", [
    ("### BEGIN HIDDEN TESTS\nassert 1", "never closed"),
    ("### END HIDDEN TESTS", "without a BEGIN"),
    ("### BEGIN HIDDEN TESTS\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS", "inside"),
    ("x = 1  ### BEGIN HIDDEN TESTS", "misspelt"),
])
def test_malformed_hidden_test_blocks_are_refused(source, message):
    with pytest.raises(markers.SolutionMarkerError, match=message):
        markers.hidden_test_blocks(source, "ex9.py, cell 4")


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


def test_feedback_starts_with_a_word_then_the_message_and_hint():
    feedback = Feedback("Exercise 9 (x)", Status.WRONG, "It is off.", "look again.")
    assert str(feedback) == "Not yet: Exercise 9 (x) ✗\nIt is off.\nHint: look again."
    assert not feedback and not feedback.passed and feedback.label == "Not yet"
    passed = Feedback("E", Status.PASSED, "Fine.")
    assert passed and str(passed) == "Correct: E ✓\nFine."
    assert str(Feedback("E", Status.NOT_DONE, "Later.")) == "Not done yet: E\nLater."


@pytest.mark.parametrize("status", list(Status))
def test_require_prints_and_never_raises_in_a_students_session(status, capsys, monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.setattr(checks.feedback, "_GRADING_AT_IMPORT", False)
    feedback = Feedback("E", status, "Said.")
    assert feedback.require() is None
    assert capsys.readouterr().out == str(feedback) + "\n"


@pytest.mark.parametrize("status", [Status.WRONG, Status.NOT_DONE])
def test_require_fails_the_cell_when_grading_unless_passed(status, capsys, monkeypatch):
    feedback = Feedback("E", status, "Said.", "Try.")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(AssertionError) as error:
        feedback.require()
    assert str(error.value) == str(feedback)
    monkeypatch.delenv("NBGRADER_EXECUTION")
    monkeypatch.setattr(checks.feedback, "_GRADING_AT_IMPORT", True)  # removed after import
    with pytest.raises(AssertionError):
        feedback.require()
    monkeypatch.setattr(checks.feedback, "_GRADING_AT_IMPORT", False)
    with pytest.raises(AssertionError):
        feedback.require(strict=True)
    Feedback("E", Status.PASSED, "Fine.").require(strict=True)
    assert capsys.readouterr().out == "Correct: E ✓\nFine.\n"


# The loopholes: caught at once where cheap, by the hidden tests otherwise.

def test_a_count_that_builds_a_model_is_refused_before_it_allocates():
    def builds(i, h, layers, o):
        return sum(p.numel() for p in checks.ex1_parameter_count.LSTMModel(i, h, layers,
                                                                            o).parameters())
    _expect(checks.check_parameter_count(builds), Status.WRONG, "builds a model", "formula")
    hidden = HIDDEN["ex1_parameter_count"].hidden_check_parameter_count
    _expect(hidden(builds), Status.WRONG, "builds a model")
    _expect(hidden(_count), Status.PASSED, "5 further sizes")
    table = {(28, 100, 1, 10): 53010, (28, 100, 2, 10): 133810, (28, 100, 3, 10): 214610}
    _expect(hidden(lambda *sizes: table.get(sizes, 0)), Status.WRONG, "For input_dim=3")
    assert isinstance(torch.nn.Linear(2, 2), nn.Module)  # module creation works again


@pytest.mark.parametrize("check, answer", [
    (checks.check_batch_first_input, lambda images: images.squeeze()),
    (checks.check_seq_first_input, lambda images: images.squeeze().permute(1, 0, 2)),
    (HIDDEN["ex3_input_shapes"].hidden_check_batch_first_input, lambda images: images.squeeze()),
])
def test_squeeze_without_a_dimension_fails_on_a_batch_of_one(check, answer):
    _expect(check(answer), Status.WRONG, "(1, 1, 28, 28)", "squeeze() without a dimension")


def test_the_shape_checks_refuse_an_answer_that_changes_its_input():
    _expect(checks.check_batch_first_input(lambda images: images.squeeze_(1)), Status.WRONG,
            "changed the images it was given")


@pytest.mark.parametrize("hidden, answer", [
    (HIDDEN["ex3_input_shapes"].hidden_check_batch_first_input, lambda im: im.view(-1, 28, 28)),
    (HIDDEN["ex3_input_shapes"].hidden_check_seq_first_input,
     lambda im: im.squeeze(1).transpose(0, 1)),
    (HIDDEN["ex4_one_device"].hidden_check_one_device, lambda *args: _prepare(*args)),
    (HIDDEN["ex5_evaluation_loop"].hidden_check_accuracy_function, lambda *args: _accuracy(*args)),
    (HIDDEN["ex6_bidirectional"].hidden_check_bidirectional, lambda *sizes: _BiLSTM(*sizes)),
])
def test_the_hidden_tests_pass_right_answers(hidden, answer):
    _expect(hidden(answer), Status.PASSED)


@pytest.mark.parametrize("hidden", [
    HIDDEN["ex1_parameter_count"].hidden_check_parameter_count,
    HIDDEN["ex3_input_shapes"].hidden_check_batch_first_input,
    HIDDEN["ex4_one_device"].hidden_check_one_device,
    HIDDEN["ex5_evaluation_loop"].hidden_check_accuracy_function,
    HIDDEN["ex6_bidirectional"].hidden_check_bidirectional,
])
def test_the_hidden_tests_answer_placeholders_with_not_done(hidden):
    _expect(hidden(...), Status.NOT_DONE, "placeholder")


def test_an_evaluation_loop_with_counts_of_one_test_set_is_refused():
    def hard_coded(model, batches):
        model.eval()
        with torch.no_grad():
            correct = sum((model(images.view(-1, 28, 28)).argmax(dim=1) == labels).sum().item()
                          for images, labels in batches)
        return 100.0 * correct / 300
    _expect(checks.check_accuracy_function(hard_coded), Status.WRONG, "On 130 images",
            "right on the first test set")
    _expect(checks.check_accuracy_function(lambda model, batches: _accuracy(model, batches)
                                           and 100 * 211 / 300), Status.WRONG, "On 130 images")


def test_states_of_a_hard_coded_shape_pass_the_visible_check_but_not_the_hidden_one():
    def hard_coded(model, images, device):
        x = images.to(device).view(-1, 28, 28)
        h0 = torch.zeros(2, 6, 16, device=device)
        return model.to(device), x, (h0, torch.zeros_like(h0))
    _expect(checks.check_one_device(hard_coded), Status.PASSED)
    _expect(HIDDEN["ex4_one_device"].hidden_check_one_device(hard_coded), Status.WRONG,
            "expected (3, 1, 8)", "not from constants")


def test_a_readout_of_a_hard_coded_size_fails_the_hidden_check():
    answer = _variant(fc_in=32)
    _expect(checks.check_bidirectional(answer), Status.PASSED)
    _expect(HIDDEN["ex6_bidirectional"].hidden_check_bidirectional(answer), Status.WRONG,
            "needs 16 inputs")


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


def test_the_assignments_command_refuses_an_unknown_exercise(capsys):
    assert assignments.main(["ex99_nothing"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: no exercise called ex99_nothing; the exercises are ")
    assert "ex1_parameter_count" in error


# ---------------------------------------------------------------------------------------------
# Exercise 8: the training loop. Each answer below is one slip in otherwise right code; the
# check must name it. A wrong answer stops the check after two iterations, so these are quick.

@pytest.fixture(scope="module")
def mnist_batches():
    """The notebook's data: 10,000 training images in shuffled batches of 100 and 1,000
    test images in batches of 500, shaped (batch, 1, 28, 28) like a DataLoader's."""
    import lstm_helpers as lh
    train_images, train_labels = lh.mnist_tensors(train=True)
    test_images, test_labels = lh.mnist_tensors(train=False)
    return (lh.TensorBatches(train_images[:10_000].unsqueeze(1), train_labels[:10_000], 100,
                             shuffle=True),
            lh.TensorBatches(test_images[:1_000].unsqueeze(1), test_labels[:1_000], 500))


def _iteration(order="ZFLBS", *, view=True, sizes=None, returns="item"):
    """A train_step that runs its lines in ``order``: Z zero_grad, F forward, L loss,
    B backward, S step (a letter left out is a line forgotten, one written twice runs
    twice). ``sizes`` replaces (seq_dim, input_dim) in the view; ``returns`` picks what it
    returns."""
    def train_step(model, criterion, optimizer, images, labels, seq_dim, input_dim):
        if view:
            images = images.view(*(sizes or (-1, seq_dim, input_dim)))
        actions = {"Z": lambda: optimizer.zero_grad(),
                   "F": lambda: state.__setitem__("outputs", model(images)),
                   "L": lambda: state.__setitem__("loss", criterion(state["outputs"], labels)),
                   "B": lambda: state["loss"].backward(retain_graph=True),
                   "S": lambda: optimizer.step()}
        state = {}
        for letter in order:
            actions[letter]()
        loss = state.get("loss")
        return {"item": lambda: loss.item(), "tensor": lambda: loss,
                "none": lambda: None}[returns]()
    return train_step


def _backward_before_the_loss(model, criterion, optimizer, images, labels, seq_dim, input_dim):
    images = images.view(-1, seq_dim, input_dim)
    optimizer.zero_grad()
    outputs = model(images)
    loss.backward()  # noqa: F821 (the slip: this batch's loss is computed on the next line)
    loss = criterion(outputs, labels)
    optimizer.step()
    return loss.item()


def _previous_batchs_loss():
    """Backward on the loss kept from the previous call (computed after its step, so no
    error is raised: the weights have not changed since)."""
    kept = []

    def train_step(model, criterion, optimizer, images, labels, seq_dim, input_dim):
        x = images.view(-1, seq_dim, input_dim)
        optimizer.zero_grad()
        (kept.pop() if kept else criterion(model(x), labels)).backward()
        optimizer.step()
        kept.append(criterion(model(x), labels))
        return kept[-1].item()
    return train_step


def _previous_batchs_loss_again():
    """Backward on the previous call's loss, which was already backpropagated: an error."""
    kept = []

    def train_step(model, criterion, optimizer, images, labels, seq_dim, input_dim):
        optimizer.zero_grad()
        loss = criterion(model(images.view(-1, seq_dim, input_dim)), labels)
        (kept[-1] if kept else loss).backward()
        optimizer.step()
        kept.append(loss)
        return loss.item()
    return train_step


def _backward_twice_without_retaining(model, criterion, optimizer, images, labels, seq_dim,
                                      input_dim):
    optimizer.zero_grad()
    loss = criterion(model(images.view(-1, seq_dim, input_dim)), labels)
    loss.backward()
    loss.backward()
    optimizer.step()
    return loss.item()


def _with(before=None, *, grad=True, backward_on=None, criterion=None, update=None,
          returns_after_step=False):
    """A right iteration with one change: ``before(model)`` first, gradients off, backward
    on ``backward_on(loss, logits)``, another ``criterion``, a hand-made ``update`` instead
    of the optimizer's step, or the loss after the step returned."""
    def train_step(model, criterion_given, optimizer, images, labels, seq_dim, input_dim):
        if before:
            before(model)
        x = images.view(-1, seq_dim, input_dim)
        optimizer.zero_grad()
        with torch.set_grad_enabled(grad):
            logits = model(x)
            loss = (criterion or criterion_given)(logits, labels)
        (backward_on(loss, logits) if backward_on else loss).backward()
        if update:
            update(model)
        else:
            optimizer.step()
        if returns_after_step:
            return criterion_given(model(x), labels).item()
        return loss.item()
    return train_step


def _by_hand(model):
    with torch.no_grad():
        for parameter in model.parameters():
            parameter -= 0.1 * parameter.grad


@pytest.mark.parametrize("answer, status, phrases", [
    (..., Status.NOT_DONE, ["placeholder"]),
    (lambda *args: ..., Status.NOT_DONE, ["placeholder"]),
    (_iteration(returns="none"), Status.NOT_DONE, ["`return` line"]),
    ("train_step", Status.WRONG, ["should be a function"]),
    (_iteration("ZFLB"), Status.WRONG, ["Step forgotten", "every weight is exactly what it was"]),
    (_iteration("FLBS"), Status.WRONG, ["zero_grad forgotten", "the gradients accumulate",
                                        "from iteration 2 on"]),
    (_iteration("FLB"), Status.WRONG, ["Step forgotten", "zero_grad forgotten"]),
    (_backward_before_the_loss, Status.WRONG, ["UnboundLocalError",
                                               "Backward before the loss of this batch"]),
    (_previous_batchs_loss(), Status.WRONG, ["Backward on the loss of an earlier batch",
                                             "in iteration 2"]),
    (_previous_batchs_loss_again(), Status.WRONG, ["In iteration 2",
                                                   "Backward on the loss of an earlier batch"]),
    (_iteration("ZFLS"), Status.WRONG, ["Backward forgotten", "never change"]),
    (_iteration("ZFLSB"), Status.WRONG, ["Step before backward", "found .grad empty"]),
    (_iteration("FLSB"), Status.WRONG, ["modified by an inplace operation",
                                        "Step before backward"]),
    (_iteration("FLBZS"), Status.WRONG, ["cleared between backward and step"]),
    (_iteration("ZFLBBS"), Status.WRONG, ["Backward ran 2 times in iteration 1"]),
    (_backward_twice_without_retaining, Status.WRONG, ["Backward twice"]),
    (_iteration("ZFLBSS"), Status.WRONG, ["Step ran 2 times in iteration 1"]),
    (_iteration("ZFLBS", view=False), Status.WRONG, ["(100, 1, 28, 28)",
                                                     "view them as (batch, seq_dim, input_dim)"]),
    (_with(lambda model: model.eval()), Status.WRONG, ["ran in evaluation mode"]),
    (_with(grad=False), Status.WRONG, ["gradients switched off", "right for evaluation"]),
    (_with(backward_on=lambda loss, logits: torch.tensor(loss.item())), Status.WRONG,
     ["not the loss tensor itself"]),
    (_with(backward_on=lambda loss, logits: logits), Status.WRONG, ["tensor of many numbers"]),
    (_with(criterion=nn.CrossEntropyLoss()), Status.WRONG, ["criterion passed to train_step"]),
    (_with(update=_by_hand), Status.WRONG, ["The weights changed", "never stepped"]),
    (_iteration(returns="tensor"), Status.WRONG, [".item()"]),
    (_with(returns_after_step=True), Status.WRONG, ["the one of this batch before the step"]),
    (lambda *args: 2.3, Status.WRONG, ["never called"]),
])
def test_check_train_step_names_each_slip(mnist_batches, answer, status, phrases):
    _expect(checks.check_train_step(answer, mnist_batches[0]), status, *phrases)


def test_check_train_step_passes_every_right_order(mnist_batches):
    train_batches = mnist_batches[0]
    _expect(checks.check_train_step(_iteration("FLBSZ"), train_batches), Status.PASSED,
            "100 iterations", "this batch's gradient alone")
    hidden = HIDDEN["ex8_training_loop"].hidden_check_train_step
    _expect(hidden(_iteration("FZLBS"), train_batches), Status.PASSED, "14 time steps")
    _expect(hidden(_with(lambda model: model.train()), train_batches), Status.PASSED)


def _batch_size_written(model, criterion, optimizer, images, labels, seq_dim, input_dim):
    images = images.view(100, seq_dim, input_dim)  # the slip: 100 written into the code
    optimizer.zero_grad()
    loss = criterion(model(images), labels)
    loss.backward()
    optimizer.step()
    return loss.item()


def _squeezed(model, criterion, optimizer, images, labels, seq_dim, input_dim):
    optimizer.zero_grad()
    loss = criterion(model(images.squeeze(1)), labels)  # always 28 rows of 28 pixels
    loss.backward()
    optimizer.step()
    return loss.item()


@pytest.mark.parametrize("answer, phrase", [
    (_iteration(sizes=(-1, 28, 28)), "seq_dim=14 and input_dim=56"),
    (_squeezed, "Take both sizes from the arguments"),
    (_batch_size_written, "a batch of 37 images"),
])
def test_sizes_written_into_train_step_fail_the_hidden_check_only(mnist_batches, answer, phrase):
    _expect(checks.check_train_step(answer, mnist_batches[0]), Status.PASSED)
    _expect(HIDDEN["ex8_training_loop"].hidden_check_train_step(answer, mnist_batches[0]),
            Status.WRONG, phrase)


def _evaluation(*, mode=True, no_grad=True, restore=True, returns="item", sizes=None,
                then=None):
    """A test_loss with one change: no ``mode`` switch to eval, gradients on (``no_grad``
    False), the model not put back into training mode, another return value, fixed view
    ``sizes``, or ``then(model, loss)`` run after the measurement."""
    def test_loss(model, criterion, images, labels, seq_dim, input_dim):
        if mode:
            model.eval()
        with torch.set_grad_enabled(not no_grad):
            loss = criterion(model(images.view(*(sizes or (-1, seq_dim, input_dim)))), labels)
        if then:
            then(model, loss)
        if restore:
            model.train()
        return {"item": lambda: loss.item(), "tensor": lambda: loss,
                "per image": lambda: loss.item() / len(labels), "none": lambda: None}[returns]()
    return test_loss


def _steps(model, loss):
    torch.optim.SGD(model.parameters(), lr=0.1).step()


@pytest.mark.parametrize("answer, status, phrases", [
    (..., Status.NOT_DONE, ["placeholder"]),
    (lambda *args: ..., Status.NOT_DONE, ["placeholder"]),
    (_evaluation(returns="none"), Status.NOT_DONE, ["`return` line"]),
    (3, Status.WRONG, ["should be a function"]),
    (_evaluation(mode=False), Status.WRONG, ["ran in training mode during evaluation"]),
    (_evaluation(no_grad=False), Status.WRONG, ["Gradients were recorded during evaluation"]),
    (_evaluation(mode=False, no_grad=False), Status.WRONG, ["training mode", "Gradients"]),
    (_evaluation(restore=False), Status.WRONG, ["handed back in evaluation mode"]),
    (_evaluation(no_grad=False, then=lambda model, loss: loss.backward()), Status.WRONG,
     ["changed the gradients"]),
    (_evaluation(then=_steps), Status.WRONG, ["changed the weights"]),
    (_evaluation(returns="tensor"), Status.WRONG, [".item()"]),
    (_evaluation(returns="per image"), Status.WRONG, ["cross entropy there is"]),
    (_evaluation(sizes=(-1, 1, 28, 28)), Status.WRONG,
     ["view them as (batch, seq_dim, input_dim)"]),
    (lambda *args: 2.3, Status.WRONG, ["never called"]),
    (_evaluation(), Status.PASSED, ["Before iterations 0, 10, 20", "training mode"]),
])
def test_check_test_loss_names_each_slip(mnist_batches, answer, status, phrases):
    _expect(checks.check_test_loss(answer, *mnist_batches), status, *phrases)


def test_a_test_loss_with_sizes_written_in_fails_the_hidden_check_only(mnist_batches):
    answer = _evaluation(sizes=(-1, 28, 28))
    _expect(checks.check_test_loss(answer, *mnist_batches), Status.PASSED)
    hidden = HIDDEN["ex8_training_loop"].hidden_check_test_loss
    _expect(hidden(answer, *mnist_batches), Status.WRONG, "seq_dim=14 and input_dim=56")
    _expect(hidden(_evaluation(), *mnist_batches), Status.PASSED, "37 images and of one")


def test_the_training_loop_checks_leave_the_random_state_and_hooks_alone(mnist_batches):
    torch.manual_seed(123)
    state = torch.get_rng_state()
    models = []
    answer = _evaluation(then=lambda model, loss: models.append(model))
    _expect(checks.check_test_loss(answer, *mnist_batches), Status.PASSED)
    _expect(checks.check_train_step(_iteration("FLB"), mnist_batches[0]), Status.WRONG)
    assert torch.equal(torch.get_rng_state(), state)
    model = models[0]
    assert not model._forward_pre_hooks
    assert all(not parameter._backward_hooks for parameter in model.parameters())


def test_the_training_loop_checks_refuse_a_broken_set_up():
    with pytest.raises(TypeError, match="train_batches"):
        checks.check_train_step(_iteration(), [])
    with pytest.raises(TypeError, match="MNIST batches"):
        checks.check_test_loss(_evaluation(), [(torch.zeros(4, 3), torch.zeros(4))], [])


# ---------------------------------------------------------------------------------------------
# Exercise 9: the forget gate. Each answer below is one slip; the check must name it.

def _forget_bias_answer(slip: str = ""):
    """A set_forget_bias, right or with one slip."""
    def set_forget_bias(lstm, bias):
        hidden = 64 if slip == "hidden size written in" else lstm.hidden_size
        layers = 1 if slip in ("first layer only", "hidden size written in") else lstm.num_layers
        block = slice(0, hidden) if slip == "input gate" else slice(hidden, 2 * hidden)
        with torch.no_grad():
            for layer in range(layers):
                b_ih, b_hh = getattr(lstm, f"bias_ih_l{layer}"), getattr(lstm, f"bias_hh_l{layer}")
                if slip == "added":
                    b_ih[block] += bias
                    continue
                b_ih[block] = bias
                if slip == "both set":
                    b_hh[block] = bias
                elif slip != "one vector":
                    b_hh[block] = 0.0
                if slip == "weights":
                    getattr(lstm, f"weight_hh_l{layer}").zero_()
        if slip == "replaced":
            lstm.bias_hh_l0 = nn.Parameter(lstm.bias_hh_l0.detach().clone())
        if slip == "detached":
            lstm.bias_ih_l0.requires_grad_(False)
        if slip == "no return":
            return None
        if slip == "a copy":
            return copy.deepcopy(lstm)
        return lstm
    return set_forget_bias


def _without_no_grad(lstm, bias):
    lstm.bias_ih_l0[lstm.hidden_size:2 * lstm.hidden_size] = bias
    return lstm


@pytest.mark.parametrize("answer, status, phrase", [
    (..., Status.NOT_DONE, "placeholder"),
    (lambda lstm, bias: ..., Status.NOT_DONE, "placeholder"),
    ("3.0", Status.WRONG, "should be a function"),
    (_forget_bias_answer("input gate"), Status.WRONG, "input gate i changed"),
    (_forget_bias_answer("one vector"), Status.WRONG, "set the other one to 0"),
    (_forget_bias_answer("both set"), Status.WRONG, "the gate sees 6"),
    (_forget_bias_answer("added"), Status.WRONG, "added to the one already there"),
    (_forget_bias_answer("weights"), Status.WRONG, "The weights changed"),
    (_forget_bias_answer("replaced"), Status.WRONG, "replaced by a new tensor"),
    (_forget_bias_answer("detached"), Status.WRONG, "no longer requires gradients"),
    (_forget_bias_answer("no return"), Status.WRONG, "return lstm"),
    (_forget_bias_answer("a copy"), Status.WRONG, "not the LSTM it was given"),
    (_without_no_grad, Status.WRONG, "torch.no_grad()"),
    (_forget_bias_answer(), Status.PASSED, "sigmoid(3) = 0.953"),
])
def test_check_set_forget_bias_names_each_slip(answer, status, phrase):
    _expect(checks.check_set_forget_bias(answer), status, phrase)


@pytest.mark.parametrize("slip, phrase", [
    ("first layer only", "Layer 1's forget gate was not changed"),
    ("hidden size written in", "output gate o changed"),
])
def test_one_layer_or_a_written_in_width_fails_the_hidden_check_only(slip, phrase):
    answer = _forget_bias_answer(slip)
    _expect(checks.check_set_forget_bias(answer), Status.PASSED)
    _expect(HIDDEN["ex9_forget_gate"].hidden_check_set_forget_bias(answer), Status.WRONG, phrase)
    _expect(HIDDEN["ex9_forget_gate"].hidden_check_set_forget_bias(_forget_bias_answer()),
            Status.PASSED)


def _sigmoid(bias: float) -> float:
    return 1 / (1 + math.exp(-bias))


@pytest.mark.parametrize("answer, status, phrase", [
    (..., Status.NOT_DONE, "placeholder"),
    (lambda bias, steps: None, Status.NOT_DONE, "placeholder"),
    (lambda bias, steps: "0.5", Status.WRONG, "return one number"),
    (lambda bias, steps: torch.full((2,), 0.5), Status.WRONG, "return one number"),
    (lambda bias, steps: bias ** steps, Status.WRONG, "the gate is sigmoid(bias)"),
    (lambda bias, steps: _sigmoid(bias) * steps, Status.WRONG, "the factors multiply"),
    (lambda bias, steps: _sigmoid(bias) ** (steps + 1), Status.WRONG, "one step too many"),
    (lambda bias, steps: 1 - _sigmoid(bias) ** steps, Status.WRONG, "the part forgotten"),
    (lambda bias, steps: (1 - _sigmoid(bias)) ** steps, Status.WRONG, "lets go"),
    (lambda bias, steps: math.log(-1), Status.WRONG, "ValueError"),
    (lambda bias, steps: _sigmoid(bias) ** steps, Status.PASSED, "1.4e-17"),
    (lambda bias, steps: torch.sigmoid(torch.tensor(bias)) ** steps, Status.PASSED, ""),
])
def test_check_kept_fraction(answer, status, phrase):
    _expect(checks.check_kept_fraction(answer), status, phrase)


def test_a_table_of_the_visible_answers_fails_the_hidden_check():
    table = {case: _sigmoid(case[0]) ** case[1]
             for case in checks.ex9_forget_gate.VISIBLE_CASES}
    answer = lambda bias, steps: table.get((bias, steps), 0.0)  # noqa: E731
    _expect(checks.check_kept_fraction(answer), Status.PASSED)
    _expect(HIDDEN["ex9_forget_gate"].hidden_check_kept_fraction(answer), Status.WRONG,
            "kept_fraction(2.5, 10) returned 0")


def test_the_forget_gate_checks_leave_the_random_state_alone():
    torch.manual_seed(123)
    state = torch.get_rng_state()
    checks.check_set_forget_bias(_forget_bias_answer())
    HIDDEN["ex9_forget_gate"].hidden_check_set_forget_bias(_forget_bias_answer())
    assert torch.equal(torch.get_rng_state(), state)


# ---------------------------------------------------------------------------------------------
# Exercise 10: the honest protocol, measured on numbered images and logged batches.

def _split(images, labels, validation_size, seed):
    n = len(images)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    train, validation = order[:n - validation_size], order[n - validation_size:]
    return (images[train], labels[train]), (images[validation], labels[validation])


def _split_overlapping(images, labels, validation_size, seed):
    picked = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    return (images, labels), (images[picked[:validation_size]], labels[picked[:validation_size]])


def _split_global(images, labels, validation_size, seed):
    torch.manual_seed(seed)
    order, n = torch.randperm(len(images)), len(images)
    return ((images[order[:n - validation_size]], labels[order[:n - validation_size]]),
            (images[order[n - validation_size:]], labels[order[n - validation_size:]]))


def _split_unpaired(images, labels, validation_size, seed):
    (train_x, train_y), (val_x, val_y) = _split(images, labels, validation_size, seed)
    return (train_x, train_y.flip(0)), (val_x, val_y)


def _split_fixed_seed(images, labels, validation_size, seed):
    return _split(images, labels, validation_size, 0)


@pytest.mark.parametrize("answer, status, phrase", [
    (..., Status.NOT_DONE, "placeholder"),
    (lambda *args: ..., Status.NOT_DONE, "placeholder"),
    (_split_overlapping, Status.WRONG, "100 validation images are also training images"),
    (_split_global, Status.WRONG, "changed the global random state"),
    (_split_unpaired, Status.WRONG, "no longer paired"),
    (lambda im, lab, v, s: _split(im, lab, v + 1, s), Status.WRONG, "holds 101 images"),
    (lambda im, lab, v, s: ((im[v:], lab[v:]), (im[:v], lab[:v])), Status.WRONG,
     "not a random choice"),
    (_split_fixed_seed, Status.WRONG, "ignores its seed"),
    (lambda *args: (1, 2), Status.WRONG, "two pairs of tensors"),
    (_split, Status.PASSED, "900 training and 100 validation images"),
])
def test_check_split_train_validation(answer, status, phrase):
    _expect(checks.check_split_train_validation(answer), status, phrase)


def _honest(model, train, validation, test, epochs, train_one_epoch, accuracy):
    best_epoch, best, kept = 0, -1.0, None
    for epoch in range(1, epochs + 1):
        train_one_epoch(model, train)
        score = accuracy(model, validation)
        if score > best:
            best_epoch, best, kept = epoch, score, copy.deepcopy(model)
    return best_epoch, best, accuracy(kept, test)


def _peeking(model, train, validation, test, epochs, train_one_epoch, accuracy):
    best_epoch, best = 0, -1.0
    for epoch in range(1, epochs + 1):
        train_one_epoch(model, train)
        score = accuracy(model, test)
        if score > best:
            best_epoch, best = epoch, score
    return best_epoch, best, best


def _last_model(model, train, validation, test, epochs, train_one_epoch, accuracy):
    best_epoch, best = 0, -1.0
    for epoch in range(1, epochs + 1):
        train_one_epoch(model, train)
        score = accuracy(model, validation)
        if score > best:
            best_epoch, best = epoch, score
    return best_epoch, best, accuracy(model, test)


def _twice(model, train, validation, test, epochs, train_one_epoch, accuracy):
    epoch, best, _ = _honest(model, train, validation, test, epochs, train_one_epoch, accuracy)
    return epoch, best, accuracy(model, test)


def _trains_on_validation(model, train, validation, test, epochs, train_one_epoch, accuracy):
    train_one_epoch(model, validation)
    return _honest(model, train, validation, test, epochs - 1, train_one_epoch, accuracy)


def _reads_test_itself(model, train, validation, test, epochs, train_one_epoch, accuracy):
    for _ in test:  # e.g. to look at a batch's shape
        break
    return _honest(model, train, validation, test, epochs, train_one_epoch, accuracy)


@pytest.mark.parametrize("answer, status, phrase", [
    (..., Status.NOT_DONE, "placeholder"),
    (_peeking, Status.WRONG, "The test set was read before the end: step 2 of your loop, "
                             "accuracy(model, test_batches) on the model after epoch 1"),
    (_reads_test_itself, Status.WRONG, "step 1 of your loop, your loop iterated over "
                                       "test_batches"),
    (_last_model, Status.WRONG, "not the one kept after epoch 3"),
    (_twice, Status.WRONG, "The test set was scored 2 times"),
    (_trains_on_validation, Status.WRONG, "The validation set was trained on: step 1"),
    (lambda m, tr, va, te, e, t, a: _honest(m, tr, tr, te, e, t, a), Status.WRONG,
     "scored the training set to choose"),
    (lambda m, tr, va, te, e, t, a: _honest(m, tr, va, te, e - 1, t, a), Status.WRONG,
     "trained 4 epochs, not 5"),
    (lambda *args: 1 / 0, Status.WRONG, "ZeroDivisionError"),
    (_honest, Status.PASSED, "kept epoch 3 on validation (95.5%)"),
])
def test_check_honest_run(answer, status, phrase):
    _expect(checks.check_honest_run(answer), status, phrase)


def test_the_honest_protocols_hidden_checks():
    hidden = HIDDEN["ex10_honest_protocol"]
    _expect(hidden.hidden_check_split_train_validation(_split), Status.PASSED)
    _expect(hidden.hidden_check_honest_run(_honest), Status.PASSED)
    _expect(hidden.hidden_check_split_train_validation(...), Status.NOT_DONE)

    def fixed_epoch(model, train, validation, test, epochs, train_one_epoch, accuracy):
        kept = None
        for epoch in range(1, epochs + 1):
            train_one_epoch(model, train)
            score = accuracy(model, validation)
            if epoch == 3:
                kept, best = copy.deepcopy(model), score
        return 3, best, accuracy(kept, test)

    _expect(checks.check_honest_run(fixed_epoch), Status.PASSED)  # right for 5 epochs
    _expect(hidden.hidden_check_honest_run(fixed_epoch), Status.WRONG, "highest after epoch 1")
    sized = lambda im, lab, v, s: _split(im, lab, 100, s)  # noqa: E731
    _expect(checks.check_split_train_validation(sized), Status.PASSED)
    _expect(hidden.hidden_check_split_train_validation(sized), Status.WRONG, "holds 100 images")
