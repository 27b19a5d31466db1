"""Exercise 8 (``notebooks/exercises/ex8_training_loop``): one training iteration, and an
evaluation between iterations.

(a) ``train_step(model, criterion, optimizer, images, labels, seq_dim, input_dim)`` holds the
five lines of one iteration of Model A's loop. The check calls it once per iteration on real
MNIST batches, as a loop does, and watches the model, the loss and the optimizer it hands
over through PyTorch's hooks (:mod:`.training_watch`): the mode and gradient setting of every
forward pass, which loss tensor each backward pass started from, each backward pass's own
gradient, every optimizer step and what ``.grad`` held when it ran, and the weights before
and after each call. From these measurements, not from the code's text, it names the slip:
``zero_grad`` forgotten (the gradients accumulate), ``step`` forgotten (the weights never
change), ``backward`` before the loss of this batch or on an earlier batch's loss, the
gradients cleared between backward and step, the step before backward, backward or step
twice, training in evaluation mode or without gradients. Once a slip shows, the run stops
after the second iteration, so a wrong answer costs two iterations rather than a hundred.

(b) ``test_loss(model, criterion, images, labels, seq_dim, input_dim)`` measures the model on
a test batch between iterations. The check trains with a correct step of its own and calls
it at three points; it must run in evaluation mode without gradients, hand the model back in
training mode, leave the weights and their gradients alone, and return the loss as a float.

The judging functions take the sizes, the number of iterations and the optimizer as
arguments, so that the course's grader (``classroom/grading/``, not part of this package) can
try sizes and batches this check never shows.
"""

from __future__ import annotations

import math
import numbers
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from .feedback import (
    Feedback,
    Status,
    call,
    describe,
    error_text,
    is_placeholder,
    not_done,
    passed,
    raised,
    seeded,
    wrong,
)
from .training_watch import (
    EARLIER,
    EMPTY,
    MORE,
    CallRecord,
    Watch,
    same_grad,
    take_batches,
)

__all__ = ["check_test_loss", "check_train_step"]

TITLE_STEP = "Exercise 8 (one training iteration)"
TITLE_EVAL = "Exercise 8 (evaluation between iterations)"
HIDDEN_DIM = 100        # Model A: one LSTM layer of 100 units
STEP_ITERATIONS = 100   # calls of train_step in the visible check
EVAL_AT = (0, 10, 20)   # test_loss is called before these training iterations
# Frames in these folders are PyTorch's and the checks', not the student's code.
_NOT_THE_STUDENTS = (str(Path(torch.__file__).resolve().parent),
                     str(Path(__file__).resolve().parents[1]))


def _sgd(parameters):
    return torch.optim.SGD(parameters, lr=0.1)  # Model A's optimizer


def _check_setup(batches: Iterable, name: str) -> None:
    with seeded(0):  # a shuffling loader draws its order: leave the notebook's RNG alone
        images, labels = next(iter(take_batches(batches, 1)))
    if images[0].numel() != 28 * 28 or labels.dim() != 1:
        raise TypeError(f"the check needs MNIST batches of (batch, 1, 28, 28) images and "
                        f"(batch,) labels, got {tuple(images.shape)} and {tuple(labels.shape)}"
                        f": pass the notebook's {name}")


# ---------------------------------------------------------------------------------------------
# Errors the student's code raised, and the slip behind each.

@dataclass
class _Sizes:
    seq_dim: int
    input_dim: int
    batch: int  # images in the batch the error happened on


