"""The set-up cell and the launch line of every notebook (lstm_course_setup.py,
scripts/notebook_setup.py).

Fast: every lesson, exercise and student notebook starts with the same set-up cell, written
by the tool for the course's version and CITATION.cff's address (locked in the student
copies); its first markdown cell carries the Open in Colab link (the student copy for an
exercise); the GPU lesson asks Colab for a GPU. The cell prints nothing in the course's
environment, installs nothing while nbgrader executes it, and says what pip said when pip
fails. What it reports (a dependency outside its range, a missing one) is decided by
plain functions tested here with given versions. The run in a Colab-like environment is
tests/test_anywhere.py.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from lab_server import load_script

import lstm_course_setup as setup
import lstm_helpers
from site_hooks import citation, launch

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
tool = load_script("notebook_setup")
run_course = load_script("run_course")
course_progress = load_script("course_progress")
REPOSITORY, _ = citation.site_urls(citation.load())
CELL = setup.setup_cell(lstm_helpers.__version__, REPOSITORY)
STUDENT = sorted((NOTEBOOKS / "exercises" / "student").glob("*.ipynb"))
PAIRS = [path.with_suffix(suffix) for path in tool.sources() for suffix in (".py", ".ipynb")]


def first_cells(path: Path) -> tuple[str, str]:
    """``(first markdown cell, first code cell)`` of a notebook or a percent .py."""
    import jupytext

    notebook = jupytext.read(path)
    markdown = next(c for c in notebook.cells if c.cell_type == "markdown")
    code = next(c for c in notebook.cells if c.cell_type == "code")
    return markdown.source, code.source


def test_the_tool_finds_every_lesson_and_exercise_and_has_nothing_to_change():
    names = {path.relative_to(NOTEBOOKS).as_posix() for path in tool.sources()}
    assert names == {p.relative_to(NOTEBOOKS).as_posix() for p in NOTEBOOKS.glob("*.py")} | {
        p.relative_to(NOTEBOOKS).as_posix() for p in (NOTEBOOKS / "exercises").glob("ex*.py")}
    assert tool.main(["--check"]) == 0, "run python scripts/notebook_setup.py"


@pytest.mark.parametrize("path", PAIRS + STUDENT, ids=lambda p: p.relative_to(NOTEBOOKS).as_posix())
def test_every_notebook_starts_with_the_setup_cell_and_a_colab_link(path):
    markdown, code = first_cells(path)
    assert code == CELL
    links = launch.launch_links(path.relative_to(REPO).as_posix(), REPOSITORY,
                                lstm_helpers.__version__)
    assert f"[Open in Colab]({links.colab})" in markdown
    assert f"[Launch Binder]({links.binder})" in markdown
    if "exercises" in path.parts:  # the student copy, never the solution
        assert links.path == f"notebooks/exercises/student/{path.stem}.ipynb"


@pytest.mark.parametrize("path", STUDENT, ids=lambda p: p.name)
def test_the_setup_cell_is_locked_in_the_student_copies(path):
    cell = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    assert cell.metadata["nbgrader"]["locked"] and not cell.metadata["nbgrader"]["solution"]
    assert cell.metadata["editable"] is False and cell.metadata["deletable"] is False


def test_the_setup_cell_fits_the_sites_code_column():
    # The site shows code lines of up to 99 characters whole at 1280 px (tests/test_site.py).
    assert max(len(line) for line in CELL.splitlines()) <= 99


def test_only_the_gpu_lesson_asks_colab_for_a_gpu():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        metadata = json.loads(path.read_text(encoding="utf-8"))["metadata"]
        wanted = path.stem in tool.GPU_LESSONS
        assert (metadata.get("accelerator") == "GPU") is wanted, path.name
        assert ("gpuType" in metadata.get("colab", {})) is wanted, path.name
        text = path.with_suffix(".py").read_text(encoding="utf-8")
        assert text.startswith("# ---\n# jupyter:\n#   accelerator: GPU\n") is wanted


def test_rewriting_replaces_the_cell_and_the_line_in_place():
    source = (NOTEBOOKS / "01_model_a.py").read_text(encoding="utf-8")
    links = launch.launch_links("notebooks/01_model_a.py", "https://github.com/o/r", "9.9.9")
    moved = tool.with_setup(source, NOTEBOOKS / "01_model_a.py",
                            setup.setup_cell("9.9.9", "https://github.com/o/r"), links)
    assert moved.count(setup.FIRST_LINE) == 1 and moved.count(launch.BLOCK_START) == 1
    assert "git+https://github.com/o/r@v9.9.9" in moved and "/o/r/blob/v9.9.9/" in moved
    assert REPOSITORY not in moved
    back = tool.with_setup(moved, NOTEBOOKS / "01_model_a.py", CELL, launch.launch_links(
        "notebooks/01_model_a.py", REPOSITORY, lstm_helpers.__version__))
    assert back == source


@pytest.mark.parametrize("text, problem", [
    ("# %% [markdown]\n# Some text, no title\n\n# %%\nx = 1\n", "must start with a # title"),
    ("# %% [markdown]\n# # A title\n", "no code cell"),
])
def test_a_notebook_the_tool_cannot_set_up_is_named(text, problem):
    links = launch.launch_links("notebooks/x.py", REPOSITORY, "1.2.3")
    with pytest.raises(ValueError, match=problem):
        tool.with_setup(text, Path("notebooks/x.py"), CELL, links)


def run_cell(python: Path | str, env: dict[str, str], tmp_path: Path):
    return subprocess.run([str(python), "-c", CELL], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def test_in_the_course_environment_the_cell_prints_nothing(tmp_path):
    done = run_cell(sys.executable, {"PATH": "/usr/bin:/bin"}, tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory) -> Path:
    """A Python without lstm_helpers, and without pip."""
    venv = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    return venv / "bin" / "python"


def test_under_nbgrader_the_cell_installs_nothing(bare_python, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "NBGRADER_EXECUTION": "autograde",
           "LSTM_HELPERS_INSTALL_FROM": str(tmp_path / "would-fail.whl")}
    done = run_cell(bare_python, env, tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_a_failed_install_says_what_pip_said(bare_python, tmp_path):
    wheel = tmp_path / "lstm_helpers-0-py3-none-any.whl"
    done = run_cell(bare_python, {"PATH": "/usr/bin:/bin",
                                  "LSTM_HELPERS_INSTALL_FROM": str(wheel)}, tmp_path)
    assert done.returncode == 1
    assert f"RuntimeError: pip could not install {wheel}:" in done.stderr
    assert "No module named pip" in done.stderr


REQUIREMENTS = ["torch<3,>=2.3", "torchvision<1,>=0.18", "numpy<3,>=1.24", "tqdm<5,>=4.60",
                "platformdirs<5,>=3", "colorama; sys_platform == 'nonexistent'"]
IN_RANGE = {"torch": "2.14.1+cu130", "torchvision": "0.29.1", "numpy": "2.4.6",
            "tqdm": "4.70.1", "platformdirs": "4.14.9"}


def test_nothing_is_installed_or_noted_when_everything_fits():
    todo = setup.plan(REQUIREMENTS, IN_RANGE)
    assert todo == setup.Plan()
    assert setup.report(todo, "src", "0.2.0", "0.2.0") == [
        "Installed lstm-helpers 0.2.0 from src; every other package is this environment's own."]


def test_an_out_of_range_torch_is_kept_and_noted_in_one_line():
    todo = setup.plan(REQUIREMENTS, {**IN_RANGE, "torch": "1.13.1"})
    assert todo.install == [] and todo.missing_heavy == []
    assert todo.outside == ["torch 1.13.1 (supported: <3,>=2.3)"]
    lines = setup.report(todo, "src", "0.2.0", "0.2.0")
    assert len(lines) == 2
    assert lines[1] == ("Note: torch 1.13.1 (supported: <3,>=2.3). Carrying on: a cell may "
                        "fail or differ from the course's stored outputs.")


def test_only_missing_light_dependencies_are_installed():
    todo = setup.plan(REQUIREMENTS, {**IN_RANGE, "tqdm": None, "platformdirs": None})
    assert todo.install == ["tqdm<5,>=4.60", "platformdirs<5,>=3"]
    assert setup.report(todo, "src", "0.2.0", "0.2.0")[0] == (
        "Installed lstm-helpers 0.2.0 from src, with tqdm<5,>=4.60, platformdirs<5,>=3; "
        "every other package is this environment's own.")


def test_a_missing_torch_is_never_installed():
    todo = setup.plan(REQUIREMENTS, {**IN_RANGE, "torch": None, "torchvision": None})
    assert todo.missing_heavy == ["torch", "torchvision"] and todo.install == []


def test_finish_reports_the_installed_package_in_this_environment(capsys):
    setup.finish("somewhere", lstm_helpers.__version__)  # nothing missing here: no pip call
    assert capsys.readouterr().out == (
        f"Installed lstm-helpers {lstm_helpers.__version__} from somewhere; every other "
        f"package is this environment's own.\n")
    setup.finish("somewhere", "0.0.1")
    assert "Note: this notebook was written for lstm-helpers 0.0.1." in capsys.readouterr().out


@pytest.mark.slow  # a kernel
def test_colab_metadata_survives_run_course_and_the_pairing(tmp_path):
    for name in ("jupytext.toml",):
        (tmp_path / name).write_text((NOTEBOOKS / name).read_text(encoding="utf-8"))
    source = tmp_path / "gpu.py"
    source.write_text("# ---\n# jupyter:\n#   accelerator: GPU\n#   colab:\n#     gpuType: T4\n"
                      "# ---\n\n# %% [markdown]\n# # A title\n\n# %%\nprint(1 + 1)\n")
    progress = course_progress.CourseProgress(
        [run_course.display_name(source)],
        course_progress.RecordedTimes(tmp_path / "times.json"), stream=io.StringIO())
    run_course.execute(source, progress)
    metadata = nbformat.read(source.with_suffix(".ipynb"), as_version=4).metadata
    assert metadata["accelerator"] == "GPU" and metadata["colab"] == {"gpuType": "T4"}
    assert metadata["kernelspec"]["name"] == "python3"
    assert source.read_text(encoding="utf-8").startswith("# ---\n# jupyter:\n#   accelerator")
