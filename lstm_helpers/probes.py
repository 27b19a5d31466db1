"""Measurements on a model, not training: what each time step contributes to the answer.

* :func:`input_gradient_norms`: how large the loss's gradient is with respect to each time
  step's input; how much of the learning signal reaches step t (backpropagation through time).
* :func:`row_blanking_accuracy`: test accuracy when one image row is blanked, for each row;
  which rows the decision rests on.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .data import IMAGE_SIZE
from .training import evaluate


def _model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def input_gradient_norms(model: nn.Module, images: torch.Tensor,
                         labels: torch.Tensor) -> torch.Tensor:
    """Mean size of the loss's gradient with respect to each time step's input.

    For each image n of the batch and each time step t, the Euclidean norm of
    d loss_n / d x_(n,t), the gradient of that image's cross-entropy loss with respect to
    its input vector at step t (28 pixels for MNIST rows), averaged over the batch. A step
    whose norm is 1e-8 barely moves the loss: training cannot learn from what the model saw
    there. This is the vanishing gradient of backpropagation through time, measured.

    Args:
        model: a classifier taking batch-first input (batch, seq_dim, input_dim) and
            returning logits (batch, classes), such as ``lh.LSTMModel`` or ``lh.RNNModel``.
        images: (batch, seq_dim, input_dim) floating-point inputs (plain or delayed MNIST).
        labels: (batch,) int64 class indices.

    Returns:
        float32 tensor of shape (seq_dim,) on the CPU: the mean norm per time step.

    The model's parameters and their ``.grad`` are left untouched (``torch.autograd.grad``
    differentiates with respect to the inputs only). The model runs in whatever mode it is
    in: cuDNN computes a recurrent layer's backward pass in training mode only, and the
    course's models have no dropout, so their mode changes nothing here.

    Raises:
        ValueError: images are not a floating-point 3-D batch, or labels do not match it.
    """
    if images.dim() != 3 or not images.is_floating_point():
        raise ValueError(f"expected floating-point images of shape (batch, seq_dim, input_dim), "
                         f"got {images.dtype} of shape {tuple(images.shape)}")
    if labels.shape != (len(images),):
        raise ValueError(f"expected one label per image, shape ({len(images)},), "
                         f"got {tuple(labels.shape)}")
    device = _model_device(model)
    inputs = images.detach().to(device).requires_grad_(True)
    # Summed, not averaged: image n's input then receives exactly the gradient of its own loss.
    loss = F.cross_entropy(model(inputs), labels.to(device), reduction="sum")
    (gradient,) = torch.autograd.grad(loss, inputs)
    return gradient.norm(dim=2).mean(dim=0).float().cpu()


def _check_row(row) -> int:
    """``row`` as an int from 0 to 27 (NumPy integers accepted, bools refused)."""
    try:
        index = None if isinstance(row, bool) else operator.index(row)
    except TypeError:
        index = None
    if index is None or not 0 <= index < IMAGE_SIZE:
        raise ValueError(f"rows must be integers from 0 to {IMAGE_SIZE - 1}, got {row!r}")
    return index


class _RowBlanked:
    """The batches of ``batches`` with row ``row`` of every image set to 0 (MNIST's blank)."""

    def __init__(self, batches: Iterable, row: int):
        self.batches, self.row = batches, row

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for images, labels in self.batches:
            blanked = images.reshape(len(images), IMAGE_SIZE, IMAGE_SIZE).clone()
            blanked[:, self.row] = 0.0
            yield blanked, labels


def row_blanking_accuracy(model: nn.Module, batches: Iterable,
                          rows: Sequence[int] | None = None) -> torch.Tensor:
    """Test accuracy (%) with one row of every image blanked, for each row in turn.

    Row r of each 28 x 28 image (the input at time step r) is set to 0.0, MNIST's
    background, and the model is scored on all of ``batches`` with :func:`lh.evaluate`
    (evaluation mode, no gradients). A row whose blanking costs many points is one the
    decision rests on; a row that costs nothing was either blank already or not used.

    Args:
        model: a classifier of 28-step, 28-feature sequences (``lh.LSTMModel``, ...).
        batches: an iterable of (images, labels) that can be walked several times, such as
            the test split of ``lh.mnist_batches``; images hold 28 x 28 values each.
        rows: the rows to blank, each from 0 to 27; all 28 when None.

    Returns:
        float64 tensor of shape (len(rows),): accuracy in percent with that row blanked.

    Raises:
        ValueError: a row is not an integer from 0 to 27, or ``batches`` is empty.
    """
    rows = list(range(IMAGE_SIZE)) if rows is None else [_check_row(row) for row in rows]
    return torch.tensor([evaluate(model, _RowBlanked(batches, row)) for row in rows],
                        dtype=torch.float64)
