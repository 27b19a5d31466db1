"""Step 7 of the tutorial: the training loop, test accuracy, and repeatable seeds."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from .data import IMAGE_SIZE
from .precision import autocast_context, require_autocast
from .progress import progress_bar
from .validation import finite_number, positive_int

#: Iterations between two checks of the losses for nan/inf (see :func:`train`).
DIVERGENCE_CHECK_EVERY = 50


class TrainingDivergedError(RuntimeError):
    """The training loss became nan or infinite: the weights are no longer usable.

    Attributes:
        iteration: the first iteration (1-based) whose loss was not finite.
        loss: that loss (``nan``, ``inf`` or ``-inf``).
        history: the :class:`History` up to the point training stopped.
    """

    def __init__(self, message: str, iteration: int, loss: float, history: History):
        super().__init__(message)
        self.iteration, self.loss, self.history = iteration, loss, history


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
        accuracy: accuracy in percent (a float, 0 to 100) on the set scored during training.
        split: which set that was: ``"test"`` (the tutorial's protocol, the default) or
            ``"validation"`` (``train(..., validation_batches=...)``). The log line says
            ``Validation accuracy`` for the latter.
        seconds: wall time since training started (s), this evaluation included; left out
            of equality, as :class:`History`'s.
    """

    iteration: int
    loss: float
    accuracy: float
    split: str = "test"
    seconds: float = field(default=0.0, compare=False)

    def __str__(self) -> str:
        label = "Accuracy" if self.split == "test" else f"{self.split.capitalize()} accuracy"
        return (f"Iteration: {self.iteration}. Loss: {self.loss:.4f}. "
                f"{label}: {self.accuracy:.2f}")


@dataclass
class History:
    """What :func:`train` returns: per-iteration training losses and the evaluations.

    ``seconds`` (wall time) is left out of equality, so two runs of one seed compare equal;
    so are the traces below, which a history written out by hand (lessons 01 and 04) does
    not keep.

    Attributes:
        train_loss: the loss of every iteration (float, cross-entropy in nats).
        evaluations: the :class:`Evaluation` of every ``eval_every`` iterations.
        seconds: wall time of the whole call, evaluations included.
        learning_rates: the learning rate each iteration's step used (the first parameter
            group's), one per iteration: constant without a scheduler.
        grad_norms: with ``clip_grad_norm``, each iteration's total gradient norm (2-norm
            over all parameters) before clipping; empty otherwise.
    """

    train_loss: list[float] = field(default_factory=list)
    evaluations: list[Evaluation] = field(default_factory=list)
    seconds: float = field(default=0.0, compare=False)
    learning_rates: list[float] = field(default_factory=list, compare=False)
    grad_norms: list[float] = field(default_factory=list, compare=False)

    @property
    def final_accuracy(self) -> float:
        """Accuracy (%) at the last evaluation (on the set scored during training)."""
        if not self.evaluations:
            raise ValueError("the history holds no evaluation yet")
        return self.evaluations[-1].accuracy

    @property
    def best(self) -> Evaluation:
        """The evaluation with the highest accuracy; the earliest of equals (fewer
        iterations for the same score). With validation batches, the one to keep.

        Raises:
            ValueError: the history holds no evaluation.
        """
        if not self.evaluations:
            raise ValueError("the history holds no evaluation yet")
        return max(self.evaluations, key=lambda record: (record.accuracy, -record.iteration))


