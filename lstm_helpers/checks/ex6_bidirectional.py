"""Exercise 6 (``notebooks/exercises/ex6_bidirectional``): a bidirectional LSTM classifier.

The student completes ``BiLSTMModel(input_dim, hidden_dim, layer_dim, output_dim)``. The
check builds it, looks at its layers, and compares its logits with the readout of the two
directions' final states. The graded version builds it with other sizes and a batch of one,
so sizes written into the class (a readout of 32 inputs, say) score zero.
"""

from __future__ import annotations

import torch
from torch import nn

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
    same,
    seeded,
    wrong,
)

__all__ = ["check_bidirectional"]

TITLE = "Exercise 6 (bidirectional LSTM)"
SIZES, BATCH = (28, 16, 2, 10), 5  # the visible check


def _only(model: nn.Module, kind: type) -> nn.Module | None:
    found = [m for m in model.modules() if isinstance(m, kind)]
    return found[0] if len(found) == 1 else None


def _bidirectional_problem(model_class, sizes: tuple[int, int, int, int], batch: int,
                           title: str) -> Feedback | None:
    """What is wrong with ``model_class(*sizes)`` on ``batch`` sequences, or None."""
    input_dim, hidden_dim, layer_dim, output_dim = sizes
    built = f"BiLSTMModel{sizes}"
    with seeded():
        model, error = call(model_class, *sizes)
        x = torch.rand(batch, 28, input_dim)
    if error is not None:
        return raised(title, built, error)
    if not isinstance(model, nn.Module):
        return wrong(title, f"{built} made {describe(model)}.",
                     "the class should subclass nn.Module.")
    if not any(True for _ in model.parameters()):
        return Feedback(title, Status.NOT_DONE,
                        "BiLSTMModel has no layers yet: write __init__, run the cell, then "
                        "this check again.")
    lstm, fc = _only(model, nn.LSTM), _only(model, nn.Linear)
    if lstm is None or fc is None:
        return wrong(title, "expected exactly one nn.LSTM and one nn.Linear in the model.",
                     "the recurrent part is one nn.LSTM (with layer_dim layers); the readout "
                     "one nn.Linear.")
    if not lstm.bidirectional:
        return wrong(title, "the nn.LSTM reads in one direction only.",
                     "nn.LSTM has an argument that adds a second, backward pass.")
    if not lstm.batch_first:
        return wrong(title, "the nn.LSTM expects (seq, batch, feature) input.",
                     "the course's images come batch first.")
    if (lstm.input_size, lstm.hidden_size, lstm.num_layers) != (input_dim, hidden_dim,
                                                                 layer_dim):
        return wrong(title, f"{built} built nn.LSTM(input_size={lstm.input_size}, "
                            f"hidden_size={lstm.hidden_size}, num_layers={lstm.num_layers}).",
                     "pass the constructor's arguments on.")
    if (fc.in_features, fc.out_features) != (2 * hidden_dim, output_dim):
        return wrong(title, f"the readout of {built} is Linear({fc.in_features} -> "
                            f"{fc.out_features}); for hidden_dim={hidden_dim} and "
                            f"output_dim={output_dim} it needs {2 * hidden_dim} inputs and "
                            f"{output_dim} outputs.",
                     "each direction contributes hidden_dim features to the readout; compute "
                     "the sizes from the constructor's arguments.")
    model.eval()
    logits, error = call(model, x)
    if error is not None:
        return raised(title, f"model(x) on x of shape {tuple(x.shape)}", error)
    if is_placeholder(logits):
        return Feedback(title, Status.NOT_DONE,
                        "__init__ is written; forward still returns the placeholder. Write "
                        "forward, run the cell, then this check again.")
    if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (batch, output_dim):
        return wrong(title, f"model(x) for {batch} sequence(s) should give logits of shape "
                            f"({batch}, {output_dim}); got {describe(logits)}.")
    with torch.no_grad():
        out, (h_n, _) = lstm(x)
        forward_last, backward_last = h_n[-2], h_n[-1]  # top layer: forward, backward
        right = [fc(torch.cat([forward_last, backward_last], dim=1)),
                 fc(torch.cat([backward_last, forward_last], dim=1))]
        one_step = fc(out[:, -1, :])
    if any(same(logits, r) for r in right):
        return None
    if same(logits, one_step):
        return wrong(title, "the readout uses out[:, -1, :]. Its second half is the backward "
                            "direction after a single step: it has read only the last row.",
                     "the backward direction finishes at time step 0; h_n also holds its "
                     "final state (h_n[-2] and h_n[-1] are the top layer's two directions).")
    return wrong(title, "the logits are not the readout of the two directions' final states "
                        "of the top layer.",
                 "concatenate the top layer's forward and backward final hidden states and "
                 "pass them through the readout.")


def _not_a_class(title: str, model_class) -> Feedback | None:
    if is_placeholder(model_class):
        return not_done(title, "BiLSTMModel")
    if not callable(model_class):
        return wrong(title, f"BiLSTMModel should be a class, got {describe(model_class)}.")
    return None


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
    problem = first_problem(lambda: _not_a_class(TITLE, model_class),
                            lambda: _bidirectional_problem(model_class, SIZES, BATCH, TITLE))
    if problem is not None:
        return problem
    return passed(TITLE, "Both directions read the whole image, and the readout sees "
                         "the forward state after the last row and the backward "
                         "state after the first.")
