"""Grading on the grader's side: scores that student code cannot decide (issue 22).

* :mod:`.plan`: what the grader runs for an exercise, read from nbgrader's source notebook;
* :mod:`.hidden`: the grader-only checks, ``hidden-checks/<exercise>.py`` (not a package,
  not in the wheel), loaded by path;
* :mod:`.worker`: the fresh grader process; :mod:`.integrity` (the originals and what
  changed), :mod:`.guard` (the audit hook);
* :mod:`.verdicts`: the nbgrader preprocessor that asks the worker and writes the scores;
* :mod:`.confinement` and :mod:`.kernel`: student code runs as an unprivileged user;
* :mod:`.submissions`: malformed submissions graded and named; :mod:`.attention`: the log
  lines a teacher must read; :mod:`.pipeline`: nbgrader's pipelines with these steps in.

``python -m classroom.autograde`` runs ``nbgrader autograde`` and closes with the list of
students who need attention. docs/teachers.md tells the whole story, and its limits.
"""
