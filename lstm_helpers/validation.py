"""Argument checks shared by the package: one rule, one message, wherever a value comes from."""

from __future__ import annotations

import operator


def positive_int(name: str, value) -> int:
    """``value`` as an ``int`` >= 1, for sizes and counts (hidden_dim, n_iters, ...).

    Python and NumPy integers are accepted (anything with ``__index__``); bools, floats
    (even ``3.0``) and strings are not, so a typo such as ``hidden_dim=1e2`` is caught.

    Raises:
        ValueError: ``value`` is not an integer or is below 1; the message names ``name``.
    """
    try:
        number = None if isinstance(value, bool) else operator.index(value)
    except TypeError:
        number = None
    if number is None or number < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return number
