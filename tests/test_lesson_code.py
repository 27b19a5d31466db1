"""The lessons' code and the package's code are the same thing, proved on real MNIST.

``notebooks/01_model_a.py`` writes out the two pieces of code the tutorial teaches: the model
class (Step 3) and the training loop (Step 7). ``notebooks/04_gpu.py`` writes them again with
the device moves in sight. Later lessons reuse the package's copies, ``lh.LSTMModel`` and
``lh.train``. These tests load the class and the loop from the notebooks' sources (only the
cells that define them, never the whole notebook, and nothing copied here) and check that
they build the same parameters, compute the same logits and train to the same losses and
accuracies as the package. They also check that Models B and C change only Step 4.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import jupytext
import pytest
import torch
from torch import nn

import lstm_helpers as lh

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
# The notebooks that write the class and the loop out in cells.
WRITTEN_OUT = ["01_model_a", "04_gpu"]
DEFINITIONS = (ast.ClassDef, ast.FunctionDef)


def _code_cells(name: str) -> list[str]:
    notebook = jupytext.read(NOTEBOOKS / f"{name}.py")
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def lesson_definitions(name: str, *wanted: str) -> dict:
    """Run the import statements of ``notebooks/<name>.py`` and the code cells that define
    ``wanted`` (classes or functions at a cell's top level); return the namespace.

    Nothing else of the notebook runs: no data is loaded, no model trained. A defining cell
    may hold definitions and simple assignments only, so that running it has no effect.
    """
    path = NOTEBOOKS / f"{name}.py"
    trees = [ast.parse(source, filename=str(path)) for source in _code_cells(name)]
    imports = [node for tree in trees for node in tree.body
               if isinstance(node, (ast.Import, ast.ImportFrom))]
    namespace: dict = {}
    exec(compile(ast.Module(body=imports, type_ignores=[]), str(path), "exec"), namespace)
    found = set()
    for tree in trees:
        defined = {node.name for node in tree.body if isinstance(node, DEFINITIONS)}
        if not defined & set(wanted):
            continue
        others = [node for node in tree.body if not isinstance(node, (*DEFINITIONS, ast.Assign))]
        assert not others, (f"{path.name}: the cell defining {sorted(defined)} also runs code "
                            f"(line {others[0].lineno}); keep definitions in cells of their own")
        exec(compile(tree, str(path), "exec"), namespace)
        found |= defined
    missing = set(wanted) - found
    assert not missing, f"{path.name} defines no {sorted(missing)} at a cell's top level"
    return namespace


@pytest.fixture(scope="module")
def mnist():
    """The course's Step 2 on the real data: batches of 100, test batches of 1000."""
    return lh.mnist_batches(batch_size=100)


# --- (a) the class of Step 3 ---------------------------------------------------------------

@pytest.mark.parametrize("layer_dim", [1, 3])
@pytest.mark.parametrize("notebook", WRITTEN_OUT)
def test_the_lessons_class_and_the_packages_build_the_same_model(notebook, layer_dim, mnist):
    lesson_class = lesson_definitions(notebook, "LSTMModel")["LSTMModel"]
    lh.set_seed(0)
    lesson_model = lesson_class(28, 100, layer_dim, 10)
    lh.set_seed(0)
    package_model = lh.LSTMModel(28, 100, layer_dim, 10)

    lesson_parameters = dict(lesson_model.named_parameters())
    package_parameters = dict(package_model.named_parameters())
    assert list(lesson_parameters) == list(package_parameters)  # names, in the same order
    for name, parameter in package_parameters.items():
        assert lesson_parameters[name].shape == parameter.shape, name
        assert torch.equal(lesson_parameters[name], parameter), f"{name} starts elsewhere"

    images, _ = next(iter(mnist[1]))  # 1000 real test images, (1000, 28, 28)
    with torch.inference_mode():
        lesson_logits, package_logits = lesson_model(images), package_model(images)
    assert lesson_logits.shape == (1000, 10)
    assert torch.equal(lesson_logits, package_logits)


# --- (b) the loop of Step 7 ----------------------------------------------------------------

N_ITERS, EVAL_EVERY = 100, 50


def _tutorial_model_a(model_class):
    """Model A with the tutorial's sizes and optimizer, built right after seeding with 0."""
    lh.set_seed(0)
    model = model_class(28, 100, 1, 10)
    return model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1)


@pytest.fixture(scope="module")
def package_history(mnist):
    """lh.LSTMModel trained by lh.train: 100 iterations from seed 0 on the real data."""
    model, criterion, optimizer = _tutorial_model_a(lh.LSTMModel)
    return lh.train(model, criterion, optimizer, *mnist, n_iters=N_ITERS,
                    eval_every=EVAL_EVERY, log=None, progress=False)


