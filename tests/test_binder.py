"""Binder: binder/postBuild and binder/start leave a JupyterLab that opens a lesson as a
notebook, imports the course's package and finds the data, as ``make lab`` does.

Binder's own image cannot be built here (repo2docker needs Docker and the network), so the
test does what repo2docker does with the same files: a fresh virtual environment from
``binder/requirements.txt`` (from pip's cache, built once; PyPI's builds of the same torch
and torchvision versions instead of the CPU index, which this machine cannot reach), a copy
of the course as ``HOME``, ``postBuild`` run there, then JupyterLab started through
``start``. MNIST comes from a local server of the real files (``$LSTM_HELPERS_MNIST_URL``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from fresh_env import copy_course, fresh_venv
from lab_server import JupyterServer, KernelChannels

REPO = Path(__file__).resolve().parents[1]
BINDER = REPO / "binder"
SETTINGS = REPO / "scripts" / "jupyterlab-settings.json"


def binder_requirements() -> list[str]:
    """The requirement lines of binder/requirements.txt (no comments, no index options)."""
    lines = (BINDER / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith(("#", "-"))]


def test_binder_pins_the_course_versions():
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==([^\s+]+)", (REPO / "requirements.txt")
                           .read_text(encoding="utf-8"), re.M))
    for line in binder_requirements():
        name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)==([^\s+]+)(\+cpu)?", line).group(1, 2)
        assert pins.get(name) == version, f"binder/requirements.txt: {line}, course: {pins}"
    names = {line.split("==")[0] for line in binder_requirements()}
    assert {"torch", "torchvision", "jupyterlab", "jupytext", "ipykernel"} <= names
    for script in ("postBuild", "start"):
        assert os.access(BINDER / script, os.X_OK), f"binder/{script} must be executable"


@pytest.fixture(scope="module")
def binder_env(tmp_path_factory) -> Path:
    """A fresh virtual environment from binder/requirements.txt (PyPI builds)."""
    venv = tmp_path_factory.mktemp("binder") / "venv"
    fresh_venv(venv, [line.replace("+cpu", "") for line in binder_requirements()])
    return venv


@pytest.mark.slow
def test_postbuild_and_start_leave_a_jupyterlab_with_pairing_data_and_imports(
        binder_env, mnist_mirror, tmp_path):
    home = copy_course(tmp_path / "home")  # Binder copies the repository into $HOME
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "LSTM_HELPERS_DATA", "VIRTUAL_ENV", "JUPYTER_PATH")}
    env.update(HOME=str(home), PATH=f"{binder_env / 'bin'}:{env['PATH']}",
               PYTHONNOUSERSITE="1", LSTM_HELPERS_MNIST_URL=mnist_mirror.url)
    built = subprocess.run(["bash", str(home / "binder" / "postBuild")], cwd=home, env=env,
                           capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    overrides = binder_env / "share" / "jupyter" / "lab" / "settings" / "overrides.d"
    assert json.loads((overrides / "lstm-course.json").read_text()) == json.loads(
        SETTINGS.read_text())  # a lesson .py opens as a notebook
    del env["LSTM_HELPERS_MNIST_URL"]  # a session downloads nothing
    server = JupyterServer(home, tmp_path / "jupyter", command=[
        str(home / "binder" / "start"), str(binder_env / "bin" / "python"), "-m", "jupyter",
        "lab", "--ip=127.0.0.1", f"--ServerApp.root_dir={home}"], env=env)
    try:
        as_py = server.get_notebook("notebooks/01_model_a.py")  # paired: opens as notebook
        as_ipynb = server.get_notebook("notebooks/01_model_a.ipynb")
        assert as_py["type"] == "notebook"
        assert len(as_py["content"]["cells"]) == len(as_ipynb["content"]["cells"])
        setup = as_ipynb["content"]["cells"][1]["source"]
        session = server.start_session("notebooks/01_model_a.ipynb")
        kernel = KernelChannels(server, session["kernel"]["id"])
        try:
            ran = kernel.execute(setup)
            assert (ran["stdout"], ran["stderr"], ran["errors"]) == ("", "", [])
            ran = kernel.execute("import lstm_helpers as lh\nprint(lh.ensure_mnist())\n"
                                 "print(lh.__file__)")
            assert not ran["errors"], ran["errors"]
            assert ran["stdout"].splitlines() == [
                str(home / "data" / "MNIST" / "raw"),
                str(home / "lstm_helpers" / "__init__.py")]
        finally:
            kernel.close()
    finally:
        server.stop()
