"""Figures for the notebooks, and how every course figure is shown and stored (matplotlib).

Three plots: a digit as a sequence, training curves, accuracy curves of several runs.

How figures are shown
---------------------
Inside a Jupyter kernel, importing this module (``import lstm_helpers``) makes every
matplotlib figure of the session display the same way, whatever the user's matplotlib
settings are, so that the stored outputs, the test suite (nbval) and the site agree:

* **One style.** matplotlib's own defaults plus :data:`COURSE_RC`; a ``matplotlibrc``, a
  style or ``InlineBackend`` settings of the user's do not change the figures (a later
  ``plt.style.use`` in the notebook still does: that is the notebook's own choice).
* **Inline backend.** With ``MPLBACKEND=Agg`` (or any other backend) in the environment a
  kernel would show, and store, no figure at all; the inline backend is switched on.
* **One output per figure**, independent of ``figure.dpi`` and ``savefig.dpi``:

  - ``text/html``: ``<img alt="..." width="W">``, a PNG drawn at :data:`PNG_DPI` and shown
    at :data:`DISPLAY_DPI` CSS pixels per inch (sharp on high-density screens). JupyterLab
    (4.6) and nbconvert (7.17, which builds the site's pages) prefer ``text/html`` to
    ``image/png`` and neither reads an alt text from output metadata, so this ``<img>`` is
    what carries the alt text to both;
  - ``image/png``: the same PNG, for front ends and exports without HTML (PDF, LaTeX);
  - ``text/plain``: ``<Figure size 640x280 with 2 Axes>``, the size in CSS pixels at
    :data:`DISPLAY_DPI` (the same text matplotlib prints at its default 100 dpi).

Alt text convention
-------------------
Every course figure needs a title: the alt text (what a screen reader says, what the site
shows when the image is missing) is derived from it by :func:`alt_text`:

* the figure's ``suptitle``, then for each axes its title and "y label against x label",
  and the labels of its legend;
* or, where titles cannot say what the figure shows, an explicit text set with
  :func:`set_alt_text`.

A figure with neither gets a stand-in alt text and a warning; ``tests/test_site.py`` fails
on it. Draw figures at most :data:`FIGURE_WIDTH` inches wide (the text column of the site):
wider ones are scaled down on the page, and their labels with them.
"""

from __future__ import annotations

import base64
import html
import io
import re
import warnings
import weakref

import matplotlib
import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from PIL import Image

from .training import History

#: Width in inches of a figure that fills the text column of the site (640 CSS pixels).
FIGURE_WIDTH = 6.4
#: CSS pixels per inch at which figures are shown: a FIGURE_WIDTH figure is 640 px wide.
DISPLAY_DPI = 100
#: Pixels per inch of the stored PNG: twice DISPLAY_DPI, for high-density screens.
PNG_DPI = 2 * DISPLAY_DPI
#: The course's changes to matplotlib's defaults; every figure in a kernel is drawn with them.
COURSE_RC = {
    "figure.figsize": (FIGURE_WIDTH, 3.6),
    "figure.dpi": DISPLAY_DPI,
    "figure.facecolor": "white",   # plots stay readable on a dark page or dark JupyterLab
    "savefig.facecolor": "white",
    "axes.titlesize": "medium",
    "legend.fontsize": "small",
}
#: What an untitled figure is called; tests look for it.
UNTITLED = "Untitled figure"

_ALT_ATTRIBUTE = "_lstm_course_alt_text"


def plot_digit_as_sequence(image: torch.Tensor, label: int | None = None) -> Figure:
    """Show one 28 x 28 image as the LSTM reads it: 28 time steps of 28 pixels.

    Left: the image. Right: its rows pulled apart, one per time step t = 0..27, the
    28 pixel values of row t being the input vector x_t. Returns the matplotlib Figure.

    Raises:
        ValueError: the image does not hold 28 x 28 values.
    """
    if image.numel() != 28 * 28:
        raise ValueError(f"expected a 28 x 28 image, got shape {tuple(image.shape)}")
    rows = image.detach().cpu().reshape(28, 28).numpy()
    fig, (left, right) = plt.subplots(1, 2, figsize=(FIGURE_WIDTH, 3.4),
                                      gridspec_kw={"width_ratios": [1, 1.25]})
    digit = f"a {label}" if label is not None else "one digit"
    fig.suptitle(f"One MNIST image ({digit}) as the LSTM reads it: 28 rows, one per step")
    left.imshow(rows, cmap="gray_r")
    left.set_title("the image, 28 × 28 pixels")
    left.set_xlabel("pixel in the row (feature)")
    left.set_ylabel("row = time step")
    gap = 0.25  # blank space between consecutive rows
    for t in range(28):
        right.imshow(rows[t:t + 1], cmap="gray_r", vmin=0, vmax=1, aspect="auto",
                     extent=(0, 28, t * (1 + gap) + 1, t * (1 + gap)))
    right.set_ylim(28 * (1 + gap), -gap)
    right.set_xlim(0, 28)
    right.set_yticks([t * (1 + gap) + 0.5 for t in range(0, 28, 3)], range(0, 28, 3))
    right.set_ylabel("time step t (x_t = row t)")
    right.set_xlabel("28 input features per step")
    right.set_title("the sequence, read top to bottom")
    fig.tight_layout()
    return fig


