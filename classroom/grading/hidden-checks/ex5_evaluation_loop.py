"""Exercise 5, graded only: a third test set, 201 images in batches of 50 (the last batch
holds one image), so counts of the visible test sets written into the loop fail."""

from lstm_helpers.checks.ex5_evaluation_loop import TITLE, _loop_problem
from lstm_helpers.checks.feedback import passed

HIDDEN_TEST_SETS = [(201, 88, 50, 2)]  # (images, correctly classified, batch size, seed)


def hidden_check_accuracy_function(accuracy):
    """``accuracy`` on a third test set whose last batch holds a single image."""
    title = TITLE + ", a further test set"
    problem = _loop_problem(accuracy, HIDDEN_TEST_SETS, title)
    return problem if problem is not None else passed(
        title, "Right on a third test set, whose last batch holds a single image.")
