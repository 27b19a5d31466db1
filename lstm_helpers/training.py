"""Step 7 of the tutorial: the training loop, test accuracy, and repeatable seeds."""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from .data import IMAGE_SIZE
from .progress import progress_bar


def set_seed(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's generators (all devices).

    Same seed, same machine and same thread count give an identical training history;
    another CPU or a GPU may round differently and end a few tenths of a percent apart.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@dataclass(frozen=True)
class Evaluation:
    """One line of the training log.

    Attributes:
        iteration: iterations (optimizer steps) done so far.
        loss: cross-entropy of the training batch of that iteration, as the tutorial prints.
        accuracy: test accuracy in percent (a float, 0 to 100).
    """

    iteration: int
    loss: float
    accuracy: float

    def __str__(self) -> str:
        return (f"Iteration: {self.iteration}. Loss: {self.loss:.4f}. "
                f"Accuracy: {self.accuracy:.2f}")


@dataclass
class History:
    """What :func:`train` returns: per-iteration training losses and the evaluations.

    ``seconds`` (wall time) is left out of equality, so two runs of one seed compare equal.
    """

    train_loss: list[float] = field(default_factory=list)
    evaluations: list[Evaluation] = field(default_factory=list)
    seconds: float = field(default=0.0, compare=False)

    @property
    def final_accuracy(self) -> float:
        """Test accuracy (%) at the last evaluation."""
        if not self.evaluations:
            raise ValueError("the history holds no evaluation yet")
        return self.evaluations[-1].accuracy


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def _model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


#: Lower-precision dtypes train() and evaluate() accept as ``autocast_dtype``.
AUTOCAST_DTYPES = (torch.bfloat16,)


def autocast_context(device: torch.device, autocast_dtype: torch.dtype | None):
    """``torch.autocast(device.type, dtype=autocast_dtype)``, or a no-op when it is None.

    Under autocast, matrix products (``nn.Linear``, and on the CPU the oneDNN LSTM layer)
    run in ``autocast_dtype`` while the parameters, their gradients and the loss stay
    float32: mixed precision. bfloat16 keeps float32's exponent range, so no loss scaling
    is needed (float16 would need a ``torch.amp.GradScaler`` and is not offered). It pays
    off on CPUs with bfloat16 instructions (``avx512_bf16`` or ``amx_bf16`` in the CPU
    flags) and on recent GPUs. See https://pytorch.org/docs/stable/amp.html.

    Raises:
        ValueError: ``autocast_dtype`` is neither None nor ``torch.bfloat16``.
    """
    if autocast_dtype is None:
        return contextlib.nullcontext()
    if autocast_dtype not in AUTOCAST_DTYPES:
        raise ValueError(f"autocast_dtype must be None (float32 throughout) or torch.bfloat16, "
                         f"got {autocast_dtype!r}")
    return torch.autocast(device.type, dtype=autocast_dtype)


def evaluate(model: nn.Module, batches: Iterable, seq_dim: int = IMAGE_SIZE,
             input_dim: int = IMAGE_SIZE, autocast_dtype: torch.dtype | None = None) -> float:
    """Accuracy in percent (float) of ``model`` over ``batches`` of (images, labels).

    Runs in eval mode under ``torch.inference_mode()`` (no gradients are recorded: the
    stricter, faster form of ``torch.no_grad()``), then restores the model's previous mode.
    Images of any layout with seq_dim * input_dim values each are viewed as
    (batch, seq_dim, input_dim) and moved to the model's device. Large batches (the
    course's test batches hold 1000 images) make it fast; the result does not depend on
    the batch size. ``autocast_dtype=torch.bfloat16`` computes the logits in mixed
    precision (see :func:`autocast_context`).

    Raises:
        ValueError: ``batches`` is empty, or ``autocast_dtype`` is not supported.
    """
    device = _model_device(model)
    autocast = autocast_context(device, autocast_dtype)
    was_training = model.training
    model.eval()
    correct = total = 0
    try:
        with torch.inference_mode(), autocast:
            for images, labels in batches:
                logits = model(images.to(device).view(-1, seq_dim, input_dim))
                correct += (logits.argmax(dim=1) == labels.to(device)).sum().item()
                total += labels.numel()
    finally:
        model.train(was_training)
    if total == 0:
        raise ValueError("evaluate() got no batches: the test set is empty")
    return 100.0 * correct / total


def train(model: nn.Module, criterion: Callable, optimizer: torch.optim.Optimizer,
          train_batches: Iterable, test_batches: Iterable, n_iters: int = 3000,
          eval_every: int = 500, seq_dim: int = IMAGE_SIZE, input_dim: int = IMAGE_SIZE,
          log: Callable[[str], None] | None = print, progress: bool = True,
          on_evaluation: Callable[[Evaluation, nn.Module], None] | None = None,
          autocast_dtype: torch.dtype | None = None) -> History:
    """Train for ``n_iters`` iterations, evaluating on the test set every ``eval_every``.

    Each iteration views the images as (batch, seq_dim, input_dim), clears the gradients,
    computes the logits and the loss, backpropagates and updates the parameters; the
    training batches are walked epoch after epoch until ``n_iters`` (the tutorial's 3000 =
    5 epochs of 600 batches of 100). Each evaluation is printed through ``log`` in the
    tutorial's form, with the accuracy as a float percentage. A progress bar shows
    progress unless ``progress`` is False (see :func:`lstm_helpers.progress.progress_bar`:
    in a notebook one output line that ends in its final state; in a terminal tqdm's bar,
    which ``TQDM_DISABLE=1`` hides).
    ``on_evaluation(record, model)``, if given, is called after each evaluation (to save a
    checkpoint, say).

    ``autocast_dtype=torch.bfloat16`` runs the forward passes and the loss (training and
    evaluation) under ``torch.autocast``: mixed precision, off by default (None keeps
    float32 throughout; see :func:`autocast_context`). The backward pass runs outside the
    autocast block, as the PyTorch AMP recipe prescribes.

    Speed: the loop does nothing per iteration beyond the step itself. Losses are kept as
    tensors and turned into Python floats at each evaluation, so a GPU is not made to wait
    for every iteration's ``loss.item()``.

    Returns:
        History: the loss of every iteration and the evaluations.

    Raises:
        ValueError: n_iters or eval_every is not a positive integer, train_batches is
            empty, or autocast_dtype is not supported.
    """
    _positive_int("n_iters", n_iters)
    _positive_int("eval_every", eval_every)
    device = _model_device(model)
    autocast_context(device, autocast_dtype)  # refuse a bad dtype before any work
    history = History()
    pending: list[torch.Tensor] = []  # this stretch's losses, still as tensors
    model.train()
    start = time.perf_counter()
    bar = progress_bar(total=n_iters, desc="training", unit="it", disable=not progress)
    iteration = 0
    try:
        while iteration < n_iters:
            epoch_start = iteration
            for images, labels in train_batches:
                images = images.to(device).view(-1, seq_dim, input_dim)
                optimizer.zero_grad()
                with autocast_context(device, autocast_dtype):
                    loss = criterion(model(images), labels.to(device))
                loss.backward()
                optimizer.step()
                iteration += 1
                pending.append(loss.detach())
                bar.update()
                if iteration % eval_every == 0 or iteration == n_iters:
                    _flush(pending, history.train_loss)
                    record = Evaluation(iteration, history.train_loss[-1],
                                        evaluate(model, test_batches, seq_dim, input_dim,
                                                 autocast_dtype))
                    history.evaluations.append(record)
                    if log is not None:
                        log(str(record))
                    if on_evaluation is not None:
                        on_evaluation(record, model)
                if iteration == n_iters:
                    break
            if iteration == epoch_start:
                raise ValueError("train_batches yielded no batch: the training set is empty")
    finally:
        _flush(pending, history.train_loss)
        bar.close()
        history.seconds = time.perf_counter() - start
    return history


def _flush(pending: list[torch.Tensor], losses: list[float]) -> None:
    """Move the pending loss tensors into ``losses`` as floats (one device sync)."""
    if pending:
        losses.extend(torch.stack(pending).float().tolist())
        pending.clear()
