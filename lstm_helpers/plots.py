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
