"""Exercise 9 (``notebooks/exercises/ex9_forget_gate``): the forget gate's bias, and the memory
it keeps.

(a) ``set_forget_bias(lstm, bias)`` sets the forget gate's bias of every layer of an
``nn.LSTM`` so that its total, ``b_if + b_hf``, is ``bias`` in every unit, and changes nothing
else. The check hands it a seeded ``nn.LSTM`` and measures what changed: each layer's two bias
vectors, sliced by gate in PyTorch's (i, f, g, o) order, the weights, and whether the
parameters are still the same tensors (an optimizer built before holds them). From these it
names the slip: the wrong block (another gate), one bias vector set and the other left (the
two add), both set to ``bias`` (the gate then sees twice the bias), one layer only, weights
changed, parameters replaced, the module not returned.

(b) ``kept_fraction(bias, steps)`` says how much of the cell state survives ``steps`` blank
time steps when the forget gate sits at sigmoid(bias) and nothing is written:
``c_t = f * c_(t-1)``, so ``sigmoid(bias) ** steps``. It is compared with that number for
several biases and delays, and the usual slips (the bias taken for the gate, one step too
many or too few, the forgotten part instead of the kept one) are named.

The judging functions take the LSTM's sizes, the biases and the cases as arguments, so that
the course's grader (``classroom/grading/``, not part of this package) can try others.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import torch
from torch import nn

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

__all__ = ["check_kept_fraction", "check_set_forget_bias"]

TITLE_BIAS = "Exercise 9 (setting the forget gate's bias)"
TITLE_KEPT = "Exercise 9 (the memory a forget gate keeps)"
GATES = ("input gate i", "forget gate f", "cell candidate g", "output gate o")  # PyTorch's order
FORGET = 1  # the forget gate's block in that order
# (input_dim, hidden_dim, num_layers), then the biases set one after the other
VISIBLE_LSTM, VISIBLE_BIASES = (28, 64, 1), (3.0,)
VISIBLE_CASES = [(0.0, 1), (0.0, 28), (1.0, 28), (3.0, 56), (3.0, 0)]
REL_TOL = 1e-4  # float32 arithmetic (torch.sigmoid) is as right as float64 (math.exp)


# ---------------------------------------------------------------------------------------------
# Part (a): set_forget_bias.

def _snapshot(lstm: nn.LSTM) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in lstm.named_parameters()}


def _block(tensor: torch.Tensor, gate: int, hidden: int) -> torch.Tensor:
    return tensor[gate * hidden:(gate + 1) * hidden]


def _bias_problems(lstm: nn.LSTM, before: dict[str, torch.Tensor], bias: float,
                   parameters: dict[str, nn.Parameter]) -> list[str]:
    """What is wrong with ``lstm`` after ``set_forget_bias(lstm, bias)``; [] if nothing."""
    hidden, layers = lstm.hidden_size, lstm.num_layers
    now = dict(lstm.named_parameters())
    if set(now) != set(parameters) or any(now[n] is not parameters[n] for n in parameters):
        return ["A parameter was replaced by a new tensor (or removed): an optimizer built "
                "before keeps updating the old one, so training would never see your bias. "
                "Write into the existing bias tensors instead, under torch.no_grad()."]
    if not all(p.requires_grad for p in now.values()):
        return ["A parameter no longer requires gradients, so training would stop updating "
                "it: write its values under torch.no_grad() instead of detaching it."]
    problems = []
    if any(not torch.equal(now[n], before[n]) for n in now if n.startswith("weight")):
        problems.append("The weights changed: only the forget gate's biases should.")
    target = torch.full((hidden,), float(bias))
    wrong_layers, other_gates = [], set()
    for layer in range(layers):
        b_ih, b_hh = now[f"bias_ih_l{layer}"].detach(), now[f"bias_hh_l{layer}"].detach()
        old_ih, old_hh = before[f"bias_ih_l{layer}"], before[f"bias_hh_l{layer}"]
        for gate in range(4):
            if gate != FORGET and not (torch.equal(_block(b_ih, gate, hidden),
                                                  _block(old_ih, gate, hidden))
                                       and torch.equal(_block(b_hh, gate, hidden),
                                                       _block(old_hh, gate, hidden))):
                other_gates.add(GATES[gate])
        total = _block(b_ih, FORGET, hidden) + _block(b_hh, FORGET, hidden)
        if not torch.allclose(total, target, rtol=1e-6, atol=1e-6):
            wrong_layers.append((layer, _block(b_ih, FORGET, hidden),
                                 _block(b_hh, FORGET, hidden), total))
    if other_gates:
        problems.append(f"The biases of the {', '.join(sorted(other_gates))} changed. nn.LSTM "
                        f"stacks its gates in the order (i, f, g, o), each a block of "
                        f"hidden_dim = {hidden} values: the forget gate's block is the second "
                        f"one, [hidden_dim:2 * hidden_dim].")
    if wrong_layers:
        problems.append(_forget_total_problem(wrong_layers, layers, bias, before, hidden))
    return problems


def _forget_total_problem(wrong_layers, layers: int, bias: float,
                          before: dict[str, torch.Tensor], hidden: int) -> str:
    """Why the forget gate's total bias is not ``bias`` in the first layer where it is not."""
    layer, b_ih, b_hh, total = wrong_layers[0]
    target = torch.full_like(total, float(bias))
    old_ih = _block(before[f"bias_ih_l{layer}"], FORGET, hidden)
    old_hh = _block(before[f"bias_hh_l{layer}"], FORGET, hidden)
    if torch.equal(b_ih, old_ih) and torch.equal(b_hh, old_hh):
        if layer > 0:
            return (f"Layer {layer}'s forget gate was not changed (of {layers} layers): set it "
                    f"in every layer, bias_ih_l0 and bias_hh_l0 up to bias_ih_l{layers - 1} "
                    f"and bias_hh_l{layers - 1} (lstm.num_layers says how many).")
        return ("The forget gate's biases were not changed. They are in lstm.bias_ih_l0 and "
                "lstm.bias_hh_l0 (and the same for further layers), in the block "
                "[hidden_dim:2 * hidden_dim].")
    if torch.allclose(total, 2 * target, atol=1e-6) and float(bias) != 0.0:
        return (f"Both bias vectors were set to {bias:g}, so the gate sees {2 * bias:g}: "
                f"PyTorch adds b_if and b_hf. Give one of them the bias and the other 0.")
    one_set = (torch.allclose(b_ih, target, atol=1e-6) and torch.equal(b_hh, old_hh)) or (
        torch.allclose(b_hh, target, atol=1e-6) and torch.equal(b_ih, old_ih))
    if one_set:
        return (f"One bias vector of the forget gate was set to {bias:g} and the other left as "
                f"it was, so their sum, the bias the gate sees, is {bias:g} plus a random "
                f"initial value. PyTorch adds b_if and b_hf: set the other one to 0.")
    if torch.allclose(total, target + old_ih + old_hh, atol=1e-5):
        return (f"The bias {bias:g} was added to the one already there. Set the total to "
                f"{bias:g}, whatever the biases held before (here they held random initial "
                f"values, and the function may be called twice).")
    return (f"In layer {layer} the forget gate's total bias, b_if + b_hf, is not {bias:g} in "
            f"every unit (it ranges from {total.min().item():.3g} to {total.max().item():.3g}). "
            f"Set it in all hidden_dim = {hidden} units of every layer.")


