"""Exercise 1 (``notebooks/exercises/ex1_parameter_count``): an LSTM's parameters by formula.

The student writes ``count_parameters(input_dim, hidden_dim, layer_dim, output_dim)``; it is
compared with PyTorch's own count of ``lstm_helpers.LSTMModel`` of those sizes. Building a
model inside the function is refused (the task asks for arithmetic): while the student's
function runs, creating any ``nn.Module`` stops it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from contextlib import contextmanager

import torch
from torch import nn

from ..models import LSTMModel
from ..parameters import count_parameters as pytorch_count
from .feedback import (
    Feedback,
    Status,
    call,
    describe,
    first_problem,
    is_placeholder,
    not_done,
    passed,
    raised,
    wrong,
)

__all__ = ["check_parameter_count"]

TITLE = "Exercise 1 (parameter count)"
CASES = [(28, 100, 1, 10), (28, 100, 2, 10), (28, 100, 3, 10), (1, 1, 1, 1), (5, 7, 4, 3),
         (28, 64, 2, 10)]
NAMES = ("input_dim", "hidden_dim", "layer_dim", "output_dim")
# The usual slips, each with the hint that points at it (see _count_slips).
SLIPS = {
    "one_bias": "PyTorch keeps two bias vectors per layer, b_ih and b_hh (the tutorial's b1 to "
                "b8): count both.",
    "input_everywhere": "a stacked layer reads the hidden state of the layer below it, so from "
                        "the second layer on, a layer's input has hidden_dim features, not "
                        "input_dim.",
    "no_readout": "the model's count includes the readout nn.Linear(hidden_dim, output_dim): "
                  "its weights and its biases.",
    "no_readout_bias": "the readout nn.Linear has a bias too, one per output.",
    "one_gate": "every LSTM matrix stacks four gates (input, forget, cell, output): that is why "
                "Model A shows [400, 28] for 100 hidden units.",
    "one_layer": "each of the layer_dim layers has its own weights and biases: count every "
                 "layer.",
}


def _count_slips(sizes: tuple[int, int, int, int]) -> dict[str, int]:
    """``{hint: count}``: what each usual slip gives for ``LSTMModel(*sizes)``, read from the
    parameter tensors PyTorch builds (no formula of the answer here)."""
    numel = {name: p.numel() for name, p in LSTMModel(*sizes).named_parameters()}
    total, layers = sum(numel.values()), sizes[2]
    readout = numel["fc.weight"] + numel["fc.bias"]
    lstm = total - readout
    per_layer = [sum(n for name, n in numel.items() if name.endswith(f"_l{layer}"))
                 for layer in range(layers)]
    upper_inputs = sum(numel[f"lstm.weight_ih_l{layer}"] for layer in range(1, layers))
    counts = {
        "one_bias": total - sum(numel[f"lstm.bias_hh_l{layer}"] for layer in range(layers)),
        "input_everywhere": total - upper_inputs + (layers - 1) * numel["lstm.weight_ih_l0"],
        "no_readout": lstm,
        "no_readout_bias": total - numel["fc.bias"],
        "one_gate": lstm // 4 + readout,
        "one_layer": per_layer[0] + readout,
    }
    return {SLIPS[key]: count for key, count in counts.items()}


def _as_count(value) -> int | None:
    """The integer a student's count stands for, or None if it is not a whole number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


class _ModuleBuilt(BaseException):
    """Raised inside the student's function when it creates an nn.Module.

    A BaseException, so that a student's ``except Exception`` cannot swallow it.
    """


@contextmanager
def _no_modules():
    """While inside, creating any nn.Module raises _ModuleBuilt (before it allocates)."""
    original = nn.Module.__init__

    def refuse(module, *args, **kwargs):
        raise _ModuleBuilt(type(module).__name__)

    nn.Module.__init__ = refuse
    try:
        yield
    finally:
        nn.Module.__init__ = original


def _judge(count_parameters, cases, truth_of: Callable[[tuple], int], title: str,
           slips_of: Callable[[tuple], dict[str, int]] = _count_slips) -> Feedback | None:
    """The first problem over ``cases`` as a Feedback, or None when every count is right.

    ``truth_of(sizes)`` gives the right count and ``slips_of(sizes)`` the usual wrong ones
    (``{hint: count}``); both are computed after the student's function has returned.
    """
    for sizes in cases:
        named = ", ".join(f"{name}={value}" for name, value in zip(NAMES, sizes))
        try:
            with _no_modules():
                value, error = call(count_parameters, *sizes)
        except _ModuleBuilt as built:
            return wrong(title, f"count_parameters({named}) builds a model (it created an "
                                f"{built} to count its parameters); the exercise asks for a "
                                f"formula.",
                         "compute the count from the four sizes with arithmetic only: the "
                         "shapes printed above say how large each group of parameters is.")
        if error is not None:
            return raised(title, f"count_parameters({named})", error)
        if value is Ellipsis:
            return not_done(title, "The value count_parameters returns")
        if value is None:
            return Feedback(title, Status.NOT_DONE,
                            "count_parameters returned None: is the `return` line missing?")
        count = _as_count(value)
        if count is None:
            return wrong(title, f"count_parameters({named}) returned {describe(value)}.",
                         "return a whole number (an int).")
        truth = truth_of(sizes)
        if count != truth:
            slips = slips_of(sizes)
            hint = next((hint for hint, slip in slips.items() if slip == count != truth), None)
            return wrong(title, f"For {named} your formula gives {count:,}; PyTorch counts "
                                f"{truth:,}.",
                         hint or "count, layer by layer, the weights from the layer's input to "
                                 "the gates, the weights from the previous hidden state to the "
                                 "gates and the biases, then the readout. "
                                 "lh.describe_parameters(model) lists every group and its "
                                 "shape.")
    return None


def _not_a_function(title: str, count_parameters) -> Feedback | None:
    if is_placeholder(count_parameters):
        return not_done(title, "count_parameters")
    if not callable(count_parameters):
        return wrong(title, f"count_parameters should be a function, got "
                            f"{describe(count_parameters)}.",
                     "keep the `def count_parameters(input_dim, hidden_dim, layer_dim, "
                     "output_dim):` line and write its body.")
    return None


def check_parameter_count(count_parameters: Callable[[int, int, int, int], int]) -> Feedback:
    """Exercise 1: a formula for the number of parameters of ``LSTMModel``.

    ``count_parameters(input_dim, hidden_dim, layer_dim, output_dim)`` must return the
    number of trainable numbers in ``lstm_helpers.LSTMModel`` of those sizes (the stacked
    ``nn.LSTM`` and the readout ``nn.Linear``), computed by formula: building a model inside
    it is refused. It is compared with PyTorch's own count,
    ``sum(p.numel() for p in model.parameters())``, on six sizes, among them the tutorial's
    Models A, B and C (53,010, 133,810 and 214,610).
    """
    problem = first_problem(
        lambda: _not_a_function(TITLE, count_parameters),
        lambda: _judge(count_parameters, CASES, lambda sizes: pytorch_count(LSTMModel(*sizes)),
                       TITLE))
    return problem if problem is not None else passed(
        TITLE, f"Your formula matches PyTorch's count on all {len(CASES)} sizes checked, "
               f"among them Model A (53,010), Model B (133,810) and Model C (214,610).")