def plot_history(history: History, title: str = "") -> Figure:
    """Training loss per iteration (with a moving average) and test accuracy per evaluation.

    Returns the matplotlib Figure with two panels side by side; ``title`` becomes its
    suptitle (and the start of its alt text).
    """
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(FIGURE_WIDTH, 2.9))
    losses = torch.tensor(history.train_loss)
    loss_ax.plot(range(1, len(losses) + 1), losses.numpy(), color="0.75", lw=0.6,
                 label="per batch")
    window = min(50, len(losses))
    if window > 1:
        smooth = losses.unfold(0, window, 1).mean(1)
        loss_ax.plot(range(window, len(losses) + 1), smooth.numpy(), color="C0",
                     label=f"mean of {window}")
    loss_ax.set(xlabel="iteration", ylabel="cross-entropy loss", title="training loss")
    loss_ax.legend()
    iterations = [e.iteration for e in history.evaluations]
    accuracies = [e.accuracy for e in history.evaluations]
    acc_ax.plot(iterations, accuracies, "o-", color="C1")
    for x, y in zip(iterations, accuracies):
        acc_ax.annotate(f"{y:.0f}", (x, y), textcoords="offset points", xytext=(0, 5),
                        ha="center", fontsize="x-small")
    acc_ax.set(xlabel="iteration", ylabel="test accuracy (%)", title="test accuracy",
               ylim=(0, 108))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_accuracy_curves(histories: dict[str, History], title: str = "") -> Figure:
    """Test accuracy (%) against iteration for several runs, one line each.

    Args:
        histories: a label per run (e.g. "LSTM A") mapped to its History.
        title: the axes title (and the start of the alt text).

    Returns the matplotlib Figure.
    """
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, 3.6))
    for label, history in histories.items():
        ax.plot([e.iteration for e in history.evaluations],
                [e.accuracy for e in history.evaluations], marker="o", label=label)
    ax.set(xlabel="iteration", ylabel="test accuracy (%)", ylim=(0, 100), title=title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def plot_accuracy_vs_seconds(histories: dict[str, History], title: str = "",
                             ylim: tuple[float, float] | None = None) -> Figure:
    """Accuracy (%) against training seconds for several runs, one line each.

    Each evaluation is placed at its ``seconds`` (wall time since its run started,
    evaluations included), so runs of different speeds compare at equal cost. The y label
    names the set scored (validation or test), from the evaluations' ``split``.

    Args:
        histories: a label per run mapped to its History (with at least one evaluation).
        title: the axes title (and the start of the alt text).
        ylim: the accuracy axis' range, e.g. (90, 100); by default matplotlib's.

    Returns the matplotlib Figure.
    """
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, 3.6))
    splits = set()
    for label, history in histories.items():
        ax.plot([e.seconds for e in history.evaluations],
                [e.accuracy for e in history.evaluations], marker="o", label=label)
        splits |= {e.split for e in history.evaluations}
    ax.set(xlabel="training time (s)", ylabel=f"{' / '.join(sorted(splits))} accuracy (%)",
           title=title)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


# --- alt text ---------------------------------------------------------------------------

def set_alt_text(fig: Figure, text: str) -> Figure:
    """Give ``fig`` an explicit alt text, used instead of the one made from its titles.

    Raises:
        ValueError: ``text`` is empty.
    """
    if not str(text).strip():
        raise ValueError("the alt text must say what the figure shows; got an empty text")
    setattr(fig, _ALT_ATTRIBUTE, " ".join(str(text).split()))
    return fig


def _plain(text: str) -> str:
    """Label text as a screen reader should get it: no mathtext markup, one line."""
    text = re.sub(r"\\(mathrm|mathit|mathbf|text)\{([^}]*)\}", r"\2", text)
    text = text.replace("$", "").replace("\\", "").replace("{", "").replace("}", "")
    return " ".join(text.split())


def _describe_axes(ax) -> str:
    title = _plain(ax.get_title() or ax.get_title("left") or ax.get_title("right"))
    xlabel, ylabel = _plain(ax.get_xlabel()), _plain(ax.get_ylabel())
    parts = [title] if title else []
    if xlabel and ylabel:
        parts.append(f"{ylabel} against {xlabel}")
    legend = ax.get_legend()
    if legend is not None:
        labels = [_plain(t.get_text()) for t in legend.get_texts()]
        if labels:  # "; " between them: a label may hold commas itself
            parts.append("lines: " + "; ".join(labels))
    if not parts:
        return ""
    return parts[0] + (f" ({'; '.join(parts[1:])})" if len(parts) > 1 else "")


