"""JupyterLab as the student's home: pairs stay in sync, notebooks open unchanged and save
cleanly, a run saved with its progress bar reopens and re-tests cleanly.

Without a server (the fast tier): every ``.py``/``.ipynb`` pair is in sync, the jupytext
configuration pairs the lessons and exercises but not the student copies, and every stored
notebook carries the metadata JupyterLab writes when it starts the notebook's kernel
(``kernelspec`` and the kernel's complete ``language_info``), so opening it does not mark it
as changed.

With a server (``slow``): a real ``jupyter lab`` started as ``make lab`` starts it
(``scripts/lab.py``), over a copy of ``notebooks/``. Through its REST API every notebook
opens as ``.ipynb`` and as ``.py``; opening and saving every stored notebook unchanged
rewrites no byte; saving either file of a pair updates the other, wherever the server
starts (repository root down to the student folder, where nothing is paired); a kernel
started for a notebook runs its first cells; and a notebook run and saved with the progress
bar reopens without a widget view and still passes nbval. ``test_jupyterlab_ui.py`` does
the same through the JupyterLab UI in Chromium.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import jupytext
import nbformat
import pytest
import requests
from ipykernel.ipkernel import IPythonKernel
from jupytext.config import load_jupytext_config
from lab_server import (
    FINAL_BAR,
    TRAINING_WITH_BAR,
    WIDGET_VIEW,
    JupyterServer,
    KernelChannels,
    lab,
    load_script,
)
from nbval.plugin import get_sanitize_patterns

import lstm_helpers as lh

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
EXERCISES = NOTEBOOKS / "exercises"
STUDENT = EXERCISES / "student"
SANITIZE_CFG = REPO / "tests" / "nbval_sanitize.cfg"
#: Where JupyterLab finds the pairing, wherever it starts (it never looks above its root).
JUPYTEXT_CONFIGS = [NOTEBOOKS / "jupytext.toml", EXERCISES / "jupytext.toml"]
PAIRED = "ipynb,py:percent"
# Calls that load MNIST: the first code cell with one ends the cells the test runs.
DATA_LOADING = re.compile(r"\b(load_mnist|mnist_batches|mnist_tensors|mnist_dataloaders|"
                          r"ensure_mnist)\(")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
NBVAL_IGNORE_COMMENT = re.compile(r"^\s*#\s*NBVAL_IGNORE_OUTPUT\b", re.MULTILINE)


def _course_files(suffix: str) -> list[Path]:
    return sorted(p for p in NOTEBOOKS.rglob(f"*{suffix}")
                  if ".ipynb_checkpoints" not in p.parts and "__pycache__" not in p.parts)


def _pairing(path: Path) -> str | None:
    """The formats jupytext pairs ``path`` with (``ipynb,py:percent``), None if unpaired."""
    config = load_jupytext_config(str(path.parent))
    formats = config.default_formats(str(path)) if config else None
    return formats if formats and "," in formats else None


def _text_format(path: Path) -> str | None:
    """The text half of the pairing of ``path`` (``py:percent``), or None if unpaired."""
    formats = _pairing(path)
    return next((f for f in formats.split(",") if not f.startswith("ipynb")), None) \
        if formats else None


COURSE_NOTEBOOKS = _course_files(".ipynb")
PAIR_STEMS = sorted({p.with_suffix("") for p in _course_files(".ipynb") + _course_files(".py")
                     if _pairing(p)})
STUDENT_NOTEBOOKS = sorted(STUDENT.glob("*.ipynb"))


def _rel(path: Path) -> str:
    """The path as the README writes it: relative to the repository when inside it."""
    return path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else str(path)


def _cells(notebook: dict) -> list[tuple[str, str]]:
    """(cell_type, source) of every cell: what both files of a pair must agree on."""
    return [(cell["cell_type"], cell["source"]) for cell in notebook["cells"]]


def _sanitizer():
    """The nbval sanitize rules of tests/nbval_sanitize.cfg as one function on text."""
    rules = [(re.compile(regex), replace)
             for regex, replace in get_sanitize_patterns(SANITIZE_CFG.read_text())]

    def sanitize(text: str) -> str:
        for regex, replace in rules:
            text = regex.sub(replace, text)
        return text
    return sanitize


def _files(folder: Path) -> dict[Path, bytes]:
    """Every file under ``folder`` with its bytes (checkpoints of the server left out)."""
    return {p: p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and ".ipynb_checkpoints" not in p.parts}


def _changes(before: dict[Path, bytes], after: dict[Path, bytes], root: Path) -> list[str]:
    def what(path: Path) -> str:
        return "created" if path not in before else "deleted" if path not in after else "changed"
    return [f"{p.relative_to(root)}: {what(p)}"
            for p in sorted(set(before) | set(after)) if before.get(p) != after.get(p)]


# --- the fast tier: files and configuration ---------------------------------------------

def _pair_problem(stem: Path) -> str | None:
    """Why the pair ``stem``.py/``stem``.ipynb is not in sync (with a diff), or None."""
    py, ipynb = stem.with_suffix(".py"), stem.with_suffix(".ipynb")
    fix = (f"run `.venv/bin/python scripts/run_course.py {_rel(py)}` (syncs the pair from the "
           f".py and executes it), or `jupytext --sync {_rel(py)}` for the inputs alone")
    if not (py.is_file() and ipynb.is_file()):
        return f"{_rel(stem)} is not a full pair (.py and .ipynb): {fix}"
    # As JupyterLab's contents manager compares them: the .ipynb written as text with the
    # filters stored in its own metadata (a stale filter there drops the .py's header).
    expected = jupytext.writes(jupytext.read(ipynb), fmt=_text_format(ipynb))
    actual = py.read_text()
    if actual == expected:
        return None
    diff = "".join(list(difflib.unified_diff(
        expected.splitlines(True), actual.splitlines(True),
        f"{py.name} as written from {ipynb.name}", py.name))[:60])
    return f"{py.name} and {ipynb.name} are out of sync: {fix}\n{diff}"


@pytest.mark.parametrize("stem", PAIR_STEMS, ids=lambda stem: _rel(stem))
def test_every_py_ipynb_pair_is_in_sync(stem):
    problem = _pair_problem(stem)
    assert problem is None, problem


@pytest.mark.skipif(not COURSE_NOTEBOOKS, reason="no course notebook yet")
def test_the_sync_check_catches_an_edit_of_one_file_of_a_pair(tmp_path):
    shutil.copy2(JUPYTEXT_CONFIGS[0], tmp_path / "jupytext.toml")
    stem = tmp_path / "lesson"
    for suffix in (".py", ".ipynb"):
        shutil.copy2(COURSE_NOTEBOOKS[0].with_suffix(suffix), stem.with_suffix(suffix))
    assert _pair_problem(stem) is None
    py = stem.with_suffix(".py")
    py.write_text(py.read_text() + "\n# %%\nprint('edited in the .py only')\n")
    problem = _pair_problem(stem)
    assert "lesson.py and lesson.ipynb are out of sync" in problem
    assert "+print('edited in the .py only')" in problem
    stem.with_suffix(".ipynb").unlink()
    assert "lesson is not a full pair" in _pair_problem(stem)


@pytest.mark.parametrize("lesson", sorted(NOTEBOOKS.glob("*.py")), ids=_rel)
def test_every_lesson_states_the_seed_it_uses(lesson):
    """Determinism: a lesson names its seed once (``SEED = 0``) and seeds its runs with it."""
    text = lesson.read_text()
    assert re.search(r"^SEED = \d+\b", text, re.M), f"{_rel(lesson)} states no `SEED = <int>`"
    assert re.search(r"set_seed\(SEED\)|seed=SEED", text), \
        f"{_rel(lesson)} states SEED but never passes it to lh.set_seed or run_recipe"


def test_the_jupytext_configuration_pairs_lessons_and_exercises_but_not_student_copies(
        tmp_path):
    first, *others = [path.read_text() for path in JUPYTEXT_CONFIGS]
    assert all(text == first for text in others), \
        f"{', '.join(map(_rel, JUPYTEXT_CONFIGS))} must be identical: copy the first over the rest"
    # No configuration above notebooks/: it would pair the package's .py files with notebooks.
    assert not list(REPO.glob("*jupytext*"))
    assert "[tool.jupytext" not in (REPO / "pyproject.toml").read_text()
    for path in _course_files(".py") + _course_files(".ipynb"):
        if STUDENT in path.parents:
            assert _pairing(path) is None, f"{_rel(path)} must not be paired"
        else:
            assert _pairing(path) == PAIRED, f"{_rel(path)} is paired as {_pairing(path)}"
    # A student copy stays unpaired even where its folder holds no configuration of its own.
    for config in JUPYTEXT_CONFIGS:
        folder = tmp_path / config.parent.name
        (folder / "student").mkdir(parents=True)
        shutil.copy2(config, folder / "jupytext.toml")
        for path in (folder / "student" / "ex1.ipynb", folder / "student" / "mine.py"):
            assert _pairing(path) is None, path
        assert _pairing(folder / "lesson.ipynb") == PAIRED


def test_make_lab_starts_jupyterlab_on_notebooks_with_the_data_and_the_checkout_set():
    dry_run = subprocess.run(["make", "-n", "lab", "LAB_ARGS=--no-browser"], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout
    assert "scripts/lab.py --no-browser" in dry_run
    command = lab.lab_command(options=["--port=9999"])
    assert command[1:5] == ["-m", "jupyter", "lab", "--ip=127.0.0.1"]
    assert f"--ServerApp.root_dir={NOTEBOOKS}" in command and command[-1] == "--port=9999"
    env = lab.lab_environment({"PYTHONPATH": "/elsewhere"})
    assert env["LSTM_HELPERS_DATA"] == str(lh.resolve_root().resolve())
    assert Path(env["LSTM_HELPERS_DATA"]).is_absolute()
    assert env["PYTHONPATH"].split(os.pathsep) == [str(REPO), "/elsewhere"]


def test_the_jupyterlab_settings_open_a_lesson_py_with_jupytexts_notebook_viewer(tmp_path):
    installed = lab.install_settings(tmp_path / "overrides.d")
    assert installed == tmp_path / "overrides.d" / "lstm-course.json"
    settings = json.loads(installed.read_text())
    viewer = settings["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]["python"]
    # The name must be the one the installed jupytext extension registers its viewer under.
    extension = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "jupyterlab-jupytext"
    assert any(f'"{viewer}"' in js.read_text(errors="replace")
               for js in extension.rglob("*.js")), f"jupytext registers no viewer {viewer!r}"
    assert lab.settings_dir().parts[-3:] == ("lab", "settings", "overrides.d")
    assert lab.install_settings(tmp_path / "overrides.d").read_text() == installed.read_text()


#: What JupyterLab writes into a notebook when it starts its kernel (``python3``).
KERNELSPEC = load_script("run_course").kernelspec()
LANGUAGE_INFO = IPythonKernel.language_info  # what the kernel reports in its kernel_info


@pytest.mark.parametrize("notebook", COURSE_NOTEBOOKS, ids=_rel)
def test_every_stored_notebook_carries_the_metadata_jupyterlab_writes(notebook):
    """Opening the notebook starts its kernel; JupyterLab then sets ``kernelspec`` and
    ``language_info`` from it. When they already hold those values the notebook is not marked
    as changed, and saving it unchanged rewrites the same bytes."""
    metadata = nbformat.read(notebook, as_version=4).metadata
    fix = (f"re-run it with `.venv/bin/python scripts/run_course.py {_rel(notebook)}`"
           if STUDENT not in notebook.parents else "regenerate it with `make student`")
    assert metadata.get("kernelspec") == KERNELSPEC, f"{_rel(notebook)}: kernelspec; {fix}"
    stored = dict(metadata.get("language_info", {}))
    version = stored.pop("version", "")
    expected = {k: v for k, v in LANGUAGE_INFO.items() if k != "version"}
    assert stored == expected, f"{_rel(notebook)}: incomplete language_info; {fix}"
    # The kernel's Python version is the one machine-specific field: same minor version here.
    assert version.split(".")[:2] == LANGUAGE_INFO["version"].split(".")[:2], \
        f"{_rel(notebook)} was run with Python {version}; {fix}"
    if version != LANGUAGE_INFO["version"]:
        warnings.warn(f"{_rel(notebook)} was stored by Python {version}; this kernel is "
                      f"{LANGUAGE_INFO['version']}, so JupyterLab updates language_info.version "
                      f"and marks the notebook as changed when it opens here", stacklevel=1)


def test_all_stored_notebooks_come_from_one_python():
    versions = {nbformat.read(p, as_version=4).metadata.get("language_info", {}).get("version")
                for p in COURSE_NOTEBOOKS}
    assert len(versions) == 1, f"stored notebooks were run by several Pythons: {versions}"


# --- the slow tier: a real server ----------------------------------------------------------

def _course_copy(parent: Path) -> Path:
    """A copy of the repository's notebooks/ as ``parent/notebooks`` (nothing else copied:
    the configuration the server needs must live there)."""
    shutil.copytree(NOTEBOOKS, parent / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return parent / "notebooks"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server as ``make lab`` starts it, at a copy of notebooks/ (plus a scratch pair)."""
    home = tmp_path_factory.mktemp("jupyter")
    root = _course_copy(home)
    if COURSE_NOTEBOOKS:  # one pair to edit and save, away from the notebooks the kernels run
        (root / "scratch").mkdir()
        for suffix in (".ipynb", ".py"):
            shutil.copy2(COURSE_NOTEBOOKS[0].with_suffix(suffix),
                         root / "scratch" / f"lesson{suffix}")
    running = JupyterServer(root, home / "server")
    yield running
    running.stop()


