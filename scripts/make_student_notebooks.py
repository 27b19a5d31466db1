"""Write the student versions of the exercise notebooks, never over a student's work.

    python scripts/make_student_notebooks.py            # (re)write notebooks/exercises/student/
    python scripts/make_student_notebooks.py --check    # exit 1 if they are out of date
    python scripts/make_student_notebooks.py --preflight  # exit 1 if writing would lose work
    python scripts/make_student_notebooks.py --force    # overwrite, discarding changes

The source of every exercise is its instructor notebook, ``notebooks/exercises/NAME.py``
(markers: classroom/markers.py). The student version ``student/NAME.ipynb`` is what nbgrader
releases for it (``nbgrader generate_assignment``, run in this process on a scratch course,
see classroom/assignments.py): solutions replaced by ``# YOUR CODE HERE`` and the
placeholders, hidden tests removed, every cell but the answers read-only, nbgrader's cell
metadata kept so that a student's copy can be collected and autograded. The notebook
metadata is JupyterLab's (kernelspec, and the instructor run's language_info), so opening
and saving a student notebook unchanged rewrites the same bytes. Code cells carry the
``nbval-ignore-output`` tag (unless their source holds an nbval comment such as
``# NBVAL_IGNORE_OUTPUT``, which then speaks alone): the test suite runs them without
comparing outputs. Generation
is a pure function of the sources, so ``--check`` can tell whether the committed files are
current.

Nothing a student wrote is lost: each generated notebook records a fingerprint of its cells
(``metadata.lstm_course.cells_sha256``). A notebook whose cells no longer match it (an
answer typed, a cell added) is student work: the generator refuses to overwrite it, says
which file and how to keep or discard it, and writes nothing at all. A notebook that is only
out of date because its source changed still matches its fingerprint and is replaced.
Outputs and execution counts are not work and do not count as changes.
``notebooks/jupytext.toml`` pairs nothing inside a ``student`` folder: the student copies
are plain ``.ipynb`` files, and JupyterLab saves them without writing a ``.py`` twin.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from classroom.assignments import (  # noqa: E402 (after the sys.path line)
    KERNELSPEC,
    exercise_sources,
    language_info,
    released_notebooks,
)
from classroom.markers import SolutionMarkerError  # noqa: E402

EXERCISES = ROOT / "notebooks" / "exercises"
STUDENT = EXERCISES / "student"
GENERATED_BY = "make student (scripts/make_student_notebooks.py)"


def fingerprint(cells) -> str:
    """SHA-256 of what a student can change in a notebook: each cell's type and source."""
    text = json.dumps([[cell["cell_type"], "".join(cell["source"])] for cell in cells])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def student_notebook_text(source: Path, released: nbformat.NotebookNode) -> str:
    """The exact text of ``student/<source.stem>.ipynb`` from nbgrader's release."""
    notebook = released
    notebook.metadata = {
        "kernelspec": dict(KERNELSPEC),
        "language_info": language_info(source),
        "lstm_course": {"student_version_of": f"notebooks/exercises/{source.name}",
                        "generated_by": GENERATED_BY,
                        "cells_sha256": fingerprint(notebook.cells)},
    }
    nbformat.validate(notebook)
    return nbformat.writes(notebook) + "\n"


def expected_files(sources: list[Path], out_dir: Path | None = None) -> dict[Path, str]:
    """Every file the student folder should hold, with its exact text."""
    out_dir = STUDENT if out_dir is None else out_dir
    released = released_notebooks(sources)
    files = {}
    for source in sources:
        files[out_dir / f"{source.stem}.ipynb"] = student_notebook_text(
            source, released[source.stem])
    return files