def as_sequences(images: torch.Tensor, labels: torch.Tensor, seq_dim: int = IMAGE_SIZE,
                 input_dim: int = IMAGE_SIZE) -> torch.Tensor:
    """``images`` as a batch-first (batch, seq_dim, input_dim) batch (a view), after checking
    that it is one image per label.

    Accepted: a batch of ``len(labels)`` images of ``seq_dim * input_dim`` values each,
    laid out as (batch, seq_dim, input_dim), (batch, seq_dim * input_dim), or either with
    size-1 axes added, such as the DataLoader's (batch, 1, 28, 28). Size-1 axes do not
    change the order of the values, so the view is the same images. Anything else would be
    cut into scrambled images by the view, and the model would train or score on noise
    (the classic run stuck near 11%): a time-major (seq_dim, batch, input_dim) batch, a
    batch whose size differs from the number of labels, or images of another shape. A
    time-major batch of exactly seq_dim images cannot be told apart and is not caught.

    Raises:
        ValueError: ``labels`` is not one-dimensional, the first dimension of ``images`` is
            not the number of labels, or an image is not seq_dim x input_dim values; the
            message shows the shapes and the fix.
    """
    layouts = (f"(batch, {seq_dim}, {input_dim}), (batch, 1, {seq_dim}, {input_dim}) or "
               f"(batch, {seq_dim * input_dim})")
    if labels.dim() != 1:
        raise ValueError(f"labels must hold one class index per image, shape (batch,), got "
                         f"{tuple(labels.shape)}: use labels.view(-1)")
    batch, shape = labels.size(0), tuple(images.shape)
    if not shape or shape[0] != batch:
        if batch in shape[1:2] and len(shape) == 3:
            fix = ("This is a time-major (seq_dim, batch, input_dim) batch: make it "
                   "batch-first with images.transpose(0, 1)")
        elif batch in shape[1:]:
            axis = shape.index(batch, 1)
            fix = f"Move the batch axis first with images.movedim({axis}, 0)"
        elif batch == 1 and images.numel() == seq_dim * input_dim:
            fix = f"For one image use images.view(1, {seq_dim}, {input_dim})"
        else:
            fix = "Pass the images and the labels of the same batch"
        raise ValueError(
            f"images of shape {shape} do not match the {batch} labels: the first dimension "
            f"must be the batch, one image per label, as in {layouts}. {fix}.")
    per_image = tuple(size for size in shape[1:] if size != 1)
    if per_image not in ((seq_dim, input_dim), (seq_dim * input_dim,)):
        raise ValueError(
            f"images of shape {shape} are not a batch of {seq_dim} x {input_dim} images: each "
            f"image must be {seq_dim} time steps of {input_dim} values, as in {layouts}.")
    return images.reshape(batch, seq_dim, input_dim)  # a view unless the layout needs a copy


def _model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def evaluate(model: nn.Module, batches: Iterable, seq_dim: int = IMAGE_SIZE,
             input_dim: int = IMAGE_SIZE, autocast_dtype: torch.dtype | None = None) -> float:
    """Accuracy in percent (float) of ``model`` over ``batches`` of (images, labels).

    Runs in eval mode under ``torch.inference_mode()`` (no gradients are recorded: the
    stricter, faster form of ``torch.no_grad()``), then restores the model's previous mode.
    Each batch of images is checked and viewed as (batch, seq_dim, input_dim) by
    :func:`as_sequences` and moved to the model's device. Large batches (the
    course's test batches hold 1000 images) make it fast; the result does not depend on
    the batch size. ``autocast_dtype=torch.bfloat16`` computes the logits in mixed
    precision (see :func:`autocast_context`), once a probe showed that it works here.

    Raises:
        ValueError: ``batches`` is empty, a batch is not one batch-first image per label
            (see :func:`as_sequences`), or ``autocast_dtype`` is not supported.
        UnsupportedPrecisionError: ``autocast_dtype`` does not work for this model on its
            device (see :func:`lstm_helpers.precision.autocast_problem`).
    """
    device = _model_device(model)
    autocast = autocast_context(device, autocast_dtype)
    require_autocast(model, autocast_dtype, seq_dim, input_dim)
    was_training = model.training
    model.eval()
    correct = total = 0
    try:
        with torch.inference_mode(), autocast:
            for images, labels in batches:
                logits = model(as_sequences(images, labels, seq_dim, input_dim).to(device))
                correct += (logits.argmax(dim=1) == labels.to(device)).sum().item()
                total += labels.numel()
    finally:
        model.train(was_training)
    if total == 0:
        raise ValueError("evaluate() got no batches: the test set is empty")
    return 100.0 * correct / total


