"""Exercise 4, graded only: ``prepare`` for other model sizes and batch sizes (one image too),
so zero states of a fixed shape fail."""

from lstm_helpers.checks.ex4_one_device import TITLE, _not_a_function, _prepare_problem
from lstm_helpers.checks.feedback import first_problem, passed

HIDDEN_CASES = [((28, 8, 3, 10), 1), ((28, 32, 1, 10), 5)]  # (LSTMModel sizes, images)


def hidden_check_one_device(prepare):
    """``prepare`` on two other model sizes, with 1 and 5 images."""
    title = TITLE + ", other sizes"
    problem = first_problem(lambda: _not_a_function(title, prepare), *(
        lambda case=case: _prepare_problem(prepare, *case, title) for case in HIDDEN_CASES))
    if problem is not None:
        return problem
    return passed(title, "Right for other model sizes and batch sizes too.")