@pytest.mark.slow
def test_the_server_runs_with_jupytext_and_refuses_requests_without_the_token(server):
    assert server.api("GET", "status")["kernels"] == 0
    assert requests.get(f"{server.url}/api/contents", timeout=30).status_code == 403
    log = server.log_tail(200)
    assert "jupyterlab_jupytext | extension was successfully loaded" in log
    assert "TextFileContentsManager" in log
    assert server.url.startswith("http://127.0.0.1:")


@pytest.mark.slow
@pytest.mark.skipif(not COURSE_NOTEBOOKS, reason="no course notebook yet")
@pytest.mark.parametrize("notebook", COURSE_NOTEBOOKS, ids=_rel)
def test_each_notebook_opens_as_ipynb_and_as_py_with_the_same_cells_and_outputs(server, notebook):
    path = notebook.relative_to(NOTEBOOKS).as_posix()
    on_disk = nbformat.read(notebook, as_version=4)
    models = [server.get_notebook(path)]
    if _pairing(notebook) is None:  # a student notebook: an .ipynb alone
        source = on_disk
    else:
        source = jupytext.read(notebook.with_suffix(".py"))  # the pair's source of inputs
        models.append(server.get_notebook(path[:-len(".ipynb")] + ".py"))
    for model in models:
        assert model["type"] == "notebook" and model["format"] == "json"
        assert _cells(model["content"]) == _cells(source)
        # The .py brings the paired .ipynb's metadata along: no kernel to choose on opening.
        assert model["content"]["metadata"].get("kernelspec") == on_disk.metadata.get("kernelspec")
    # Opening the .py brings the outputs of the paired .ipynb along: the same notebook.
    outputs = [c.get("outputs") for c in on_disk["cells"] if c["cell_type"] == "code"]
    for model in models:
        assert [c.get("outputs") for c in model["content"]["cells"]
                if c["cell_type"] == "code"] == outputs


