"""Instant feedback for the classroom exercises in ``notebooks/exercises/``.

Each ``check_*`` function takes a student's answer (a value, a function or a class) and
returns a :class:`Feedback` with one of three statuses:

* ``PASSED``: the answer is right, with a sentence saying what it shows;
* ``NOT_DONE``: the answer is still the placeholder ``...`` (or ``None``, or raises
  ``NotImplementedError``): nothing to judge yet;
* ``WRONG``: what is wrong, and a hint towards the fix (never the answer itself).

Raise or print? Neither: a check **never raises because of the answer**. Whatever the
student hands in (a placeholder, ``None``, a wrong type, a wrong shape, a function that
crashes), the check returns a ``Feedback``. Written as the last line of a notebook cell, it
shows as a short readable message instead of a traceback; ``print(feedback)`` works anywhere.
``feedback.passed`` (also ``bool(feedback)``) and ``feedback.status`` serve scripts and tests.
Only a mistake in the notebook's own set-up (not in the answer), such as passing a
``nn.GRU`` where the exercise builds an ``nn.LSTM``, raises ``TypeError``.

Checks that build models or draw random data do so inside ``torch.random.fork_rng``, so
calling a check does not change the notebook's random state.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum

import torch
from torch import nn

from .data import TensorBatches
from .models import LSTMModel
from .parameters import count_parameters as pytorch_count
from .training import train

__all__ = [
    "Status", "Feedback", "check_parameter_count", "check_last_step",
    "check_last_step_seq_first", "check_batch_first_input", "check_seq_first_input",
    "check_one_device", "check_accuracy_function", "check_bidirectional",
    "check_slow_start_fix",
]


class Status(str, Enum):
    """The outcome of a check."""

    PASSED = "passed"
    WRONG = "wrong"
    NOT_DONE = "not done"


_HEADLINE = {Status.PASSED: "✅ {title}: correct.",
             Status.WRONG: "❌ {title}: not yet.",
             Status.NOT_DONE: "⏳ {title}: not done yet."}


@dataclass(frozen=True)
class Feedback:
    """What a check says about an answer.

    Attributes:
        title: the exercise, e.g. "Exercise 1 (parameter count)".
        status: PASSED, WRONG or NOT_DONE.
        message: what was found, one or more sentences.
        hint: for WRONG, a pointer towards the fix; empty otherwise.
    """

    title: str
    status: Status
    message: str
    hint: str = ""

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        lines = [_HEADLINE[self.status].format(title=self.title), self.message]
        if self.hint:
            lines.append("Hint: " + self.hint)
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle) -> None:  # how IPython/Jupyter shows it
        printer.text(str(self))


# ---------------------------------------------------------------------------------------------
# Shared helpers: calling student code safely and describing what came back.

def _is_placeholder(value) -> bool:
    return value is Ellipsis or value is None


def _call(function: Callable, *args):
    """``(value, error)``: the return value, or the exception the student's code raised.

    ``NotImplementedError`` counts as a placeholder (value ``...``), like ``return ...``.
    """
    try:
        return function(*args), None
    except NotImplementedError:
        return Ellipsis, None
    except Exception as error:  # the student's code may fail in any way: report, not crash
        return None, error


def _error_text(error: BaseException) -> str:
    first_line = (str(error).strip().splitlines() or [""])[0]
    if len(first_line) > 200:
        first_line = first_line[:200] + "..."
    return f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__


def _describe(value) -> str:
    if value is Ellipsis:
        return "the placeholder `...`"
    if value is None:
        return "None"
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, type):
        return f"the class {value.__name__}"
    return f"a value of type {type(value).__name__} ({value!r:.60})"


def _got(answer, expected_shape: tuple[int, ...]) -> str:
    """What the student handed in, for a message that already states the expected shape."""
    if isinstance(answer, torch.Tensor) and tuple(answer.shape) == tuple(expected_shape):
        return "a tensor of that shape, but with other values"
    return _describe(answer)


def _not_done(title: str, what: str) -> Feedback:
    return Feedback(title, Status.NOT_DONE,
                    f"{what} is still the placeholder (`...` or None). Write your code in its "
                    f"cell, run that cell, then run this check again.")


def _wrong(title: str, message: str, hint: str = "") -> Feedback:
    return Feedback(title, Status.WRONG, message, hint)


def _raised(title: str, what: str, error: BaseException, hint: str = "") -> Feedback:
    return _wrong(title, f"{what} raised {_error_text(error)}", hint or
                  "the error names what failed: fix that line, run its cell, then this "
                  "check again.")


def _same(answer, expected: torch.Tensor) -> bool:
    """True when ``answer`` is a tensor with ``expected``'s shape and (nearly) its values."""
    return (isinstance(answer, torch.Tensor) and tuple(answer.shape) == tuple(expected.shape)
            and answer.device == expected.device and answer.dtype.is_floating_point
            and torch.allclose(answer.detach().to(expected.dtype), expected, rtol=1e-5,
                               atol=1e-6))


