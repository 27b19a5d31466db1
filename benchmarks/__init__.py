"""Speed benchmarks of the course: the tutorial's pipeline, the course's, and the floor.

Run them with ``python -m lstm_helpers bench`` (or ``make bench``); see
:mod:`benchmarks.speed`. Not part of the test suite: timings need a quiet machine.
"""
