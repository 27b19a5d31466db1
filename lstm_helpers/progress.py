"""Progress bars that read the same live, saved, reopened and re-tested.

In a notebook, tqdm's usual choice (``tqdm.auto``) is an ipywidgets bar. JupyterLab does not
save widget state by default, so a notebook saved after a run stores a widget view whose model
is gone: reopened with a new kernel it shows "Error displaying widget: model not found", and
its stored text is the bar's first state (``0/3000``). :func:`progress_bar` instead draws
tqdm's own text bar as one notebook output (a ``display_data`` with ``text/plain``) that is
updated in place through a display id. Every frontend (JupyterLab, nbclient, VS Code, the
static site) stores and shows its last state, for example
``training: 100%|██████████| 3000/3000 [00:31<00:00, 95.12it/s]``.

In a notebook the bar is part of the cell's output whatever the environment says: a run with
the bar and a run without it would store different outputs, and the test suite (nbval) would
see a saved notebook disagree with its re-run. ``tests/nbval_sanitize.cfg`` replaces the
bar's counts and timings, so any stored state matches any re-run. Pass ``disable=True``
(``train(..., progress=False)``) for a cell without a bar.

Outside a notebook (a terminal, the command line, pytest) it is tqdm's standard bar on
stderr, hidden by ``TQDM_DISABLE=1`` as tqdm documents.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable

from tqdm.std import tqdm

#: Seconds between two redraws of a notebook bar: smooth enough, few messages to the frontend.
NOTEBOOK_MININTERVAL = 0.5


class NotebookTextBar(tqdm):
    """tqdm's text bar drawn as one notebook output line, updated in place.

    Takes tqdm's arguments. The line is a ``display_data`` output (``text/plain``) created
    at the first draw and replaced through its display id at each redraw and at
    :meth:`close`, which draws the final state (with the run's average rate).
    """

    def __init__(self, *args, **kwargs):
        # gui=True: tqdm keeps its counters and timing but writes nothing to a stream.
        kwargs["gui"] = True
        kwargs["disable"] = bool(kwargs.get("disable", False))
        kwargs.setdefault("mininterval", NOTEBOOK_MININTERVAL)
        self._handle = None
        super().__init__(*args, **kwargs)
        if not self.disable:
            self.display()

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        from IPython.display import display

        data = {"text/plain": self.__str__() if msg is None else msg}
        if self._handle is None:
            self._handle = display(data, raw=True, display_id=True)
        else:
            self._handle.update(data, raw=True)
        return True

    def close(self) -> None:
        if self.disable:
            return
        super().close()  # marks the bar closed; draws nothing (gui mode)
        self._ema_dt = lambda: None  # the final line shows the overall rate, as tqdm does
        self.display()


def in_notebook() -> bool:
    """True inside a Jupyter kernel (JupyterLab, nbclient, nbval, VS Code), else False.

    IPython is looked up only if something already imported it, so the command line and
    plain scripts never pay for importing it.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def _disabled_by_environment() -> bool:
    return os.environ.get("TQDM_DISABLE", "").strip().lower() in {"1", "true", "yes", "on"}


def progress_bar(iterable: Iterable | None = None, *, total: int | None = None,
                 desc: str = "training", unit: str = "it", disable: bool = False,
                 **tqdm_kwargs) -> tqdm:
    """A tqdm bar for the course's loops: a saved-notebook-safe text line in a notebook,
    tqdm's standard bar elsewhere.

    Use it as tqdm: wrap an iterable, or give ``total`` and call ``update()`` then
    ``close()`` (or use it in a ``with`` block)::

        bar = lh.progress_bar(total=n_iters, desc="training")
        ...
            bar.update()
        bar.close()

    Args:
        iterable: optional iterable to wrap.
        total: expected number of updates (iterations), shown as ``n/total``.
        desc: label in front of the bar.
        unit: name of one update (``it``).
        disable: no bar at all. In a terminal ``TQDM_DISABLE=1`` hides it too; in a notebook
            the environment does not (see the module docstring).
        **tqdm_kwargs: any other tqdm argument (``leave``, ``mininterval``, ...).

    Returns:
        A tqdm instance (``NotebookTextBar`` in a notebook).
    """
    if in_notebook():
        return NotebookTextBar(iterable, total=total, desc=desc, unit=unit, disable=disable,
                               **tqdm_kwargs)
    return tqdm(iterable, total=total, desc=desc, unit=unit,
                disable=disable or _disabled_by_environment(), **tqdm_kwargs)
