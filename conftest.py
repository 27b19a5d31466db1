"""Shared test set-up: the data root, and no progress bars in stored or compared outputs."""

import os

import pytest

# Kernels started by nbval inherit this: tqdm's bar is timing noise in a notebook's outputs.
os.environ.setdefault("TQDM_DISABLE", "1")