def train(model: nn.Module, criterion: Callable, optimizer: torch.optim.Optimizer,
          train_batches: Iterable, test_batches: Iterable | None, n_iters: int = 3000,
          eval_every: int = 500, seq_dim: int = IMAGE_SIZE, input_dim: int = IMAGE_SIZE,
          log: Callable[[str], None] | None = print, progress: bool = True,
          on_evaluation: Callable[[Evaluation, nn.Module], None] | None = None,
          autocast_dtype: torch.dtype | None = None, *,
          validation_batches: Iterable | None = None,
          scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
          clip_grad_norm: float | None = None) -> History:
    """Train for ``n_iters`` iterations, evaluating on the test set every ``eval_every``.

    That is the tutorial's protocol. The honest one (lesson 08) passes
    ``test_batches=None, validation_batches=...``: the validation batches are scored
    instead, every choice is made on them, and the test set stays out of the loop, to be
    scored once after training (:func:`lstm_helpers.experiments.train_validate_test`).

    Each iteration views the images as (batch, seq_dim, input_dim) (checked by
    :func:`as_sequences`), clears the gradients,
    computes the logits and the loss, backpropagates and updates the parameters; the
    training batches are walked epoch after epoch until ``n_iters`` (the tutorial's 3000 =
    5 epochs of 600 batches of 100). Each evaluation is printed through ``log`` in the
    tutorial's form, with the accuracy as a float percentage. A progress bar shows
    progress unless ``progress`` is False (see :func:`lstm_helpers.progress.progress_bar`:
    in a notebook one output line that ends in its final state; in a terminal tqdm's bar,
    which ``TQDM_DISABLE=1`` hides).
    ``on_evaluation(record, model)``, if given, is called after each evaluation (to save a
    checkpoint, say; :func:`lstm_helpers.best_checkpoint_callback` keeps the best one).

    ``scheduler``, a learning-rate scheduler built on ``optimizer`` (``OneCycleLR``,
    ``CosineAnnealingLR``, ...), is stepped once after every optimizer step: build it for
    ``n_iters`` steps. ``clip_grad_norm=c`` rescales the gradients before each step so that
    their total 2-norm is at most ``c`` (``torch.nn.utils.clip_grad_norm_``); the norms
    before clipping are kept in ``History.grad_norms``. Both default to None: off.

    ``autocast_dtype=torch.bfloat16`` runs the forward passes and the loss (training and
    evaluation) under ``torch.autocast``: mixed precision, off by default (None keeps
    float32 throughout; see :func:`autocast_context`). The backward pass runs outside the
    autocast block, as the PyTorch AMP recipe prescribes. Before the first step, one pass on
    a small batch checks that the model's device can do it (under DDP, every process's).

    A loss that becomes nan or infinite (a learning rate too high, typically) stops the
    training with :class:`TrainingDivergedError` within ``DIVERGENCE_CHECK_EVERY`` (50)
    iterations, and always before the next evaluation, so ``on_evaluation`` never sees
    diverged weights (a checkpoint keeps the last good ones). Under
    ``DistributedDataParallel`` the ranks take that decision together.

    Speed: the loop does nothing per iteration beyond the step itself and a check of the
    batch's shape (no device work). Losses are kept as tensors and turned into Python floats
    every 50 iterations and at each evaluation, so a GPU is not made to wait for every
    iteration's ``loss.item()``.

    Returns:
        History: the loss of every iteration and the evaluations.

    Raises:
        ValueError: n_iters or eval_every is not a positive integer, train_batches is
            empty, a batch is not one batch-first image per label (see
            :func:`as_sequences`), or autocast_dtype is not supported; both or neither of
            test_batches and validation_batches given; a scheduler not built on this
            optimizer, one that needs a metric (``ReduceLROnPlateau``), or a ``OneCycleLR``
            for fewer than n_iters steps; clip_grad_norm not a positive finite number.
        UnsupportedPrecisionError: autocast_dtype does not work for this model on its device
            (a CPU without bfloat16 LSTM kernels, say): train in float32.
        TrainingDivergedError: the loss became nan or infinite; the message gives the
            iteration and the learning rate to lower.
    """
    positive_int("n_iters", n_iters)
    positive_int("eval_every", eval_every)
    scored, split = _scored_set(test_batches, validation_batches)
    _check_scheduler(scheduler, optimizer, n_iters)
    if clip_grad_norm is not None and (finite_number(clip_grad_norm) is None
                                       or clip_grad_norm <= 0):
        raise ValueError(f"clip_grad_norm must be a positive finite number (1.0, say) or None "
                         f"for no clipping, got {clip_grad_norm!r}")
    device = _model_device(model)
    # A bad dtype, or one this device cannot train in, is refused before any work.
    require_autocast(model, autocast_dtype, seq_dim, input_dim, all_processes=_is_ddp(model))
    history = History()
    pending: list[torch.Tensor] = []  # the losses since the last check, still as tensors
    pending_norms: list[torch.Tensor] = []  # the same for the gradient norms (clipping)
    model.train()
    start = time.perf_counter()
    bar = progress_bar(total=n_iters, desc="training", unit="it", disable=not progress)
    iteration = checked = 0
    try:
        while iteration < n_iters:
            epoch_start = iteration
            for images, labels in train_batches:
                images = as_sequences(images, labels, seq_dim, input_dim).to(device)
                optimizer.zero_grad()
                with autocast_context(device, autocast_dtype):
                    loss = criterion(model(images), labels.to(device))
                loss.backward()
                if clip_grad_norm is not None:
                    pending_norms.append(torch.nn.utils.clip_grad_norm_(
                        model.parameters(), clip_grad_norm).detach())
                history.learning_rates.append(optimizer.param_groups[0]["lr"])
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                iteration += 1
                pending.append(loss.detach())
                bar.update()
                evaluating = iteration % eval_every == 0 or iteration == n_iters
                # Divergence is checked where the losses are read anyway (a GPU sync every
                # 50 iterations costs nothing measurable; one per iteration would stall the
                # GPU's queue), and before every evaluation, so no diverged model is scored
                # or checkpointed.
                if evaluating or len(pending) >= DIVERGENCE_CHECK_EVERY:
                    _flush(pending, history.train_loss)
                    _flush(pending_norms, history.grad_norms)
                    checked = _stop_if_diverged(history, checked, optimizer, model, device)
                if evaluating:
                    record = Evaluation(iteration, history.train_loss[-1],
                                        evaluate(model, scored, seq_dim, input_dim,
                                                 autocast_dtype), split,
                                        time.perf_counter() - start)
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
        _flush(pending_norms, history.grad_norms)
        bar.close()
        history.seconds = time.perf_counter() - start
    return history