def _judge_set_forget_bias(set_forget_bias, title: str, sizes: tuple[int, int, int],
                           biases: tuple[float, ...]) -> Feedback | None:
    if is_placeholder(set_forget_bias):
        return not_done(title, "set_forget_bias")
    if not callable(set_forget_bias):
        return wrong(title, f"set_forget_bias should be a function, got "
                            f"{describe(set_forget_bias)}.", "keep its `def` line and write "
                            "its body.")
    input_dim, hidden_dim, layers = sizes
    with seeded(0):
        lstm = nn.LSTM(input_dim, hidden_dim, layers, batch_first=True)
    parameters = dict(lstm.named_parameters())
    for bias in biases:
        before = _snapshot(lstm)
        value, error = call(set_forget_bias, lstm, bias)
        what = (f"set_forget_bias(nn.LSTM({input_dim}, {hidden_dim}, num_layers={layers}), "
                f"{bias:g})")
        if error is not None:
            if "leaf Variable that requires grad" in str(error):
                return raised(title, what, error, "a bias records gradients, and PyTorch "
                              "refuses to change it in place while it does: write into it "
                              "inside `with torch.no_grad():`.")
            return raised(title, what, error)
        if value is Ellipsis:
            return not_done(title, "set_forget_bias")
        problems = _bias_problems(lstm, before, bias, parameters)
        if problems:
            return wrong(title, f"After {what}:\n" + "\n".join("- " + p for p in problems))
        if value is None:
            return wrong(title, f"{what} set the biases right but returned None.",
                         "end with `return lstm`, so that it can be used in an expression.")
        if value is not lstm:
            return wrong(title, f"{what} returned {describe(value)}, not the LSTM it was "
                                f"given.", "change the LSTM passed in, and return it.")
    return None


