"""Exercise 7 (``notebooks/exercises/ex7_slow_start``): getting Model C off its plateau.

The student writes ``make_optimizer(model)``; the check builds Model C from the notebook's
seed, calls it and trains 200 iterations on the notebook's small training set. The answer is
judged by what training reaches, so the grader adds no further cases.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch
from torch import nn

from ..models import LSTMModel
from ..training import train
from .feedback import (
    Feedback,
    call,
    describe,
    is_placeholder,
    not_done,
    passed,
    raised,
    seeded,
    wrong,
)

__all__ = ["SLOW_START_EVERY", "SLOW_START_ITERS", "SLOW_START_PASS", "check_slow_start_fix"]

TITLE = "Exercise 7 (slow start of Model C)"
SLOW_START_ITERS = 200   # iterations the fix is trained for
SLOW_START_EVERY = 50    # evaluation interval
SLOW_START_PASS = 40.0   # test accuracy (%) that shows the plateau is left (baseline ~11%)


def check_slow_start_fix(make_optimizer: Callable[[nn.Module], torch.optim.Optimizer],
                         train_batches: Iterable, test_batches: Iterable) -> Feedback:
    """Exercise 7: an optimizer (and optional initialisation) that gets Model C moving.

    Builds the tutorial's Model C, ``LSTMModel(28, 100, 3, 10)``, with torch seeded to 0
    (the same start as the notebook's baseline), calls ``make_optimizer(model)``, which may
    also change the model's initial weights, and trains ``SLOW_START_ITERS`` = 200 iterations
    on ``train_batches``, printing the log every 50. Passes when the test accuracy reaches
    ``SLOW_START_PASS`` = 40%; plain SGD at learning rate 0.1 stays near 11% here.
    """
    title = TITLE
    if is_placeholder(make_optimizer):
        return not_done(title, "make_optimizer")
    if not callable(make_optimizer):
        return wrong(title, f"make_optimizer should be a function, got "
                             f"{describe(make_optimizer)}.")
    with seeded():
        model = LSTMModel(28, 100, 3, 10)
        optimizer, error = call(make_optimizer, model)
        if error is not None:
            return raised(title, "make_optimizer(model)", error)
        if is_placeholder(optimizer):
            return not_done(title, "The value make_optimizer returns")
        if not isinstance(optimizer, torch.optim.Optimizer):
            return wrong(title, f"make_optimizer returned {describe(optimizer)}.",
                          "return an optimizer from torch.optim, built on the model's "
                          "parameters.")
        given = {id(p) for group in optimizer.param_groups for p in group["params"]}
        missing = [p for p in model.parameters() if id(p) not in given]
        if missing:
            return wrong(title, f"the optimizer does not update {len(missing)} of the "
                                 f"model's {len(list(model.parameters()))} parameter groups.",
                          "build it on the parameters of the model passed to make_optimizer.")
        history, error = call(lambda: train(
            model, nn.CrossEntropyLoss(), optimizer, train_batches, test_batches,
            n_iters=SLOW_START_ITERS, eval_every=SLOW_START_EVERY, progress=False))
    if error is not None:
        return raised(title, "training with your optimizer", error)
    if not all(math.isfinite(loss) for loss in history.train_loss):
        return wrong(title, "the loss became nan or infinite: training diverged.",
                      "the steps are too large; lower the learning rate.")
    final = history.final_accuracy
    if final < SLOW_START_PASS:
        return wrong(title, f"after {SLOW_START_ITERS} iterations the test accuracy is "
                             f"{final:.2f}% (reaching {SLOW_START_PASS:.0f}% passes).",
                      "SGD's single learning rate leaves the deep net on its plateau. An "
                      "optimizer that scales each parameter's step by its own gradient "
                      "history, with a small learning rate (a few thousandths), or a larger "
                      "forget-gate bias at the start, gets it moving.")
    return passed(title, f"Same start as the baseline; after {SLOW_START_ITERS} iterations your "
                         f"fix reaches test accuracy: {final:.2f}%, while plain SGD stays near "
                         f"11%.")
