"""Exercise 6, graded only: the class built with two other sizes, and run on a batch of one,
so a readout of a fixed size fails."""

from lstm_helpers.checks.ex6_bidirectional import (
    TITLE,
    _bidirectional_problem,
    _not_a_class,
)
from lstm_helpers.checks.feedback import first_problem, passed

HIDDEN_CASES = [((5, 8, 3, 4), 1), ((28, 12, 1, 10), 3)]  # (model sizes, batch)


def hidden_check_bidirectional(model_class):
    """``BiLSTMModel`` with other sizes, and a batch of one."""
    title = TITLE + ", other sizes"
    problem = first_problem(lambda: _not_a_class(title, model_class), *(
        lambda case=case: _bidirectional_problem(model_class, *case, title)
        for case in HIDDEN_CASES))
    if problem is not None:
        return problem
    return passed(title, "Right for other sizes and a batch of one too.")
