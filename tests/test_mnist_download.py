"""Outside a checkout, the first data access downloads MNIST once into the per-user cache,
saying how much and where, with a progress bar; later runs reuse it.

The package runs from a copy outside the repository (so its default data root is the
per-user cache), with ``HOME`` and the cache folder in a temporary directory, and downloads
from a local server serving the real files (``$LSTM_HELPERS_MNIST_URL``, tests/mnist_server.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from lstm_helpers.download import MNIST_SHA256, sha256_of

REPO = Path(__file__).resolve().parents[1]
FIRST_ACCESS = "import lstm_helpers as lh; print('root', lh.resolve_root()); " \
               "print('images', tuple(lh.load_mnist(train=False).data.shape))"


def test_the_first_access_downloads_once_into_the_user_cache(tmp_path, mnist_mirror):
    installed = tmp_path / "site-packages"  # the package alone: no pyproject.toml beside it
    shutil.copytree(REPO / "lstm_helpers", installed / "lstm_helpers",
                    ignore=shutil.ignore_patterns("__pycache__"))
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items()
           if key not in ("LSTM_HELPERS_DATA", "XDG_CACHE_HOME", "TQDM_DISABLE", "PYTHONPATH")}
    env.update(HOME=str(home), PYTHONPATH=str(installed), PYTHONNOUSERSITE="1",
               LSTM_HELPERS_MNIST_URL=mnist_mirror.url)
    before = len(mnist_mirror.requests)

    def first_access():
        done = subprocess.run([sys.executable, "-c", FIRST_ACCESS], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done

    raw = home / ".cache" / "lstm_helpers" / "MNIST" / "raw"
    first = first_access()
    assert f"root {home / '.cache' / 'lstm_helpers'}\n" in first.stdout
    assert (f"Downloading MNIST into {raw}/ (once: every later run reads it from there): "
            f"train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
            f"t10k-labels-idx1-ubyte, 11.6 MB for all four files, 55 MB unpacked.") \
        in first.stdout
    assert "images (10000, 28, 28)" in first.stdout
    assert first.stderr.count("100%|") == 4 and "B/s]" in first.stderr  # a bar per file
    # (torchvision asks for each file twice: a probe for redirects, then the download)
    assert set(mnist_mirror.downloads()[before:]) == {f"{name}.gz" for name in MNIST_SHA256}
    after_first = len(mnist_mirror.requests)
    assert sorted(path.name for path in raw.iterdir()) == sorted(MNIST_SHA256)
    for name, digest in MNIST_SHA256.items():
        assert sha256_of(raw / name) == digest

    again = first_access()  # a later notebook: the cache is reused, nothing downloaded
    assert "Downloading" not in again.stdout and "images (10000, 28, 28)" in again.stdout
    assert len(mnist_mirror.requests) == after_first
