"""The markers of an exercise source, and what they turn a code cell into.

In a code cell of an instructor notebook (``notebooks/exercises/exN_name.py``):

* a solution sits between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's own
  markers). An optional ``### PLACEHOLDER`` section before the end gives the code the student
  starts from, written as comments so that the instructor version runs the solution::

      def count_parameters(input_dim, hidden_dim, layer_dim, output_dim):
          ### BEGIN SOLUTION
          per_layer = ...             # the solution: removed from the student version
          return total
          ### PLACEHOLDER
          # return ...                # uncommented in the student version
          ### END SOLUTION

  The student version replaces the block by ``# YOUR CODE HERE`` and the placeholder lines
  (``...`` when there are none), indented like the BEGIN marker.
* nbgrader's hidden-test markers, ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``,
  are read only to refuse them: the course's grader-only cases live in
  ``classroom/grading/hidden-checks/``, where no student kernel runs them.
"""

from __future__ import annotations

import ast
import re

BEGIN = re.compile(r"^(?P<indent>\s*)### BEGIN SOLUTION\s*$")
PLACEHOLDER = re.compile(r"^\s*### PLACEHOLDER\s*$")
END = re.compile(r"^\s*### END SOLUTION\s*$")
ANY_MARKER = re.compile(r"###\s*(BEGIN SOLUTION|PLACEHOLDER|END SOLUTION)")
BEGIN_HIDDEN = re.compile(r"^\s*### BEGIN HIDDEN TESTS\s*$")
END_HIDDEN = re.compile(r"^\s*### END HIDDEN TESTS\s*$")
ANY_HIDDEN = re.compile(r"###\s*(BEGIN|END)\s+HIDDEN\s+TESTS")
COMMENTED = re.compile(r"^(?P<indent>\s*)#(?: (?P<code>.*))?$")

YOUR_CODE = "# YOUR CODE HERE"


class SolutionMarkerError(ValueError):
    """A solution or hidden-test block is malformed; the message names the place."""


def _blocks(source: str, where: str):
    """Walk the lines of a cell: yield ``(state, line, number)``, state being "code",
    "begin", "solution", "placeholder_marker", "placeholder" or "end".

    Raises:
        SolutionMarkerError: markers out of order, misspelt, or a block left open.
    """
    state = "code"
    for number, line in enumerate(source.split("\n"), start=1):
        here = f"{where}, line {number}"
        begin, placeholder, end = BEGIN.match(line), PLACEHOLDER.match(line), END.match(line)
        if state == "code":
            if begin:
                state = "solution"
                yield "begin", line, number
            elif placeholder or end or ANY_MARKER.search(line):
                raise SolutionMarkerError(f"{here}: {line.strip()!r} outside a solution block "
                                          f"(or misspelt)")
            else:
                yield "code", line, number
            continue
        if begin or (placeholder and state == "placeholder") or (
                ANY_MARKER.search(line) and not (placeholder or end)):
            raise SolutionMarkerError(f"{here}: {line.strip()!r} inside a solution block "
                                      f"opened earlier; close it with ### END SOLUTION")
        if placeholder:
            state = "placeholder"
            yield "placeholder_marker", line, number
        elif end:
            state = "code"
            yield "end", line, number
        elif state == "placeholder":
            if COMMENTED.match(line) is None:
                raise SolutionMarkerError(f"{here}: placeholder lines must be comments "
                                          f"('# code'), so the instructor version skips them; "
                                          f"got {line!r}")
            yield "placeholder", line, number
        else:
            yield "solution", line, number
    if state != "code":
        raise SolutionMarkerError(f"{where}: a solution block is never closed "
                                  f"(### END SOLUTION missing)")


def strip_solutions(source: str, where: str = "cell") -> tuple[str, int]:
    """The student version of one code cell's source, and how many blocks it removed.

    Raises:
        SolutionMarkerError: markers out of order, a block left open, a placeholder line
            that is not a comment, or a result that is not valid Python.
    """
    out: list[str] = []
    blocks, indent, placeholder_lines = 0, "", []
    for state, line, _ in _blocks(source, where):
        if state == "code":
            out.append(line)
        elif state == "begin":
            indent, placeholder_lines = BEGIN.match(line)["indent"], []
        elif state == "placeholder":
            commented = COMMENTED.match(line)
            code = commented["code"]
            placeholder_lines.append(commented["indent"] + code if code else "")
        elif state == "end":
            out.append(indent + YOUR_CODE)
            out.extend(placeholder_lines or [indent + "..."])
            blocks += 1
    student = "\n".join(out)
    if blocks:
        check_syntax(student, where, "the student version")
    return student, blocks


def solution_only(source: str, where: str = "cell") -> str:
    """The instructor's answer as a student would type it: markers and placeholders gone."""
    return "\n".join(line for state, line, _ in _blocks(source, where)
                     if state in ("code", "solution"))


def hidden_test_blocks(source: str, where: str = "cell") -> int:
    """How many hidden-test blocks a cell holds.

    Raises:
        SolutionMarkerError: a hidden-test marker misspelt, nested or left open.
    """
    inside, blocks = False, 0
    for number, line in enumerate(source.split("\n"), start=1):
        here = f"{where}, line {number}"
        if BEGIN_HIDDEN.match(line):
            if inside:
                raise SolutionMarkerError(f"{here}: ### BEGIN HIDDEN TESTS inside a hidden-test "
                                          f"block; close the first with ### END HIDDEN TESTS")
            inside = True
        elif END_HIDDEN.match(line):
            if not inside:
                raise SolutionMarkerError(f"{here}: ### END HIDDEN TESTS without a BEGIN")
            inside, blocks = False, blocks + 1
        elif ANY_HIDDEN.search(line):
            raise SolutionMarkerError(f"{here}: {line.strip()!r}: a misspelt hidden-test "
                                      f"marker (write it on a line of its own)")
    if inside:
        raise SolutionMarkerError(f"{where}: a hidden-test block is never closed "
                                  f"(### END HIDDEN TESTS missing)")
    return blocks


def check_syntax(source: str, where: str, what: str = "the cell") -> None:
    """Raise SolutionMarkerError when ``source`` is not valid Python (magics allowed)."""
    python = "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                       for line in source.split("\n"))
    try:
        ast.parse(python)
    except SyntaxError as error:
        raise SolutionMarkerError(f"{where}: {what} is not valid Python "
                                  f"(line {error.lineno}: {error.msg}); check the "
                                  f"placeholder and its indentation") from error
