"""Exercise 10, graded only: another number of images, validation size and seeds for the split
(a size or a seed written into the code fails), and other epochs and scripts for the loop: the
validation accuracy highest after the first epoch in one, after the last in the other (a loop
that keeps a fixed epoch, or never replaces its first choice, fails)."""

from lstm_helpers.checks.ex10_honest_protocol import (
    TITLE_RUN,
    TITLE_SPLIT,
    _judge_run,
    _judge_split,
)
from lstm_helpers.checks.feedback import passed

HIDDEN_SPLITS = [(373, 50, 7, 8), (60, 1, 123, 124)]  # (n, validation_size, seed, other seed)
HIDDEN_SCRIPTS = [  # (epochs, accuracies after each epoch; index 0: before training)
    (3, {"validation": [10.0, 97.0, 96.5, 96.0], "test": [10.0, 96.0, 96.8, 97.2],
         "training": [10.0, 97.5, 98.0, 98.5]}),
    (6, {"validation": [10.0, 80.0, 85.0, 88.0, 90.0, 91.0, 92.5],
         "test": [10.0, 93.0, 84.0, 87.0, 89.0, 90.5, 92.0],
         "training": [10.0, 81.0, 86.0, 90.0, 93.0, 95.0, 97.0]}),
]


def hidden_check_split_train_validation(split_train_validation):
    """Other sizes and seeds: 373 images with 50 for validation, 60 with 1."""
    title = TITLE_SPLIT + ", other sizes"
    for sizes in HIDDEN_SPLITS:
        problem = _judge_split(split_train_validation, title, sizes)
        if problem is not None:
            return problem
    return passed(title, "Right also for other sizes and seeds.")


def hidden_check_honest_run(honest_run):
    """Three and six epochs, the best validation epoch first in one and last in the other."""
    title = TITLE_RUN + ", other runs"
    for epochs, script in HIDDEN_SCRIPTS:
        problem = _judge_run(honest_run, title, epochs, script)
        if problem is not None:
            return problem
    return passed(title, "Right also for other numbers of epochs, the best one first or last.")
