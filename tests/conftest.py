"""Fixtures shared by the browser tests (the site's pages, the JupyterLab UI) and the site
builds."""

import os
from pathlib import Path

import pytest

#: Debian's Chromium: Playwright's own browser download fails on the course's machines.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def missing(problem: str) -> None:
    """A tool a test needs is not installed: skip locally, fail in CI (``CI=1``)."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(problem)
    pytest.skip(problem)


@pytest.fixture(scope="session")
def site_mermaid() -> None:
    """Mermaid from npm, which the site needs for its diagrams (``make site-mermaid``)."""
    from site_hooks import mermaid

    if not mermaid.installed():
        missing(f"Mermaid is not installed: run {mermaid.INSTALL}")


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium, driven by Playwright; skipped where it is missing, except in
    CI (``CI=1``), where a missing browser fails the test."""
    problem = None
    if not CHROMIUM.exists():
        problem = f"{CHROMIUM} is missing: apt-get update && apt-get install -y chromium"
    else:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            problem = "Playwright is missing: pip install -r requirements.txt"
    if problem:
        missing(f"the browser tests must run in CI: {problem}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def mnist_mirror(tmp_path_factory):
    """A local web server serving the real MNIST files as a mirror does (the address for
    ``$LSTM_HELPERS_MNIST_URL``); see tests/mnist_server.py."""
    from mnist_server import MNISTServer, gzipped_mnist

    server = MNISTServer(gzipped_mnist(tmp_path_factory.mktemp("mnist-mirror")))
    yield server
    server.close()
