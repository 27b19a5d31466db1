"""Lesson 08's package code: the validation split, the model's new options, the scheduler and
clipping in ``lh.train``, the best checkpoint, the ablation and the honest protocol (the test
set scored once, after training), and the command line that follows the same code path.

Real MNIST at tiny budgets (a few hundred steps at most); nothing here is timed.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from test_lesson_code import lesson_definitions
from torch import nn

import lstm_helpers as lh
from lstm_helpers import cli, experiments

REPO = Path(__file__).resolve().parents[1]
LESSON = "08_beyond_the_tutorial"


# --- the split -------------------------------------------------------------------------------

@pytest.mark.parametrize("n, validation_size", [(60_000, 5_000), (10, 1), (7, 6)])
def test_the_split_has_exact_sizes_and_is_disjoint_and_complete(n, validation_size):
    train, validation = lh.split_indices(n, validation_size, seed=0)
    assert len(train) == n - validation_size and len(validation) == validation_size
    assert train.dtype == validation.dtype == torch.int64
    assert not set(train.tolist()) & set(validation.tolist())
    assert sorted(train.tolist() + validation.tolist()) == list(range(n))


def test_the_split_is_the_same_for_a_seed_and_another_for_another_seed():
    first, again, other = (lh.split_indices(60_000, 5_000, seed) for seed in (0, 0, 1))
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    assert not torch.equal(first[1], other[1])
    assert set(first[1].tolist()) != set(other[1].tolist())


def test_the_split_leaves_the_global_random_state_alone():
    lh.set_seed(123)
    expected = (random.random(), np.random.rand(), torch.rand(3))
    lh.set_seed(123)
    lh.split_indices(60_000, 5_000, seed=7)
    lh.train_validation_split(torch.zeros(100, 2), torch.arange(100), 10, seed=7)
    assert (random.random(), np.random.rand()) == expected[:2]
    assert torch.equal(torch.rand(3), expected[2])


def test_the_split_keeps_images_with_their_labels():
    images = torch.arange(1000.0).view(1000, 1)
    (train_x, train_y), (val_x, val_y) = lh.train_validation_split(images, torch.arange(1000),
                                                                   validation_size=100, seed=3)
    assert torch.equal(train_x[:, 0].long(), train_y) and torch.equal(val_x[:, 0].long(), val_y)
    assert len(val_y) == 100 and len(train_y) == 900


@pytest.mark.parametrize("n, validation_size, seed, message", [
    (100, 100, 0, "validation_size must be below the 100 images"),
    (100, 0, 0, "validation_size must be a positive integer"),
    (100, 2.5, 0, "validation_size must be a positive integer"),
    (0, 1, 0, "n must be a positive integer"),
    (100, 10, -1, "seed must be an integer from 0"),
    (100, 10, "0", "seed must be an integer from 0"),
])
def test_the_split_refuses_bad_arguments(n, validation_size, seed, message):
    with pytest.raises(ValueError, match=message):
        lh.split_indices(n, validation_size, seed)


def test_the_lessons_split_is_the_packages():
    lesson = lesson_definitions(LESSON, "split_indices")["split_indices"]
    for seed in (0, 1, 2024):
        mine, theirs = lesson(60_000, 5_000, seed), lh.split_indices(60_000, 5_000, seed)
        assert torch.equal(mine[0], theirs[0]) and torch.equal(mine[1], theirs[1])


def test_mnist_split_batches_serve_the_three_groups():
    train, validation, test = lh.mnist_split_batches(batch_size=100)
    assert len(train.images) == 55_000 and len(validation.images) == 5_000
    assert len(test.images) == 10_000 and len(train) == 550
    full, _ = lh.mnist_tensors(True)
    _, held_out = lh.split_indices(60_000, 5_000, 0)
    assert torch.equal(validation.images, full[held_out])


# --- the model's options -----------------------------------------------------------------------

def test_forget_bias_sets_the_forget_gates_total_and_nothing_else():
    lh.set_seed(0)
    plain = lh.LSTMModel(28, 16, 2, 10)
    lh.set_seed(0)
    opened = lh.LSTMModel(28, 16, 2, 10, forget_bias=1.0)
    forget = slice(16, 32)
    for name, parameter in opened.named_parameters():
        before = dict(plain.named_parameters())[name]
        if name.startswith("lstm.bias"):
            rest = torch.cat([parameter[:16], parameter[32:]])
            assert torch.equal(rest, torch.cat([before[:16], before[32:]])), name
        else:
            assert torch.equal(parameter, before), name
    for layer in range(2):
        total = (getattr(opened.lstm, f"bias_ih_l{layer}")[forget]
                 + getattr(opened.lstm, f"bias_hh_l{layer}")[forget])
        assert torch.allclose(total, torch.ones(16))


def test_dropout_acts_between_layers_only_when_training():
    lh.set_seed(0)
    model = lh.LSTMModel(28, 16, 2, 10, dropout=0.5)
    assert model.lstm.dropout == 0.5
    x = torch.rand(8, 28, 28)
    model.eval()
    assert torch.equal(model(x), model(x))
    model.train()
    assert not torch.equal(model(x), model(x))


@pytest.mark.parametrize("kwargs, message", [
    ({"layer_dim": 1, "dropout": 0.2}, "needs layer_dim >= 2"),
    ({"layer_dim": 2, "dropout": 1.0}, "dropout must be a probability"),
    ({"layer_dim": 2, "dropout": -0.1}, "dropout must be a probability"),
    ({"layer_dim": 1, "forget_bias": math.nan}, "forget_bias must be a finite number"),
    ({"layer_dim": 1, "forget_bias": "1"}, "forget_bias must be a finite number"),
])
def test_the_models_options_refuse_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        lh.LSTMModel(input_dim=28, hidden_dim=16, output_dim=10, **kwargs)


def test_checkpoints_record_and_rebuild_dropout_and_forget_bias(tmp_path):
    lh.set_seed(0)
    model = lh.LSTMModel(28, 16, 2, 10, dropout=0.25, forget_bias=1.0)
    lh.save_checkpoint(tmp_path / "m.pt", model)
    loaded, _ = lh.load_checkpoint(tmp_path / "m.pt")
    assert loaded.hyperparameters() == model.hyperparameters()
    assert loaded.dropout == 0.25 and loaded.forget_bias == 1.0 and loaded.lstm.dropout == 0.25
    with pytest.raises(lh.CheckpointError, match="dropout 0.25 \\(checkpoint\\) vs None"):
        lh.load_checkpoint(tmp_path / "m.pt", model=lh.LSTMModel(28, 16, 2, 10, forget_bias=1.0))
    assert lh.LSTMModel(28, 16, 2, 10).hyperparameters() == {  # the tutorial's, as before
        "input_dim": 28, "hidden_dim": 16, "layer_dim": 2, "output_dim": 10}


# --- training: schedule, clipping, validation ----------------------------------------------

@pytest.fixture(scope="module")
def split():
    return lh.mnist_split_batches(batch_size=100)


def _small(n_iters: int, **changes) -> lh.Recipe:
    return dataclasses.replace(lh.NAMED_RECIPES["lesson08"], n_iters=n_iters, **changes)


def test_the_recipe_learns_at_a_small_budget_with_its_schedule_and_clipping(split, tmp_path):
    """Through the lesson's code path: 150 steps reach 80% on validation; the learning rates
    used are OneCycleLR's, step by step; clipping bounds every step's gradient."""
    train_batches, validation_batches, test_batches = split
    recipe = _small(150)
    seen_norms = []
    real_step = torch.optim.Adam.step

    def watched_step(self, *args, **kwargs):
        grads = [p.grad for group in self.param_groups for p in group["params"]
                 if p.grad is not None]
        seen_norms.append(torch.linalg.vector_norm(
            torch.stack([torch.linalg.vector_norm(g) for g in grads])).item())
        return real_step(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(torch.optim.Adam, "step", watched_step)
        outcome = lh.train_validate_test(recipe, train_batches, validation_batches,
                                         test_batches, tmp_path / "best.pt", seed=0,
                                         eval_every=50, progress=False)
    history = outcome.history
    assert [e.split for e in history.evaluations] == ["validation"] * 3
    assert outcome.best.accuracy >= 80, outcome.best

    optimizer = torch.optim.Adam([nn.Parameter(torch.zeros(1))], lr=recipe.learning_rate)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=recipe.learning_rate,
                                                   total_steps=150)
    expected = []
    for _ in range(150):
        expected.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    assert history.learning_rates == pytest.approx(expected, rel=1e-12)
    peak = history.learning_rates.index(max(history.learning_rates))
    assert 40 <= peak <= 50  # up for 30% of the steps, then down
    assert history.learning_rates[-1] < recipe.learning_rate / 1000

    assert len(history.grad_norms) == len(seen_norms) == 150
    assert max(seen_norms) <= recipe.clip_grad_norm * (1 + 1e-4)
    assert max(history.grad_norms) > recipe.clip_grad_norm  # clipping took effect
    for before, after in zip(history.grad_norms, seen_norms, strict=True):
        assert after == pytest.approx(min(before, recipe.clip_grad_norm), rel=1e-3)


class _Watched:
    """Batches that write to a shared log every time one is handed out."""

    def __init__(self, batches, name: str, log: list):
        self.batches, self.name, self.log = batches, name, log

    def __len__(self):
        return len(self.batches)

    def __iter__(self):
        for batch in self.batches:
            self.log.append(self.name)
            yield batch


def test_the_protocol_scores_the_test_set_once_after_training(split, tmp_path):
    train_batches, validation_batches, test_batches = split
    log: list[str] = []
    watched = [_Watched(b, name, log) for b, name in
               ((train_batches, "train"), (validation_batches, "validation"),
                (test_batches, "test"))]
    outcome = lh.train_validate_test(_small(60), *watched, tmp_path / "best.pt", seed=0,
                                     eval_every=20, progress=False)
    assert log.count("train") == 60
    assert log.count("test") == len(test_batches)  # every test batch once: one pass
    first_test = log.index("test")
    assert "train" not in log[first_test:] and "validation" not in log[first_test:]
    _, metadata = lh.load_checkpoint(tmp_path / "best.pt")
    assert metadata["test_accuracy"] == outcome.test_accuracy
    assert metadata["iteration"] == outcome.best.iteration
    assert metadata["accuracy"] == max(e.accuracy for e in outcome.history.evaluations)


def test_the_best_checkpoint_keeps_the_best_evaluation(tmp_path):
    keep = lh.best_checkpoint_callback(tmp_path / "best.pt", run="x")
    models = [lh.LSTMModel(28, 4, 1, 10) for _ in range(4)]
    accuracies = [50.0, 70.0, 70.0, 60.0]
    for iteration, (accuracy, model) in enumerate(zip(accuracies, models, strict=True), 1):
        keep(lh.Evaluation(iteration, 1.0, accuracy, "validation"), model)
    loaded, metadata = lh.load_checkpoint(tmp_path / "best.pt")
    assert metadata == {"run": "x", "iteration": 2, "loss": 1.0, "accuracy": 70.0,
                        "split": "validation"}
    for name, parameter in loaded.state_dict().items():
        assert torch.equal(parameter, models[1].state_dict()[name])


def test_train_scores_one_set_and_checks_its_scheduler(split):
    train_batches, validation_batches, test_batches = split
    model = lh.LSTMModel(28, 8, 1, 10)
    optimizer = torch.optim.Adam(model.parameters())
    other = torch.optim.Adam(lh.LSTMModel(28, 8, 1, 10).parameters())
    cases = [
        ({"test_batches": test_batches, "validation_batches": validation_batches},
         "scores one set during training"),
        ({"test_batches": None}, "needs the batches to score"),
        ({"test_batches": test_batches, "clip_grad_norm": 0}, "clip_grad_norm must be"),
        ({"test_batches": test_batches, "scheduler": torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=0.01, total_steps=5)}, "has 5 steps, fewer than the 10"),
        ({"test_batches": test_batches, "scheduler": torch.optim.lr_scheduler.StepLR(
            other, 5)}, "not built on this optimizer"),
        ({"test_batches": test_batches, "scheduler":
            torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer)}, "ReduceLROnPlateau"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            lh.train(model, nn.CrossEntropyLoss(), optimizer, train_batches, n_iters=10,
                     log=None, progress=False, **kwargs)


def test_the_log_line_names_the_validation_set():
    assert str(lh.Evaluation(5, 0.5, 97.0, "validation")) == (
        "Iteration: 5. Loss: 0.5000. Validation accuracy: 97.00")
    assert str(lh.Evaluation(5, 0.5, 97.0)) == "Iteration: 5. Loss: 0.5000. Accuracy: 97.00"


# --- the ablation ------------------------------------------------------------------------------

def test_a_tiny_ablation_makes_its_table_and_its_choice_from_the_runs():
    images, labels = lh.mnist_tensors(True)
    (train_x, train_y), (val_x, val_y) = lh.train_validation_split(images[:3000], labels[:3000],
                                                                   500, seed=0)
    train_batches = lh.TensorBatches(train_x, train_y, 50, shuffle=True)
    validation_batches = lh.TensorBatches(val_x, val_y, 500)
    start = lh.Recipe("tiny", hidden_dim=8, n_iters=20)
    ingredients = [lh.Ingredient("Adam", [{"optimizer": "adam", "learning_rate": 0.01}]),
                   lh.Ingredient("width", [{"hidden_dim": 4}, {"hidden_dim": 16},
                                           {"hidden_dim": 512}])]
    ablation = lh.run_ablation(start, ingredients, train_batches, validation_batches,
                               seeds=[0, 1], max_cost=lh.lstm_cost(
                                   dataclasses.replace(start, hidden_dim=16)), progress=False)
    assert [row.step for row in ablation.rows] == ["start", "Adam", "width", "width", "width"]
    trained = [row for row in ablation.rows if row.fits]
    assert [row.recipe.hidden_dim for row in ablation.rows if not row.fits] == [512]
    table = ablation.table().splitlines()
    assert len(table) == 2 + len(ablation.rows)
    for row, line in zip(ablation.rows, table[2:], strict=True):
        if not row.fits:
            assert "not trained" in line and not row.histories
            continue
        accuracies = [history.final_accuracy for history in row.histories]
        assert len(accuracies) == 2 and all(len(h.train_loss) == 20 for h in row.histories)
        assert f"| {sum(accuracies) / 2:.2f}% |" in line
        assert f"| {max(accuracies) - min(accuracies):.2f} |" in line
        assert line.endswith("| yes |") == row.kept
    # The choice follows the rule: each kept row beats the row kept before it.
    current = trained[0]
    for row in trained[1:]:
        group = [r for r in trained if r.step == row.step]
        if row.kept:
            assert row.accuracy > current.accuracy and row.accuracy == max(
                r.accuracy for r in group)
            current = row
    assert ablation.chosen == current.recipe


def test_the_ablation_refuses_what_would_not_compare():
    with pytest.raises(ValueError, match="sets n_iters"):
        lh.run_ablation(lh.Recipe("x"), [lh.Ingredient("longer", [{"n_iters": 5}])], [], [])
    with pytest.raises(ValueError, match="not Recipe fields"):
        lh.Ingredient("typo", [{"hiden_dim": 5}])


# --- the command line ---------------------------------------------------------------------------

def test_the_command_line_and_the_lessons_code_path_give_the_same_run(split, tmp_path, capsys,
                                                                        monkeypatch):
    outcomes = []
    real = experiments.train_validate_test

    def recorded(*args, **kwargs):
        outcomes.append(real(*args, **kwargs))
        return outcomes[-1]

    monkeypatch.setattr(cli, "train_validate_test", recorded)
    monkeypatch.setenv("TQDM_DISABLE", "1")
    status = cli.main(["train", "--recipe", "lesson08", "--iters", "40", "--eval-every", "20",
                       "--device", "cpu", "--checkpoint", str(tmp_path / "cli.pt")])
    out = capsys.readouterr().out
    assert status == 0
    assert "Validation accuracy" in out and "test accuracy (the test set scored once" in out
    train_batches, validation_batches, test_batches = split
    lesson = lh.train_validate_test(_small(40), train_batches, validation_batches,
                                    test_batches, tmp_path / "lesson.pt", seed=0,
                                    eval_every=20, progress=False)
    cli_outcome = outcomes[0]
    assert cli_outcome.history.train_loss == lesson.history.train_loss
    assert cli_outcome.history == lesson.history
    assert cli_outcome.test_accuracy == lesson.test_accuracy
    assert f"{lesson.test_accuracy:.2f}%" in out


@pytest.mark.parametrize("argv, message", [
    (["train", "--recipe", "lesson08", "--model", "A"], "lesson08 decides --model itself"),
    (["train", "--recipe", "lesson08", "--lr", "0.1"], "decides --lr itself"),
    (["train", "--recipe", "lesson08", "--epochs", "2", "--iters", "5"], "not both"),
    (["train", "--model", "A", "--epochs", "2"], "argument --epochs: goes with --recipe"),
    (["train", "--recipe", "lesson08", "--validation-size", "60000"], "leaves none of"),
    (["train", "--recipe", "nope"], "argument --recipe: invalid choice"),
])
def test_the_command_line_refuses_a_mixed_protocol(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert message in " ".join(capsys.readouterr().err.split())


# --- the stored lesson ---------------------------------------------------------------------------

def test_the_named_recipe_is_the_one_the_lesson_chose():
    """The stored run prints its chosen recipe as JSON; the command line's lesson08 is it."""
    notebook = json.loads((REPO / "notebooks" / f"{LESSON}.ipynb").read_text(encoding="utf-8"))
    text = "".join("".join(output.get("text", "")) for cell in notebook["cells"]
                   for output in cell.get("outputs", []))
    found = re.search(r"chosen recipe: (\{.*\})", text)
    assert found, "the stored lesson prints no 'chosen recipe: {...}' line"
    chosen = json.loads(found[1])
    named = dataclasses.asdict(lh.NAMED_RECIPES["lesson08"])
    assert {key: chosen[key] for key in named if key != "name"} == {
        key: value for key, value in named.items() if key != "name"}
