"""Open the course in JupyterLab, set up so that pairs, data and imports all work (`make lab`).

    python scripts/lab.py [JUPYTER LAB OPTIONS ...]     # e.g. --no-browser, --port=9999
    python scripts/lab.py --install-settings            # step 1 only (make install runs it)

1. Installs the course's JupyterLab settings (``scripts/jupyterlab-settings.json``: a
   lesson ``.py`` opens as a notebook when double-clicked) into the environment's JupyterLab
   (``<sys.prefix>/share/jupyter/lab/settings/overrides.d/lstm-course.json``), where every
   ``jupyter lab`` of this environment reads them, however it is started.
2. Sets ``LSTM_HELPERS_DATA`` to the data root as an absolute path: kernels start in the
   notebook's folder, and must find the files ``make course`` fetched from the repository root.
3. Puts this checkout first on ``PYTHONPATH``, so kernels import its ``lstm_helpers``.
4. Runs ``jupyter lab --ip=127.0.0.1`` on ``notebooks/`` (port 8888, or the next free one);
   JupyterLab prints the address to open, token included.

Pairing needs nothing from here: ``notebooks/jupytext.toml`` (and its copy in
``notebooks/exercises/``) is found by JupyterLab wherever it is started in the repository.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SETTINGS = Path(__file__).with_name("jupyterlab-settings.json")
SETTINGS_NAME = "lstm-course.json"


def settings_dir() -> Path:
    """Where JupyterLab reads settings overrides for this environment (``overrides.d``)."""
    from jupyterlab.commands import get_app_dir

    return Path(get_app_dir()) / "settings" / "overrides.d"


def install_settings(folder: Path | None = None) -> Path:
    """Copy the course's JupyterLab settings into ``folder`` (default :func:`settings_dir`);
    rewrite the file only when its text changes. Returns the installed file."""
    target = (settings_dir() if folder is None else folder) / SETTINGS_NAME
    text = SETTINGS.read_text(encoding="utf-8")
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return target


def data_root() -> Path | None:
    """The MNIST data root ``lstm_helpers`` resolves from here, as an absolute path; None
    (after a one-line warning) when it cannot be resolved: the notebooks will then say why."""
    sys.path.insert(0, str(ROOT))
    from lstm_helpers import MNISTDataError, resolve_root

    try:
        return resolve_root().resolve()
    except MNISTDataError as error:
        print(f"warning: {error}", file=sys.stderr)
        return None


def lab_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with the data root and the checkout
    on ``PYTHONPATH`` set for the server and the kernels it starts."""
    env = dict(os.environ if base is None else base)
    root = data_root()
    if root is not None:
        env["LSTM_HELPERS_DATA"] = str(root)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def lab_command(root_dir: Path = NOTEBOOKS, options: list[str] | None = None) -> list[str]:
    """The ``jupyter lab`` command line: 127.0.0.1, rooted at ``root_dir``, then ``options``
    (later options win, so ``--ip=...`` or ``--port=...`` may be given)."""
    return [sys.executable, "-m", "jupyter", "lab", "--ip=127.0.0.1",
            f"--ServerApp.root_dir={root_dir}", *(options or [])]


def main(argv: list[str]) -> int:
    installed = install_settings()
    if argv == ["--install-settings"]:
        print(f"JupyterLab settings: {installed}")
        return 0
    env = lab_environment()
    command = lab_command(options=argv)
    print(f"course notebooks: {NOTEBOOKS}\n"
          f"MNIST data root:  {env.get('LSTM_HELPERS_DATA', '(not set)')}\n"
          f"JupyterLab settings: {installed}\n"
          f"running: {' '.join(command[2:])}", flush=True)
    os.execve(command[0], command, env)  # JupyterLab takes over the terminal (Ctrl-C stops it)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
