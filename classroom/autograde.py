"""Autograde an assignment, every student, then say who needs the teacher's attention.

    python -m classroom.autograde ex1_parameter_count   # = make autograde EX=ex1_parameter_count

Runs ``nbgrader autograde <assignment>`` (the course's nbgrader_config.py: grades decided on
the grader's side, malformed submissions graded and named), passes its log through, and ends
with one list: every student named by a ``[needs attention]`` line (a duplicated or edited
cell, a renamed notebook, an answer that touches the checks, a refused attempt, no verdict)
or by nbgrader's own "error processing assignment" line, with the reasons. The exit status is
0 when nobody needs attention, 1 when someone does (after everyone was graded), 2 when
grading could not start (confinement refused, unknown assignment).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import defaultdict

from .assignments import ROOT, venv_environment
from .grading.attention import TAG
from .grading.confinement import ConfinementError, grader_identity

ATTENTION = re.compile(re.escape(TAG) + r" student (?P<student>[^,]+), (?P<what>.*)$")
FAILED = re.compile(r"error processing assignment '(?P<assignment>[^']*)' for student "
                    r"'(?P<student>[^']*)'")


def needing_attention(log: str) -> dict[str, list[str]]:
    """``{student: [reason, ...]}`` from an autograde log, in the order found."""
    found: dict[str, list[str]] = defaultdict(list)
    for line in log.splitlines():
        if (match := ATTENTION.search(line)) and match["what"] not in found[match["student"]]:
            found[match["student"]].append(match["what"])
        elif match := FAILED.search(line):
            found[match["student"]].append("nbgrader could not grade this submission (see "
                                           "the error above in the log)")
    return dict(found)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment", help="the assignment, e.g. ex1_parameter_count")
    parser.add_argument("nbgrader_args", nargs=argparse.REMAINDER,
                        help="passed on to nbgrader autograde (e.g. --force)")
    args = parser.parse_args(argv)
    try:
        grader_identity()
    except ConfinementError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    command = ["nbgrader", "autograde", args.assignment, *args.nbgrader_args]
    print("$", " ".join(command), flush=True)
    process = subprocess.Popen(command, cwd=ROOT, env=venv_environment(), text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines = []
    for line in process.stdout:
        print(line, end="", flush=True)
        lines.append(line)
    status = process.wait()
    attention = needing_attention("".join(lines))
    if not attention:
        print(f"autograde {args.assignment}: every student graded, nobody needs attention"
              if status == 0 else f"autograde {args.assignment}: nbgrader failed ({status})")
        return 0 if status == 0 else 2
    print(f"\nautograde {args.assignment}: {len(attention)} student(s) need attention:")
    for student, reasons in sorted(attention.items()):
        print(f"  {student}:")
        for reason in reasons:
            print(f"    - {reason}")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

