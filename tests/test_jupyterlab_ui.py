"""The course in the JupyterLab UI, driven by Playwright in headless Chromium.

A server is started as ``make lab`` starts it (``scripts/lab.py``) over a copy of
``notebooks/``, with the course's JupyterLab settings installed the way ``make lab``
installs them (here into the server's own settings folder, not the environment's). In the
UI: lesson 01 opens without being marked as changed, runs its first cells (imports and
MNIST) and saves with its ``.py`` untouched; a lesson ``.py`` opens as a notebook on a
double click; a training run with its progress bar, saved and reopened with a new kernel,
shows the bar's final line and no widget error. Screenshots go to ``test-artifacts/``.

Without ``/usr/bin/chromium`` these tests are skipped locally and FAIL in CI (``CI=true``):
``apt-get update && apt-get install -y chromium``.
"""

from __future__ import annotations

import difflib
import json
import re
import shutil
import time
from pathlib import Path

import jupytext
import nbformat
import pytest
from ipykernel.ipkernel import IPythonKernel
from lab_server import FINAL_BAR, TRAINING_WITH_BAR, WIDGET_VIEW, JupyterServer, lab, load_script

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
ARTIFACTS = REPO / "test-artifacts"
LESSONS = sorted(NOTEBOOKS.glob("*.ipynb"))
DATA_LOADING = re.compile(r"\b(load_mnist|mnist_batches|mnist_tensors|mnist_dataloaders|"
                          r"ensure_mnist)\(")
