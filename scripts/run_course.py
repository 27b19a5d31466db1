"""Execute the course notebooks in place and store their outputs (the README's main job).

    python scripts/run_course.py [--status-every SECONDS] [--times FILE] [NOTEBOOK ...]

Makes sure the MNIST files are there (fetching them if needed), brings each .py/.ipynb pair
in sync, runs every notebook top to bottom with a fresh kernel, writes the outputs into the
.ipynb, and prints the wall time of each, then a table of them all. While it runs it shows
where it is (see ``scripts/course_progress.py``): the notebook, its cells done, the
progress bar of a model in training, the time so far and the time left by the previous
run's times (kept in ``build/course-times.json``); on one line redrawn in a terminal, else
as a plain line every 30 seconds.

The stored notebook is what JupyterLab itself would save after opening it: the kernel's
``kernelspec`` (name, display name, language) and its complete ``language_info``, so opening a
notebook does not mark it as changed and saving it unchanged rewrites the same bytes. Each
training keeps its progress bar as one output line in its final state (see
``lstm_helpers/progress.py``); nbval sanitizes its counts and timings.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupytext.config import load_jupytext_config
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent))  # its sibling, however it is loaded
from course_progress import TIMES_FILE, CourseProgress, RecordedTimes, duration  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def course_notebooks() -> list[Path]:
    """Every paired notebook source, in course order (file name order)."""
    return sorted(NOTEBOOKS.rglob("*.py"))


KERNEL_NAME = "python3"


def kernelspec(name: str = KERNEL_NAME) -> dict:
    """The notebook ``kernelspec`` metadata JupyterLab writes for kernel ``name``."""
    spec = KernelSpecManager().get_kernel_spec(name)
    return {"display_name": spec.display_name, "language": spec.language, "name": name}


class WatchedClient(NotebookClient):
    """nbclient's executor, telling a :class:`CourseProgress` about cells and outputs."""

    def __init__(self, notebook: nbformat.NotebookNode, progress: CourseProgress, **kwargs):
        super().__init__(notebook, on_cell_execute=lambda **_: progress.start_cell(),
                         on_cell_executed=lambda **_: progress.end_cell(), **kwargs)
        self.progress = progress

    def process_message(self, msg: dict, cell, cell_index: int):
        content = msg.get("content", {})
        text = content.get("text") or (content.get("data") or {}).get("text/plain")
        if isinstance(text, str):  # a stream, or a display such as the training bar
            self.progress.output(text)
        return super().process_message(msg, cell, cell_index)


def code_cells(notebook: nbformat.NotebookNode) -> int:
    """The cells nbclient executes: code cells with some code."""
    return sum(1 for cell in notebook.cells if cell.cell_type == "code" and cell.source.strip())


def display_name(source: Path) -> str:
    return str(source.relative_to(ROOT)) if source.is_relative_to(ROOT) else str(source)


def execute(source: Path, progress: CourseProgress) -> float:
    """Sync the pair from its .py, execute it, store outputs; return the wall time in s."""
    subprocess.run([sys.executable, "-m", "jupytext", "--quiet", "--sync", str(source)],
                   check=True)
    path = source.with_suffix(".ipynb")
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata["jupytext"] = pairing_metadata(source)
    progress.start_notebook(display_name(source), code_cells(notebook))
    # nbclient stores the kernel's language_info; the kernelspec is set here, as JupyterLab
    # sets both when it starts the notebook's kernel.
    WatchedClient(notebook, progress, timeout=3600, kernel_name=KERNEL_NAME,
                  record_timing=False,
                  resources={"metadata": {"path": str(path.parent)}}).execute()
    check_figures_stored(notebook, path)
    seconds = progress.end_notebook()
    notebook.metadata["kernelspec"] = kernelspec()
    nbformat.write(notebook, path)
    # Re-sync so the .py is not older than its freshly written .ipynb.
    subprocess.run([sys.executable, "-m", "jupytext", "--quiet", "--sync", str(path)],
                   check=True)
    return seconds


