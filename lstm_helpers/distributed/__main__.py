"""``python -m lstm_helpers.distributed``: an alias of ``python -m lstm_helpers train``.

Kept so older commands work. An entry point, like ``lstm_helpers/__main__.py``: nothing
imports it, so importing the command line from here makes no circle.
"""

import sys

from ..cli import main

raise SystemExit(main(["train", *sys.argv[1:]]))
