"""Course figures: alt text, and stored outputs that do not depend on the user's matplotlib.

The kernel tests run real Jupyter kernels (nbclient, nbval, scripts/run_course.py) with a
hostile matplotlib set-up: a ``matplotlibrc`` that changes dpi, figure size, fonts, colours
and the saved dpi, ``MPLBACKEND=Agg``, and an IPython profile with other inline-backend
formats and settings and a style applied at start-up. The stored outputs must be the same as in a
clean environment, and nbval must pass (issue 14, case 2).
"""

from __future__ import annotations

import base64
import copy
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import matplotlib
import nbformat
import pytest
from nbclient import NotebookClient

import lstm_helpers as lh
from lstm_helpers import plots

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# A user's matplotlibrc that changes everything that could reach a stored output.
HOSTILE_RC = """\
figure.dpi: 150
figure.figsize: 3, 2
savefig.dpi: 300
savefig.bbox: standard
font.size: 20
axes.facecolor: black
lines.linewidth: 5
backend: Agg
"""

# The cells of the notebook the kernel tests run: a course plot, and a figure made with
# plt.subplots() and the rc defaults, as a lesson might.
CELLS = [
    "import matplotlib.pyplot as plt\nimport lstm_helpers as lh",
    "history = lh.History([2.3, 1.9, 1.2, 0.8] * 25, [lh.Evaluation(50, 1.2, 61.0),\n"
    "                     lh.Evaluation(100, 0.8, 88.5)])\n"
    "lh.plot_history(history, 'Model A: 1 LSTM layer')\nplt.show()",
    "fig, ax = plt.subplots()\nax.plot([0, 1, 2], [0, 1, 4])\n"
    "ax.set(title='a parabola', xlabel='x', ylabel='y')\nplt.show()",
]


def _figure_notebook() -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    return notebook


# ... and an IPython profile that asks for other figure formats, an inline-backend rc, and a
# style applied when every kernel starts.
HOSTILE_KERNEL_CONFIG = """\
c.InlineBackend.figure_formats = {"svg", "retina"}
c.InlineBackend.rc = {"figure.dpi": 50, "font.size": 4}
c.InlineBackend.print_figure_kwargs = {"bbox_inches": None}
"""
HOSTILE_STARTUP = 'import matplotlib.pyplot as plt\nplt.style.use("dark_background")\n'


@pytest.fixture
def hostile_env(tmp_path, monkeypatch):
    """The environment of a user with their own matplotlib settings and MPLBACKEND=Agg."""
    # MATPLOTLIBRC rather than a fresh MPLCONFIGDIR: the font cache stays where it is (a
    # kernel building it prints a notice, which is an output of its own).
    rc_file = tmp_path / "matplotlibrc"
    rc_file.write_text(HOSTILE_RC)
    profile = tmp_path / "ipython" / "profile_default"
    (profile / "startup").mkdir(parents=True)
    (profile / "ipython_kernel_config.py").write_text(HOSTILE_KERNEL_CONFIG)
    (profile / "startup" / "00-style.py").write_text(HOSTILE_STARTUP)
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("MATPLOTLIBRC", str(rc_file))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the kernels import this checkout's package
    return rc_file