@pytest.mark.slow
def test_opening_and_saving_every_stored_notebook_unchanged_rewrites_no_byte(server):
    """What JupyterLab does with an untouched notebook on save (or autosave): each lesson
    (.ipynb and .py), exercise and student copy, read and written back through the server."""
    before = _files(server.root)
    notebooks = sorted(p for p in before if p.suffix in (".ipynb", ".py"))
    assert len(notebooks) >= len(COURSE_NOTEBOOKS)
    for path in notebooks:
        relative = path.relative_to(server.root).as_posix()
        server.save_notebook(relative, server.get_notebook(relative)["content"])
        changes = _changes(before, _files(server.root), server.root)
        assert not changes, f"saving {relative} unchanged rewrote: {changes}"


@pytest.mark.slow
@pytest.mark.skipif(not COURSE_NOTEBOOKS, reason="no course notebook yet")
def test_saving_either_file_through_the_server_updates_its_pair(server):
    folder = server.root / "scratch"
    notebook = server.get_notebook("scratch/lesson.ipynb")
    stored_outputs = [c["outputs"] for c in notebook["content"]["cells"]
                      if c["cell_type"] == "code"]
    notebook["content"]["cells"].append(
        nbformat.v4.new_markdown_cell("A note saved from JupyterLab as .ipynb."))
    server.save_notebook("scratch/lesson.ipynb", notebook["content"])
    text = (folder / "lesson.py").read_text()
    assert text.endswith("# A note saved from JupyterLab as .ipynb.\n")
    assert _cells(jupytext.reads(text, fmt="py:percent")) == _cells(notebook["content"])

    as_py = server.get_notebook("scratch/lesson.py")
    as_py["content"]["cells"].append(
        nbformat.v4.new_code_cell('print("saved from JupyterLab as .py")'))
    server.save_notebook("scratch/lesson.py", as_py["content"])
    saved = nbformat.read(folder / "lesson.ipynb", as_version=4)
    assert saved.cells[-1].source == 'print("saved from JupyterLab as .py")'
    assert [c["outputs"] for c in saved.cells if c["cell_type"] == "code"][:-1] == \
        stored_outputs  # the run's outputs survive a save of the .py