def _first_match(answer, candidates: dict[str, torch.Tensor]) -> str | None:
    for hint, candidate in candidates.items():
        if _same(answer, candidate):
            return hint
    return None


@contextmanager
def _seeded():
    """A block with torch seeded to 0, leaving the caller's random state as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        yield


# ---------------------------------------------------------------------------------------------
# Exercise 1: counting an LSTM's parameters by formula.

_COUNT_TITLE = "Exercise 1 (parameter count)"
_COUNT_CASES = [(28, 100, 1, 10), (28, 100, 2, 10), (28, 100, 3, 10), (1, 1, 1, 1),
                (5, 7, 4, 3), (28, 64, 2, 10)]


def _lstm_count(input_dim, hidden_dim, layer_dim, gates=4, bias_vectors=2,
                every_layer_reads_input=False):
    total = 0
    for layer in range(layer_dim):
        inputs = input_dim if layer == 0 or every_layer_reads_input else hidden_dim
        total += gates * hidden_dim * (inputs + hidden_dim) + bias_vectors * gates * hidden_dim
    return total


def _count_slips(i: int, h: int, layers: int, o: int) -> dict[str, int]:
    """Counts that common slips give, each with the hint that points at the slip."""
    readout = h * o + o
    return {
        "PyTorch keeps two bias vectors per layer, b_ih and b_hh (the tutorial's b1 to b8): "
        "count both.": _lstm_count(i, h, layers, bias_vectors=1) + readout,
        "a stacked layer reads the hidden state of the layer below it, so from the second "
        "layer on, a layer's input has hidden_dim features, not input_dim.":
            _lstm_count(i, h, layers, every_layer_reads_input=True) + readout,
        "the model's count includes the readout nn.Linear(hidden_dim, output_dim): its "
        "weights and its biases.": _lstm_count(i, h, layers),
        "the readout nn.Linear has a bias too, one per output.":
            _lstm_count(i, h, layers) + h * o,
        "every LSTM matrix stacks four gates (input, forget, cell, output): that is why "
        "Model A shows [400, 28] for 100 hidden units.":
            _lstm_count(i, h, layers, gates=1) + readout,
        "each of the layer_dim layers has its own weights and biases: count every layer.":
            _lstm_count(i, h, 1) + readout,
    }


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


def check_parameter_count(count_parameters: Callable[[int, int, int, int], int]) -> Feedback:
    """Exercise 1: a formula for the number of parameters of ``LSTMModel``.

    ``count_parameters(input_dim, hidden_dim, layer_dim, output_dim)`` must return the
    number of trainable numbers in ``lstm_helpers.LSTMModel`` of those sizes (the stacked
    ``nn.LSTM`` and the readout ``nn.Linear``), computed by formula. It is compared with
    PyTorch's own count, ``sum(p.numel() for p in model.parameters())``, on six sizes,
    among them the tutorial's Models A, B and C (53,010, 133,810 and 214,610).
    """
    title = _COUNT_TITLE
    if _is_placeholder(count_parameters):
        return _not_done(title, "count_parameters")
    if not callable(count_parameters):
        return _wrong(title, f"count_parameters should be a function, got "
                             f"{_describe(count_parameters)}.",
                      "keep the `def count_parameters(input_dim, hidden_dim, layer_dim, "
                      "output_dim):` line and write its body.")
    for sizes in _COUNT_CASES:
        named = ", ".join(f"{name}={value}" for name, value in
                          zip(("input_dim", "hidden_dim", "layer_dim", "output_dim"), sizes))
        value, error = _call(count_parameters, *sizes)
        if error is not None:
            return _raised(title, f"count_parameters({named})", error)
        if value is Ellipsis:
            return _not_done(title, "The value count_parameters returns")
        if value is None:
            return Feedback(title, Status.NOT_DONE,
                            "count_parameters returned None: is the `return` line missing?")
        count = _as_count(value)
        if count is None:
            return _wrong(title, f"count_parameters({named}) returned {_describe(value)}.",
                          "return a whole number (an int).")
        truth = pytorch_count(LSTMModel(*sizes))
        if count != truth:
            slips = _count_slips(*sizes)
            hint = next((hint for hint, slip in slips.items() if slip == count != truth), None)
            return _wrong(title, f"For {named} your formula gives {count:,}; PyTorch counts "
                                 f"{truth:,}.",
                          hint or "count, layer by layer, the weights from the layer's input "
                                  "to the gates, the weights from the previous hidden state to "
                                  "the gates and the biases, then the readout. "
                                  "lh.describe_parameters(model) lists every group and its "
                                  "shape.")
    return Feedback(title, Status.PASSED,
                    f"Your formula matches PyTorch's count on all {len(_COUNT_CASES)} sizes "
                    f"checked, among them Model A (53,010), Model B (133,810) and Model C "
                    f"(214,610).")


# ---------------------------------------------------------------------------------------------
# Exercise 2: the last time step of `out` is the top layer of `h_n`.

_LAST_TITLE = "Exercise 2 (last time step)"


def _run_lstm(lstm: nn.Module, x: torch.Tensor, batch_first: bool):
    if not isinstance(lstm, nn.LSTM) or lstm.bidirectional or lstm.batch_first != batch_first:
        raise TypeError(f"this check needs a one-direction nn.LSTM with batch_first="
                        f"{batch_first}, as the exercise builds it; got {lstm!r}")
    with torch.no_grad():
        return lstm(x)


def check_last_step(lstm: nn.LSTM, x: torch.Tensor, last_step, final_hidden) -> Feedback:
    """Exercise 2a: ``out[:, -1, :]`` and ``h_n[-1]`` of a batch-first LSTM.

    Args:
        lstm: the exercise's ``nn.LSTM`` (batch_first=True, one direction, 2 layers).
        x: its input, (batch, seq_dim, input_dim).
        last_step: the student's output at the last time step, expected (batch, hidden_dim).
        final_hidden: the student's top-layer final hidden state, expected
            (batch, hidden_dim).

    Raises:
        TypeError: ``lstm`` is not a one-direction batch-first ``nn.LSTM`` (a set-up error).
    """
    title = _LAST_TITLE
    out, (h_n, c_n) = _run_lstm(lstm, x, batch_first=True)
    if _is_placeholder(last_step):
        return _not_done(title, "last_step")
    if _is_placeholder(final_hidden):
        return _not_done(title, "final_hidden")
    expected_shape = tuple(out[:, -1, :].shape)
    if not _same(last_step, out[:, -1, :]):
        slip = _first_match(last_step, {
            "with batch_first=True, out is (batch, seq, hidden): the first index picks "
            "images, the second picks time steps.": out[-1],
            "index 0 is the first time step; the last one has seen the whole image.":
                out[:, 0, :],
            "that is the output at every time step: keep only the last one.": out,
            "that is h_n; this part asks for a slice of out.": h_n,
        })
        return _wrong(title, f"last_step should be the top layer's output at the last time "
                             f"step, shape {expected_shape}; you have "
                             f"{_got(last_step, expected_shape)}.",
                      slip or "slice out so that every image keeps only its last time step.")
    if not _same(final_hidden, h_n[-1]):
        slip = _first_match(final_hidden, {
            "h_n[0] is the first (bottom) layer; out comes from the top layer.": h_n[0],
            "that is the cell state c_n; out holds hidden states.": c_n[-1],
            "h_n holds one final state per layer, (layer_dim, batch, hidden_dim): pick the "
            "top layer.": h_n,
        })
        return _wrong(title, f"final_hidden should be the top layer's final hidden state, "
                             f"shape {expected_shape}; you have "
                             f"{_got(final_hidden, expected_shape)}.",
                      slip or "take it from h_n, which stacks one final state per layer.")
    return Feedback(title, Status.PASSED,
                    f"last_step and final_hidden hold the same {expected_shape[0]} x "
                    f"{expected_shape[1]} numbers: the top layer's hidden state after the last "
                    f"time step, once as a slice of out and once from h_n.")


def check_last_step_seq_first(lstm: nn.LSTM, x: torch.Tensor, last_step) -> Feedback:
    """Exercise 2b: the last time step of a sequence-first LSTM (``batch_first=False``).

    Args:
        lstm: the exercise's ``nn.LSTM`` with batch_first=False.
        x: its input, (seq_dim, batch, input_dim).
        last_step: the student's output at the last time step, expected (batch, hidden_dim).

    Raises:
        TypeError: ``lstm`` is not a one-direction sequence-first ``nn.LSTM``.
    """
    title = "Exercise 2 (last time step, batch_first=False)"
    out, (h_n, _) = _run_lstm(lstm, x, batch_first=False)
    if _is_placeholder(last_step):
        return _not_done(title, "last_step_seq_first")
    if not _same(last_step, out[-1]):
        slip = _first_match(last_step, {
            "without batch_first, out is (seq, batch, hidden): out[:, -1, :] is now the last "
            "image of the batch at every time step.": out[:, -1, :],
            "index 0 of the time axis is the first step.": out[0],
        })
        shape = tuple(out[-1].shape)
        return _wrong(title, f"expected the output at the last time step, shape {shape}; you "
                             f"have {_got(last_step, shape)}.",
                      slip or "find which axis of out is time when batch_first=False.")
    return Feedback(title, Status.PASSED,
                    "Without batch_first the time axis comes first, so the last step is "
                    "out[-1]. h_n is (layer_dim, batch, hidden_dim) either way, so h_n[-1] "
                    "needs no change.")


# ---------------------------------------------------------------------------------------------
# Exercise 3: shaping an image batch for nn.LSTM.

def _image_batch() -> torch.Tensor:
    """7 random 'images' shaped like a DataLoader batch, (7, 1, 28, 28)."""
    generator = torch.Generator().manual_seed(0)
    return torch.rand(7, 1, 28, 28, generator=generator)


def _shape_answer(title: str, function, what: str):
    """Call the student's shaping function on a 7-image batch: (images, value or Feedback)."""
    images = _image_batch()
    if _is_placeholder(function):
        return images, _not_done(title, what)
    if not callable(function):
        return images, _wrong(title, f"{what} should be a function, got "
                                     f"{_describe(function)}.",
                              "keep its `def` line and write its body.")
    value, error = _call(function, images.clone())
    if error is not None:
        hint = ("it is called with a batch of 7 images: do not write the batch size 100 "
                "into your code; -1 or images.size(0) adapts to any batch."
                if "invalid for input of size" in str(error) else "")
        return images, _raised(title, f"{what}(images) on a batch of shape (7, 1, 28, 28)",
                               error, hint)
    if _is_placeholder(value):
        return images, _not_done(title, f"The value {what} returns")
    return images, value