def pairing_metadata(source: Path) -> dict:
    """The ``jupytext`` metadata of ``source`` as read with its folder's jupytext.toml.

    ``jupytext --sync`` keeps the filters an older .ipynb stored; JupyterLab writes the
    .ipynb as text with those, and a .py header they drop (04_gpu's Colab metadata) then
    reads as a mismatch ("04_gpu.ipynb is more recent than 04_gpu.py").
    """
    config = load_jupytext_config(str(source.parent))
    metadata = dict(jupytext.read(source, config=config).metadata.get("jupytext", {}))
    metadata.pop("text_representation", None)  # the .py's own, never stored in the .ipynb
    return metadata


def check_figures_stored(notebook: nbformat.NotebookNode, path: Path) -> None:
    """Refuse to store a run in which a cell called ``plt.show()`` but kept no figure.

    That is what a kernel without the inline backend does (a user's ``MPLBACKEND=Agg``):
    it runs happily and stores nothing, and the site then shows no plot.

    Raises:
        RuntimeError: naming the first such cell; the notebook file is left as it was.
    """
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type != "code" or "plt.show()" not in cell.source:
            continue
        if not any({"image/png", "text/html"} & set(o.get("data", {})) for o in cell.outputs):
            raise RuntimeError(
                f"{path.name}, cell {number} calls plt.show() but stored no figure: the "
                "kernel did not display it (is MPLBACKEND set to a non-inline backend?). "
                "Nothing was written.")


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/run_course.py",
        description="Execute the course notebooks (all of them, or those named) in fresh "
                    "kernels and store their outputs, showing the progress as they run.")
    parser.add_argument("notebooks", nargs="*", metavar="NOTEBOOK",
                        help="a notebook's .py or .ipynb (default: every course notebook)")
    parser.add_argument("--status-every", type=float, default=None, metavar="SECONDS",
                        help="seconds between two status lines when the output is not a "
                             "terminal (default 30; a terminal's line is redrawn every second)")
    parser.add_argument("--times", type=Path, default=TIMES_FILE, metavar="FILE",
                        help="where the times of each run are kept for the next run's "
                             f"estimate (default {TIMES_FILE.relative_to(ROOT)})")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_arguments(argv)
    # Kernels draw figures inline whatever the user's environment says (lstm_helpers.plots
    # makes the same choice inside the kernel; check_figures_stored verifies it).
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    sys.path.insert(0, str(ROOT))
    from lstm_helpers import ensure_mnist, resolve_root

    # Kernels run inside notebooks/: give them the same absolute root as this process.
    os.environ["LSTM_HELPERS_DATA"] = str(resolve_root().resolve())

    print("MNIST files verified in", ensure_mnist(), flush=True)
    sources = [Path(a).with_suffix(".py").resolve() for a in args.notebooks] \
        or course_notebooks()
    names = [display_name(source) for source in sources]
    previous = RecordedTimes(args.times)
    before = {name: previous.seconds(name) for name in names}
    progress = CourseProgress(names, previous, every=args.status_every)
    done: dict[str, float] = {}
    with progress:
        for source, name in zip(sources, names, strict=True):
            progress.say(f"running {name} ({len(done) + 1}/{len(sources)})")
            done[name] = execute(source, progress)
            progress.say(f"{name}: {done[name]:6.1f} s")
    print(times_table(done, before))
    return 0


def times_table(done: dict[str, float], before: dict[str, float | None]) -> str:
    """The run's times, one row per notebook, beside the previous run's."""
    width = max(len(name) for name in done)
    rows = [f"{'notebook':<{width}}  {'seconds':>8}  {'previous run':>12}"]
    for name, seconds in done.items():
        previous = before.get(name)
        rows.append(f"{name:<{width}}  {seconds:8.1f}  "
                    f"{'-' if previous is None else f'{previous:.1f}':>12}")
    total = sum(done.values())
    rows.append(f"all {len(done)} notebooks: {total:.1f} s ({duration(total)})")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
