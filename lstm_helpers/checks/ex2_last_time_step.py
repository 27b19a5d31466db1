"""Exercise 2 (``notebooks/exercises/ex2_last_time_step``): ``out[:, -1, :]`` and ``h_n[-1]``.

The student slices the outputs of the notebook's own ``nn.LSTM``: the last time step of
``out`` and the top layer of ``h_n`` (batch first), then the last time step without
``batch_first``. Their answers are tensors computed from that LSTM, so there is nothing to
hard-code, and the grader adds no further cases.
"""

from __future__ import annotations

import torch
from torch import nn

from .feedback import (
    Feedback,
    first_match,
    got,
    is_placeholder,
    not_done,
    passed,
    same,
    wrong,
)

__all__ = ["check_last_step", "check_last_step_seq_first"]

TITLE = "Exercise 2 (last time step)"


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
    title = TITLE
    out, (h_n, c_n) = _run_lstm(lstm, x, batch_first=True)
    if is_placeholder(last_step):
        return not_done(title, "last_step")
    if is_placeholder(final_hidden):
        return not_done(title, "final_hidden")
    expected_shape = tuple(out[:, -1, :].shape)
    if not same(last_step, out[:, -1, :]):
        slip = first_match(last_step, {
            "with batch_first=True, out is (batch, seq, hidden): the first index picks "
            "images, the second picks time steps.": out[-1],
            "index 0 is the first time step; the last one has seen the whole image.":
                out[:, 0, :],
            "that is the output at every time step: keep only the last one.": out,
            "that is h_n; this part asks for a slice of out.": h_n,
        })
        return wrong(title, f"last_step should be the top layer's output at the last time "
                             f"step, shape {expected_shape}; you have "
                             f"{got(last_step, expected_shape)}.",
                      slip or "slice out so that every image keeps only its last time step.")
    if not same(final_hidden, h_n[-1]):
        slip = first_match(final_hidden, {
            "h_n[0] is the first (bottom) layer; out comes from the top layer.": h_n[0],
            "that is the cell state c_n; out holds hidden states.": c_n[-1],
            "h_n holds one final state per layer, (layer_dim, batch, hidden_dim): pick the "
            "top layer.": h_n,
        })
        return wrong(title, f"final_hidden should be the top layer's final hidden state, "
                             f"shape {expected_shape}; you have "
                             f"{got(final_hidden, expected_shape)}.",
                      slip or "take it from h_n, which stacks one final state per layer.")
    return passed(title, f"last_step and final_hidden hold the same {expected_shape[0]} x "
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
    out, _ = _run_lstm(lstm, x, batch_first=False)
    if is_placeholder(last_step):
        return not_done(title, "last_step_seq_first")
    if not same(last_step, out[-1]):
        slip = first_match(last_step, {
            "without batch_first, out is (seq, batch, hidden): out[:, -1, :] is now the last "
            "image of the batch at every time step.": out[:, -1, :],
            "index 0 of the time axis is the first step.": out[0],
        })
        shape = tuple(out[-1].shape)
        return wrong(title, f"expected the output at the last time step, shape {shape}; you "
                             f"have {got(last_step, shape)}.",
                      slip or "find which axis of out is time when batch_first=False.")
    return passed(title, "Without batch_first the time axis comes first, so the last step is "
                    "out[-1]. h_n is (layer_dim, batch, hidden_dim) either way, so h_n[-1] "
                    "needs no change.")
