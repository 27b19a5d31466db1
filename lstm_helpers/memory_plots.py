"""Figures of the memory lesson (notebook 07): gates, rows, gradients through time, delays.

Drawn with the conventions of :mod:`lstm_helpers.plots`: at most ``FIGURE_WIDTH`` inches
wide (the site's text column), and every figure titled, since its alt text is made from the
titles.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from .data import IMAGE_SIZE
from .plots import FIGURE_WIDTH, set_alt_text

CELL_PANEL = "cell state c"


def plot_lstm_states(images: torch.Tensor, labels, gates: dict[str, torch.Tensor],
                     cell: torch.Tensor, title: str) -> Figure:
    """Heatmaps of an LSTM's gates and cell state over time, beside each digit.

    One row of panels per digit: the image, then one heatmap per gate, then the cell state.
    In every panel time runs downwards, so time step t lines up with image row t (the input
    x_t); each heatmap has one column per hidden unit. Gates are drawn on a fixed 0-to-1
    scale; the cell state, which is unbounded, on a diverging scale centred on 0 that spans
    the 99th percentile of |c| (the few larger values are drawn at the scale's ends, so
    that they do not wash out the rest).

    Args:
        images: (n, 28, 28) (or anything holding n x 784 values) digits in [0, 1].
        labels: n labels, shown above the images.
        gates: a name (e.g. "input gate i") mapped to an (n, 28, hidden_dim) tensor of gate
            values in [0, 1].
        cell: (n, 28, hidden_dim) cell states c_t.
        title: the figure's title (its suptitle, and the start of its alt text, which then
            describes the grid of panels).

    Returns the matplotlib Figure.

    Raises:
        ValueError: the images are not n 28 x 28 images, or a gate or the cell state is not
            of shape (n, 28, hidden_dim).
    """
    n = len(images)
    if n == 0 or images.numel() != n * IMAGE_SIZE * IMAGE_SIZE:
        raise ValueError(f"expected n >= 1 images of 28 x 28, got shape {tuple(images.shape)}")
    if len(labels) != n:
        raise ValueError(f"expected {n} labels, one per image, got {len(labels)}")
    panels = {**gates, CELL_PANEL: cell}
    for name, values in panels.items():
        if values.dim() != 3 or len(values) != n or values.size(1) != IMAGE_SIZE:
            raise ValueError(f"{name}: expected shape ({n}, {IMAGE_SIZE}, hidden_dim), "
                             f"got {tuple(values.shape)}")
    images = images.detach().cpu().reshape(n, IMAGE_SIZE, IMAGE_SIZE).numpy()
    cell = cell.detach().cpu().float()
    cell_limit = max(torch.quantile(cell.abs().flatten(), 0.99).item(), 1e-6)
    columns = 1 + len(panels)
    fig, axes = plt.subplots(n, columns, figsize=(FIGURE_WIDTH, 1.55 * n + 1.3),
                             squeeze=False,
                             gridspec_kw={"width_ratios": [0.8] + [1.0] * len(panels)})
    gate_image = cell_image = None
    for k in range(n):
        # aspect="auto": the image fills the panel's height, so its rows line up with the steps
        axes[k, 0].imshow(images[k], cmap="gray_r", vmin=0, vmax=1, aspect="auto")
        axes[k, 0].set_title(f"label {int(labels[k])}", fontsize="small")
        axes[k, 0].set_ylabel("step t", fontsize="small")
        axes[k, 0].set_xticks([])
        axes[k, 0].set_yticks([0, 27])
        for column, (name, values) in enumerate(panels.items(), start=1):
            ax = axes[k, column]
            values = values[k].detach().cpu().float().numpy()
            if name == CELL_PANEL:
                cell_image = ax.imshow(values, cmap="RdBu_r", vmin=-cell_limit,
                                       vmax=cell_limit, aspect="auto", interpolation="nearest")
            else:
                gate_image = ax.imshow(values, cmap="viridis", vmin=0, vmax=1, aspect="auto",
                                       interpolation="nearest")
            ax.set_yticks([])
            if k == 0:
                ax.set_title(name, fontsize="small")
            if k == n - 1:
                ax.set_xlabel("hidden unit", fontsize="small")
                ax.tick_params(labelsize="x-small")
            else:
                ax.set_xticks([])
    fig.suptitle(title, fontsize="medium")
    fig.tight_layout()
    if gate_image is not None:
        fig.colorbar(gate_image, ax=axes[:, 1:-1].ravel().tolist(), shrink=0.6,
                     label="gate value", location="bottom", aspect=40, pad=0.1)
    fig.colorbar(cell_image, ax=axes[:, -1].ravel().tolist(), shrink=0.9, label="c_t",
                 location="bottom", aspect=12, pad=0.1, extend="both")
    # The titles alone would read as a list of panels: say how the grid is laid out.
    shown = ", ".join(str(int(label)) for label in labels)
    set_alt_text(fig, f"{title.rstrip('.')}. One row per digit (labels {shown}): the image, "
                      f"then heatmaps of the {', '.join(panels)} with time steps 0 to 27 "
                      f"downwards and the {cell.size(2)} hidden units across; gates on a 0 "
                      f"to 1 scale, the cell state on a scale centred on 0.")
    return fig


def plot_row_blanking(accuracies: dict[str, torch.Tensor], baselines: dict[str, float],
                      title: str) -> Figure:
    """Test accuracy with one image row blanked, against the row, one line per model.

    Args:
        accuracies: a label (e.g. "LSTM") mapped to accuracies (%) from
            :func:`lstm_helpers.row_blanking_accuracy`, one per row, row 0 first.
        baselines: the same labels mapped to the accuracy with nothing blanked, drawn as a
            dashed line of the same colour.
        title: the figure's title (its suptitle; the site's alt text).

    Returns the matplotlib Figure.
    """
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, 3.4))
    for number, (label, values) in enumerate(accuracies.items()):
        color = f"C{number}"
        ax.plot(range(len(values)), torch.as_tensor(values).tolist(), "o-", ms=3, color=color,
                label=f"{label}, row blanked")
        if label in baselines:
            ax.axhline(baselines[label], color=color, ls="--", lw=1,
                       label=f"{label}, nothing blanked")
    ax.set(xlabel="blanked row (time step)", ylabel="test accuracy (%)")
    ax.set_xticks(range(0, IMAGE_SIZE, 3))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    fig.suptitle(title, fontsize="medium")
    fig.tight_layout()
    return fig


def plot_gradient_norms(panels: dict[str, dict[str, torch.Tensor]], title: str,
                        blank_from: int | None = None) -> Figure:
    """Gradient norm per time step on a log scale, one panel per moment (or condition).

    Args:
        panels: a panel title (e.g. "at initialisation") mapped to {model label: (seq_dim,)
            norms from :func:`lstm_helpers.input_gradient_norms`}. A model keeps its colour
            across panels; the y axis is shared, so the panels compare directly.
        title: the figure's title (its suptitle; the site's alt text).
        blank_from: if given, the time steps from this one on are shaded as blank rows.

    Returns the matplotlib Figure.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(FIGURE_WIDTH, 3.4), sharey=True,
                             squeeze=False)
    colors: dict[str, str] = {}
    for ax, (panel, norms) in zip(axes[0], panels.items(), strict=True):
        for label, values in norms.items():
            color = colors.setdefault(label, f"C{len(colors)}")
            values = torch.as_tensor(values)
            ax.semilogy(range(len(values)), values.tolist(), "o-", ms=2, lw=1, color=color,
                        label=label)
            if blank_from is not None:
                ax.axvspan(blank_from - 0.5, len(values) - 0.5, color="0.92", zorder=0)
        ax.set(title=panel, xlabel="time step t (input x_t)")
        ax.grid(alpha=0.3, which="both")
    axes[0, 0].set_ylabel("mean ‖∂ loss / ∂ x_t‖ (log scale)")
    axes[0, 0].legend(fontsize="x-small")
    fig.suptitle(title, fontsize="medium")
    fig.tight_layout()
    return fig