def _error_line(error: BaseException) -> str:
    """The line of the student's code where ``error`` was raised ("" if unknown)."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if not frame.filename.startswith(_NOT_THE_STUDENTS)]
    return (frames[-1].line or "") if frames else ""


def _slip_behind(error: BaseException, record: CallRecord, sizes: _Sizes
                 ) -> tuple[bool, str] | None:
    """``(quote the error?, the slip in words)``, or None for an error the check cannot
    explain (it is then shown as it is)."""
    text = str(error)
    no_grad_link = "does not require grad" in text or "does not have a grad_fn" in text
    if isinstance(error, NameError) and ".backward(" in _error_line(error):
        return True, ("Backward before the loss of this batch: backward was called on a loss "
                      "that did not exist yet when that line ran. Backward computes the "
                      "gradients of a loss that is already there, so this batch's loss has to "
                      "be computed first.")
    if any(made_in < record.number for made_in, _ in record.backward_from):
        return True, ("Backward on the loss of an earlier batch: the backward pass started "
                      "from a loss computed in an earlier iteration. Call it on the loss of "
                      "this batch, computed in the same iteration.")
    if "modified by an inplace operation" in text and record.steps:
        return True, ("Step before backward: the step changed the weights in place while this "
                      "batch's loss still needed their old values for its backward pass. The "
                      "gradients come first; the step then follows them.")
    if no_grad_link and record.forwards and not any(grad for _, grad, _ in record.forwards):
        return True, ("The forward pass ran with gradients switched off (torch.no_grad() or "
                      "torch.inference_mode()), so backward had nothing to work with. That is "
                      "right for evaluation; training needs the forward pass recorded.")
    if no_grad_link or (isinstance(error, AttributeError) and "backward" in text):
        return True, ("Backward was called on something that is not the loss tensor itself: "
                      "loss.item() and loss.detach() have lost the link to the weights. Call "
                      "backward on the tensor the criterion returned; use .item() only for "
                      "the number you return.")
    if "backward through the graph a second time" in text:
        return True, ("Backward twice on this batch's loss: the first backward pass frees "
                      "what a second one would need. One backward pass per iteration.")
    if "only for scalar outputs" in text:
        return True, ("Backward was called on a tensor of many numbers, such as the logits: "
                      "call it on the loss, the single number the criterion returns.")
    if "expected a batch-first input" in text and record.forwards:
        shape = record.forwards[-1][2]
        sizes_in_code = len(shape) == 3 and shape[1:] != (sizes.seq_dim, sizes.input_dim)
        return False, (
            f"The model refused the batch it was given, of shape {shape}: here "
            f"seq_dim={sizes.seq_dim} and input_dim={sizes.input_dim}, so it expects "
            f"(batch, {sizes.seq_dim}, {sizes.input_dim}). "
            + ("Take both sizes from the arguments seq_dim and input_dim: images are not "
               "always read as 28 rows of 28 pixels." if sizes_in_code else
               "The images arrive as (batch, 1, 28, 28), as a DataLoader over MNIST serves "
               "them: view them as (batch, seq_dim, input_dim) before the forward pass."))
    if "is invalid for input of size" in text:
        return True, (f"The view failed on a batch of {sizes.batch} images: the last batch of "
                      f"an epoch can be smaller than the others, so let view work out the "
                      f"batch size rather than writing it, and take seq_dim and input_dim "
                      f"from the arguments.")
    return None


def _error_feedback(title: str, what: str, error: BaseException, record: CallRecord,
                    sizes: _Sizes) -> Feedback:
    slip = _slip_behind(error, record, sizes)
    if slip is None:
        return raised(title, what, error)
    quote, sentence = slip
    return wrong(title, (f"{what} raised {error_text(error)}\n" if quote else "") + sentence)


# ---------------------------------------------------------------------------------------------
# Part (a): train_step.

@dataclass
class _Run:
    """What ``train_step`` did over a run: one record per call that returned."""

    records: list[CallRecord] = field(default_factory=list)
    returned: list = field(default_factory=list)
    unchanged: bool = False  # every weight at the end is what it was at the start


def _train_step_problems(run: _Run) -> list[str]:
    """The slips a run shows, each in a sentence that says what to change (not how)."""
    done = run.records
    if not done:
        return []
    forwards = [forward for record in done for forward in record.forwards]
    if not forwards:
        return [("The model was never called: the forward pass (the model applied to this "
                 "batch's images) gives the logits the loss is computed from.")]
    problems = []
    if any(not training for training, _, _ in forwards):
        problems.append("The forward pass ran in evaluation mode: model.eval() belongs to "
                        "evaluation. Training runs in training mode, the mode the model is "
                        "handed over in (dropout, for one, only works there).")
    if any(not grad for _, grad, _ in forwards):
        problems.append("The forward pass ran with gradients switched off (torch.no_grad() or "
                        "torch.inference_mode()): right for evaluation, but training needs "
                        "them recorded.")
    if any(r.backwards for r in done) and not any(r.losses for r in done):
        problems.append("The loss was not computed with the criterion passed to train_step: "
                        "use that one, so that the function trains with whatever loss it is "
                        "given.")
    if not any(r.backwards for r in done):
        problems.append("Backward forgotten: no backward pass ran, so no gradient reached the "
                        "weights. Without gradients the optimizer has nothing to follow, and "
                        "the weights never change.")
    elif any(not r.backwards for r in done):
        problems.append("Backward ran in some iterations only: each iteration needs one "
                        "backward pass, from its own loss.")
    stale = next((r for r in done if any(m < r.number for m, _ in r.backward_from)), None)
    if stale is not None:
        problems.append(f"Backward on the loss of an earlier batch: in iteration {stale.number} "
                        f"the backward pass started from a loss computed in an earlier "
                        f"iteration. Call it on the loss of this batch.")
    twice = next((r for r in done if r.backwards > 1), None)
    if twice is not None:
        problems.append(f"Backward ran {twice.backwards} times in iteration {twice.number}: "
                        f"each pass adds its gradients into .grad, which then held "
                        f"{twice.backwards} times this batch's gradient. One pass is enough.")
    problems += _step_count_problems(run)
    if any(r.backwards for r in done) and any(r.steps for r in done):
        problems += _step_timing_problems(done)
    piled = next((r for r in done if r.held_at_end == MORE), None)
    if piled is not None:
        problems.append(f"zero_grad forgotten: the gradients accumulate. Backward adds each "
                        f"batch's gradients to what .grad already holds, so from iteration "
                        f"{piled.number} on, .grad held this batch's gradient plus everything "
                        f"earlier batches had left there, and a step would follow that sum. "
                        f"The gradients need clearing once in every iteration, before the "
                        f"backward pass.")
    return problems or _return_problems(run)


def _step_count_problems(run: _Run) -> list[str]:
    done = run.records
    counts = {len(r.steps) for r in done}
    if counts == {0}:
        n = len(done)
        if run.unchanged:
            return [(f"Step forgotten: the optimizer never stepped, and after {n} "
                     f"iteration{'s' if n > 1 else ''} every weight is exactly what it was at "
                     f"the start. The gradients say which way to move; the optimizer's step "
                     f"moves the weights.")]
        return [("The weights changed, but the optimizer passed to train_step never stepped: "
                 "let that optimizer update them (it holds the learning rate and its update "
                 "rule).")]
    if max(counts) > 1:
        many = next(r for r in done if len(r.steps) > 1)
        return [(f"Step ran {len(many.steps)} times in iteration {many.number}: every step "
                 f"moves the weights again along the same gradient. One step per iteration.")]
    if 0 in counts:
        return ["Step ran in some iterations only: each iteration ends with one step."]
    return []


def _step_timing_problems(done: list[CallRecord]) -> list[str]:
    """When the step ran, compared with backward and with clearing the gradients."""
    problems = []
    early = next((r for r in done if r.steps and r.steps[0].held in (EMPTY, EARLIER)), None)
    if early is not None:
        step = early.steps[0]
        if step.held == EMPTY and step.after_backwards:
            problems.append("The gradients were cleared between backward and step: when the "
                            "step ran, .grad was empty, so the weights did not move. Clear "
                            "them before the backward pass instead.")
        else:
            found = ("empty, so the weights did not move" if step.held == EMPTY else
                     "holding only what earlier batches had left there")
            problems.append(f"Step before backward: in iteration {early.number} the step ran "
                            f"before this batch's backward pass, and found .grad {found}. A "
                            f"step follows the gradients that are in .grad when it runs.")
    return problems


def _return_problems(run: _Run) -> list[str]:
    for record, value in zip(run.records, run.returned):
        if isinstance(value, torch.Tensor):
            return [(f"train_step returns {describe(value)}: return the loss as a Python "
                     f"float (.item() turns a one-number tensor into one), the number a log "
                     f"prints.")]
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return [f"train_step returns {describe(value)}: return this batch's loss, a float."]
        # the loss backward started from (the criterion may have run again after the step)
        losses = [loss for _, loss in record.backward_from] or record.losses
        loss = losses[0] if losses else None
        if loss is not None and not math.isclose(float(value), loss, rel_tol=1e-5,
                                                 abs_tol=1e-7):
            return [(f"In iteration {record.number} train_step returned {float(value):.4f}, "
                     f"but the loss backward started from was {loss:.4f}: return that loss, "
                     f"the one of this batch before the step.")]
    return []


def _judge_train_step(train_step, train_batches, title: str, seq_dim: int, input_dim: int,
                      n_iters: int, small: tuple[int, ...], make_optimizer) -> Feedback | None:
    """Call ``train_step`` once per batch, as a loop does; None when nothing is wrong."""
    if is_placeholder(train_step):
        return not_done(title, "train_step")
    if not callable(train_step):
        return wrong(title, f"train_step should be a function, got {describe(train_step)}.",
                     "keep its `def` line and write its body.")
    _check_setup(train_batches, "train_batches")
    run = _Run()
    with seeded(0):
        watch = Watch(input_dim, HIDDEN_DIM, make_optimizer)
        start = watch.weights()
        try:
            for number, (images, labels) in enumerate(
                    take_batches(train_batches, n_iters, small), start=1):
                record = watch.begin(number)
                before = watch.weights()
                value, error = call(train_step, watch.model, watch.criterion, watch.optimizer,
                                    images, labels, seq_dim, input_dim)
                if error is not None:
                    return _error_feedback(title, f"In iteration {number}, train_step", error,
                                           record, _Sizes(seq_dim, input_dim, len(labels)))
                if is_placeholder(value):
                    if value is None and record.forwards:
                        return Feedback(title, Status.NOT_DONE,
                                        "train_step ran the model but returned None: is the "
                                        "`return` line missing?")
                    return not_done(title, "The value train_step returns")
                watch.finish(before)
                run.records.append(record)
                run.returned.append(value)
                if number >= 2 and _train_step_problems(run):
                    break  # every slip shows by the second iteration
            run.unchanged = torch.equal(start, watch.weights())
        finally:
            watch.close()
    problems = _train_step_problems(run)
    return wrong(title, "\n".join("- " + p for p in problems)) if problems else None


def check_train_step(train_step: Callable, train_batches: Iterable) -> Feedback:
    """Exercise 8 (a): the five lines of one training iteration.

    ``train_step(model, criterion, optimizer, images, labels, seq_dim, input_dim)`` is called
    once per iteration, 100 times, on ``train_batches`` (the notebook's: real MNIST images,
    (100, 1, 28, 28) per batch), with a fresh Model A (``LSTMModel(28, 100, 1, 10)``, seeded),
    cross entropy, SGD at learning rate 0.1, and seq_dim = input_dim = 28. Passes when every
    iteration ran the model in training mode with gradients, made one backward pass from its
    own batch's loss and one step along exactly this batch's gradient, and train_step
    returned that loss as a float. Otherwise the message names the slip (see the module's
    docstring for what is measured).

    Raises:
        TypeError: ``train_batches`` yields no MNIST batch (a broken notebook set-up).
    """
    problem = _judge_train_step(train_step, train_batches, TITLE_STEP, 28, 28,
                                STEP_ITERATIONS, (), _sgd)
    return problem if problem is not None else passed(
        TITLE_STEP, f"{STEP_ITERATIONS} iterations on real MNIST batches, watched through "
                    f"PyTorch's hooks: in each, the model ran in training mode, backward "
                    f"started once from this batch's loss, and the optimizer stepped once, "
                    f"along this batch's gradient alone. These are the five lines inside "
                    f"Model A's loop.")


# ---------------------------------------------------------------------------------------------
# Part (b): test_loss.

def _unwatched(watch: Watch, images: torch.Tensor, labels: torch.Tensor, seq_dim: int,
               input_dim: int, *, train: bool) -> float:
    """The check's own work on the watched model: one correct training iteration
    (``train``), or the true test loss, measured in eval mode without gradients."""
    watch.recording = False
    try:
        if train:
            watch.optimizer.zero_grad()
            logits = watch.model(images.view(-1, seq_dim, input_dim))
            loss = nn.functional.cross_entropy(logits, labels)
            loss.backward()
            watch.optimizer.step()
            return loss.item()
        watch.model.eval()
        with torch.no_grad():
            logits = watch.model(images.view(-1, seq_dim, input_dim))
            return nn.functional.cross_entropy(logits, labels).item()
    finally:
        watch.model.train()
        watch.recording = True


def _test_loss_problems(watch: Watch, record: CallRecord, value, truth: float,
                        weights_changed: bool, grads_changed: bool, n_images: int) -> list[str]:
    if not record.forwards:
        return [("The model was never called: the test loss is computed from the model's "
                 "outputs for these images.")]
    problems = []
    if any(training for training, _, _ in record.forwards):
        problems.append("The model ran in training mode during evaluation: switch it to "
                        "evaluation mode first (layers such as dropout behave differently "
                        "there).")
    if any(grad for _, grad, _ in record.forwards):
        problems.append("Gradients were recorded during evaluation: nothing is learnt from "
                        "test images, so run the forward pass with gradients off "
                        "(torch.no_grad()); it is faster, and keeps no graph in memory.")
    if not watch.model.training:
        problems.append("The model was handed back in evaluation mode, so the training "
                        "iterations after the evaluation would run in it: put it back into "
                        "training mode before returning.")
    if weights_changed:
        problems.append("Evaluation changed the weights: it should only measure the model, "
                        "never step.")
    elif grads_changed:
        problems.append("Evaluation changed the gradients in .grad (a backward pass, or "
                        "clearing them): it should leave training's state alone.")
    if isinstance(value, torch.Tensor):
        problems.append(f"test_loss returns {describe(value)}, not a Python float: .item() "
                        f"turns a one-number tensor into one.")
    elif isinstance(value, bool) or not isinstance(value, numbers.Real):
        problems.append(f"test_loss returns {describe(value)}: return the loss as a float.")
    elif not weights_changed and not math.isclose(float(value), truth, rel_tol=1e-5,
                                                  abs_tol=1e-7):
        problems.append(f"Before iteration {record.number}, on {n_images} test images, "
                        f"test_loss returned {float(value):.4f}, but this model's cross "
                        f"entropy there is {truth:.4f}: compute it with the criterion passed "
                        f"in, from the model's outputs for these images.")
    return problems


def _judge_test_loss(test_loss, train_batches, test_batches, title: str, seq_dim: int,
                     input_dim: int, evaluate_at: tuple[int, ...], small: tuple[int, ...]
                     ) -> Feedback | None:
    """Train with the check's own step, calling ``test_loss`` before the iterations in
    ``evaluate_at`` on every test batch; None when nothing is wrong."""
    if is_placeholder(test_loss):
        return not_done(title, "test_loss")
    if not callable(test_loss):
        return wrong(title, f"test_loss should be a function, got {describe(test_loss)}.",
                     "keep its `def` line and write its body.")
    _check_setup(train_batches, "train_batches")
    _check_setup(test_batches, "test_batches")
    tests = list(take_batches(test_batches, 0, small) if small else test_batches)
    with seeded(0):
        watch = Watch(input_dim, HIDDEN_DIM, _sgd)
        try:
            batches = take_batches(train_batches, evaluate_at[-1])
            for iteration in range(evaluate_at[-1] + 1):
                for images, labels in tests if iteration in evaluate_at else ():
                    truth = _unwatched(watch, images, labels, seq_dim, input_dim, train=False)
                    weights, grads = watch.weights(), watch.grads()
                    record = watch.begin(iteration)
                    value, error = call(test_loss, watch.model, watch.criterion, images,
                                        labels, seq_dim, input_dim)
                    what = f"Before iteration {iteration}, test_loss"
                    if error is not None:
                        return _error_feedback(title, what, error, record,
                                               _Sizes(seq_dim, input_dim, len(labels)))
                    if is_placeholder(value):
                        if value is None and record.forwards:
                            return Feedback(title, Status.NOT_DONE,
                                            "test_loss ran the model but returned None: is "
                                            "the `return` line missing?")
                        return not_done(title, "The value test_loss returns")
                    problems = _test_loss_problems(
                        watch, record, value, truth, not torch.equal(weights, watch.weights()),
                        not all(map(same_grad, grads, watch.grads())), len(labels))
                    if problems:
                        return wrong(title, "\n".join("- " + p for p in problems))
                if iteration < evaluate_at[-1]:
                    _unwatched(watch, *next(batches), seq_dim, input_dim, train=True)
        finally:
            watch.close()
    return None


def check_test_loss(test_loss: Callable, train_batches: Iterable,
                    test_batches: Iterable) -> Feedback:
    """Exercise 8 (b): an evaluation between training iterations.

    Trains a fresh Model A (seeded) for 20 iterations on ``train_batches`` with a correct
    step of the check's own, and before iterations 0, 10 and 20 calls
    ``test_loss(model, criterion, images, labels, 28, 28)`` on every batch of
    ``test_batches``. Passes when each call ran the model in evaluation mode without
    gradients, handed it back in training mode, changed neither the weights nor their
    gradients, and returned the cross entropy of that batch as a float.

    Raises:
        TypeError: ``train_batches`` or ``test_batches`` yields no MNIST batch.
    """
    problem = _judge_test_loss(test_loss, train_batches, test_batches, TITLE_EVAL, 28, 28,
                               EVAL_AT, ())
    return problem if problem is not None else passed(
        TITLE_EVAL, f"Before iterations {', '.join(map(str, EVAL_AT))}: evaluation mode, no "
                    f"gradients, the right test loss as a float, the weights and their "
                    f"gradients untouched, and the model handed back in training mode, so "
                    f"training went on as before.")
