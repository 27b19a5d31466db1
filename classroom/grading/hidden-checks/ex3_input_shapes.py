"""Exercise 3, graded only: both shaping functions on batches of 1, 3 and 100 images, drawn
from other seeds than the visible check's."""

from lstm_helpers.checks.ex3_input_shapes import (
    BATCH_FIRST_TITLE,
    SEQ_FIRST_TITLE,
    _batch_first_problem,
    _seq_first_problem,
    image_batch,
)
from lstm_helpers.checks.feedback import passed

HIDDEN_BATCH_SIZES = (1, 3, 100)  # the tutorial's 100, and odd small batches


def _on_every_batch(problem_of, function, title):
    for seed, size in enumerate(HIDDEN_BATCH_SIZES, start=10):
        problem = problem_of(function, image_batch(size, seed), title)
        if problem is not None:
            return problem
    *most, last = map(str, HIDDEN_BATCH_SIZES)
    return passed(title, f"Right on batches of {', '.join(most)} and {last} images too.")


def hidden_check_batch_first_input(batch_first_input):
    """``batch_first_input`` on batches of 1, 3 and 100 images."""
    return _on_every_batch(_batch_first_problem, batch_first_input,
                           BATCH_FIRST_TITLE + ", further batches")


def hidden_check_seq_first_input(seq_first_input):
    """``seq_first_input`` on batches of 1, 3 and 100 images."""
    return _on_every_batch(_seq_first_problem, seq_first_input,
                           SEQ_FIRST_TITLE + ", further batches")
