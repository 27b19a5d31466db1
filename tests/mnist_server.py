"""A local web server serving the real MNIST files, as a mirror does: the tests' download
address (``$LSTM_HELPERS_MNIST_URL``), so a download is tested without another host.

The four ``.gz`` files are the real files of ``$LSTM_HELPERS_DATA`` (the course's data),
compressed here once per test session. The server listens on 127.0.0.1 on a free port and
records every path it was asked for, so a test can tell a download from a reuse.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import shutil
import threading
from pathlib import Path

from lstm_helpers import ensure_mnist
from lstm_helpers.download import MNIST_SHA256


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client that closes early (torchvision's redirect probe) is no test failure


class MNISTServer:
    """Serve ``folder`` (holding ``<name>.gz`` for the four MNIST files) on 127.0.0.1."""

    def __init__(self, folder: Path):
        self.requests: list[str] = []
        served = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                served.append(self.path)
                super().do_GET()

            def log_message(self, *args):  # quiet: the test reads self.requests instead
                pass

        self._httpd = _QuietServer(
            ("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def downloads(self) -> list[str]:
        """The file names requested so far (``train-images-idx3-ubyte.gz``, ...)."""
        return [path.rsplit("/", 1)[-1] for path in self.requests]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def gzipped_mnist(folder: Path) -> Path:
    """Write the four real MNIST files, gzip-compressed, into ``folder``; return it."""
    raw = ensure_mnist()  # the course's data root: the real, verified files
    folder.mkdir(parents=True, exist_ok=True)
    for name in MNIST_SHA256:
        with open(raw / name, "rb") as source, \
                gzip.open(folder / f"{name}.gz", "wb", compresslevel=1) as target:
            shutil.copyfileobj(source, target)
    return folder
