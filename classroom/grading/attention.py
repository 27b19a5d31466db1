"""The lines of the autograde log a teacher must read: one per thing to look at.

Every such line starts with ``[needs attention]`` and names the student and the notebook;
``python -m classroom.autograde`` collects them into its closing list.
"""

from __future__ import annotations

import re

TAG = "[needs attention]"
# What an answer has no business touching: the checks, the interpreter's machinery, hooks.
SUSPICIOUS = re.compile(
    r"\bchecks\b|lstm_helpers|\bclassroom\b|sys\.modules|\bbuiltins\b|__builtins__|"
    r"excepthook|displayhook|audithook|_hooks?\b|register_\w*hook|\bhook\b|os\.environ|"
    r"NBGRADER|\bsetattr\(|__code__|__globals__|__class__|__closure__|\bgc\.|\bctypes\b|"
    r"importlib|\binspect\b|_getframe|\bFeedback\b|\bStatus\b|\bgrading\(|\bos\._exit|"
    r"sys\.exit|\bexec\(|\beval\(|\bsubprocess\b")


def flag(log, where: str, what: str) -> None:
    """One log line the autograde command collects: ``[needs attention] <where>: <what>``."""
    log.warning("%s %s: %s", TAG, where, what)


def suspicious_lines(answers: dict[str, str]) -> list[str]:
    """A line per answer cell that touches what an answer should not (for the teacher)."""
    found = []
    for grade_id, source in answers.items():
        hits = sorted({match.group(0) for match in SUSPICIOUS.finditer(source)})
        if hits:
            found.append(f"answer cell {grade_id} touches {', '.join(hits)}: look at it "
                         f"(the grader decided the score without trusting it)")
    return found