def check_batch_first_input(batch_first_input: Callable[[torch.Tensor], torch.Tensor]
                            ) -> Feedback:
    """Exercise 3a: (batch, 1, 28, 28) images -> (batch, 28, 28) for a batch-first LSTM.

    The function is called with a batch of 7 images (not 100), so a hard-coded batch size
    shows. Each time step must be one image row (28 pixels).
    """
    title = "Exercise 3 (input shape, batch_first=True)"
    images, value = _shape_answer(title, batch_first_input, "batch_first_input")
    if isinstance(value, Feedback):
        return value
    rows = images[:, 0]
    if _same(value, rows):
        return Feedback(title, Status.PASSED,
                        "(batch, 28, 28): 28 time steps of one 28-pixel row each, which is "
                        "what the models of this course take.")
    slip = _first_match(value, {
        "this makes each time step a column of the image; the course reads rows, which "
        "needs no reordering of the pixels.": rows.transpose(1, 2),
        "flat images have no time axis: nn.LSTM needs (batch, seq, feature).":
            images.reshape(7, 784),
    })
    return _wrong(title, f"for (7, 1, 28, 28) images expected shape (7, 28, 28), one row per "
                         f"time step; you return {_got(value, (7, 28, 28))}.",
                  slip or "drop the channel axis; view, reshape or squeeze can do it.")


