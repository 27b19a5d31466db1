"""Shared test set-up: the data root, and no progress bars in stored or compared outputs."""

import os

from lstm_helpers import resolve_root

# Kernels started by nbval inherit these. tqdm's bar is timing noise in stored outputs, and
# kernels run inside notebooks/: an absolute data root keeps them all on the same files.
os.environ.setdefault("TQDM_DISABLE", "1")
os.environ["LSTM_HELPERS_DATA"] = str(resolve_root().resolve())