UI_TIMEOUT_MS = 180_000
#: After the kernel is idle JupyterLab may still update the notebook's metadata from it;
#: a notebook that stays unchanged this long after that is not marked as changed.
SETTLE_S = 10
KERNELSPEC = load_script("run_course").kernelspec()
PYTHON_VERSION = IPythonKernel.language_info["version"]  # what this machine's kernel reports

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not LESSONS, reason="no lesson notebook yet")]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("jupyterlab-ui")
    root = home / "notebooks"
    shutil.copytree(NOTEBOOKS, root,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    # The one machine-specific field: JupyterLab rewrites language_info.version when the
    # kernel's Python differs from the one that stored the notebook (test_jupyter.py warns).
    # Give the copies this machine's, so the test checks everything else.
    for path in root.rglob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        language_info = notebook.metadata.get("language_info", {})
        if language_info.get("version", PYTHON_VERSION) != PYTHON_VERSION:
            language_info["version"] = PYTHON_VERSION
            nbformat.write(notebook, path)
    settings = home / "lab-settings"
    lab.install_settings(settings / "overrides.d")
    # Test-only: no "Jupyter news?" pop-up over the page.
    (settings / "overrides.d" / "test.json").write_text(json.dumps(
        {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false"}}))
    running = JupyterServer(root, home / "server",
                            options=[f"--LabApp.app_settings_dir={settings}"])
    yield running
    running.stop()


@pytest.fixture
def page(browser, server):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(UI_TIMEOUT_MS)
    yield page
    page.close()
    for session in server.api("GET", "sessions"):  # no kernel carries over to the next test
        server.api("DELETE", f"sessions/{session['id']}", expect=204)


def _open(page, server: JupyterServer, path: str) -> None:
    """Open ``path`` in a fresh JupyterLab workspace and wait for its kernel to be idle."""
    page.goto(f"{server.url}/lab/tree/{path}?reset&token={server.token}")
    _wait_for_idle_notebook(page)


def _current(page):
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")


def _wait_for_idle_notebook(page) -> None:
    """Wait until the current notebook is loaded and its kernel is connected and idle (the
    status bar reads ``Python 3 (ipykernel) | Idle``: before that the panel may still be the
    empty placeholder JupyterLab shows while it loads)."""
    page.locator(".jp-StatusBar-Widget").get_by_text(
        re.compile(rf"^{re.escape(KERNELSPEC['display_name'])} \| Idle$")).wait_for()
    _current(page).locator(".jp-Cell").first.wait_for()
    _current(page).locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()


def _is_dirty(page) -> bool:
    return "jp-mod-dirty" in (page.locator(".lm-TabBar-tab.jp-mod-current").first
                              .get_attribute("class") or "")


def _assert_stays_unchanged(page, path: Path) -> None:
    """The open notebook at ``path`` is not marked as changed for SETTLE_S seconds; if it
    is, save it and fail with what JupyterLab changed in the file."""
    before = path.read_bytes()
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline and not _is_dirty(page):
        time.sleep(0.25)
    if _is_dirty(page):
        _screenshot(page, f"jupyterlab-{path.stem}-marked-as-changed.png")
        _save(page)
        diff = difflib.unified_diff(before.decode().splitlines(),
                                    path.read_text().splitlines(), lineterm="")
        pytest.fail(f"{path.name} is marked as changed right after opening; saved, it "
                    f"differs:\n" + "\n".join(list(diff)[:80]))


def _save(page) -> None:
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 60
    while _is_dirty(page):
        assert time.monotonic() < deadline, "the notebook did not save"
        time.sleep(0.2)


def _run_cells(page, count: int) -> None:
    """Run the first ``count`` cells with Shift+Enter, as a student does, and wait."""
    _current(page).locator(".jp-Cell").first.click()
    page.keyboard.press("Escape")  # command mode: Shift+Enter runs and moves on
    for _ in range(count):
        page.keyboard.press("Shift+Enter")
    _wait_for_idle_notebook(page)
    # The execution indicator turns idle between cells: wait for the last one to finish.
    last = _current(page).locator(".jp-Cell").nth(count - 1)
    if "jp-CodeCell" in (last.get_attribute("class") or ""):
        last.locator(".jp-InputPrompt").filter(has_text=re.compile(r"\[\d+\]")).wait_for()


def _screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=False)


def test_lesson_01_opens_unchanged_runs_its_first_cells_and_saves_its_pair(page, server):
    lesson = LESSONS[0].name
    py = server.root / lesson.replace(".ipynb", ".py")
    py_before = py.read_bytes()
    _open(page, server, lesson)
    assert page.locator(".jp-Dialog").count() == 0  # no "Select Kernel" question
    _assert_stays_unchanged(page, server.root / lesson)

    cells = nbformat.read(server.root / lesson, as_version=4).cells
    first = next(i for i, cell in enumerate(cells)
                 if cell.cell_type == "code" and DATA_LOADING.search(cell.source)) + 1
    _run_cells(page, first)
    _screenshot(page, f"jupyterlab-{LESSONS[0].stem}.png")
    _save(page)

    saved = nbformat.read(server.root / lesson, as_version=4)
    ran = [c for c in saved.cells[:first] if c.cell_type == "code"]
    assert ran and all(c.execution_count for c in ran)
    errors = [o for c in ran for o in c.outputs if o.output_type == "error"]
    assert not errors, "\n".join(e.ename + ": " + e.evalue for e in errors)
    assert saved.metadata.kernelspec == KERNELSPEC
    assert py.read_bytes() == py_before  # the inputs did not change, so neither did the .py


def test_a_lesson_py_opens_as_a_notebook_with_its_outputs_on_double_click(page, server):
    lesson = LESSONS[0].with_suffix(".py").name
    page.goto(f"{server.url}/lab?reset&token={server.token}")
    item = page.locator(".jp-DirListing-item", has=page.locator(
        ".jp-DirListing-itemText", has_text=re.compile(rf"^{re.escape(lesson)}$")))
    item.dblclick()
    _wait_for_idle_notebook(page)  # a notebook, not the text editor
    assert page.locator(".lm-TabBar-tab.jp-mod-current").first.inner_text().strip() == lesson
    assert page.locator(".jp-Dialog").count() == 0  # its kernel comes from the paired .ipynb
    # The run's execution counts (and outputs) come along from the paired .ipynb.
    first_code = _current(page).locator(".jp-CodeCell").first
    assert re.fullmatch(r"\[\d+\]:", first_code.locator(".jp-InputPrompt").inner_text().strip())
    _assert_stays_unchanged(page, server.root / lesson)
    inputs = jupytext.read(NOTEBOOKS / lesson)
    assert _current(page).locator(".jp-Cell").count() == len(inputs.cells)


def test_a_run_saved_with_its_progress_bar_reopens_with_the_final_line(page, server):
    path = "bar.ipynb"
    server.save_notebook(path, nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(TRAINING_WITH_BAR)], metadata={"kernelspec": KERNELSPEC}))
    _open(page, server, path)
    _run_cells(page, 1)
    _save(page)
    outputs = nbformat.read(server.root / path, as_version=4).cells[0].outputs
    assert not [o for o in outputs if WIDGET_VIEW in o.get("data", {})]
    bars = [o.data["text/plain"] for o in outputs if o.output_type == "display_data"]
    assert len(bars) == 1 and FINAL_BAR.match(bars[0]), bars

    for session in server.api("GET", "sessions"):  # close the kernel: reopen with a new one
        server.api("DELETE", f"sessions/{session['id']}", expect=204)
    _open(page, server, path)
    output = _current(page).locator(".jp-OutputArea-output").first
    assert FINAL_BAR.match(output.inner_text().strip()), output.inner_text()
    assert "Error displaying widget" not in _current(page).inner_text()
    _screenshot(page, "jupyterlab-progress-bar-reopened.png")
