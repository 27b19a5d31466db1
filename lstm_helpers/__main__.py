"""``python -m lstm_helpers``: the course's command line (see :mod:`lstm_helpers.cli`)."""

from .cli import main

raise SystemExit(main())