def _generated_metadata(path: Path) -> dict | None:
    """The ``lstm_course`` metadata of a notebook this generator wrote, else None."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        metadata = notebook["metadata"]["lstm_course"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return metadata if metadata.get("generated_by") == GENERATED_BY else None


def student_changes(path: Path, new_text: str | None = None) -> str | None:
    """Why ``path`` holds work made after it was generated, or None if it holds none.

    With ``new_text`` (what would replace it), the cells that differ are named.
    """
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        cells = notebook["cells"]
    except (OSError, ValueError, KeyError, TypeError):
        return "it cannot be read as a notebook"
    recorded = (notebook.get("metadata", {}).get("lstm_course") or {}).get("cells_sha256")
    if recorded is None:
        return ("it carries no record of what the generator wrote (made elsewhere, or by an "
                "older version of the course), so changes in it cannot be ruled out")
    if fingerprint(cells) == recorded:
        return None
    if new_text is not None:
        new = json.loads(new_text)["cells"]
        pairs = zip(cells, new, strict=False)  # a changed notebook may have more or fewer cells
        differ = [str(number) for number, (a, b) in enumerate(pairs, start=1)
                  if (a["cell_type"], "".join(a["source"]))
                  != (b["cell_type"], "".join(b["source"]))]
        if len(cells) != len(new):
            return (f"it has {len(cells)} cells where the generated version has {len(new)}"
                    + (f", and cells {', '.join(differ)} differ" if differ else ""))
        if len(differ) == 1:
            return f"cell {differ[0]} (counting from the top) was changed"
        return (f"cells {', '.join(differ[:-1])} and {differ[-1]} (counting from the top) "
                f"were changed")
    return "its cells were changed after it was generated"


def refusal(path: Path, reason: str) -> str:
    """The message for a file the generator will not overwrite: which, why, what to do."""
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    keep = shown.with_name(f"{path.stem}.mine.ipynb")
    return (f"{shown} holds work: {reason}.\n"
            f"  To keep it, rename it (the generator leaves files it did not write alone):\n"
            f"      mv {shown} {keep}\n"
            f"  To discard it and write the generated version:\n"
            f"      make student FORCE=1   (python scripts/make_student_notebooks.py --force)")


def preflight(out_dir: Path | None = None) -> list[str]:
    """Refusals for every generated notebook in ``out_dir`` that holds student work.

    Needs no generation: a file whose cells match its own fingerprint holds no work.
    """
    out_dir = STUDENT if out_dir is None else out_dir
    messages = []
    for path in sorted(out_dir.glob("*.ipynb")):
        if _generated_metadata(path) is not None or path.stem in {
                source.stem for source in exercise_sources()}:
            reason = student_changes(path)
            if reason:
                messages.append(refusal(path, reason))
    return messages


def stale_files(out_dir: Path | None = None, sources: list[Path] | None = None) -> list[str]:
    """What differs between ``out_dir`` and a fresh generation (empty when up to date)."""
    out_dir = STUDENT if out_dir is None else out_dir
    files = expected_files(exercise_sources() if sources is None else sources, out_dir)
    problems = [f"{path.name}: missing" for path in files if not path.exists()]
    problems += [f"{path.name}: out of date" for path, text in files.items()
                 if path.exists() and path.read_text(encoding="utf-8") != text]
    if out_dir.is_dir():
        problems += [f"{path.name}: no source any more"
                     for path in sorted(out_dir.glob("*.ipynb"))
                     if path not in files and _generated_metadata(path) is not None
                     and student_changes(path) is None]
    return problems


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def write_student_notebooks(out_dir: Path | None = None, sources: list[Path] | None = None,
                            force: bool = False) -> tuple[list[Path], list[str]]:
    """Write the student folder; return (paths written or current, refusals).

    With any refusal nothing is written. Orphans (generated notebooks whose source is gone)
    are removed when they hold no work; files holding work, and files the generator did not
    write, are left alone.
    """
    out_dir = STUDENT if out_dir is None else out_dir
    files = expected_files(exercise_sources() if sources is None else sources, out_dir)
    refusals = []
    for path, text in files.items():
        if (path.suffix == ".ipynb" and path.exists() and not force
                and path.read_text(encoding="utf-8") != text):
            reason = student_changes(path, text)
            if reason:
                refusals.append(refusal(path, reason))
    # Generated notebooks whose exercise is gone go too, unless they hold work (a copy
    # renamed to keep it, say): those stay, like every file the generator did not write.
    orphans = [path for path in sorted(out_dir.glob("*.ipynb"))
               if path not in files and _generated_metadata(path) is not None
               and student_changes(path) is None]
    if refusals:
        return [], refusals
    out_dir.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            _write_atomically(path, text)
    for orphan in orphans:
        orphan.unlink()
    return sorted(files), []


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true",
                      help="write nothing; exit 1 if the student notebooks are out of date")
    mode.add_argument("--preflight", action="store_true",
                      help="write nothing; exit 1 if a student notebook holds work that "
                           "writing would overwrite")
    mode.add_argument("--force", action="store_true",
                      help="overwrite student notebooks even when they hold changes")
    args = parser.parse_args(argv)
    shown = STUDENT.relative_to(ROOT) if STUDENT.is_relative_to(ROOT) else STUDENT
    try:
        if args.preflight:
            refusals = preflight()
        elif args.check:
            problems = stale_files()
            for problem in problems:
                print(f"{shown}/{problem}", file=sys.stderr)
            if problems:
                print("run `make student` to regenerate them", file=sys.stderr)
            return 1 if problems else 0
        else:
            written, refusals = write_student_notebooks(force=args.force)
            for path in written:
                print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    except (SolutionMarkerError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for message in refusals:
        print(f"refused: {message}", file=sys.stderr)
    if refusals:
        print(f"Nothing was written to {shown}/.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