def check_seq_first_input(seq_first_input: Callable[[torch.Tensor], torch.Tensor]) -> Feedback:
    """Exercise 3b: (batch, 1, 28, 28) images -> (28, batch, 28) for ``batch_first=False``.

    The common slip is ``images.view(28, -1, 28)``: the right shape with scrambled content,
    since view and reshape re-read the numbers in memory order instead of moving an axis.
    """
    title = "Exercise 3 (input shape, batch_first=False)"
    images, value = _shape_answer(title, seq_first_input, "seq_first_input")
    if isinstance(value, Feedback):
        return value
    rows = images[:, 0]
    expected = rows.permute(1, 0, 2)
    if _same(value, expected):
        return Feedback(title, Status.PASSED,
                        "(28, batch, 28): time first, and step t holds row t of every image. "
                        "Moving an axis needs permute (or transpose); view and reshape would "
                        "only re-cut the numbers in memory order.")
    slip = _first_match(value, {
        "right shape, wrong content: view and reshape re-read the numbers in memory order, "
        "so each 'time step' mixes rows of different images. Move the batch axis instead of "
        "re-cutting the memory.": images.reshape(28, 7, 28),
        "that is the batch-first layout; without batch_first, nn.LSTM expects (seq, batch, "
        "feature).": rows,
        "each time step holds a column here; it should hold a row.": rows.permute(2, 0, 1),
    })
    return _wrong(title, f"for (7, 1, 28, 28) images expected shape (28, 7, 28) with row t of "
                         f"every image at step t; you return {_got(value, (28, 7, 28))}.",
                  slip or "drop the channel axis first, then swap the batch and time axes.")


