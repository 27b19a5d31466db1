"""JupyterLab as a real client: a Jupyter server opens, pairs and runs the course notebooks.

A real ``jupyter lab`` server is started on 127.0.0.1 (a free port, a token, its own runtime,
config and data folders) over a temporary copy of the course, with the contents manager that
jupytext's server extension installs, exactly as ``jupyter lab notebooks/`` would run it.
Through the server's REST API each notebook is opened both as ``.ipynb`` and as ``.py``, a
kernel is started the way JupyterLab starts one (a session for the notebook), and the
notebook's first cells (imports and data loading) run over the kernel websocket. Saving
either file of a pair through the server updates the other.

Without a server: every ``.py``/``.ipynb`` pair in the repository must be in sync, so CI fails
when someone edits one file of a pair and forgets the other, and every lesson must state the
seed it uses.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import jupytext
import nbformat
import pytest
import requests
import websocket
from jupytext.config import load_jupytext_config
from nbval.plugin import get_sanitize_patterns

import lstm_helpers as lh

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
SANITIZE_CFG = REPO / "tests" / "nbval_sanitize.cfg"
SERVER_START_S = 120  # a cold start on a busy 2-core machine takes a few seconds, rarely more
CELL_TIMEOUT_S = 300
# Calls that load MNIST: the first code cell with one ends the cells the test runs.
DATA_LOADING = re.compile(r"\b(load_mnist|mnist_batches|mnist_tensors|mnist_dataloaders|"
                          r"ensure_mnist)\(")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _course_files(suffix: str) -> list[Path]:
    return sorted(p for p in NOTEBOOKS.rglob(f"*{suffix}")
                  if ".ipynb_checkpoints" not in p.parts and "__pycache__" not in p.parts)


def _text_format(folder: Path) -> str | None:
    """The text half of the pairing the folder's jupytext.toml asks for (``py:percent``), or
    None where notebooks are not paired (the generated student notebooks)."""
    formats = load_jupytext_config(str(folder)).formats  # a string or a list of them
    formats = ",".join([formats] if isinstance(formats, str) else formats).split(",")
    return next((fmt for fmt in formats if not fmt.startswith("ipynb")), None)


COURSE_NOTEBOOKS = _course_files(".ipynb")
PAIR_STEMS = sorted({p.with_suffix("") for p in _course_files(".ipynb") + _course_files(".py")
                     if _text_format(p.parent)})


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


class JupyterServer:
    """A ``jupyter lab`` subprocess and a small REST client with its token."""

    def __init__(self, root: Path, home: Path, env: dict[str, str]):
        self.root, self.token = root, secrets.token_hex(16)
        runtime = home / "runtime"
        self.log_path = home / "server.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
             "--ip=127.0.0.1", "--port=0", "--ServerApp.port_retries=0",
             f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}"],
            cwd=root, env={**env, "JUPYTER_RUNTIME_DIR": str(runtime)},
            stdout=self._log, stderr=subprocess.STDOUT)
        # The server writes jpserver-<pid>.json (with the port it got) once it listens.
        deadline = time.monotonic() + SERVER_START_S
        while not (found := list(runtime.glob("jpserver-*.json"))):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"the Jupyter server did not start:\n{self.log_tail()}")
            time.sleep(0.2)
        info = json.loads(found[0].read_text())
        self.url = info["url"].rstrip("/")
        self.ws_url = "ws" + self.url[len("http"):]
        self.headers = {"Authorization": f"token {self.token}"}

    def log_tail(self, lines: int = 40) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def api(self, method: str, path: str, expect: int = 200, **kwargs) -> dict:
        response = requests.request(method, f"{self.url}/api/{path}", headers=self.headers,
                                    timeout=120, **kwargs)
        assert response.status_code == expect, (
            f"{method} /api/{path} answered {response.status_code}: {response.text[:2000]}\n"
            f"server log:\n{self.log_tail()}")
        return response.json() if response.content else {}

    def stop(self) -> None:
        if self.process.poll() is None:
            try:  # a clean shutdown also shuts down every kernel the server started
                requests.post(f"{self.url}/api/shutdown", headers=self.headers, timeout=10)
                self.process.wait(timeout=30)
            except (AttributeError, requests.RequestException, subprocess.TimeoutExpired):
                self.process.terminate()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        self._log.close()


class KernelChannels:
    """The kernel websocket of one session, speaking the Jupyter messaging protocol (JSON)."""

    def __init__(self, server: JupyterServer, kernel_id: str):
        self.session = uuid.uuid4().hex
        self.ws = websocket.create_connection(
            f"{server.ws_url}/api/kernels/{kernel_id}/channels?session_id={self.session}",
            header=[f"Authorization: token {server.token}"], timeout=CELL_TIMEOUT_S)

    def request(self, msg_type: str, content: dict, timeout: float = CELL_TIMEOUT_S) -> dict:
        """Send one shell request; gather its iopub outputs until the reply and idle status."""
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": msg_type, "session": self.session,
                       "username": "test", "version": "5.3",
                       "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
            "parent_header": {}, "metadata": {}, "content": content, "buffers": [],
            "channel": "shell"}))
        result = {"stdout": "", "stderr": "", "errors": [], "reply": None}
        idle = False
        deadline = time.monotonic() + timeout
        while result["reply"] is None or not idle:
            self.ws.settimeout(max(1.0, deadline - time.monotonic()))
            frame = self.ws.recv()
            if isinstance(frame, bytes):  # binary frames carry buffers we do not ask for
                continue
            message = json.loads(frame)
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, body = message["header"]["msg_type"], message["content"]
            if kind == "stream":
                result[body["name"]] += body["text"]
            elif kind == "error":
                result["errors"].append(body)
            elif kind == "status":
                idle = body["execution_state"] == "idle"
            elif message.get("channel") == "shell":
                result["reply"] = body
        return result

    def execute(self, code: str) -> dict:
        return self.request("execute_request", {
            "code": code, "silent": False, "store_history": True, "user_expressions": {},
            "allow_stdin": False, "stop_on_error": True})

    def close(self) -> None:
        self.ws.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A Jupyter server over a copy of the course (jupytext.toml + notebooks/)."""
    home = tmp_path_factory.mktemp("jupyter")
    root = home / "course"
    root.mkdir()
    shutil.copy2(REPO / "jupytext.toml", root / "jupytext.toml")
    shutil.copytree(NOTEBOOKS, root / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    if COURSE_NOTEBOOKS:  # one pair to edit and save, away from the notebooks the kernels run
        (root / "scratch").mkdir()
        for suffix in (".ipynb", ".py"):
            shutil.copy2(COURSE_NOTEBOOKS[0].with_suffix(suffix),
                         root / "scratch" / f"lesson{suffix}")
    env = {**os.environ,
           # The kernel runs in the notebook's folder: give it the data root as an absolute path.
           "LSTM_HELPERS_DATA": str(lh.resolve_root().resolve()),
           "TQDM_DISABLE": "1",
           # Keep the user's Jupyter and IPython settings (and kernelspecs) out of the test.
           "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_DATA_DIR": str(home / "data"),
           "IPYTHONDIR": str(home / "ipython")}
    env.pop("JUPYTER_PATH", None)
    running = JupyterServer(root, home, env)
    yield running
    running.stop()


@pytest.mark.slow
def test_the_server_runs_with_jupytext_and_refuses_requests_without_the_token(server):
    assert server.api("GET", "status")["kernels"] == 0
    assert requests.get(f"{server.url}/api/contents", timeout=30).status_code == 403
    log = server.log_tail(200)
    assert "jupyterlab_jupytext | extension was successfully loaded" in log
    assert "TextFileContentsManager" in log


@pytest.mark.slow
@pytest.mark.skipif(not COURSE_NOTEBOOKS, reason="no course notebook yet")
@pytest.mark.parametrize("notebook", COURSE_NOTEBOOKS, ids=_rel)
def test_each_notebook_opens_as_ipynb_and_as_py_with_the_same_cells_and_outputs(server, notebook):
    path = f"notebooks/{notebook.relative_to(NOTEBOOKS).as_posix()}"
    on_disk = nbformat.read(notebook, as_version=4)
    models = [server.api("GET", f"contents/{path}", params={"content": 1})]
    if _text_format(notebook.parent) is None:  # a student notebook: an .ipynb alone
        source = on_disk
    else:
        source = jupytext.read(notebook.with_suffix(".py"))  # the pair's source of inputs
        models.append(server.api("GET", f"contents/{path[:-len('.ipynb')]}.py",
                                 params={"content": 1, "type": "notebook"}))
    for model in models:
        assert model["type"] == "notebook" and model["format"] == "json"
        assert _cells(model["content"]) == _cells(source)
    # Opening the .py brings the outputs of the paired .ipynb along: the same notebook.
    outputs = [c.get("outputs") for c in on_disk["cells"] if c["cell_type"] == "code"]
    for model in models:
        assert [c.get("outputs") for c in model["content"]["cells"]
                if c["cell_type"] == "code"] == outputs


@pytest.mark.slow
@pytest.mark.skipif(not COURSE_NOTEBOOKS, reason="no course notebook yet")
def test_saving_either_file_through_the_server_updates_its_pair(server):
    folder = server.root / "scratch"
    notebook = server.api("GET", "contents/scratch/lesson.ipynb", params={"content": 1})
    stored_outputs = [c["outputs"] for c in notebook["content"]["cells"]
                      if c["cell_type"] == "code"]
    notebook["content"]["cells"].append(
        nbformat.v4.new_markdown_cell("A note saved from JupyterLab as .ipynb."))
    server.api("PUT", "contents/scratch/lesson.ipynb",
               json={"type": "notebook", "format": "json", "content": notebook["content"]})
    text = (folder / "lesson.py").read_text()
    assert text.endswith("# A note saved from JupyterLab as .ipynb.\n")
    assert _cells(jupytext.reads(text, fmt=_text_format(folder))) == _cells(notebook["content"])

    as_py = server.api("GET", "contents/scratch/lesson.py",
                       params={"content": 1, "type": "notebook"})
    as_py["content"]["cells"].append(
        nbformat.v4.new_code_cell('print("saved from JupyterLab as .py")'))
    server.api("PUT", "contents/scratch/lesson.py",
               json={"type": "notebook", "format": "json", "content": as_py["content"]})
    saved = nbformat.read(folder / "lesson.ipynb", as_version=4)
    assert saved.cells[-1].source == 'print("saved from JupyterLab as .py")'
    assert [c["outputs"] for c in saved.cells if c["cell_type"] == "code"][:-1] == \
        stored_outputs  # the run's outputs survive a save of the .py


def _first_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """Code cells up to the first one that loads MNIST (imports and data loading), or the
    first code cell alone in a notebook that loads no data (an exercise, say)."""
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for index, cell in enumerate(code):
        if DATA_LOADING.search(cell.source):
            return code[:index + 1]
    return code[:1]


@pytest.mark.slow
@pytest.mark.skipif(not COURSE_NOTEBOOKS, reason="no course notebook yet")
@pytest.mark.parametrize("notebook", COURSE_NOTEBOOKS, ids=_rel)
def test_a_kernel_started_by_the_server_runs_the_first_cells(server, notebook):
    relative = notebook.relative_to(NOTEBOOKS)
    session = server.api("POST", "sessions", expect=201, json={
        "path": f"notebooks/{relative.as_posix()}", "type": "notebook",
        "name": notebook.name, "kernel": {"name": "python3"}})
    channels = KernelChannels(server, session["kernel"]["id"])
    try:
        info = channels.request("kernel_info_request", {})
        assert info["reply"]["status"] == "ok", info
        check = channels.execute("import os, sys\nprint(sys.prefix)\nprint(os.getcwd())\n"
                                 "print(os.environ.get('LSTM_HELPERS_DATA'))")
        assert check["stdout"].splitlines() == [
            sys.prefix, str(server.root / "notebooks" / relative.parent),
            str(lh.resolve_root().resolve())]

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
            if stored and "nbval-ignore-output" not in cell.metadata.get("tags", []):
                assert sanitize(result["stdout"]) == sanitize(stored)
        # The data came from LSTM_HELPERS_DATA: nothing was downloaded next to the notebook.
        assert not (server.root / "notebooks" / relative.parent / "data").exists()
    finally:
        channels.close()
        server.api("DELETE", f"sessions/{session['id']}", expect=204)


def _pair_problem(stem: Path) -> str | None:
    """Why the pair ``stem``.py/``stem``.ipynb is not in sync (with a diff), or None."""
    py, ipynb = stem.with_suffix(".py"), stem.with_suffix(".ipynb")
    fix = (f"run `.venv/bin/python scripts/run_course.py {_rel(py)}` (syncs the pair from the "
           f".py and executes it), or `jupytext --sync {_rel(py)}` for the inputs alone")
    if not (py.is_file() and ipynb.is_file()):
        return f"{_rel(stem)} is not a full pair (.py and .ipynb): {fix}"
    config = load_jupytext_config(str(ipynb.parent))
    expected = jupytext.writes(jupytext.read(ipynb), fmt=_text_format(ipynb.parent),
                               config=config)
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
    shutil.copy2(REPO / "jupytext.toml", tmp_path / "jupytext.toml")
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
