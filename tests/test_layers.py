"""The package's import layers: no module imports one on its own line or below it.

The order is written once, in the docstring of ``lstm_helpers/__init__.py``; this test reads
it from there, finds every import of every module (in functions too, relative or absolute)
and checks each against it. An import circle is then impossible, and a module the order
does not place fails the test until it is given a line.
"""

from __future__ import annotations

import ast
import fnmatch
import re
import subprocess
import sys
from pathlib import Path

import pytest

import lstm_helpers

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "lstm_helpers"
LAYER_LINE = re.compile(r"^\s+(\d+)\s+(\S.*)$")


def layer_order() -> dict[str, int]:
    """``{pattern: layer}`` from the package docstring's numbered lines (``checks.ex*``)."""
    order = {}
    for line in lstm_helpers.__doc__.splitlines():
        found = LAYER_LINE.match(line)
        if found:
            for name in found[2].split():
                order[name] = int(found[1])
    return order


def module_name(path: Path) -> str:
    """``checks.ex1_parameter_count`` for ``lstm_helpers/checks/ex1_parameter_count.py``;
    a package is named by its folder (``checks``), the package itself by ``""``."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


EXERCISE = re.compile(r"checks\.ex(\d+)_\w+")


def layer_of(name: str, order: dict[str, int]) -> tuple[int, int] | None:
    """``(layer, exercise number)``: exercises share a layer, ordered by their number."""
    if name == "":
        return max(order.values()) + 1, 0  # the package itself sits above every layer
    matches = [layer for pattern, layer in order.items() if fnmatch.fnmatchcase(name, pattern)]
    exercise = EXERCISE.fullmatch(name)
    return (matches[0], int(exercise[1]) if exercise else 0) if matches else None


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` for every import of a module of the package in ``path``, relative
    or absolute, at any depth; ``from .x import y`` counts ``x.y`` when ``y`` is a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path).split(".") if module_name(path) else []
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "lstm_helpers" or alias.name.startswith("lstm_helpers."):
                    found.append((node.lineno, alias.name.removeprefix("lstm_helpers")
                                  .removeprefix(".")))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            elif node.module and (node.module == "lstm_helpers"
                                  or node.module.startswith("lstm_helpers.")):
                target = node.module.removeprefix("lstm_helpers").removeprefix(".")
            else:
                continue
            for alias in node.names:
                candidate = f"{target}.{alias.name}" if target else alias.name
                is_module = (PACKAGE / Path(*candidate.split("."))).with_suffix(".py").exists() \
                    or (PACKAGE / Path(*candidate.split("."))).is_dir()
                found.append((node.lineno, candidate if is_module else target))
    return found


def test_the_docstring_orders_every_module_of_the_package():
    order = layer_order()
    assert order, "lstm_helpers/__init__.py's docstring lists no layers"
    unplaced = [module_name(path) for path in sorted(PACKAGE.rglob("*.py"))
                if module_name(path) and layer_of(module_name(path), order) is None]
    assert not unplaced, f"give these modules a line in the package's layer order: {unplaced}"


def test_every_import_goes_to_a_lower_layer():
    order = layer_order()
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = module_name(path)
        mine = layer_of(importer, order)
        for line, imported in imported_modules(path):
            theirs = layer_of(imported, order)
            if theirs is None or mine is None or theirs >= mine:
                upward.append(f"{path.relative_to(REPO)}:{line} ({importer or 'lstm_helpers'},"
                              f" layer {mine}) imports {imported or 'lstm_helpers'} "
                              f"(layer {theirs})")
    assert not upward, "imports at or above the importer's layer:\n" + "\n".join(upward)


def test_the_checker_sees_an_import_inside_a_function(tmp_path, monkeypatch):
    # What the circle of issue 23 looked like: distributed.main importing the CLI.
    fake = PACKAGE / "distributed" / "__init__.py"
    source = fake.read_text(encoding="utf-8") + "\n\ndef main():\n    from ..cli import main\n"
    copy = tmp_path / "lstm_helpers" / "distributed" / "__init__.py"
    copy.parent.mkdir(parents=True)
    copy.write_text(source, encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "lstm_helpers")
    (tmp_path / "lstm_helpers" / "cli.py").write_text("", encoding="utf-8")
    assert (len(copy.read_text().splitlines()), "cli") in imported_modules(copy)
    order = layer_order()
    assert layer_of("cli", order) > layer_of("distributed", order)


@pytest.mark.parametrize("module", ["lstm_helpers.distributed", "lstm_helpers"])
def test_the_command_line_aliases_still_start(module):
    done = subprocess.run([sys.executable, "-m", module, "--help"],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "usage: python -m lstm_helpers" in done.stdout