def alt_text(fig: Figure) -> str:
    """What the figure shows, in words, for its alt text.

    The text given to :func:`set_alt_text` if any; otherwise the suptitle followed by a
    description of each axes (title, "y label against x label", legend labels), e.g.
    ``"Model A. Left: training loss (cross-entropy loss against iteration; lines: per
    batch; mean of 50). Right: test accuracy (test accuracy (%) against iteration)."``

    A figure with no title anywhere gets :data:`UNTITLED` and a :class:`UserWarning`
    asking for one.
    """
    explicit = getattr(fig, _ALT_ATTRIBUTE, None)
    if explicit:
        return explicit
    suptitle = _plain(fig.get_suptitle())
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    described = [_describe_axes(ax) for ax in axes]
    titled = [d for d in described if d]
    has_title = bool(suptitle) or any(
        ax.get_title() or ax.get_title("left") or ax.get_title("right") for ax in axes)
    if not has_title:
        warnings.warn("a figure without a title: give it a suptitle or axes titles (they "
                      "become its alt text), or call lstm_helpers.plots.set_alt_text",
                      UserWarning, stacklevel=3)
        return f"{UNTITLED} with {len(fig.axes)} axes" + (
            f": {'; '.join(titled)}" if titled else "")
    sentences = [suptitle] if suptitle else []
    if len(titled) == 1:
        sentences.append(titled[0][0].upper() + titled[0][1:])
    elif len(titled) == 2 and len(axes) == 2:
        sentences += [f"Left: {titled[0]}", f"Right: {titled[1]}"]
    else:
        sentences += [f"Panel {k}: {d}" for k, d in enumerate(titled, start=1)]
    return ". ".join(s.rstrip(".") for s in sentences) + "."


# --- how figures are shown in a Jupyter kernel -------------------------------------------

_rendered: dict = {"figure": None, "png": b""}  # the last figure drawn, for its 2nd format


def _png(fig: Figure) -> bytes:
    """The figure as PNG at PNG_DPI (whatever the rc dpi settings), drawn once per change.

    Stored with a palette of 256 colours: plots hold few colours, and the file is about a
    third of the size of a full-colour one, with no visible difference.
    """
    last = _rendered["figure"]
    if last is not None and last() is fig and not fig.stale:
        return _rendered["png"]
    buffer = io.BytesIO()
    fig.canvas.print_figure(buffer, format="png", dpi=PNG_DPI, bbox_inches="tight",
                            facecolor=fig.get_facecolor(), edgecolor=fig.get_edgecolor())
    image = Image.open(buffer).convert("RGB").quantize(
        colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    packed = io.BytesIO()
    image.save(packed, format="PNG", optimize=True)
    _rendered.update(figure=weakref.ref(fig), png=packed.getvalue())
    return _rendered["png"]


def _css_size(png: bytes) -> tuple[int, int]:
    """Display size in CSS pixels of a PNG drawn at PNG_DPI (read from its header)."""
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    scale = PNG_DPI / DISPLAY_DPI
    return round(width / scale), round(height / scale)


def figure_html(fig: Figure) -> str | None:
    """The figure as ``<img src="data:image/png;base64,..." width=... alt=...>``.

    None for an empty figure (no axes, nothing drawn), as IPython does.
    """
    if not fig.axes and not fig.lines:
        return None
    png = _png(fig)
    width, height = _css_size(png)
    source = base64.b64encode(png).decode("ascii")
    return (f'<img src="data:image/png;base64,{source}" width="{width}" '
            f'height="{height}" alt="{html.escape(alt_text(fig), quote=True)}"/>')


def figure_png(fig: Figure):
    """``(base64 PNG, {"width", "height"})`` for the ``image/png`` output, or None."""
    if not fig.axes and not fig.lines:
        return None
    png = _png(fig)
    width, height = _css_size(png)
    return base64.b64encode(png).decode("ascii"), {"width": width, "height": height}


def figure_text(fig: Figure) -> str:
    """``<Figure size WxH with N Axes>``, the size in CSS pixels at DISPLAY_DPI."""
    width, height = fig.get_size_inches() * DISPLAY_DPI
    return f"<Figure size {width:.0f}x{height:.0f} with {len(fig.axes)} Axes>"


def use_course_figures(shell=None) -> bool:
    """Make the running Jupyter kernel show figures the course's way (see module docstring).

    Called on import inside a kernel; call it again after changing backends by hand.
    Returns False, changing nothing, outside a Jupyter kernel (a script, the CLI, pytest).
    """
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return False
    # Also when the backend is already inline: pyplot loads the backend module lazily, and
    # loading it registers IPython's own figure formatters over ours.
    shell.enable_matplotlib("inline")
    matplotlib.style.use(["default", COURSE_RC])
    formatters = shell.display_formatter.formatters
    for formatter in formatters.values():  # drop what IPython or a user config registered
        formatter.pop(Figure, None)
    formatters["text/plain"].for_type(Figure, lambda fig, printer, cycle:
                                      printer.text(figure_text(fig)))
    formatters["text/html"].for_type(Figure, figure_html)
    formatters["image/png"].for_type(Figure, figure_png)
    return True


use_course_figures()
