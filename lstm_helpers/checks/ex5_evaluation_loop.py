"""Exercise 5 (``notebooks/exercises/ex5_evaluation_loop``): an evaluation loop.

The student writes ``accuracy(model, batches)``, the test accuracy in percent. It is run on a
probe model that notes, at every forward, whether it ran in training mode and with
gradients, over test sets whose exact accuracy is known and has a fraction. Two sets of
different sizes, batch sizes and accuracies, so that counts or a result hard-coded for one
set fail on the other; the graded version adds a third, whose last batch holds one image.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable

import torch
from torch import nn

from ..data import TensorBatches
from ..models import LSTMModel
from .feedback import (
    Feedback,
    Status,
    call,
    describe,
    is_placeholder,
    not_done,
    passed,
    raised,
    seeded,
    wrong,
)

__all__ = ["check_accuracy_function"]

TITLE = "Exercise 5 (evaluation loop)"
# (images, correctly classified, batch size, seed): 211/300 = 70.33...% in batches of 64 (the
# last one holds 44), then 47/130 = 36.15...% in batches of 32 (the last one holds 2).
TEST_SETS = [(300, 211, 64, 0), (130, 47, 32, 1)]


class _Probe(nn.Module):
    """A small LSTMModel that notes, at every forward, the mode and whether grads are on."""

    def __init__(self):
        super().__init__()
        self.inner = LSTMModel(28, 8, 1, 10)
        self.seen: list[tuple[bool, bool]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append((self.training, torch.is_grad_enabled()))
        return self.inner(x)


def probe_and_batches(n_images: int, n_right: int, batch_size: int, seed: int):
    """A probe model in training mode, batches it classifies exactly ``n_right`` times
    right, and that accuracy in percent."""
    with seeded(seed):
        probe = _Probe()
        images = torch.rand(n_images, 1, 28, 28)
    # Predictions are made batch by batch, exactly as the student's loop will make them.
    with torch.no_grad():
        predicted = torch.cat([probe.inner(batch.view(-1, 28, 28)).argmax(dim=1)
                               for batch in images.split(batch_size)])
    labels = predicted.clone()
    labels[n_right:] = (labels[n_right:] + 1) % 10  # wrong on purpose
    probe.train()
    return probe, TensorBatches(images, labels, batch_size), 100 * n_right / n_images


def _is_batch_mean(value: float, probe: _Probe, batches: TensorBatches) -> bool:
    accuracies = []
    with torch.no_grad():
        for images, labels in batches:
            predicted = probe.inner(images.view(-1, 28, 28)).argmax(dim=1)
            accuracies.append(100 * (predicted == labels).float().mean().item())
    return math.isclose(value, sum(accuracies) / len(accuracies), rel_tol=1e-5)


def _accuracy_problems(value, probe: _Probe, batches: TensorBatches, truth: float,
                       first_set: bool) -> list[str]:
    """What is wrong with an evaluation loop, one sentence and its hint per problem."""
    problems = []
    if not probe.seen:
        problems.append("The model was never called: loop over the batches and compute the "
                        "logits of each.")
    if any(training for training, _ in probe.seen):
        problems.append("The model ran in training mode: switch it to evaluation mode before "
                        "the loop (dropout and batch normalisation behave differently there).")
    if any(grad for _, grad in probe.seen):
        problems.append("Gradients were recorded: nothing is learnt here, so run the loop in "
                        "a torch.no_grad() block (faster, and less memory).")
    if isinstance(value, torch.Tensor):
        problems.append(f"It returns {describe(value)}, not a Python float: .item() turns a "
                        f"one-number tensor into one.")
        return problems
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        problems.append(f"It returns {describe(value)}: return the percentage as a float.")
        return problems
    if isinstance(value, numbers.Integral):
        problems.append(f"It returns the whole number {value}: return a float.")
    if not math.isclose(float(value), truth, rel_tol=1e-6):
        if math.isclose(float(value), math.floor(truth)):
            why = ("the fraction was cut off by integer (floor) division, the tutorial's old "
                   "slip: divide as floats.")
        elif math.isclose(float(value), truth / 100, rel_tol=1e-6):
            why = "that is a fraction; the course reports percent."
        elif _is_batch_mean(float(value), probe, batches):
            why = ("averaging each batch's accuracy weighs the smaller last batch as much as "
                   "the full ones: count correct predictions and images over all batches, "
                   "then divide once.")
        elif not first_set:
            why = ("your loop was right on the first test set but not on this one: count the "
                   "correct predictions and the images while you loop (labels.size(0) per "
                   "batch) rather than writing numbers of one test set into the code.")
        else:
            why = ("a prediction is the class with the largest logit (argmax over the class "
                   "axis); compare it with the labels and count.")
        problems.append(f"On {len(batches.labels)} images in batches of "
                        f"{batches.batch_size} it returns {float(value):.4f}, but this model's "
                        f"accuracy there is {truth:.4f}%: {why}")
    return problems


def _loop_problem(accuracy: Callable, test_sets, title: str) -> Feedback | None:
    if is_placeholder(accuracy):
        return not_done(title, "accuracy")
    if not callable(accuracy):
        return wrong(title, f"accuracy should be a function, got {describe(accuracy)}.",
                     "keep its `def` line and write its body.")
    for index, test_set in enumerate(test_sets):
        probe, batches, truth = probe_and_batches(*test_set)
        value, error = call(accuracy, probe, batches)
        if error is not None:
            hint = ("images come as (batch, 1, 28, 28), like a DataLoader's; the model wants "
                    "(batch, 28, 28)." if "seq_dim" in str(error) else "")
            return raised(title, "accuracy(model, batches)", error, hint)
        if is_placeholder(value):
            if value is None and probe.seen:
                return Feedback(title, Status.NOT_DONE,
                                "accuracy ran the model but returned None: is the `return` "
                                "line missing?")
            return not_done(title, "The value accuracy returns")
        problems = _accuracy_problems(value, probe, batches, truth, first_set=index == 0)
        if problems:
            return wrong(title, "\n".join("- " + problem for problem in problems))
    return None


def check_accuracy_function(accuracy: Callable[[nn.Module, Iterable], float]) -> Feedback:
    """Exercise 5: ``accuracy(model, batches)`` returns the test accuracy in percent.

    It is run on a small LSTM handed over in training mode, and batches of (batch, 1, 28, 28)
    images like a DataLoader's: 300 images in batches of 64 (exact answer 70.333...%), then
    130 in batches of 32 (36.15...%). Checked: the model runs in eval mode and without
    gradients (``model.eval()``, ``torch.no_grad()``), and the result is a float percentage
    counted over all images (no floor division, no per-batch average, nothing hard-coded).
    """
    problem = _loop_problem(accuracy, TEST_SETS, TITLE)
    if problem is not None:
        return problem
    return passed(TITLE, "Eval mode, no gradients, and a float percentage counted "
                         "over every image, on two test sets. (lh.evaluate does the "
                         "same and also restores the model's previous mode.)")
