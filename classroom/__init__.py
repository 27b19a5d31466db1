"""The course in a classroom: graded exercises (nbgrader) and a JupyterHub for a class.

* :mod:`classroom.markers`: the solution and hidden-test markers of an exercise source;
* :mod:`classroom.assignments`: nbgrader's ``source/`` notebooks written from the exercise
  sources, and the student notebooks generated from them by nbgrader;
* :mod:`classroom.placeholders`: the nbgrader preprocessor that keeps the placeholders;
* :mod:`classroom.gitpuller_link`: the nbgitpuller link that pulls the course into a hub;
* ``jupyterhub_config.py`` and ``z2jh-values.yaml``: a hub on one machine, and on Kubernetes.

See docs/teachers.md for the teacher's path from a fresh clone to a CSV of grades.
"""
