"""The set-up cell of the course's notebooks, and what it runs once the package is installed.

Every lesson and student exercise notebook starts with the same short code cell
(:func:`setup_cell`, written into the notebooks by ``scripts/notebook_setup.py``). In the
course's own environment ``lstm_helpers`` imports, and the cell does nothing and prints
nothing. Anywhere else (Colab, Binder, a notebook downloaded from the site) it installs
this distribution, ``lstm-helpers``, at the notebook's version with ``pip install
--no-deps`` from the course's repository (the tag ``v<version>``), or from what
``$LSTM_HELPERS_INSTALL_FROM`` names (a wheel file, or a requirement such as
``lstm-helpers==<version>`` that pip resolves on the index it is configured with, e.g.
``PIP_INDEX_URL``), then calls :func:`finish`, which:

* installs only the *light* dependencies that are missing (tqdm, platformdirs, ...), never
  replacing a package the environment already has: Colab's torch stays Colab's torch;
* refuses, with what to do, when torch or torchvision is missing (they are never installed
  here: their build depends on the machine);
* says in one line what it installed and, in one more line, which installed dependency
  (torch above all) lies outside the range this version supports; it carries on.

The cell never installs anything while nbgrader executes the notebook
(``$NBGRADER_EXECUTION`` is set): a grader's environment is the course's own.

This module is top-level, not part of ``lstm_helpers``, and uses the standard library only
(plus pip's own ``packaging`` where no other copy is installed): ``lstm_helpers/__init__``
imports torch, platformdirs and the rest, so it cannot run before they are there.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from dataclasses import dataclass, field

DISTRIBUTION = "lstm-helpers"
#: Names what the set-up cell installs instead of the repository's tagged version.
INSTALL_FROM = "LSTM_HELPERS_INSTALL_FROM"
#: Set by nbgrader while it executes a notebook (autograde, validate): install nothing.
NBGRADER_EXECUTION = "NBGRADER_EXECUTION"
#: Dependencies the cell never installs: which build fits depends on the machine (CUDA).
HEAVY = ("torch", "torchvision")
#: The first line of the cell: how a tool or a test recognises it.
FIRST_LINE = "# Set-up: the same first cell in every notebook of the course."

_CELL = '''\
{first_line} In the course's own
# environment it does nothing. Anywhere else (Colab, Binder, a downloaded copy) it installs
# the course's package, lstm-helpers {version} (${install_from} may name a wheel).
import importlib.util
import os
import subprocess
import sys

COURSE = "{source}"
if importlib.util.find_spec("lstm_helpers") is None and "{nbgrader}" not in os.environ:
    source = os.environ.get("{install_from}") or COURSE
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                          source], capture_output=True, text=True)
    if pip.returncode:
        raise RuntimeError(f"pip could not install {{source}}:\\n{{pip.stderr[-3000:]}}")
    importlib.invalidate_caches()
    import lstm_course_setup
    lstm_course_setup.finish(source, "{version}")'''


def git_source(version: str, repository: str) -> str:
    """What pip installs by default: the repository's tag ``v<version>``.

    ``git_source("1.2.3", "https://github.com/o/r")`` is ``git+https://github.com/o/r@v1.2.3``.
    """
    return f"git+{repository.rstrip('/')}@v{version}"


def setup_cell(version: str, repository: str) -> str:
    """The source of the set-up cell for the course at ``version``, installing from
    ``repository`` (CITATION.cff's ``repository-code``)."""
    return _CELL.format(first_line=FIRST_LINE, version=version, install_from=INSTALL_FROM,
                        nbgrader=NBGRADER_EXECUTION, source=git_source(version, repository))


def _packaging():
    """``(Requirement, Version)`` from ``packaging``, or pip's vendored copy of it."""
    try:
        from packaging.requirements import Requirement
        from packaging.version import Version
    except ImportError:  # a bare environment: pip, which just ran, carries its own copy
        from pip._vendor.packaging.requirements import Requirement
        from pip._vendor.packaging.version import Version
    return Requirement, Version


@dataclass
class Plan:
    """What :func:`finish` does about the package's dependencies.

    Attributes:
        install: requirement strings of the missing light dependencies (``"tqdm>=4.60"``).
        missing_heavy: names of missing dependencies the cell never installs (torch, ...).
        outside: ``"torch 1.13.1 (supported: <3,>=2.1)"`` for each installed dependency
            whose version lies outside the supported range; it is kept as it is.
    """

    install: list[str] = field(default_factory=list)
    missing_heavy: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)


def plan(requirements: list[str], installed: dict[str, str | None]) -> Plan:
    """Decide what to install and what to warn about.

    Args:
        requirements: the distribution's requirement strings (``"torch<3,>=2.1"``), as
            ``importlib.metadata.requires`` gives them; those with an environment marker
            that does not hold here are skipped.
        installed: the installed version of each requirement's name, None when missing.
    """
    Requirement, Version = _packaging()
    result = Plan()
    for text in requirements:
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        version = installed.get(requirement.name)
        if version is None:
            if requirement.name in HEAVY:
                result.missing_heavy.append(requirement.name)
            else:
                result.install.append(str(requirement))
        elif requirement.specifier and not requirement.specifier.contains(
                Version(version), prereleases=True):
            result.outside.append(f"{requirement.name} {version} (supported: "
                                  f"{requirement.specifier})")
    return result


def installed_versions(names: list[str]) -> dict[str, str | None]:
    """The installed version of each distribution in ``names`` (None: not installed)."""
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _pip_install(requirements: list[str]) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *requirements],
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"pip could not install {', '.join(requirements)}:\n"
                           f"{done.stderr[-3000:]}")


def finish(source: str, version: str) -> None:
    """Complete the install the set-up cell began and report it (see the module docstring).

    Args:
        source: what pip installed the package from (the cell's ``source``).
        version: the version the notebook was written for.

    Raises:
        RuntimeError: torch or torchvision is missing (install PyTorch, then rerun the
            cell), or pip failed to install a missing light dependency.
    """
    Requirement, _ = _packaging()
    requirements = importlib.metadata.requires(DISTRIBUTION) or []
    names = [Requirement(text).name for text in requirements]
    todo = plan(requirements, installed_versions(names))
    if todo.missing_heavy:
        raise RuntimeError(
            f"lstm-helpers is installed, but this environment has no "
            f"{' or '.join(todo.missing_heavy)}. Install PyTorch for your machine "
            f"(https://pytorch.org/get-started/locally/), then run this cell again.")
    if todo.install:
        _pip_install(todo.install)
    print("\n".join(report(todo, source, importlib.metadata.version(DISTRIBUTION), version)))


def report(todo: Plan, source: str, installed: str, version: str) -> list[str]:
    """What :func:`finish` prints: the install line, and a note when an installed
    dependency is outside its supported range or the package is not the notebook's
    version (the set-up carries on either way)."""
    extras = f", with {', '.join(todo.install)}" if todo.install else ""
    lines = [f"Installed lstm-helpers {installed} from {source}{extras}; every other package "
             f"is this environment's own."]
    notes = list(todo.outside)
    if installed != version:
        notes.append(f"this notebook was written for lstm-helpers {version}")
    if notes:
        lines.append(f"Note: {'; '.join(notes)}. Carrying on: a cell may fail or differ from "
                     f"the course's stored outputs.")
    return lines