def _save_with_a_new_cell(server: JupyterServer, path: str) -> None:
    model = server.get_notebook(path)
    model["content"]["cells"].append(nbformat.v4.new_markdown_cell(f"Saved at {path}."))
    server.save_notebook(path, model["content"])


#: Folders a user may start JupyterLab in, relative to the repository.
SERVER_ROOTS = [".", "notebooks", "notebooks/exercises", "notebooks/exercises/student"]


@pytest.mark.slow
@pytest.mark.skipif(not (PAIR_STEMS and STUDENT_NOTEBOOKS), reason="no pairs or students yet")
@pytest.mark.parametrize("start", SERVER_ROOTS)
def test_pairing_works_wherever_jupyterlab_starts(tmp_path, start):
    """JupyterLab looks for jupytext.toml from a notebook's folder up to its own root, never
    above. Started anywhere from the repository down to the student folder, saving a lesson
    or exercise updates its .py, and saving a student copy writes no .py beside it."""
    repo = tmp_path / "repo"
    _course_copy(repo)
    # The student folder needs no configuration of its own (its parents' leaves it unpaired),
    # so none is listed among a student's exercises.
    (repo / _rel(STUDENT) / "jupytext.toml").unlink(missing_ok=True)
    root = repo / start
    running = JupyterServer(root, tmp_path / "server")
    try:
        pairs = [stem for stem in PAIR_STEMS if root in (repo / _rel(stem)).parents]
        picks = [pairs[0], pairs[-1]] if pairs else []  # a lesson and an exercise where both
        for stem in picks:
            ipynb = (repo / _rel(stem)).with_suffix(".ipynb")
            relative = ipynb.relative_to(root).as_posix()
            _save_with_a_new_cell(running, relative)
            assert ipynb.with_suffix(".py").read_text().endswith(f"# Saved at {relative}.\n"), \
                f"started at {start}/, saving {relative} left its .py unchanged"
        student = repo / _rel(STUDENT_NOTEBOOKS[0])
        relative = student.relative_to(root).as_posix()
        _save_with_a_new_cell(running, relative)
        assert nbformat.read(student, as_version=4).cells[-1].source == f"Saved at {relative}."
        assert not list(student.parent.glob("*.py")), \
            f"started at {start}/, saving {relative} paired it with a .py"
    finally:
        running.stop()


