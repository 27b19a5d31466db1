"""Exercise 3 (``notebooks/exercises/ex3_input_shapes``): an image batch shaped for nn.LSTM.

The student writes ``batch_first_input(images)``, (batch, 1, 28, 28) -> (batch, 28, 28), and
``seq_first_input(images)``, -> (28, batch, 28). Both are called on a batch of 7 images (a
hard-coded batch size of 100 shows) and on a batch of one image: ``squeeze()`` without a
dimension drops the batch axis there, and the last batch of an epoch can hold one image.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .feedback import (
    Feedback,
    call,
    describe,
    first_match,
    first_problem,
    got,
    is_placeholder,
    not_done,
    passed,
    raised,
    same,
    wrong,
)

__all__ = ["check_batch_first_input", "check_seq_first_input"]

BATCH_FIRST_TITLE = "Exercise 3 (input shape, batch_first=True)"
SEQ_FIRST_TITLE = "Exercise 3 (input shape, batch_first=False)"
SQUEEZE_HINT = ("squeeze() without a dimension removes every axis of size 1, and with a "
                "single image the batch axis is one of them; name the axis to remove.")


def image_batch(size: int = 7, seed: int = 0) -> torch.Tensor:
    """``size`` random 'images' shaped like a DataLoader batch, (size, 1, 28, 28)."""
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(size, 1, 28, 28, generator=generator)


def _shape_answer(title: str, function, what: str, images: torch.Tensor):
    """Call the student's shaping function on ``images``: the value, or a Feedback."""
    shape = tuple(images.shape)
    if is_placeholder(function):
        return not_done(title, what)
    if not callable(function):
        return wrong(title, f"{what} should be a function, got {describe(function)}.",
                     "keep its `def` line and write its body.")
    given = images.clone()
    value, error = call(function, given)
    if error is not None:
        hint = (f"it is called with a batch of {shape[0]} image(s): do not write the batch "
                f"size 100 into your code; -1 or images.size(0) adapts to any batch."
                if "invalid for input of size" in str(error) else "")
        if shape[0] == 1 and not hint:
            hint = SQUEEZE_HINT if "squeeze" in str(error) or "dims" in str(error) else (
                "a batch can hold a single image (the last batch of an epoch can): keep the "
                "batch axis even when it has size 1.")
        return raised(title, f"{what}(images) on a batch of shape {shape}", error, hint)
    if is_placeholder(value):
        return not_done(title, f"The value {what} returns")
    if not torch.equal(given, images):
        return wrong(title, f"{what} changed the images it was given (an in-place operation, "
                            f"such as squeeze_ or a slice assignment).",
                     "return a new view or tensor and leave the input as it was: the caller "
                     "still uses it.")
    return value


def _batch_first_problem(function, images: torch.Tensor, title: str) -> Feedback | None:
    value = _shape_answer(title, function, "batch_first_input", images)
    if isinstance(value, Feedback):
        return value
    rows = images[:, 0]
    if same(value, rows):
        return None
    size = images.size(0)
    slip = first_match(value, {
        "this makes each time step a column of the image; the course reads rows, which "
        "needs no reordering of the pixels.": rows.transpose(1, 2),
        "flat images have no time axis: nn.LSTM needs (batch, seq, feature).":
            images.reshape(size, 784),
    })
    if slip is None and size == 1 and same(value, rows[0]):
        slip = SQUEEZE_HINT
    return wrong(title, f"for {tuple(images.shape)} images expected shape ({size}, 28, 28), one "
                        f"row per time step; you return {got(value, (size, 28, 28))}.",
                 slip or "drop the channel axis; view, reshape or squeeze can do it.")


def _seq_first_problem(function, images: torch.Tensor, title: str) -> Feedback | None:
    value = _shape_answer(title, function, "seq_first_input", images)
    if isinstance(value, Feedback):
        return value
    rows = images[:, 0]
    expected = rows.permute(1, 0, 2)
    if same(value, expected):
        return None
    size = images.size(0)
    slip = first_match(value, {
        "that is the batch-first layout; without batch_first, nn.LSTM expects (seq, batch, "
        "feature).": rows,
        "each time step holds a column here; it should hold a row.": rows.permute(2, 0, 1),
    })
    if size > 1:
        slip = slip or first_match(value, {
            "right shape, wrong content: view and reshape re-read the numbers in memory "
            "order, so each 'time step' mixes rows of different images. Move the batch axis "
            "instead of re-cutting the memory.": images.reshape(28, size, 28)})
    if slip is None and size == 1 and isinstance(value, torch.Tensor) and value.dim() < 3:
        slip = SQUEEZE_HINT
    return wrong(title, f"for {tuple(images.shape)} images expected shape (28, {size}, 28) "
                        f"with row t of every image at step t; you return "
                        f"{got(value, (28, size, 28))}.",
                 slip or "drop the channel axis first, then swap the batch and time axes.")


def check_batch_first_input(batch_first_input: Callable[[torch.Tensor], torch.Tensor]
                            ) -> Feedback:
    """Exercise 3a: (batch, 1, 28, 28) images -> (batch, 28, 28) for a batch-first LSTM.

    Called with a batch of 7 images (not 100), so a hard-coded batch size shows, then with
    a batch of one. Each time step must be one image row (28 pixels).
    """
    title = BATCH_FIRST_TITLE
    problem = first_problem(
        lambda: _batch_first_problem(batch_first_input, image_batch(7), title),
        lambda: _batch_first_problem(batch_first_input, image_batch(1, seed=1), title))
    if problem is not None:
        return problem
    return passed(title, "(batch, 28, 28): 28 time steps of one 28-pixel row each, "
                         "which is what the models of this course take (checked on "
                         "batches of 7 images and of 1).")


def check_seq_first_input(seq_first_input: Callable[[torch.Tensor], torch.Tensor]) -> Feedback:
    """Exercise 3b: (batch, 1, 28, 28) images -> (28, batch, 28) for ``batch_first=False``.

    The common slip is ``images.view(28, -1, 28)``: the right shape with scrambled content,
    since view and reshape re-read the numbers in memory order instead of moving an axis.
    Checked on batches of 7 images and of one.
    """
    title = SEQ_FIRST_TITLE
    problem = first_problem(
        lambda: _seq_first_problem(seq_first_input, image_batch(7), title),
        lambda: _seq_first_problem(seq_first_input, image_batch(1, seed=1), title))
    if problem is not None:
        return problem
    return passed(title, "(28, batch, 28): time first, and step t holds row t of "
                         "every image. Moving an axis needs permute (or transpose); "
                         "view and reshape would only re-cut the numbers in memory "
                         "order.")