# ---------------------------------------------------------------------------------------------
# Exercise 4: model, data and initial states on one device.

_DEVICE_TITLE = "Exercise 4 (one device)"


def _device_of(tensor) -> str:
    return str(tensor.device) if isinstance(tensor, torch.Tensor) else "not a tensor"


def check_one_device(prepare: Callable) -> Feedback:
    """Exercise 4: ``prepare(model, images, device) -> (model, x, (h0, c0))`` on ``device``.

    ``model`` is an ``LSTMModel(28, 16, 2, 10)`` on the CPU and ``images`` a (6, 1, 28, 28)
    CPU batch. The check asks for PyTorch's ``meta`` device, which every machine has
    (tensors with shapes but no data), so a forgotten ``.to(device)`` shows even without a
    GPU. Expected: the model's parameters, x of shape (6, 28, 28) and the zero states
    h0, c0 of shape (layer_dim, batch, hidden_dim) = (2, 6, 16), all on ``meta``, ready for
    ``model.lstm(x, (h0, c0))``.
    """
    title = _DEVICE_TITLE
    if _is_placeholder(prepare):
        return _not_done(title, "prepare")
    if not callable(prepare):
        return _wrong(title, f"prepare should be a function, got {_describe(prepare)}.",
                      "keep its `def` line and write its body.")
    with _seeded():
        model = LSTMModel(28, 16, 2, 10)
    images = _image_batch()[:6]
    device = torch.device("meta")
    result, error = _call(prepare, model, images, device)
    if error is not None:
        about_gpu = any(word in str(error).lower() for word in ("cuda", "nvidia", "gpu"))
        hint = ("use the device you are given, with .to(device): .cuda() fails on a machine "
                "without a GPU." if about_gpu else "")
        return _raised(title, "prepare(model, images, torch.device('meta'))", error, hint)
    if _is_placeholder(result):
        return _not_done(title, "The value prepare returns")
    if not (isinstance(result, tuple) and len(result) == 3 and isinstance(result[2], tuple)
            and len(result[2]) == 2):
        return _wrong(title, f"prepare returned {_describe(result)}.",
                      "return three things: the model, the input x and the pair (h0, c0).")
    moved, x, (h0, c0) = result
    if not isinstance(moved, nn.Module):
        return _wrong(title, f"the first item should be the model; got {_describe(moved)}.")
    on = {str(p.device) for p in moved.parameters()}
    if on != {"meta"}:
        return _wrong(title, f"the model's parameters are on {', '.join(sorted(on))}, not on "
                             f"the device asked for (meta).",
                      "a model moves with .to(device), to the device passed in (not a global "
                      "or a hard-coded one).")
    if not isinstance(x, torch.Tensor) or x.device != device:
        return _wrong(title, f"x is on {_device_of(x)}, not on meta.",
                      "Tensor.to(device) returns a new tensor and leaves the old one where it "
                      "was: keep the result (x = x.to(device)).")
    if tuple(x.shape) != (6, 28, 28):
        return _wrong(title, f"x has shape {tuple(x.shape)}; the model takes (6, 28, 28) for "
                             f"these 6 images.", "see exercise 3: one row per time step.")
    for name, state in (("h0", h0), ("c0", c0)):
        if not isinstance(state, torch.Tensor):
            return _wrong(title, f"{name} should be a tensor; got {_describe(state)}.")
        if tuple(state.shape) != (2, 6, 16):
            return _wrong(title, f"{name} has shape {tuple(state.shape)}; expected (2, 6, 16).",
                          "an initial state is (layer_dim, batch, hidden_dim); read the sizes "
                          "from the model and the batch, not from constants.")
        if state.device != device:
            return _wrong(title, f"{name} is on {state.device}, not on meta.",
                          "create the states directly on the device (torch.zeros accepts "
                          "device=...), or with x.new_zeros(...), which follows x. The "
                          "tutorial makes them on the CPU and copies them every batch.")
    _, error = _call(lambda: moved.lstm(x, (h0, c0)))
    if error is not None:
        return _raised(title, "model.lstm(x, (h0, c0))", error)
    return Feedback(title, Status.PASSED,
                    "Model, input and both states landed on the device asked for, and the "
                    "LSTM runs there. (Checked on PyTorch's 'meta' device, so it holds on a "
                    "GPU as well.)")


