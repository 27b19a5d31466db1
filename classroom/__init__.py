"""The course in a classroom: graded exercises (nbgrader) and a JupyterHub for a class.

* :mod:`classroom.markers`: the solution and hidden-test markers of an exercise source;
* :mod:`classroom.assignments`: nbgrader's ``source/`` notebooks written from the exercise
  sources, and the student notebooks generated from them by nbgrader;
* :mod:`classroom.placeholders`: the nbgrader preprocessor that keeps the placeholders;
* :mod:`classroom.grading`: the scores decided on the grader's side, student code confined,
  malformed submissions named (nbgrader_config.py puts its steps into nbgrader's pipeline);
* :mod:`classroom.autograde`: ``nbgrader autograde``, then the students who need attention;
* :mod:`classroom.gitpuller_link`: the nbgitpuller link that pulls the course into a hub;
* ``jupyterhub_config.py`` (with its idle culler), ``z2jh-values.yaml``, ``Dockerfile`` and
  ``image-requirements.txt``: a hub on one machine, and on Kubernetes.

See docs/teachers.md for the teacher's path from a fresh clone to a CSV of grades.
"""
