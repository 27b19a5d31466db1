"""Shared test set-up: the data root, no progress bars, and the two test tiers.

* ``python -m pytest`` (``make test``, the README's command) runs everything: the unit
  tests, the tests marked ``slow`` and every notebook re-executed by nbval. nbval is turned
  on here rather than by ``--nbval`` in ``addopts``, so that it can be turned off.
* ``python -m pytest --no-nbval -m "not slow"`` (``make check``) is the fast tier: no
  notebook execution, no server, browser or hub. nbval's items also carry the ``slow``
  marker, so ``-m "not slow"`` alone skips them too.
"""

import os

import pytest

from lstm_helpers import resolve_root

# Kernels started by nbval inherit these. An absolute data root keeps every kernel on the
# same files as this process, wherever the kernel starts and whichever copy of lstm_helpers
# it imports. TQDM_DISABLE hides the terminal bars of in-process tests; a notebook's bar is
# one output line whatever it says (nbval_sanitize.cfg masks its numbers).
os.environ.setdefault("TQDM_DISABLE", "1")
os.environ["LSTM_HELPERS_DATA"] = str(resolve_root().resolve())


def pytest_addoption(parser):
    parser.addoption("--no-nbval", action="store_true",
                     help="do not re-execute the notebooks with nbval (make check); they "
                          "run by default")


def pytest_configure(config):
    if not hasattr(config.option, "nbval"):  # nbval not loaded (-p no:nbval)
        return
    if not config.getoption("--no-nbval") and not config.option.nbval_lax:
        config.option.nbval = True


def pytest_collection_modifyitems(config, items):
    try:
        from nbval.plugin import IPyNbCell
    except ImportError:
        return
    for item in items:
        if isinstance(item, IPyNbCell):  # executes a notebook in a kernel: minutes
            item.add_marker(pytest.mark.slow)
