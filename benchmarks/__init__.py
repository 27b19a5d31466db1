"""Speed benchmarks of the course: the tutorial's pipeline, the course's, and the floor.

Run them from the repository root with ``make bench`` (``python -m benchmarks.speed``); see
:mod:`benchmarks.speed`. They import :mod:`lstm_helpers`, never the reverse: the package
does not ship them. Not part of the test suite: timings need a quiet machine.
"""
