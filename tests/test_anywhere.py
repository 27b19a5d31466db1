"""The course anywhere: the package builds and installs outside the checkout, and every
notebook as the site offers it runs in a Colab-like environment from its own first cell.

* The wheel and the sdist build with ``python -m build`` from a copy of the checkout; the
  wheel holds the package and the set-up module, declares version ranges (not the pins of
  requirements.txt), and nothing only the grader may see.
* ``pip install "lstm-helpers @ git+file://<this repository>@<commit>"`` works.
* A fresh virtual environment holds only what Colab preinstalls (torch, torchvision,
  numpy, matplotlib, tqdm, ipykernel, at the course's pinned versions), built once for this
  module from pip's cache. Every lesson and student notebook is copied into an empty folder
  outside the checkout and run there in a kernel of that environment (``PYTHONPATH`` and the
  user site cleared, ``HOME`` and so the per-user cache in a temporary folder): its set-up,
  import and data cells, and 01 and a student exercise to the end. Before each notebook the
  package is uninstalled again, so each set-up cell installs it (from the built wheel,
  through ``$LSTM_HELPERS_INSTALL_FROM``) and prints its one line. MNIST comes once from a
  local server of the real files (``$LSTM_HELPERS_MNIST_URL``) into the temporary cache;
  the other notebooks reuse it. Nothing is written into the checkout or the real cache.

All of it is ``slow``: building the environment takes 1-2 minutes, the notebooks 5-8 on
two busy cores.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import nbformat
import platformdirs
import pytest
from fresh_env import copy_course, fresh_venv, pinned
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

import lstm_course_setup
import lstm_helpers

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
#: What Colab preinstalls, of what the course needs (the rest the set-up cell installs).
COLAB_PACKAGES = ("torch", "torchvision", "numpy", "matplotlib", "tqdm", "ipykernel")
#: Cells up to the first one that loads data are run; 01 and this exercise run to the end.
DATA_LOADING = re.compile(r"\b(load_mnist|mnist_batches|mnist_tensors|mnist_dataloaders|"
                          r"ensure_mnist)\(")
IMPORT = re.compile(r"^(?:import|from) lstm_helpers\b", re.M)
RUN_TO_THE_END = {"01_model_a.ipynb", "ex3_input_shapes.ipynb"}
#: Not part of the course's files: the test's and the tools' own leftovers.
NOT_COURSE = {".git", ".venv", "__pycache__", ".pytest_cache", "test-artifacts", "site",
              "build", ".ipynb_checkpoints"}

pytestmark = pytest.mark.slow


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """``{relative path: (size, mtime)}`` of every file under ``folder``, leftovers aside."""
    found = {}
    if folder.is_dir():
        for path in folder.rglob("*"):
            if path.is_file() and not NOT_COURSE & set(path.relative_to(folder).parts):
                stat = path.stat()
                found[str(path.relative_to(folder))] = (stat.st_size, stat.st_mtime_ns)
    return found


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, Path]:
    """The wheel and the sdist, built by ``python -m build`` from a copy of the checkout
    (setuptools writes into the tree it builds)."""
    work = tmp_path_factory.mktemp("build")
    source = copy_course(work / "source")
    done = subprocess.run([sys.executable, "-m", "build", "--outdir", str(work / "dist"),
                           str(source)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (wheel,) = (work / "dist").glob("*.whl")
    (sdist,) = (work / "dist").glob("*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


def test_the_wheel_and_the_sdist_hold_the_package_at_its_version(dist):
    version = lstm_helpers.__version__
    assert dist["wheel"].name == f"lstm_helpers-{version}-py3-none-any.whl"
    assert dist["sdist"].name == f"lstm_helpers-{version}.tar.gz"
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        names = wheel.namelist()
        metadata = wheel.read(f"lstm_helpers-{version}.dist-info/METADATA").decode()
    package = {p.relative_to(REPO).as_posix() for p in (REPO / "lstm_helpers").rglob("*.py")}
    assert package | {"lstm_course_setup.py"} <= set(names)
    requires = re.findall(r"^Requires-Dist: (.+)$", metadata, re.M)
    assert {re.split(r"[<>=!~ ]", r)[0] for r in requires} == {
        "torch", "torchvision", "numpy", "matplotlib", "pillow", "tqdm", "platformdirs"}
    assert not any("==" in r for r in requires), requires  # ranges, not the course's pins
    assert all(">=" in r for r in requires), requires
    with tarfile.open(dist["sdist"]) as sdist:
        members = {m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name}
    assert {"pyproject.toml", "README.md", "lstm_course_setup.py",
            "lstm_helpers/__init__.py"} <= members


def test_the_wheel_holds_nothing_only_the_grader_may_see(dist):
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        assert not [n for n in wheel.namelist() if n.startswith("classroom/")]
        leaking = [n for n in wheel.namelist()
                   if re.search(rb"hidden_check|HIDDEN_CASES", wheel.read(n))]
    assert not leaking, f"grader-only material in the wheel: {leaking}"


def test_pip_installs_the_package_from_a_git_url(tmp_path):
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                            text=True, check=True).stdout.strip()
    target = tmp_path / "target"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
         str(target), f"lstm-helpers @ git+file://{REPO}@{commit}"],
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (target / "lstm_helpers" / "__init__.py").is_file()
    assert (target / "lstm_course_setup.py").is_file()
    (info,) = target.glob("lstm_helpers-*.dist-info")
    assert info.name == f"lstm_helpers-{lstm_helpers.__version__}.dist-info"


@pytest.fixture(scope="module")
def colab(tmp_path_factory) -> dict[str, Path]:
    """A fresh virtual environment holding only what Colab preinstalls, and a Jupyter
    kernel spec that runs it."""
    work = tmp_path_factory.mktemp("colab")
    venv = work / "venv"
    python = fresh_venv(venv, pinned(COLAB_PACKAGES))
    kernels = work / "kernels"
    (kernels / "colab").mkdir(parents=True)
    (kernels / "colab" / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab-like", "language": "python"}))
    return {"venv": venv, "python": python, "kernels": kernels}


def cells_to_run(notebook: nbformat.NotebookNode, name: str) -> list:
    """Every cell for 01 and the chosen exercise; else the cells up to the first that loads
    data, or, in a notebook that loads none, up to the first that imports lstm_helpers."""
    if name in RUN_TO_THE_END:
        return notebook.cells
    code = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    last = next((i for i in code if DATA_LOADING.search(notebook.cells[i].source)), None)
    if last is None:
        last = next(i for i in code if IMPORT.search(notebook.cells[i].source))
    return notebook.cells[: last + 1]


def run_in_colab(path: Path, colab: dict, cells: list) -> nbformat.NotebookNode:
    """Execute ``cells`` of the notebook at ``path`` (in its folder) in the Colab-like
    kernel, then one cell that prints where lstm_helpers was imported from."""
    notebook = nbformat.read(path, as_version=4)
    probe = nbformat.v4.new_code_cell(
        "import lstm_helpers\nprint('lstm_helpers from', lstm_helpers.__file__)")
    notebook.cells = [*cells, probe]
    manager = KernelManager(kernel_name="colab",
                            kernel_spec_manager=KernelSpecManager(
                                kernel_dirs=[str(colab["kernels"])]))
    try:
        NotebookClient(notebook, km=manager, timeout=900, record_timing=False,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    except CellExecutionError as error:
        pytest.fail(f"{path.name} failed in the Colab-like environment:\n{error}"[:6000])
    return notebook


def stdout_of(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs
                   if o.output_type == "stream" and o.name == "stdout")


def test_every_notebook_runs_from_its_own_first_cell_in_a_colab_like_environment(
        dist, colab, mnist_mirror, tmp_path, monkeypatch):
    offered = tmp_path / "downloads"  # an empty folder outside the checkout
    offered.mkdir()
    notebooks = sorted(NOTEBOOKS.glob("*.ipynb")) + sorted(
        (NOTEBOOKS / "exercises" / "student").glob("*.ipynb"))
    for path in notebooks:  # the site offers each stored .ipynb as it is
        shutil.copy2(path, offered / path.name)
    home = tmp_path / "home"
    home.mkdir()
    real_cache = platformdirs.user_cache_path("lstm_helpers", appauthor=False)
    before = {"checkout": snapshot(REPO), "cache": snapshot(real_cache)}
    for name in ("PYTHONPATH", "LSTM_HELPERS_DATA", "XDG_CACHE_HOME", "TQDM_DISABLE",
                 "MPLBACKEND", "JUPYTER_PATH", "VIRTUAL_ENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PYTHONNOUSERSITE", "1")  # no user site
    monkeypatch.setenv("LSTM_HELPERS_INSTALL_FROM", str(dist["wheel"]))
    monkeypatch.setenv("LSTM_HELPERS_MNIST_URL", mnist_mirror.url)
    cache = home / ".cache" / "lstm_helpers" / "MNIST" / "raw"
    downloads = None
    for path in sorted(offered.iterdir()):
        subprocess.run([str(colab["python"]), "-m", "pip", "uninstall", "--quiet", "--yes",
                        "lstm-helpers"], capture_output=True, check=True)
        notebook = nbformat.read(path, as_version=4)
        first_code = next(c for c in notebook.cells if c.cell_type == "code")
        assert first_code.source.startswith(lstm_course_setup.FIRST_LINE), path.name
        ran = run_in_colab(path, colab, cells_to_run(notebook, path.name))
        setup = next(c for c in ran.cells if c.cell_type == "code")
        assert stdout_of(setup) == (
            f"Installed lstm-helpers {lstm_helpers.__version__} from {dist['wheel']}; every "
            f"other package is this environment's own.\n"), (path.name, setup.outputs)
        where = stdout_of(ran.cells[-1]).removeprefix("lstm_helpers from ").strip()
        assert Path(where).is_relative_to(colab["venv"]), (path.name, where)
        if downloads is None and cache.is_dir():  # the first data access downloaded MNIST
            downloads = len(mnist_mirror.requests)
            assert downloads > 0
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        lstm_helpers.download.MNIST_SHA256)
    assert len(mnist_mirror.requests) == downloads, "a later notebook downloaded MNIST again"
    assert snapshot(REPO) == before["checkout"], "a notebook wrote into the checkout"
    assert snapshot(real_cache) == before["cache"], "a notebook wrote into the real cache"
