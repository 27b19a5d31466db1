"""Execute the course notebooks in place and store their outputs (the README's main job).

    python scripts/run_course.py [NOTEBOOK ...]

Makes sure the MNIST files are there (fetching them if needed), brings each .py/.ipynb pair
in sync, runs every notebook top to bottom with a fresh kernel, writes the outputs into the
.ipynb, and prints the wall time of each.

The stored notebook is what JupyterLab itself would save after opening it: the kernel's
``kernelspec`` (name, display name, language) and its complete ``language_info``, so opening a
notebook does not mark it as changed and saving it unchanged rewrites the same bytes. Each
training keeps its progress bar as one output line in its final state (see
``lstm_helpers/progress.py``); nbval sanitizes its counts and timings.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

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


def execute(source: Path) -> float:
    """Sync the pair from its .py, execute it, store outputs; return the wall time in s."""
    subprocess.run([sys.executable, "-m", "jupytext", "--quiet", "--sync", str(source)],
                   check=True)
    path = source.with_suffix(".ipynb")
    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    # nbclient stores the kernel's language_info; the kernelspec is set here, as JupyterLab
    # sets both when it starts the notebook's kernel.
    NotebookClient(notebook, timeout=3600, kernel_name=KERNEL_NAME, record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    check_figures_stored(notebook, path)
    notebook.metadata["kernelspec"] = kernelspec()
    nbformat.write(notebook, path)
    # Re-sync so the .py is not older than its freshly written .ipynb.
    subprocess.run([sys.executable, "-m", "jupytext", "--quiet", "--sync", str(path)],
                   check=True)
    return seconds


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


def main(argv: list[str]) -> int:
    # Kernels draw figures inline whatever the user's environment says (lstm_helpers.plots
    # makes the same choice inside the kernel; check_figures_stored verifies it).
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    sys.path.insert(0, str(ROOT))
    from lstm_helpers import ensure_mnist, resolve_root

    # Kernels run inside notebooks/: give them the same absolute root as this process.
    os.environ["LSTM_HELPERS_DATA"] = str(resolve_root().resolve())

    print("MNIST files verified in", ensure_mnist())
    sources = [Path(a).with_suffix(".py").resolve() for a in argv] or course_notebooks()
    total = 0.0
    for source in sources:
        seconds = execute(source)
        total += seconds
        shown = source.relative_to(ROOT) if source.is_relative_to(ROOT) else source
        print(f"{shown}: {seconds:6.1f} s", flush=True)
    print(f"all {len(sources)} notebooks: {total:.1f} s ({total / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