def check_set_forget_bias(set_forget_bias: Callable) -> Feedback:
    """Exercise 9 (a): the forget gate's total bias set, and nothing else changed.

    Calls ``set_forget_bias(lstm, 3.0)`` on a seeded ``nn.LSTM(28, 64, batch_first=True)``.
    Passes when ``bias_ih_l0 + bias_hh_l0`` is 3 in the forget gate's block (the second of
    the four, in PyTorch's (i, f, g, o) order) of every unit, every other value of every
    parameter is unchanged, the parameters are the same tensors as before and still require
    gradients, and the function returns the LSTM it was given.
    """
    problem = _judge_set_forget_bias(set_forget_bias, TITLE_BIAS, VISIBLE_LSTM, VISIBLE_BIASES)
    gate = 1 / (1 + math.exp(-VISIBLE_BIASES[0]))
    return problem if problem is not None else passed(
        TITLE_BIAS, f"b_if + b_hf = {VISIBLE_BIASES[0]:g} in all {VISIBLE_LSTM[1]} units, the "
                    f"other gates and the weights untouched, the same parameter tensors. On a "
                    f"blank row, from a zero state, this forget gate starts at "
                    f"sigmoid({VISIBLE_BIASES[0]:g}) = {gate:.3f} instead of 0.5.")


# ---------------------------------------------------------------------------------------------
# Part (b): kept_fraction.

def kept(bias: float, steps: int) -> float:
    """sigmoid(bias) ** steps, in float64."""
    return (1.0 / (1.0 + math.exp(-bias))) ** steps


def _as_number(value) -> float | None:
    """``value`` as a float if it is a real number or a one-number tensor, else None."""
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.is_floating_point():
        return float(value.item())
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    return None


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-300)


def _kept_slip(answer: float, bias: float, steps: int) -> str:
    gate = kept(bias, 1)
    slips = [
        (bias ** steps if steps else 1.0,
         "the bias was used as the gate: the gate is sigmoid(bias), a number between 0 and 1"),
        (gate * steps, "the gate was multiplied by the number of steps: the cell state is "
                       "multiplied by the gate once per step, so the factors multiply"),
        (gate ** (steps + 1), "one step too many: after `steps` steps the gate has acted "
                              "`steps` times (after 0 steps, everything is kept)"),
        (gate ** max(steps - 1, 0) if steps else -1.0, "one step too few: after `steps` steps "
                                                       "the gate has acted `steps` times"),
        (1.0 - gate ** steps, "that is the part forgotten, not the part kept"),
        ((1.0 - gate) ** steps, "1 - sigmoid(bias) is the part a gate lets go at each step; "
                                "the part it keeps is sigmoid(bias)"),
    ]
    for value, hint in slips:
        if _close(answer, value) and not _close(answer, kept(bias, steps)):
            return hint
    return ("c_t = f * c_(t-1) with nothing written, so each blank step multiplies the "
            "memory by the gate f = sigmoid(bias)")


def _judge_kept_fraction(kept_fraction, title: str, cases) -> Feedback | None:
    if is_placeholder(kept_fraction):
        return not_done(title, "kept_fraction")
    if not callable(kept_fraction):
        return wrong(title, f"kept_fraction should be a function, got "
                            f"{describe(kept_fraction)}.", "keep its `def` line and write its "
                            "body.")
    for bias, steps in cases:
        value, error = call(kept_fraction, bias, steps)
        what = f"kept_fraction({bias:g}, {steps})"
        if error is not None:
            return raised(title, what, error)
        if is_placeholder(value):
            return not_done(title, "The value kept_fraction returns")
        number = _as_number(value)
        if number is None:
            return wrong(title, f"{what} returned {describe(value)}.",
                         "return one number, a float (or a tensor holding one number).")
        if not _close(number, kept(bias, steps)):
            return wrong(title, f"{what} returned {number:.4g}, which is not the fraction of "
                                f"the memory kept after {steps} blank "
                                f"step{'' if steps == 1 else 's'}.",
                         _kept_slip(number, bias, steps))
    return None


def check_kept_fraction(kept_fraction: Callable) -> Feedback:
    """Exercise 9 (b): ``sigmoid(bias) ** steps``, the memory a constant forget gate keeps.

    Compared (relative tolerance 1e-4) with that number for biases 0, 1 and 3 and 0 to 56
    steps; a float or a one-number tensor is accepted.
    """
    problem = _judge_kept_fraction(kept_fraction, TITLE_KEPT, VISIBLE_CASES)
    return problem if problem is not None else passed(
        TITLE_KEPT, f"After 56 blank steps a forget gate at sigmoid(0) = 0.5 keeps "
                    f"{kept(0.0, 56):.1e} of the memory, one at sigmoid(3) = 0.953 keeps "
                    f"{kept(3.0, 56):.3f}. The gradient flowing back along the cell state "
                    f"shrinks by the same factor.")
