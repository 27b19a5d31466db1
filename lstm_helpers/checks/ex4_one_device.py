"""Exercise 4 (``notebooks/exercises/ex4_one_device``): model, input and states on one device.

The student writes ``prepare(model, images, device) -> (model, x, (h0, c0))``. It is called
with PyTorch's ``meta`` device, which every machine has (tensors with shapes but no data), so
a forgotten ``.to(device)`` shows without a GPU. The graded version also tries other model
sizes and batch sizes, so states of a hard-coded shape score zero.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ..models import LSTMModel
from .ex3_input_shapes import image_batch
from .feedback import (
    Feedback,
    call,
    describe,
    first_problem,
    is_placeholder,
    not_done,
    passed,
    raised,
    seeded,
    wrong,
)

__all__ = ["check_one_device"]

TITLE = "Exercise 4 (one device)"
SIZES, IMAGES = (28, 16, 2, 10), 6  # the visible check: LSTMModel(*SIZES), 6 images


def _device_of(tensor) -> str:
    return str(tensor.device) if isinstance(tensor, torch.Tensor) else "not a tensor"


def _prepare_problem(prepare: Callable, sizes: tuple[int, int, int, int], n_images: int,
                     title: str) -> Feedback | None:
    """What is wrong with ``prepare`` for ``LSTMModel(*sizes)`` and ``n_images``, or None."""
    with seeded():
        model = LSTMModel(*sizes)
    images = image_batch(max(n_images, 7))[:n_images]
    device = torch.device("meta")
    layers, batch, hidden = sizes[2], n_images, sizes[1]
    result, error = call(prepare, model, images, device)
    if error is not None:
        about_gpu = any(word in str(error).lower() for word in ("cuda", "nvidia", "gpu"))
        hint = ("use the device you are given, with .to(device): .cuda() fails on a machine "
                "without a GPU." if about_gpu else "")
        return raised(title, "prepare(model, images, torch.device('meta'))", error, hint)
    if is_placeholder(result):
        return not_done(title, "The value prepare returns")
    if not (isinstance(result, tuple) and len(result) == 3 and isinstance(result[2], tuple)
            and len(result[2]) == 2):
        return wrong(title, f"prepare returned {describe(result)}.",
                     "return three things: the model, the input x and the pair (h0, c0).")
    moved, x, (h0, c0) = result
    if not isinstance(moved, nn.Module):
        return wrong(title, f"the first item should be the model; got {describe(moved)}.")
    on = {str(p.device) for p in moved.parameters()}
    if on != {"meta"}:
        return wrong(title, f"the model's parameters are on {', '.join(sorted(on))}, not on "
                            f"the device asked for (meta).",
                     "a model moves with .to(device), to the device passed in (not a global or "
                     "a hard-coded one).")
    if not isinstance(x, torch.Tensor) or x.device != device:
        return wrong(title, f"x is on {_device_of(x)}, not on meta.",
                     "Tensor.to(device) returns a new tensor and leaves the old one where it "
                     "was: keep the result (x = x.to(device)).")
    if tuple(x.shape) != (batch, 28, 28):
        return wrong(title, f"x has shape {tuple(x.shape)}; the model takes ({batch}, 28, 28) "
                            f"for these {batch} images.",
                     "see exercise 3: one row per time step.")
    expected = (layers, batch, hidden)
    for name, state in (("h0", h0), ("c0", c0)):
        if not isinstance(state, torch.Tensor):
            return wrong(title, f"{name} should be a tensor; got {describe(state)}.")
        if tuple(state.shape) != expected:
            return wrong(title, f"for a model with {layers} layer(s) of {hidden} units and "
                                f"{batch} image(s), {name} has shape {tuple(state.shape)}; "
                                f"expected {expected}.",
                         "an initial state is (layer_dim, batch, hidden_dim); read the sizes "
                         "from the model and the batch, not from constants.")
        if state.device != device:
            return wrong(title, f"{name} is on {state.device}, not on meta.",
                         "create the states directly on the device (torch.zeros accepts "
                         "device=...), or with x.new_zeros(...), which follows x. The tutorial "
                         "makes them on the CPU and copies them every batch.")
    _, error = call(lambda: moved.lstm(x, (h0, c0)))
    if error is not None:
        return raised(title, "model.lstm(x, (h0, c0))", error)
    return None


def _not_a_function(title: str, prepare) -> Feedback | None:
    if is_placeholder(prepare):
        return not_done(title, "prepare")
    if not callable(prepare):
        return wrong(title, f"prepare should be a function, got {describe(prepare)}.",
                     "keep its `def` line and write its body.")
    return None


def check_one_device(prepare: Callable) -> Feedback:
    """Exercise 4: ``prepare(model, images, device) -> (model, x, (h0, c0))`` on ``device``.

    ``model`` is an ``LSTMModel(28, 16, 2, 10)`` on the CPU and ``images`` a (6, 1, 28, 28)
    CPU batch; the device is ``meta``. Expected: the model's parameters, x of shape
    (6, 28, 28) and the zero states h0, c0 of shape (layer_dim, batch, hidden_dim) =
    (2, 6, 16), all on ``meta``, ready for ``model.lstm(x, (h0, c0))``.
    """
    problem = first_problem(lambda: _not_a_function(TITLE, prepare),
                            lambda: _prepare_problem(prepare, SIZES, IMAGES, TITLE))
    if problem is not None:
        return problem
    return passed(TITLE, "Model, input and both states landed on the device asked "
                         "for, and the LSTM runs there. (Checked on PyTorch's 'meta' "
                         "device, so it holds on a GPU as well.)")