def plot_accuracy_vs_delay(results: dict[str, dict[int, float]], title: str,
                           chance: float | None = None) -> Figure:
    """Test accuracy against the delay K (blank rows after the digit), one line per model.

    Args:
        results: a label (e.g. "LSTM, forget bias 3") mapped to {K: accuracy in %}.
        title: the figure's title (its suptitle; the site's alt text).
        chance: if given, a dotted line at this accuracy (e.g. always answering the most
            frequent digit).

    Returns the matplotlib Figure.
    """
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, 3.8))
    markers = "osD^v<>"
    for number, (label, by_delay) in enumerate(results.items()):
        delays = sorted(by_delay)
        ax.plot(delays, [by_delay[k] for k in delays], marker=markers[number % len(markers)],
                label=label)
    if chance is not None:
        ax.axhline(chance, color="0.4", ls=":", lw=1, label=f"chance level ({chance:.1f}%)")
    delays = sorted({k for by_delay in results.values() for k in by_delay})
    ax.set_xticks(delays)
    ax.set(xlabel="delay K (blank rows between the digit and the answer)",
           ylabel="test accuracy (%)", ylim=(0, 100))
    ax.grid(alpha=0.3)
    ax.legend(loc="center left")
    fig.suptitle(title, fontsize="medium")
    fig.tight_layout()
    return fig
