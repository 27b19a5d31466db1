"""What the grader runs for one exercise notebook, read from nbgrader's source notebook.

Every code cell of the source is one of three kinds (by its nbgrader metadata):

* an **answer** cell (``solution``): the student's code, taken from the submission;
* a **check** cell (``grade``, locked): one or more calls ``checks.check_NAME(arg, ...)
  .require()``, every argument a plain name. The grader calls each visible check with the same
  arguments, then the exercise's ``hidden_check_NAME`` if ``hidden-checks/<exercise>.py``
  defines one; the cell scores its points when every call passed;
* a **locked** cell (everything else): the teacher's code, taken from the source.

An argument that an answer cell defines (``count_parameters``) is the student's answer. Every
other argument (a model, batches) is taken from a namespace in which only locked cells ran,
before any student code: the cells that make those names (a backward slice over the names the
cells store and load), so that no answer cell can rebind or change what a check is handed.
With the answers, the grader runs only the locked cells they use (the same slice): the
demonstrations and the baseline runs of a notebook decide nothing.

Pure standard library and no state: the grader process reads its plan before student code.
"""

from __future__ import annotations

import ast
import re
import symtable
from dataclasses import dataclass, field

CHECK_PREFIX = "check_"
HIDDEN_PREFIX = "hidden_"
MAGIC = re.compile(r"^\s*[%!]")


class PlanError(ValueError):
    """The source notebook cannot be graded as written; the message names the cell."""


@dataclass
class Plan:
    """The grader's plan: cells in notebook order, and what each check cell calls."""

    cells: list[dict] = field(default_factory=list)  # {"kind", "grade_id", "source"}
    answers: list[str] = field(default_factory=list)  # names the answer cells define
    calls: dict[str, list[tuple[str, list[str]]]] = field(default_factory=dict)  # grade id ->
    #                                                   [(check name, argument names)]
    trusted: list[int] = field(default_factory=list)  # locked cells run before student code
    feeding: list[int] = field(default_factory=list)  # locked cells the answer cells need

    def use_answers(self, sources: dict[str, str]) -> None:
        """Put a submission's answer cells (``{grade id: source}``) in, and choose the locked
        cells to run with them: those that make what these answers read (their imports, the
        tensors they slice), not the demonstrations."""
        used = set()
        for cell in self.cells:
            if cell["kind"] == "answer":
                cell["source"] = sources.get(cell["grade_id"], "")
                try:
                    used |= global_names(cell["source"])
                except SyntaxError:
                    pass  # it fails in the grader as in the notebook
        self.feeding = locked_slice(self.cells, used - set(self.answers))

    def as_job(self) -> dict:
        return {"cells": self.cells, "answers": self.answers, "trusted": self.trusted,
                "feeding": self.feeding,
                "calls": {grade_id: [[name, args] for name, args in calls]
                          for grade_id, calls in self.calls.items()}}


def python_of(source: str) -> str:
    """A cell's source with IPython's magic and shell lines blanked, as Python to compile."""
    return "\n".join("" if MAGIC.match(line) else line for line in source.split("\n"))


def _parse(source: str, where: str) -> ast.Module:
    try:
        return ast.parse(python_of(source))
    except SyntaxError as error:
        raise PlanError(f"{where}: not valid Python (line {error.lineno}: {error.msg})") from error


def stored_names(tree: ast.AST) -> set[str]:
    """Names a cell binds in its own namespace (assignments, imports, defs, loops, with):
    not the local variables of the functions and classes it defines."""
    names: set[str] = set()
    waiting = list(ast.iter_child_nodes(tree))
    while waiting:
        node = waiting.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue  # its body is its own namespace
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
                             ast.GeneratorExp)):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        waiting.extend(ast.iter_child_nodes(node))
    return names


