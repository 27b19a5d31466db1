"""Shared test set-up: the data root, and no terminal progress bars in the test log."""

import os

from lstm_helpers import resolve_root

# Kernels started by nbval inherit these. Kernels run inside notebooks/: an absolute data root
# keeps them all on the same files. TQDM_DISABLE hides the terminal bars of in-process tests;
# a notebook's bar is one output line whatever it says (nbval_sanitize.cfg masks its numbers).
os.environ.setdefault("TQDM_DISABLE", "1")
os.environ["LSTM_HELPERS_DATA"] = str(resolve_root().resolve())