def _first_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """Code cells up to the first one that loads MNIST (imports and data loading), or the
    first code cell alone in a notebook that loads no data (an exercise, say)."""
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for index, cell in enumerate(code):
        if DATA_LOADING.search(cell.source):
            return code[:index + 1]
    return code[:1]


def _output_ignored(cell: nbformat.NotebookNode) -> bool:
    """Whether nbval skips comparing this cell's output: its tag or its comment marker."""
    return ("nbval-ignore-output" in cell.metadata.get("tags", [])
            or NBVAL_IGNORE_COMMENT.search(cell.source) is not None)


@pytest.mark.slow
@pytest.mark.skipif(not COURSE_NOTEBOOKS, reason="no course notebook yet")
@pytest.mark.parametrize("notebook", COURSE_NOTEBOOKS, ids=_rel)
def test_a_kernel_started_by_the_server_runs_the_first_cells(server, notebook):
    relative = notebook.relative_to(NOTEBOOKS)
    session = server.start_session(relative.as_posix())
    channels = KernelChannels(server, session["kernel"]["id"])
    try:
        info = channels.request("kernel_info_request", {})
        assert info["reply"]["status"] == "ok", info
        # The language_info JupyterLab stores is the one this kernel reports.
        assert info["reply"]["language_info"] == LANGUAGE_INFO
        check = channels.execute("import os, sys\nprint(os.path.realpath(sys.prefix))\n"
                                 "print(os.getcwd())\nprint(os.environ.get('LSTM_HELPERS_DATA'))")
        assert check["stdout"].splitlines() == [  # the environment's Python, in the notebook's
            os.path.realpath(sys.prefix),         # folder, with the absolute data root
            str(server.root / relative.parent), str(lh.resolve_root().resolve())]

        sanitize = _sanitizer()
        cells = _first_cells(nbformat.read(notebook, as_version=4))
        for cell in cells:
            result = channels.execute(cell.source)
            if result["errors"] or result["reply"]["status"] != "ok":
                trace = "\n".join(ANSI.sub("", line) for error in result["errors"]
                                  for line in error["traceback"])
                pytest.fail(f"{_rel(notebook)} cell failed in the server's kernel:\n"
                            f"{cell.source}\n{trace}")
            stored = "".join(o.get("text", "") for o in cell.get("outputs", [])
                             if o.get("name") == "stdout")
            if stored and not _output_ignored(cell):
                assert sanitize(result["stdout"]) == sanitize(stored)
        # The data came from LSTM_HELPERS_DATA: nothing was downloaded next to the notebook.
        assert not (server.root / relative.parent / "data").exists()
    finally:
        channels.close()
        server.api("DELETE", f"sessions/{session['id']}", expect=204)