def _run(notebook, cwd: Path) -> nbformat.NotebookNode:
    executed = copy.deepcopy(notebook)
    NotebookClient(executed, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return executed


def _figure_outputs(notebook) -> list[dict]:
    return [output for cell in notebook.cells for output in cell.outputs
            if "text/html" in output.get("data", {})]


# --- alt text and the three outputs, in this process -------------------------------------

def test_alt_text_is_made_from_the_titles():
    history = lh.History([2.0, 1.0], [lh.Evaluation(2, 1.0, 50.0)])
    fig = lh.plot_history(history, "Model B: 2 LSTM layers")
    assert plots.alt_text(fig) == (
        "Model B: 2 LSTM layers. Left: training loss (cross-entropy loss against iteration; "
        "lines: per batch; mean of 2). Right: test accuracy (test accuracy (%) against "
        "iteration).")
    fig, ax = plt.subplots()
    ax.set(title="Capacity against accuracy", xlabel="$\\theta$ parameters",
           ylabel="accuracy (%)")
    assert plots.alt_text(fig) == \
        "Capacity against accuracy (accuracy (%) against theta parameters)."
    plt.close("all")


def test_an_explicit_alt_text_wins_and_must_not_be_empty():
    fig, ax = plt.subplots()
    ax.set_title("ignored")
    plots.set_alt_text(fig, "  Four gates,\n drawn as bands. ")
    assert plots.alt_text(fig) == "Four gates, drawn as bands."
    with pytest.raises(ValueError, match="must say what the figure shows"):
        plots.set_alt_text(fig, " ")
    plt.close(fig)


def test_an_untitled_figure_is_flagged():
    fig, ax = plt.subplots()
    ax.plot([1, 2])
    with pytest.warns(UserWarning, match="a figure without a title"):
        text = plots.alt_text(fig)
    assert text.startswith(plots.UNTITLED)
    plt.close(fig)


def test_every_course_plot_has_a_title():
    history = lh.History([2.0, 1.0], [lh.Evaluation(2, 1.0, 50.0)])
    figures = [lh.plot_history(history, "t"), lh.plot_accuracy_curves({"a": history}, "t"),
               lh.plot_digit_as_sequence(lh.mnist_tensors(train=False)[0][0], 7)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for fig in figures:
            assert not plots.alt_text(fig).startswith(plots.UNTITLED)
            width, _ = fig.get_size_inches()
            assert width <= plots.FIGURE_WIDTH  # drawn for the width of the text column
    plt.close("all")


def test_outputs_do_not_depend_on_the_rc_dpi():
    """text/plain, the PNG and its display size are the same at figure.dpi 72 and 150."""
    outputs = []
    for dpi in (72, 150):
        with matplotlib.rc_context({"figure.dpi": dpi, "savefig.dpi": 2 * dpi}):
            fig = plt.figure(figsize=(6.4, 3.0))
            fig.add_subplot().set_title("dpi test")
            outputs.append((plots.figure_text(fig), plots.figure_html(fig),
                            plots.figure_png(fig)))
            plt.close(fig)
    assert outputs[0] == outputs[1]
    text, html, (png, metadata) = outputs[0]
    assert text == "<Figure size 640x300 with 1 Axes>"
    assert 'alt="Dpi test."' in html
    width, height = plots._css_size(base64.b64decode(png))
    assert metadata == {"width": width, "height": height}
    assert 500 <= width <= 660  # 6.4 inches at 100 CSS px per inch, tight bounding box
    assert f'width="{width}"' in html


# --- real kernels (marked slow: make check leaves them out) -----------------------------

@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    """The figure notebook executed in a clean environment (no user rc, inline backend)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MPLBACKEND", "MATPLOTLIBRC", "IPYTHONDIR")}
    env.update(PYTHONPATH=str(ROOT))
    config = tmp_path_factory.mktemp("clean")
    old = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        return _run(_figure_notebook(), config)
    finally:
        os.environ.clear()
        os.environ.update(old)


@pytest.mark.slow
def test_a_clean_run_stores_each_figure_with_alt_text(clean_run):
    figures = _figure_outputs(clean_run)
    assert len(figures) == 2
    first, second = (output["data"] for output in figures)
    assert first["text/plain"] == "<Figure size 640x290 with 2 Axes>"
    assert ('alt="Model A: 1 LSTM layer. Left: training loss (cross-entropy loss against '
            'iteration; lines: per batch; mean of 50)') in first["text/html"]
    assert 'alt="A parabola (y against x)."' in second["text/html"]
    assert second["text/plain"] == "<Figure size 640x360 with 1 Axes>"  # the course figsize
    for data in (first, second):
        assert set(data) == {"text/plain", "text/html", "image/png"}
        assert data["image/png"] in data["text/html"]  # one PNG, in both outputs


@pytest.mark.slow
def test_user_matplotlib_settings_change_no_stored_output(clean_run, hostile_env, tmp_path):
    # the hostile settings do reach a kernel that has not imported the course yet ...
    probe = nbformat.v4.new_notebook()
    probe.cells = [nbformat.v4.new_code_cell(
        "import matplotlib\nprint(matplotlib.get_backend(), matplotlib.rcParams['figure.dpi'],"
        " matplotlib.rcParams['axes.facecolor'])")]
    probe.metadata = _figure_notebook().metadata
    printed = _run(probe, tmp_path).cells[0].outputs[0]["text"]
    assert printed.lower().split() == ["agg", "150.0", "black"], printed
    # ... and change nothing in what the course's notebooks store
    hostile = _run(_figure_notebook(), tmp_path)
    assert _figure_outputs(hostile) == _figure_outputs(clean_run)
    streams = [o for cell in hostile.cells for o in cell.outputs if o.output_type == "stream"]
    assert streams == []  # no warning printed either


@pytest.mark.slow
def test_nbval_passes_with_user_matplotlib_settings(clean_run, hostile_env, tmp_path):
    """The issue's case: stored in a clean environment, checked by nbval in the user's."""
    stored = tmp_path / "figures.ipynb"
    nbformat.write(clean_run, stored)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=",
         "--nbval", "--nbval-current-env", "--nbval-sanitize-with",
         str(ROOT / "tests" / "nbval_sanitize.cfg"), str(stored)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "3 passed" in result.stdout


@pytest.mark.slow
def test_run_course_stores_figures_with_mplbackend_agg(hostile_env, tmp_path):
    """`MPLBACKEND=Agg python scripts/run_course.py NOTEBOOK` still stores every figure."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    shutil.copy(ROOT / "notebooks" / "jupytext.toml", folder / "jupytext.toml")
    source = folder / "figures.py"
    source.write_text("".join(f"# %%\n{cell}\n\n" for cell in CELLS))
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "run_course.py"),
                             str(source)], capture_output=True, text=True, timeout=600,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    stored = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    figures = _figure_outputs(stored)
    assert len(figures) == 2
    assert all(re.search(r'<img src="data:image/png;base64,[^"]+" width="\d+"',
                         o["data"]["text/html"]) for o in figures)


def test_run_course_refuses_a_run_that_lost_its_figures():
    import importlib.util

    spec = importlib.util.spec_from_file_location("run_course", ROOT / "scripts" /
                                                  "run_course.py")
    run_course = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_course)
    notebook = _figure_notebook()
    notebook.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="")]
    with pytest.raises(RuntimeError, match="cell 2 calls plt.show\\(\\) but stored no figure"):
        run_course.check_figures_stored(notebook, Path("x.ipynb"))