# ---------------------------------------------------------------------------------------------
# Exercise 5: an evaluation loop.

_ACCURACY_TITLE = "Exercise 5 (evaluation loop)"


class _Probe(nn.Module):
    """A small LSTMModel that notes, at every forward, the mode and whether grads are on."""

    def __init__(self):
        super().__init__()
        self.inner = LSTMModel(28, 8, 1, 10)
        self.seen: list[tuple[bool, bool]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append((self.training, torch.is_grad_enabled()))
        return self.inner(x)


def _probe_and_batches():
    """A probe model and 300 (1, 28, 28) images it classifies exactly 211 times right."""
    with _seeded():
        probe = _Probe()
        images = torch.rand(300, 1, 28, 28)
    # Batches of 64: the last one holds 44 images, so averaging per-batch accuracies is off.
    # Predictions are made batch by batch, exactly as the student's loop will make them.
    with torch.no_grad():
        predicted = torch.cat([probe.inner(batch.view(-1, 28, 28)).argmax(dim=1)
                               for batch in images.split(64)])
    labels = predicted.clone()
    labels[211:] = (labels[211:] + 1) % 10  # wrong on purpose: accuracy 211/300 = 70.33...%
    probe.train()
    return probe, TensorBatches(images, labels, 64), 100 * 211 / 300


def check_accuracy_function(accuracy: Callable[[nn.Module, Iterable], float]) -> Feedback:
    """Exercise 5: ``accuracy(model, batches)`` returns the test accuracy in percent.

    It is run on a small LSTM and 300 images in batches of 64 (the last one smaller) of
    shape (batch, 1, 28, 28), like a DataLoader's, on which the exact answer is
    70.333...%. The model is handed over in training mode. Checked: the model runs in eval
    mode and without gradients (``model.eval()``, ``torch.no_grad()``), and the result is a
    float percentage counted over all images (no floor division, no per-batch average).
    """
    title = _ACCURACY_TITLE
    if _is_placeholder(accuracy):
        return _not_done(title, "accuracy")
    if not callable(accuracy):
        return _wrong(title, f"accuracy should be a function, got {_describe(accuracy)}.",
                      "keep its `def` line and write its body.")
    probe, batches, truth = _probe_and_batches()
    value, error = _call(accuracy, probe, batches)
    if error is not None:
        hint = ("images come as (batch, 1, 28, 28), like a DataLoader's; the model wants "
                "(batch, 28, 28)." if "seq_dim" in str(error) else "")
        return _raised(title, "accuracy(model, batches)", error, hint)
    if _is_placeholder(value):
        if value is None and probe.seen:
            return Feedback(title, Status.NOT_DONE,
                            "accuracy ran the model but returned None: is the `return` line "
                            "missing?")
        return _not_done(title, "The value accuracy returns")
    problems = _accuracy_problems(value, probe, batches, truth)
    if problems:
        return _wrong(title, "\n".join("- " + problem for problem in problems))
    return Feedback(title, Status.PASSED,
                    "Eval mode, no gradients, and a float percentage counted over every image. "
                    "(lh.evaluate does the same and also restores the model's previous mode.)")


def _accuracy_problems(value, probe: "_Probe", batches: TensorBatches, truth: float
                       ) -> list[str]:
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
        problems.append(f"It returns {_describe(value)}, not a Python float: .item() turns a "
                        f"one-number tensor into one.")
        return problems
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        problems.append(f"It returns {_describe(value)}: return the percentage as a float.")
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
        else:
            why = ("a prediction is the class with the largest logit (argmax over the class "
                   "axis); compare it with the labels and count.")
        problems.append(f"It returns {float(value):.4f}, but this model's accuracy is "
                        f"{truth:.4f}%: {why}")
    return problems


def _is_batch_mean(value: float, probe: _Probe, batches: TensorBatches) -> bool:
    accuracies = []
    with torch.no_grad():
        for images, labels in batches:
            predicted = probe.inner(images.view(-1, 28, 28)).argmax(dim=1)
            accuracies.append(100 * (predicted == labels).float().mean().item())
    return math.isclose(value, sum(accuracies) / len(accuracies), rel_tol=1e-5)


# ---------------------------------------------------------------------------------------------
# Exercise 6: a bidirectional LSTM classifier.

_BI_TITLE = "Exercise 6 (bidirectional LSTM)"


def _only(model: nn.Module, kind: type) -> nn.Module | None:
    found = [m for m in model.modules() if isinstance(m, kind)]
    return found[0] if len(found) == 1 else None


def check_bidirectional(model_class: type) -> Feedback:
    """Exercise 6: a classifier on a bidirectional ``nn.LSTM``.

    ``model_class(input_dim, hidden_dim, layer_dim, output_dim)`` is built as (28, 16, 2, 10)
    and fed a (5, 28, 28) batch. Expected: one ``nn.LSTM`` with ``bidirectional=True`` and
    ``batch_first=True``, one ``nn.Linear`` reading both directions' final states
    (2 * hidden_dim features), and logits (5, 10). The readout must use the backward
    direction's state after it has read the whole image (time step 0, or ``h_n``), not
    ``out[:, -1, hidden_dim:]``, which has seen only the last row. Either order of the two
    directions is accepted.
    """
    title = _BI_TITLE
    if _is_placeholder(model_class):
        return _not_done(title, "BiLSTMModel")
    if not callable(model_class):
        return _wrong(title, f"BiLSTMModel should be a class, got {_describe(model_class)}.")
    with _seeded():
        model, error = _call(model_class, 28, 16, 2, 10)
        x = torch.rand(5, 28, 28)
    if error is not None:
        return _raised(title, "BiLSTMModel(28, 16, 2, 10)", error)
    if not isinstance(model, nn.Module):
        return _wrong(title, f"BiLSTMModel(28, 16, 2, 10) made {_describe(model)}.",
                      "the class should subclass nn.Module.")
    if not any(True for _ in model.parameters()):
        return Feedback(title, Status.NOT_DONE,
                        "BiLSTMModel has no layers yet: write __init__, run the cell, then "
                        "this check again.")
    lstm, fc = _only(model, nn.LSTM), _only(model, nn.Linear)
    if lstm is None or fc is None:
        return _wrong(title, "expected exactly one nn.LSTM and one nn.Linear in the model.",
                      "the recurrent part is one nn.LSTM (with layer_dim layers); the readout "
                      "one nn.Linear.")
    if not lstm.bidirectional:
        return _wrong(title, "the nn.LSTM reads in one direction only.",
                      "nn.LSTM has an argument that adds a second, backward pass.")
    if not lstm.batch_first:
        return _wrong(title, "the nn.LSTM expects (seq, batch, feature) input.",
                      "the course's images come batch first.")
    if (lstm.input_size, lstm.hidden_size, lstm.num_layers) != (28, 16, 2):
        return _wrong(title, f"BiLSTMModel(28, 16, 2, 10) built nn.LSTM(input_size="
                             f"{lstm.input_size}, hidden_size={lstm.hidden_size}, num_layers="
                             f"{lstm.num_layers}).", "pass the constructor's arguments on.")
    if (fc.in_features, fc.out_features) != (32, 10):
        return _wrong(title, f"the readout is Linear({fc.in_features} -> {fc.out_features}); "
                             f"for hidden_dim=16 and output_dim=10 it needs 32 inputs and 10 "
                             f"outputs.",
                      "each direction contributes hidden_dim features to the readout.")
    model.eval()
    logits, error = _call(model, x)
    if error is not None:
        return _raised(title, "model(x) on x of shape (5, 28, 28)", error)
    if _is_placeholder(logits):
        return Feedback(title, Status.NOT_DONE,
                        "__init__ is written; forward still returns the placeholder. Write "
                        "forward, run the cell, then this check again.")
    if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (5, 10):
        return _wrong(title, f"model(x) for 5 images should give logits of shape (5, 10); got "
                             f"{_describe(logits)}.")
    with torch.no_grad():
        out, (h_n, _) = lstm(x)
        forward_last, backward_last = h_n[-2], h_n[-1]  # top layer: forward, backward
        right = [fc(torch.cat([forward_last, backward_last], dim=1)),
                 fc(torch.cat([backward_last, forward_last], dim=1))]
        one_step = fc(out[:, -1, :])
    if any(_same(logits, r) for r in right):
        return Feedback(title, Status.PASSED,
                        "Both directions read the whole image, and the readout sees the "
                        "forward state after the last row and the backward state after the "
                        "first.")
    if _same(logits, one_step):
        return _wrong(title, "the readout uses out[:, -1, :]. Its second half is the backward "
                             "direction after a single step: it has read only the last row.",
                      "the backward direction finishes at time step 0; h_n also holds its "
                      "final state (h_n[-2] and h_n[-1] are the top layer's two directions).")
    return _wrong(title, "the logits are not the readout of the two directions' final states "
                         "of the top layer.",
                  "concatenate the top layer's forward and backward final hidden states and "
                  "pass them through the readout.")


# ---------------------------------------------------------------------------------------------
# Exercise 7: the slow start of Model C.

_SLOW_TITLE = "Exercise 7 (slow start of Model C)"
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
    title = _SLOW_TITLE
    if _is_placeholder(make_optimizer):
        return _not_done(title, "make_optimizer")
    if not callable(make_optimizer):
        return _wrong(title, f"make_optimizer should be a function, got "
                             f"{_describe(make_optimizer)}.")
    with _seeded():
        model = LSTMModel(28, 100, 3, 10)
        optimizer, error = _call(make_optimizer, model)
        if error is not None:
            return _raised(title, "make_optimizer(model)", error)
        if _is_placeholder(optimizer):
            return _not_done(title, "The value make_optimizer returns")
        if not isinstance(optimizer, torch.optim.Optimizer):
            return _wrong(title, f"make_optimizer returned {_describe(optimizer)}.",
                          "return an optimizer from torch.optim, built on the model's "
                          "parameters.")
        given = {id(p) for group in optimizer.param_groups for p in group["params"]}
        missing = [p for p in model.parameters() if id(p) not in given]
        if missing:
            return _wrong(title, f"the optimizer does not update {len(missing)} of the "
                                 f"model's {len(list(model.parameters()))} parameter groups.",
                          "build it on the parameters of the model passed to make_optimizer.")
        history, error = _call(lambda: train(
            model, nn.CrossEntropyLoss(), optimizer, train_batches, test_batches,
            n_iters=SLOW_START_ITERS, eval_every=SLOW_START_EVERY, progress=False))
    if error is not None:
        return _raised(title, "training with your optimizer", error)
    if not all(math.isfinite(loss) for loss in history.train_loss):
        return _wrong(title, "the loss became nan or infinite: training diverged.",
                      "the steps are too large; lower the learning rate.")
    final = history.final_accuracy
    if final < SLOW_START_PASS:
        return _wrong(title, f"after {SLOW_START_ITERS} iterations the test accuracy is "
                             f"{final:.2f}% (reaching {SLOW_START_PASS:.0f}% passes).",
                      "SGD's single learning rate leaves the deep net on its plateau. An "
                      "optimizer that scales each parameter's step by its own gradient "
                      "history, with a small learning rate (a few thousandths), or a larger "
                      "forget-gate bias at the start, gets it moving.")
    return Feedback(title, Status.PASSED,
                    f"Same start as the baseline; after {SLOW_START_ITERS} iterations your fix "
                    f"reaches test accuracy: {final:.2f}%, while plain SGD stays near 11%.")
