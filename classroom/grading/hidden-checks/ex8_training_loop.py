"""Exercise 8, graded only: images read as 14 time steps of 56 pixels (two rows per step),
SGD with momentum, and last batches of 37 images and of one, so an answer that writes 28 or
the batch size into its code fails."""

import torch

from lstm_helpers.checks.ex8_training_loop import (
    TITLE_EVAL,
    TITLE_STEP,
    _judge_test_loss,
    _judge_train_step,
)
from lstm_helpers.checks.feedback import passed

HIDDEN_SEQ_DIM, HIDDEN_INPUT_DIM = 14, 56
HIDDEN_STEP_ITERATIONS = 20  # full batches, then one of 37 images and one of 1
SMALL_BATCHES = (37, 1)
HIDDEN_EVAL_AT = (0, 10)


def _sgd_momentum(parameters):
    return torch.optim.SGD(parameters, lr=0.05, momentum=0.9)


def hidden_check_train_step(train_step, train_batches):
    """``train_step`` with 14 x 56 images, SGD with momentum, batches of 37 and of one."""
    title = TITLE_STEP + ", other sizes"
    problem = _judge_train_step(train_step, train_batches, title, HIDDEN_SEQ_DIM,
                                HIDDEN_INPUT_DIM, HIDDEN_STEP_ITERATIONS, SMALL_BATCHES,
                                _sgd_momentum)
    return problem if problem is not None else passed(
        title, "Right also with images read as 14 time steps of 56 pixels, another optimizer, "
               "and batches of 37 images and of one.")


def hidden_check_test_loss(test_loss, train_batches, test_batches):
    """``test_loss`` with 14 x 56 images, on test batches of 37 images and of one."""
    title = TITLE_EVAL + ", other sizes"
    problem = _judge_test_loss(test_loss, train_batches, test_batches, title, HIDDEN_SEQ_DIM,
                               HIDDEN_INPUT_DIM, HIDDEN_EVAL_AT, SMALL_BATCHES)
    return problem if problem is not None else passed(
        title, "Right also with images read as 14 time steps of 56 pixels, on test batches "
               "of 37 images and of one.")