def loaded_names(tree: ast.AST) -> set[str]:
    return {node.id for node in ast.walk(tree)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


def global_names(source: str) -> set[str]:
    """The names a cell reads from the notebook's namespace: at its top level, and inside its
    functions and classes those that are not their own (parameters and locals are not)."""
    names: set[str] = set()
    tables = [symtable.symtable(python_of(source), "cell", "exec")]
    while tables:
        table = tables.pop()
        for symbol in table.get_symbols():
            if symbol.is_referenced() and (table.get_type() == "module" or symbol.is_global()):
                names.add(symbol.get_name())
        tables.extend(table.get_children())
    return names


def check_calls(source: str, where: str) -> list[tuple[str, list[str]]]:
    """``[(check name, argument names)]`` of a check cell.

    Raises:
        PlanError: a statement that is not ``checks.check_NAME(name, ...).require()``.
    """
    calls = []
    for statement in _parse(source, where).body:
        call = statement.value if isinstance(statement, ast.Expr) else None
        inner = call.func.value if (isinstance(call, ast.Call) and isinstance(
            call.func, ast.Attribute) and call.func.attr == "require") else None
        if not (isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute)
                and inner.func.attr.startswith(CHECK_PREFIX) and not inner.keywords
                and all(isinstance(arg, ast.Name) for arg in inner.args)):
            raise PlanError(
                f"{where}, line {statement.lineno}: a check cell holds only calls "
                f"`checks.check_NAME(answer, ...).require()` with plain names as arguments "
                f"(hidden tests go in classroom/grading/hidden-checks/<exercise>.py as "
                f"hidden_check_NAME, which the grader calls with the same arguments)")
        calls.append((inner.func.attr, [arg.id for arg in inner.args]))
    if not calls:
        raise PlanError(f"{where}: a check cell without a check call")
    return calls


def locked_slice(cells: list[dict], wanted: set[str], avoid: set[str] = frozenset()
                 ) -> list[int]:
    """Indices of the locked cells that make ``wanted`` (and what those cells use in turn),
    leaving out any cell that loads a name in ``avoid``."""
    chosen, wanted = [], set(wanted)
    for index in reversed(range(len(cells))):
        if cells[index]["kind"] != "locked":
            continue
        tree = _parse(cells[index]["source"], f"cell {index + 1}")
        stores, loads = stored_names(tree), loaded_names(tree)
        if stores & wanted and not loads & avoid:
            chosen.append(index)
            wanted = (wanted - stores) | loads
    return sorted(chosen)


def trusted_slice(cells: list[dict], answers: set[str], needed: set[str],
                  name: str = "notebook") -> list[int]:
    """Indices of the locked cells that make ``needed`` without touching an answer.

    Raises:
        PlanError: a needed name that only a cell using an answer (or no cell) makes.
    """
    chosen = locked_slice(cells, needed, answers)
    made = set().union(*(stored_names(_parse(cells[i]["source"], "")) for i in chosen))
    missing = sorted(needed - made)
    if missing:
        raise PlanError(f"{name}: the checks are handed {', '.join(missing)}, which no locked "
                        f"cell makes without using an answer: make it in a locked cell above")
    return chosen


def grade_id_of(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def build_plan(notebook, name: str = "notebook") -> Plan:
    """The plan of nbgrader's source ``notebook`` (an nbformat notebook or its dict).

    Raises:
        PlanError: see :func:`check_calls` and :func:`trusted_slice`.
    """
    plan, answers = Plan(), set()
    for number, cell in enumerate(notebook["cells"], start=1):
        if cell["cell_type"] != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        kind = ("answer" if meta.get("solution") else "check" if meta.get("grade")
                else "locked")
        plan.cells.append({"kind": kind, "grade_id": grade_id_of(cell),
                           "source": cell["source"]})
        where = f"{name}, cell {number}"
        if kind == "answer":
            answers |= stored_names(_parse(cell["source"], where))
        elif kind == "check":
            plan.calls[meta["grade_id"]] = check_calls(cell["source"], where)
    plan.answers = sorted(answers)
    plan.use_answers({cell["grade_id"]: cell["source"] for cell in plan.cells
                      if cell["kind"] == "answer"})  # the solutions, until a submission's
    needed = {arg for calls in plan.calls.values() for _, args in calls for arg in args}
    plan.trusted = trusted_slice(plan.cells, answers, needed - answers, name)
    return plan
