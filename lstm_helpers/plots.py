"""Figures for the notebooks: a digit as a sequence, and training curves (matplotlib)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from .training import History


def plot_digit_as_sequence(image: torch.Tensor, label: int | None = None):
    """Show one 28 x 28 image as the LSTM reads it: 28 time steps of 28 pixels.

    Left: the image. Right: its rows pulled apart, one per time step t = 0..27, the
    28 pixel values of row t being the input vector x_t. Returns the matplotlib Figure.

    Raises:
        ValueError: the image does not hold 28 x 28 values.
    """
    if image.numel() != 28 * 28:
        raise ValueError(f"expected a 28 x 28 image, got shape {tuple(image.shape)}")
    rows = image.detach().cpu().reshape(28, 28)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4.2),
                                      gridspec_kw={"width_ratios": [1, 1.4]})
    left.imshow(rows, cmap="gray_r")
    left.set_title("the image" + (f" (label {label})" if label is not None else ""))
    left.set_xlabel("pixel in row (input feature, 28)")
    left.set_ylabel("row (time step, 28)")
    gap = 0.25  # blank space between consecutive rows
    for t in range(28):
        right.imshow(rows[t:t + 1], cmap="gray_r", vmin=0, vmax=1, aspect="auto",
                     extent=(0, 28, t * (1 + gap) + 1, t * (1 + gap)))
    right.set_ylim(28 * (1 + gap), -gap)
    right.set_xlim(0, 28)
    right.set_yticks([t * (1 + gap) + 0.5 for t in range(0, 28, 3)], range(0, 28, 3))
    right.set_ylabel("time step t (x_t = row t)")
    right.set_xlabel("28 input features per step")
    right.set_title("the sequence the LSTM reads, top to bottom")
    fig.tight_layout()
    return fig


def plot_history(history: History, title: str = ""):
    """Training loss per iteration (with a moving average) and test accuracy per evaluation.

    Returns the matplotlib Figure with two panels side by side.
    """
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10, 3.6))
    losses = torch.tensor(history.train_loss)
    loss_ax.plot(range(1, len(losses) + 1), losses, color="0.75", lw=0.6, label="per batch")
    window = min(50, len(losses))
    if window > 1:
        smooth = losses.unfold(0, window, 1).mean(1)
        loss_ax.plot(range(window, len(losses) + 1), smooth, color="C0",
                     label=f"mean of {window}")
    loss_ax.set(xlabel="iteration", ylabel="cross-entropy loss", title="training loss")
    loss_ax.legend()
    iterations = [e.iteration for e in history.evaluations]
    accuracies = [e.accuracy for e in history.evaluations]
    acc_ax.plot(iterations, accuracies, "o-", color="C1")
    for x, y in zip(iterations, accuracies):
        acc_ax.annotate(f"{y:.1f}", (x, y), textcoords="offset points", xytext=(0, 6),
                        ha="center", fontsize=8)
    acc_ax.set(xlabel="iteration", ylabel="test accuracy (%)", title="test accuracy",
               ylim=(0, 105))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_accuracy_curves(histories: dict[str, History], title: str = ""):
    """Test accuracy (%) against iteration for several runs, one line each.

    Args:
        histories: a label per run (e.g. "LSTM A") mapped to its History.

    Returns the matplotlib Figure.
    """
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for label, history in histories.items():
        ax.plot([e.iteration for e in history.evaluations],
                [e.accuracy for e in history.evaluations], marker="o", label=label)
    ax.set(xlabel="iteration", ylabel="test accuracy (%)", ylim=(0, 100), title=title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


# --- the LSTM's memory (notebook 07): gates, rows, gradients through time, delays ---------

def plot_lstm_states(images: torch.Tensor, labels, gates: dict[str, torch.Tensor],
                     cell: torch.Tensor, title: str):
    """Heatmaps of an LSTM's gates and cell state over time, beside each digit.

    One row of panels per digit: the image, then one heatmap per gate, then the cell state.
    In every panel time runs downwards, so time step t lines up with image row t (the input
    x_t). Gates are drawn on a fixed 0-to-1 scale; the cell state, which is unbounded, on a
    diverging scale centred on 0 that spans the 99th percentile of |c| (the few larger
    values are drawn at the scale's ends, so that they do not wash out the rest).

    Args:
        images: (n, 28, 28) (or anything holding n x 784 values) digits in [0, 1].
        labels: n labels, shown above the images.
        gates: a name (e.g. "input gate i") mapped to an (n, seq_dim, hidden_dim) tensor
            of gate values in [0, 1].
        cell: (n, seq_dim, hidden_dim) cell states c_t.
        title: the figure's title (its suptitle; the site uses it as the image's alt text).

    Returns the matplotlib Figure.

    Raises:
        ValueError: the tensors do not all hold n digits, or the images are not 28 x 28.
    """
    n = len(images)
    if images.numel() != n * 28 * 28:
        raise ValueError(f"expected n 28 x 28 images, got shape {tuple(images.shape)}")
    panels = {**gates, "cell state c": cell}
    for name, values in panels.items():
        if values.dim() != 3 or len(values) != n:
            raise ValueError(f"{name}: expected shape ({n}, seq_dim, hidden_dim), "
                             f"got {tuple(values.shape)}")
    images = images.detach().cpu().reshape(n, 28, 28).numpy()
    cell = cell.detach().cpu()
    cell_limit = max(torch.quantile(cell.abs().flatten().float(), 0.99).item(), 1e-6)
    columns = 1 + len(panels)
    fig, axes = plt.subplots(n, columns, figsize=(2.3 * columns, 2.4 * n + 0.6), squeeze=False,
                             gridspec_kw={"width_ratios": [0.8] + [1.0] * len(panels)})
    for k in range(n):
        # aspect="auto": the image fills the panel's height, so its rows line up with the steps
        axes[k, 0].imshow(images[k], cmap="gray_r", vmin=0, vmax=1, aspect="auto")
        axes[k, 0].set_title(f"label {int(labels[k])}", fontsize=9)
        axes[k, 0].set_ylabel("row = time step t")
        axes[k, 0].set_xticks([])
        for column, (name, values) in enumerate(panels.items(), start=1):
            ax = axes[k, column]
            values = values[k].detach().cpu().numpy()
            if name == "cell state c":
                shown = ax.imshow(values, cmap="RdBu_r", vmin=-cell_limit, vmax=cell_limit,
                                  aspect="auto", interpolation="nearest")
                cell_image = shown
            else:
                shown = ax.imshow(values, cmap="viridis", vmin=0, vmax=1, aspect="auto",
                                  interpolation="nearest")
                gate_image = shown
            ax.set_yticks([])
            if k == 0:
                ax.set_title(name, fontsize=9)
            if k == n - 1:
                ax.set_xlabel("hidden unit")
            else:
                ax.set_xticks([])
    fig.suptitle(title)
    fig.tight_layout()
    if len(gates):
        fig.colorbar(gate_image, ax=axes[:, 1:-1].ravel().tolist(), shrink=0.6,
                     label="gate value", location="bottom", aspect=40, pad=0.08)
    fig.colorbar(cell_image, ax=axes[:, -1].ravel().tolist(), shrink=0.9, label="c_t",
                 location="bottom", aspect=12, pad=0.08, extend="both")
    return fig


def plot_row_blanking(accuracies: dict[str, torch.Tensor], baselines: dict[str, float],
                      title: str):
    """Test accuracy with one image row blanked, against the row, one line per model.

    Args:
        accuracies: a label (e.g. "LSTM") mapped to 28 accuracies (%) from
            :func:`lstm_helpers.row_blanking_accuracy`, row 0 first.
        baselines: the same labels mapped to the accuracy with nothing blanked, drawn as a
            dashed line of the same colour.
        title: the figure's title (suptitle; the site's alt text).

    Returns the matplotlib Figure.
    """
    fig, ax = plt.subplots(figsize=(8, 4))
    for number, (label, values) in enumerate(accuracies.items()):
        color = f"C{number}"
        ax.plot(range(len(values)), torch.as_tensor(values).tolist(), "o-", ms=3, color=color,
                label=f"{label}, row blanked")
        if label in baselines:
            ax.axhline(baselines[label], color=color, ls="--", lw=1,
                       label=f"{label}, nothing blanked")
    ax.set(xlabel="blanked row (time step)", ylabel="test accuracy (%)")
    ax.set_xticks(range(0, 28, 3))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_gradient_norms(panels: dict[str, dict[str, torch.Tensor]], title: str,
                        blank_from: int | None = None):
    """Gradient norm per time step on a log scale, one panel per moment (or condition).

    Args:
        panels: a panel title (e.g. "at initialisation") mapped to {model label: (seq_dim,)
            norms from :func:`lstm_helpers.input_gradient_norms`}. A model keeps its colour
            across panels; the y axis is shared, so the panels compare directly.
        title: the figure's title (suptitle; the site's alt text).
        blank_from: if given, the time steps from this one on are shaded as blank rows.

    Returns the matplotlib Figure.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4), sharey=True,
                             squeeze=False)
    colors: dict[str, str] = {}
    for ax, (panel, norms) in zip(axes[0], panels.items()):
        for label, values in norms.items():
            color = colors.setdefault(label, f"C{len(colors)}")
            values = torch.as_tensor(values)
            ax.semilogy(range(len(values)), values.tolist(), "o-", ms=2.5, color=color,
                        label=label)
            if blank_from is not None:
                ax.axvspan(blank_from - 0.5, len(values) - 0.5, color="0.92", zorder=0)
        ax.set(title=panel, xlabel="time step t (input x_t)")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    axes[0, 0].set_ylabel("mean ‖∂ loss / ∂ x_t‖ (log scale)")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_accuracy_vs_delay(results: dict[str, dict[int, float]], title: str,
                           chance: float | None = None):
    """Test accuracy against the delay K (blank rows after the digit), one line per model.

    Args:
        results: a label (e.g. "LSTM, forget bias 3") mapped to {K: accuracy in %}.
        title: the figure's title (suptitle; the site's alt text).
        chance: if given, a dotted line at this accuracy (e.g. always answering the most
            frequent digit).

    Returns the matplotlib Figure.
    """
    fig, ax = plt.subplots(figsize=(8, 4.5))
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
    ax.legend(fontsize=8, loc="lower left")
    fig.suptitle(title)
    fig.tight_layout()
    return fig