@pytest.mark.parametrize("notebook", WRITTEN_OUT)
def test_the_lessons_loop_and_lh_train_give_the_same_history(notebook, mnist, package_history,
                                                             capsys):
    lesson = lesson_definitions(notebook, "LSTMModel", "evaluate_accuracy", "train_model")
    model, criterion, optimizer = _tutorial_model_a(lesson["LSTMModel"])
    history = lesson["train_model"](model, criterion, optimizer, *mnist, n_iters=N_ITERS,
                                    eval_every=EVAL_EVERY, seq_dim=28, input_dim=28)

    assert len(history.train_loss) == N_ITERS
    assert history.train_loss == package_history.train_loss  # every loss, bit for bit
    assert history.evaluations == package_history.evaluations
    assert [e.iteration for e in history.evaluations] == [50, 100]
    # The loop prints the tutorial's log line, in the format of lh.Evaluation.
    printed = capsys.readouterr().out.splitlines()
    assert printed == [str(e) for e in package_history.evaluations]


def test_the_lessons_loop_restores_training_mode_and_honours_the_test_set(mnist):
    """evaluate_accuracy leaves the model in training mode, records no gradient, and counts
    every one of the 10,000 test images (a model that always says 1 scores 11.35%)."""
    evaluate_accuracy = lesson_definitions("01_model_a", "evaluate_accuracy")["evaluate_accuracy"]

    class AlwaysOne(nn.Module):
        def __init__(self):
            super().__init__()
            self.calls = []

        def forward(self, x):
            self.calls.append((self.training, torch.is_grad_enabled()))
            return torch.zeros(len(x), 10).index_fill_(1, torch.tensor([1]), 1.0)

    model = AlwaysOne()
    accuracy = evaluate_accuracy(model, mnist[1], 28, 28)
    assert accuracy == pytest.approx(100 * 1135 / 10000)  # the test set holds 1135 ones
    assert model.training
    assert set(model.calls) == {(False, False)}


# --- Models B and C change Step 4 only -----------------------------------------------------

def _steps(name: str) -> dict[int, list[str]]:
    """The code cells under each '## Step N' heading (several steps may share one heading,
    as in '## Steps 1 and 2'), up to the next '## ' heading."""
    notebook = jupytext.read(NOTEBOOKS / f"{name}.py")
    steps: dict[int, list[str]] = {}
    current: list[int] = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            heading = re.search(r"^## (.*)$", cell.source, re.MULTILINE)
            if heading:
                current = ([int(n) for n in re.findall(r"\d", heading.group(1))]
                           if heading.group(1).startswith("Step") else [])
                for number in current:
                    steps.setdefault(number, [])
        elif current:
            steps[current[0]].append(cell.source.strip())
    return steps


def _code(source: str) -> str:
    """The code of a cell without its comments and layout, for comparing two cells."""
    return ast.dump(ast.parse(source))


def _without_layer_dim(source: str) -> tuple[str, int]:
    """The cell's code minus its ``layer_dim = N`` statement, and N."""
    tree = ast.parse(source)
    kept, values = [], []
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and getattr(node.targets[0], "id", None) == "layer_dim"):
            values.append(ast.literal_eval(node.value))
        else:
            kept.append(node)
    assert len(values) == 1, f"expected one `layer_dim = N` statement in:\n{source}"
    return ast.dump(ast.Module(body=kept, type_ignores=[])), values[0]


def _training_call(cells: list[str]) -> str:
    calls = [cell for cell in cells if "history = train_model(" in cell]
    assert len(calls) == 1, "expected one cell that trains: history = train_model(...)"
    return _code(calls[0])


@pytest.mark.parametrize("notebook, layer_dim", [("02_model_b", 2), ("03_model_c", 3)])
def test_models_b_and_c_differ_from_model_a_in_step_4_only(notebook, layer_dim):
    """Comments may differ; code may not, except in Step 4 and the reuse lines."""
    model_a, other = _steps("01_model_a"), _steps(notebook)
    assert sorted(model_a) == sorted(other) == list(range(1, 8))
    # Steps 1, 2, 5 and 6: every cell of the other notebook is one of Model A's, in Model A's
    # order (Model A has a few more cells that explore the data and the parameters).
    for step in (1, 2, 5, 6):
        remaining = iter(_code(cell) for cell in model_a[step])
        for cell in other[step]:
            assert any(_code(cell) == mine for mine in remaining), \
                f"{notebook}, Step {step}: a cell that is not Model A's:\n{cell}"
    # Step 4: Model A's cell but for the number of layers.
    code, value = _without_layer_dim(other[4][0])
    assert value == layer_dim
    assert code == _without_layer_dim(model_a[4][0])[0]
    # Step 3 and Step 7: the class and the loop of Model A, taken from the package, and the
    # very call that trains Model A.
    assert [_code(cell) for cell in other[3]] == [_code("LSTMModel = lh.LSTMModel")]
    assert _code(other[7][0]) == _code("train_model = lh.train")
    assert _training_call(other[7]) == _training_call(model_a[7])


def test_no_lesson_prints_package_source_instead_of_showing_code():
    for path in sorted(NOTEBOOKS.rglob("*.py")):
        assert "getsource" not in path.read_text(encoding="utf-8"), path.name