def _scored_set(test_batches, validation_batches) -> tuple[Iterable, str]:
    """The batches :func:`train` scores, and their name ("test" or "validation").

    Raises:
        ValueError: both or neither given.
    """
    if validation_batches is not None and test_batches is not None:
        raise ValueError("train() scores one set during training: pass test_batches=None "
                         "with validation_batches, and score the test set once afterwards")
    if validation_batches is None and test_batches is None:
        raise ValueError("train() needs the batches to score during training: "
                         "validation_batches=..., or test_batches for the tutorial's protocol")
    return ((validation_batches, "validation") if validation_batches is not None
            else (test_batches, "test"))


def _check_scheduler(scheduler, optimizer: torch.optim.Optimizer, n_iters: int) -> None:
    """Refuse, before any step, a scheduler :func:`train` cannot step once per iteration.

    Raises:
        ValueError: see :func:`train`.
    """
    if scheduler is None:
        return
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        raise ValueError("ReduceLROnPlateau steps on a measured metric, not once per "
                         "iteration: use a schedule such as OneCycleLR or CosineAnnealingLR")
    if getattr(scheduler, "optimizer", None) is not optimizer:
        raise ValueError("the scheduler was not built on this optimizer, so stepping it would "
                         "not change the learning rate the training uses: build it with "
                         "scheduler = OneCycleLR(optimizer, ...) from the same optimizer")
    total = getattr(scheduler, "total_steps", None)
    if isinstance(scheduler, torch.optim.lr_scheduler.OneCycleLR) and total < n_iters:
        raise ValueError(f"the OneCycleLR schedule has {total} steps, fewer than the "
                         f"{n_iters} iterations (it raises when stepped past its end): build "
                         f"it with total_steps={n_iters}")


def _stop_if_diverged(history: History, checked: int, optimizer: torch.optim.Optimizer,
                      model: nn.Module, device: torch.device) -> int:
    """Raise TrainingDivergedError if a loss after the first ``checked`` ones is nan or
    infinite (on any rank, under DDP); else return the number of losses now checked."""
    losses = history.train_loss
    first = next((i for i in range(checked, len(losses)) if not math.isfinite(losses[i])),
                 None)
    if _is_ddp(model):  # every rank must stop at the same iteration, or the others hang
        flag = torch.tensor([float(first is not None)], device=device)
        torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
        if flag.item() and first is None:
            raise TrainingDivergedError(
                f"training diverged on another process by iteration {len(losses)}: its loss "
                f"became nan or infinite. Lower the learning rate and train a fresh model.",
                len(losses), float("nan"), history)
    if first is None:
        return len(losses)
    iteration, loss = first + 1, losses[first]
    learning_rate = optimizer.param_groups[0].get("lr")
    if isinstance(learning_rate, (int, float)):
        rate, lower = f" with learning rate {learning_rate:g}", f" (try {learning_rate / 10:g})"
    else:
        rate = lower = ""
    raise TrainingDivergedError(
        f"training diverged: the loss became {loss} at iteration {iteration}{rate}, "
        f"and the weights are no longer usable. Lower the learning rate{lower} and train a "
        f"fresh model.", iteration, loss, history)


def _is_ddp(model: nn.Module) -> bool:
    return isinstance(model, torch.nn.parallel.DistributedDataParallel)


def _flush(pending: list[torch.Tensor], losses: list[float]) -> None:
    """Move the pending loss tensors into ``losses`` as floats (one device sync)."""
    if pending:
        losses.extend(torch.stack(pending).float().tolist())
        pending.clear()
