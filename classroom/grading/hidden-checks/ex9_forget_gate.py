"""Exercise 9, graded only: a two-layer LSTM of another width, its bias set twice (a width or
a single layer written into the code, or a bias added to the old one, fail), and biases and
delays the visible check never shows (a table of the visible answers fails)."""

from lstm_helpers.checks.ex9_forget_gate import (
    TITLE_BIAS,
    TITLE_KEPT,
    _judge_kept_fraction,
    _judge_set_forget_bias,
)
from lstm_helpers.checks.feedback import passed

HIDDEN_LSTM, HIDDEN_BIASES = (5, 20, 2), (1.0, -2.0)  # (input, hidden, layers); biases in turn
HIDDEN_CASES = [(2.5, 10), (-1.0, 3), (5.0, 200), (0.0, 0), (1.5, 1)]  # (bias, steps)


def hidden_check_set_forget_bias(set_forget_bias):
    """A two-layer LSTM of 20 units, the bias set to 1 and then to -2."""
    title = TITLE_BIAS + ", other sizes"
    problem = _judge_set_forget_bias(set_forget_bias, title, HIDDEN_LSTM, HIDDEN_BIASES)
    return problem if problem is not None else passed(
        title, "Right also for a two-layer LSTM of another width, called twice.")


def hidden_check_kept_fraction(kept_fraction):
    """Biases (negative ones included) and delays the visible check never shows."""
    title = TITLE_KEPT + ", other values"
    problem = _judge_kept_fraction(kept_fraction, title, HIDDEN_CASES)
    return problem if problem is not None else passed(
        title, "Right also for other biases, negative ones included, and other delays.")