def _run_nbval(notebook: Path) -> subprocess.CompletedProcess:
    """``make test``'s nbval run on one notebook, outside the repository's pytest config."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(notebook), "--nbval", "--nbval-current-env",
         "--nbval-sanitize-with", str(SANITIZE_CFG), "-p", "no:cacheprovider", "-q",
         "--rootdir", str(notebook.parent), "-c", str(notebook.parent / "pytest.ini")],
        cwd=notebook.parent, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_a_notebook_saved_after_a_run_with_the_progress_bar_reopens_plain_and_passes_nbval(
        server):
    """The saved-progress-bar case: run a training in the server's kernel, save the notebook
    with what the frontend shows (the bar included), reopen it with no kernel: the bar is a
    plain text line in its final state, no widget view; and nbval passes on the saved file."""
    path = "scratch/bar.ipynb"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(TRAINING_WITH_BAR)],
                                        metadata={"kernelspec": KERNELSPEC})
    server.save_notebook(path, notebook)
    session = server.start_session(path)
    channels = KernelChannels(server, session["kernel"]["id"])
    try:
        result = channels.execute(TRAINING_WITH_BAR)
    finally:
        channels.close()
    assert not result["errors"], result["errors"]
    notebook.cells[0].outputs = [nbformat.from_dict(o) for o in result["outputs"]]
    notebook.cells[0].execution_count = result["reply"]["execution_count"]
    server.save_notebook(path, notebook)
    server.api("DELETE", f"sessions/{session['id']}", expect=204)  # the kernel is gone

    reopened = server.get_notebook(path)["content"]["cells"][0]["outputs"]
    assert not [o for o in reopened if WIDGET_VIEW in o.get("data", {})]
    bars = [o["data"]["text/plain"] for o in reopened if o["output_type"] == "display_data"]
    assert len(bars) == 1 and FINAL_BAR.match(bars[0]), bars
    log = "".join(o.get("text", "") for o in reopened if o["output_type"] == "stream")
    assert log.count("Iteration: ") == 3

    (server.root / "scratch" / "pytest.ini").write_text("[pytest]\n")
    run = _run_nbval(server.root / "scratch" / "bar.ipynb")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "1 passed" in run.stdout
