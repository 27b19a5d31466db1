"""One training run from a short description: the tutorial's models and the comparison runs.

A :class:`Recipe` names everything that defines a run (architecture, sizes, optimizer,
learning rate, schedule, clipping, iterations); :func:`run_recipe` seeds, builds the model,
trains it with :func:`lstm_helpers.train` and returns the history. Used where a notebook
compares many models, so every run is set up the same way.

Lesson 08's honest protocol is here too, one code path for the lesson, the command line and
the tests: :func:`run_ablation` adds ingredients to a recipe one at a time and keeps each
one that raises the validation accuracy; :func:`train_validate_test` trains on the training
split, keeps the best model by validation accuracy in a checkpoint, reloads it and scores
the test set once, after training.
"""

from __future__ import annotations

import dataclasses
import math
import os
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from . import distributed
from .checkpoints import best_checkpoint_callback, load_checkpoint, save_checkpoint
from .models import LSTMModel, RNNModel
from .parameters import count_parameters
from .training import Evaluation, History, evaluate, set_seed, train
from .validation import finite_number

OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}
SCHEDULES = ("onecycle", "cosine")  # besides None, a constant learning rate


@dataclass(frozen=True)
class Recipe:
    """Everything that defines one run on MNIST (28 steps of 28 pixels, 10 classes).

    Attributes:
        name: a label for tables and plots, e.g. "LSTM A".
        cell: "lstm" or "rnn".
        layer_dim: stacked recurrent layers.
        hidden_dim: hidden units per layer.
        nonlinearity: "tanh" or "relu" for an RNN; ignored for an LSTM.
        optimizer: "sgd" or "adam".
        learning_rate: the optimizer's step size; with a schedule, its peak.
        n_iters: optimizer steps (batches of 100: 3000 = 5 epochs).
        batch_size: images per step, for whoever builds the batches (the command line).
        dropout: between stacked LSTM layers (needs layer_dim >= 2); see :class:`LSTMModel`.
        forget_bias: the forget gate's starting total bias, None for PyTorch's.
        schedule: None (a constant learning rate), "onecycle" (``OneCycleLR``: up from
            learning_rate / 25 to learning_rate in the first 30% of the steps, then down to
            nearly 0) or "cosine" (``CosineAnnealingLR``: from learning_rate down to 0), both
            over n_iters steps.
        clip_grad_norm: the largest total gradient norm of a step, None for no clipping.

    The fields after ``n_iters`` (lesson 08's ingredients) default to the tutorial's recipe.
    """

    name: str
    cell: str = "lstm"
    layer_dim: int = 1
    hidden_dim: int = 100
    nonlinearity: str = "tanh"
    optimizer: str = "sgd"
    learning_rate: float = 0.1
    n_iters: int = 3000
    batch_size: int = 100
    dropout: float = 0.0
    forget_bias: float | None = None
    schedule: str | None = None
    clip_grad_norm: float | None = None

    def build_model(self) -> nn.Module:
        """A fresh, randomly initialised model for MNIST rows: input_dim 28, output_dim 10
        (seed first for repeatable weights).

        Raises:
            ValueError: unknown cell, or sizes the model classes refuse.
        """
        if self.cell == "lstm":
            return LSTMModel(28, self.hidden_dim, self.layer_dim, 10, dropout=self.dropout,
                             forget_bias=self.forget_bias)
        if self.cell == "rnn":
            if self.dropout or self.forget_bias is not None:
                raise ValueError("dropout and forget_bias are LSTM options: leave them at 0 "
                                 "and None for cell='rnn'")
            return RNNModel(28, self.hidden_dim, self.layer_dim, 10, self.nonlinearity)
        raise ValueError(f"cell must be 'lstm' or 'rnn', got {self.cell!r}")

    def build_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        """The recipe's optimizer over ``model.parameters()``.

        Raises:
            ValueError: the optimizer name is not "sgd" or "adam".
        """
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, "
                             f"got {self.optimizer!r}")
        return OPTIMIZERS[self.optimizer](model.parameters(), lr=self.learning_rate)

    def build_scheduler(self, optimizer: torch.optim.Optimizer
                        ) -> torch.optim.lr_scheduler.LRScheduler | None:
        """The recipe's learning-rate schedule over ``n_iters`` steps, or None.

        Raises:
            ValueError: the schedule is not None, "onecycle" or "cosine".
        """
        if self.schedule is None:
            return None
        if self.schedule == "onecycle":
            # cycle_momentum needs a momentum or betas; SGD without momentum has neither.
            cycle = self.optimizer == "adam"
            return torch.optim.lr_scheduler.OneCycleLR(
                optimizer, max_lr=self.learning_rate, total_steps=self.n_iters,
                cycle_momentum=cycle)
        if self.schedule == "cosine":
            return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=self.n_iters)
        raise ValueError(f"schedule must be None or one of {SCHEDULES}, got {self.schedule!r}")

    def describe(self) -> str:
        """One line: what this recipe trains and how (for logs and tables)."""
        layers = f"{self.layer_dim} layer{'s' if self.layer_dim > 1 else ''}"
        parts = [f"{self.cell.upper()} {layers} of {self.hidden_dim}",
                 f"{self.optimizer} lr {self.learning_rate:g}",
                 f"schedule {self.schedule or 'constant'}",
                 f"clip {self.clip_grad_norm:g}" if self.clip_grad_norm else "no clipping",
                 f"batch {self.batch_size}", f"{self.n_iters} steps"]
        if self.dropout:
            parts.insert(1, f"dropout {self.dropout:g}")
        if self.forget_bias is not None:
            parts.insert(1, f"forget bias {self.forget_bias:g}")
        return ", ".join(parts)


def run_recipe(recipe: Recipe, train_batches: Iterable, test_batches: Iterable,
               seed: int = 0, log: Callable[[str], None] | None = None,
               progress: bool = True, eval_every: int = 500,
               device: str | torch.device | None = None,
               on_evaluation: Callable | None = None,
               autocast_dtype: torch.dtype | None = None, *,
               validation_batches: Iterable | None = None) -> tuple[nn.Module, History]:
    """Seed, build and train one recipe with cross entropy; the test set every ``eval_every``.

    With ``test_batches=None, validation_batches=...`` the validation set is scored instead
    and the test set stays out of the loop (see :func:`train_validate_test`). The recipe's
    schedule is stepped after every step and its clipping applied before it (see
    :func:`lstm_helpers.train`).

    The one training entry point of the course, for one process and for several alike. The
    seed is set right before the model is built, so runs with one seed start from the same
    weights and batch order whatever ran before them in the process. The model goes to
    ``device``, by default the device of ``train_batches``' tensors (the CPU otherwise).
    ``log``, ``progress``, ``on_evaluation`` and ``autocast_dtype`` are passed to
    :func:`lstm_helpers.train`; ``on_evaluation(record, model)`` gets the bare model.

    When a process group is set up (under ``torchrun``, see
    :func:`lstm_helpers.distributed.setup`), the model is wrapped in
    ``DistributedDataParallel`` for the training and unwrapped for ``on_evaluation`` and the
    result; only rank 0 logs, shows the progress bar and calls ``on_evaluation``. Each
    rank's ``train_batches`` are then its share of every batch
    (:class:`lstm_helpers.distributed.ShardedBatches`).

    Returns:
        (model, history): the trained (bare) model and its
        :class:`~lstm_helpers.training.History` (under DDP, the losses of this rank's share).

    Raises:
        ValueError: the recipe names an unknown cell or optimizer, a size is not a positive
            integer, or n_iters / eval_every is not a positive integer.
        TrainingDivergedError: the loss became nan or infinite.
    """
    set_seed(seed)  # under DDP: identical start everywhere (DDP also copies rank 0's weights)
    model = recipe.build_model()
    device = device if device is not None else getattr(train_batches, "device", None)
    if device is not None:
        model = model.to(device)
    trained = distributed.wrap(model) if distributed.is_distributed() else model
    first = distributed.rank() == 0

    def on_evaluation_bare(record: Evaluation, _trained: nn.Module) -> None:
        on_evaluation(record, model)  # checkpoints store the bare model, not DDP's wrapper

    optimizer = recipe.build_optimizer(model)
    history = train(trained, nn.CrossEntropyLoss(), optimizer,
                    train_batches, test_batches, n_iters=recipe.n_iters, eval_every=eval_every,
                    log=log if first else None, progress=progress and first,
                    on_evaluation=on_evaluation_bare if on_evaluation and first else None,
                    autocast_dtype=autocast_dtype, validation_batches=validation_batches,
                    scheduler=recipe.build_scheduler(optimizer),
                    clip_grad_norm=recipe.clip_grad_norm)
    return model, history


#: The tutorial's three LSTMs (SGD, learning rate 0.1, 100 hidden units).
LSTM_RECIPES = {
    "A": Recipe("LSTM A", "lstm", layer_dim=1),
    "B": Recipe("LSTM B", "lstm", layer_dim=2),
    "C": Recipe("LSTM C", "lstm", layer_dim=3),
}

#: The companion RNN page's three models (100 hidden units, SGD).
RNN_RECIPES = {
    "A": Recipe("RNN A", "rnn", layer_dim=1, nonlinearity="relu", learning_rate=0.01),
    "B": Recipe("RNN B", "rnn", layer_dim=2, nonlinearity="relu", learning_rate=0.01),
    "C": Recipe("RNN C", "rnn", layer_dim=2, nonlinearity="tanh", learning_rate=0.1),
}


# ---------------------------------------------------------------------------------------------
# Lesson 08: choosing on validation, testing once.

@dataclass
class Outcome:
    """What :func:`train_validate_test` returns.

    Attributes:
        recipe: the recipe trained.
        history: the training losses and the validation evaluations.
        best: the best validation evaluation: the model kept.
        model: that model, reloaded from ``checkpoint`` (eval mode).
        checkpoint: the file holding it (``lstm_helpers.load_checkpoint`` reads it).
        test_accuracy: its accuracy (%) on the test set, scored once, after training.
        parameters: its number of trainable parameters.
    """

    recipe: Recipe
    history: History
    best: Evaluation
    model: nn.Module
    checkpoint: Path
    test_accuracy: float
    parameters: int

    @property
    def seconds(self) -> float:
        """Training time (s), validation passes included; the test pass is not."""
        return self.history.seconds


def train_validate_test(recipe: Recipe, train_batches: Iterable, validation_batches: Iterable,
                        test_batches: Iterable, checkpoint: str | os.PathLike, seed: int = 0,
                        eval_every: int | None = None,
                        log: Callable[[str], None] | None = None, progress: bool = True,
                        device: str | torch.device | None = None, **metadata) -> Outcome:
    """The honest protocol: train, keep the best model by validation, test it once.

    1. :func:`run_recipe` trains ``recipe`` (seeded with ``seed``) on ``train_batches`` and
       scores ``validation_batches`` every ``eval_every`` iterations (default: once per
       epoch, ``len(train_batches)``, and at the end); the test batches are not touched.
    2. :func:`lstm_helpers.best_checkpoint_callback` writes the model to ``checkpoint``
       whenever its validation accuracy beats every earlier one.
    3. After training, the best model is reloaded with :func:`lstm_helpers.load_checkpoint`
       and scored on ``test_batches``: the only pass over the test set. Its test accuracy is
       added to the checkpoint's metadata (with the recipe, the seed and ``metadata``).

    Returns:
        Outcome: the history, the best evaluation, the reloaded model and its test accuracy.

    Raises:
        ValueError: ``checkpoint`` cannot be written (checked before training), or see
            :func:`run_recipe`; no ``eval_every`` for training batches without a length
            (an epoch's size is then unknown).
        TrainingDivergedError: the loss became nan or infinite.
    """
    if eval_every is None:
        if not hasattr(train_batches, "__len__"):
            raise ValueError("train_validate_test() needs eval_every when train_batches has "
                             "no len(): pass eval_every=<iterations per epoch>")
        eval_every = len(train_batches)
    recipe_data = dataclasses.asdict(recipe)
    keep_best = best_checkpoint_callback(checkpoint, recipe=recipe_data, seed=seed, **metadata)
    _, history = run_recipe(recipe, train_batches, None, seed=seed, log=log,
                            progress=progress, eval_every=eval_every, device=device,
                            on_evaluation=keep_best, validation_batches=validation_batches)
    model, stored = load_checkpoint(checkpoint, map_location=device or "cpu")
    model.eval()
    test_accuracy = evaluate(model, test_batches)  # the one pass over the test set
    save_checkpoint(checkpoint, model, **{**stored, "test_accuracy": test_accuracy,
                                          "training_seconds": history.seconds})
    return Outcome(recipe, history, history.best, model, Path(checkpoint), test_accuracy,
                   count_parameters(model))


@dataclass(frozen=True)
class Ingredient:
    """One change tried on the recipe: its name and the :class:`Recipe` fields it sets.

    ``options`` holds one or more alternatives (each a dict of fields); the best of them on
    validation is the one compared with the recipe without it. E.g.
    ``Ingredient("width", [{"hidden_dim": 64}, {"hidden_dim": 128}])``.
    """

    name: str
    options: Sequence[dict]

    def __post_init__(self):
        if not self.options:
            raise ValueError(f"ingredient {self.name!r} has no option to try")
        fields = {f.name for f in dataclasses.fields(Recipe)}
        unknown = sorted({key for option in self.options for key in option} - fields)
        if unknown:
            raise ValueError(f"ingredient {self.name!r} sets {unknown}, which are not Recipe "
                             f"fields; the fields are {sorted(fields)}")


def lstm_cost(recipe: Recipe, seq_dim: int = 28, input_dim: int = 28,
              output_dim: int = 10) -> int:
    """Multiply-adds of one forward pass over one image: a machine-free measure of a
    recipe's cost per step (training costs about three times as much, for every recipe).

    Each recurrent layer does, per time step, ``gates * hidden * (inputs + hidden)``
    multiply-adds (4 gates for an LSTM, 1 for an RNN), its inputs being the image row for
    the first layer and the layer below's hidden state after; the readout adds
    ``hidden * output_dim`` once.
    """
    gates = 4 if recipe.cell == "lstm" else 1
    hidden, per_step = recipe.hidden_dim, 0
    for layer in range(recipe.layer_dim):
        inputs = input_dim if layer == 0 else hidden
        per_step += gates * hidden * (inputs + hidden)
    return seq_dim * per_step + hidden * output_dim


@dataclass
class AblationRow:
    """One run of an ablation: a recipe trained with several seeds, scored on validation.

    Attributes:
        step: the ingredient tried ("start" for the starting recipe).
        change: the fields it set, as text.
        recipe: the recipe trained.
        histories: one :class:`History` per seed, in ``seeds`` order.
        seeds: the seeds.
        kept: whether this recipe became the current one.
        fits: False when the recipe costs more than the ablation's ``max_cost``: it was
            not trained (no histories), and its accuracies are nan.
    """

    step: str
    change: str
    recipe: Recipe
    histories: list[History]
    seeds: list[int]
    kept: bool = False
    fits: bool = True

    @property
    def accuracies(self) -> list[float]:
        """Each seed's final validation accuracy (%)."""
        return [history.final_accuracy for history in self.histories]

    @property
    def accuracy(self) -> float:
        """The mean over seeds of the final validation accuracy (%); nan if not trained."""
        return statistics.fmean(self.accuracies) if self.histories else math.nan

    @property
    def spread(self) -> float:
        """Seed-to-seed noise: the largest minus the smallest accuracy over seeds (points)."""
        return max(self.accuracies) - min(self.accuracies) if self.histories else math.nan

    @property
    def seconds(self) -> float:
        """Mean training time (s) of one run, validation passes included; nan if not
        trained."""
        if not self.histories:
            return math.nan
        return statistics.fmean(history.seconds for history in self.histories)

    @property
    def cost(self) -> int:
        """The recipe's multiply-adds per image (see :func:`lstm_cost`)."""
        return lstm_cost(self.recipe)


@dataclass
class Ablation:
    """What :func:`run_ablation` returns: every run, and the recipe they chose."""

    rows: list[AblationRow] = field(default_factory=list)
    chosen: Recipe | None = None

    def table(self) -> str:
        """The rows as a Markdown table computed from the histories: validation accuracy
        (mean over seeds), its spread, the seconds of one run, and whether it was kept."""
        lines = ["| step | change | validation accuracy | seed spread | seconds per run "
                 "| multiply-adds per image | kept |", "|---|---|---|---|---|---|---|"]
        for row in self.rows:
            if not row.fits:
                lines.append(f"| {row.step} | {row.change} | not trained: over the budget | "
                             f"| | {row.cost:,} | no |")
                continue
            lines.append(f"| {row.step} | {row.change} | {row.accuracy:.2f}% | "
                         f"{row.spread:.2f} | {row.seconds:.1f} s | {row.cost:,} | "
                         f"{'yes' if row.kept else 'no'} |")
        return "\n".join(lines)


def _change_text(option: dict) -> str:
    return ", ".join(f"{key} {value}" for key, value in option.items())


def run_ablation(start: Recipe, ingredients: Sequence[Ingredient], train_batches: Iterable,
                 validation_batches: Iterable, seeds: Sequence[int] = (0, 1),
                 margin: float = 0.0, max_cost: int | None = None,
                 eval_every: int | None = None, log: Callable[[str], None] | None = None,
                 progress: bool = True) -> Ablation:
    """Build a recipe one ingredient at a time, each kept only if validation says so.

    ``start`` is trained with every seed and scored on ``validation_batches`` at the end.
    Then, in order, each ingredient's options are applied to the current recipe and
    trained alike; the best option (mean validation accuracy over ``seeds``) replaces the
    current recipe when it beats it by more than ``margin`` points. Every run uses
    ``start.n_iters`` steps (a reduced budget, when that is small), scored on validation
    every ``eval_every`` steps (default: once, at the end; the table uses the last score).
    The test set is never touched. Options that change ``n_iters`` are refused, so runs
    compare at equal steps. An option whose :func:`lstm_cost` exceeds ``max_cost`` (the
    most a step may cost for the final budget to fit) is listed, not trained.

    Returns:
        Ablation: every run (a row each, with its histories) and ``chosen``, the recipe
        assembled from the kept ingredients.

    Raises:
        ValueError: no seed, a negative or non-finite margin, an option setting ``n_iters``,
            or see :func:`run_recipe`.
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("run_ablation needs at least one seed")
    if finite_number(margin) is None or margin < 0:
        raise ValueError(f"margin must be 0 or a positive number of points, got {margin!r}")
    for ingredient in ingredients:
        if any("n_iters" in option for option in ingredient.options):
            raise ValueError(f"ingredient {ingredient.name!r} sets n_iters: an ablation "
                             f"compares runs of the same length; choose epochs afterwards")

    def trained(step: str, change: str, recipe: Recipe) -> AblationRow:
        if max_cost is not None and lstm_cost(recipe) > max_cost:
            if log is not None:
                log(f"{step} ({change}): {lstm_cost(recipe):,} multiply-adds per image, over "
                    f"the budget's {max_cost:,}: not trained")
            return AblationRow(step, change, recipe, [], seeds, fits=False)
        histories = []
        for seed in seeds:
            _, history = run_recipe(recipe, train_batches, None, seed=seed, log=None,
                                    progress=progress, eval_every=eval_every or recipe.n_iters,
                                    validation_batches=validation_batches)
            histories.append(history)
        row = AblationRow(step, change, recipe, histories, seeds)
        if log is not None:
            log(f"{step} ({change}): validation {row.accuracy:.2f}% "
                f"(spread {row.spread:.2f}), {row.seconds:.1f} s per run")
        return row

    current = trained("start", start.describe(), start)
    if not current.fits:
        raise ValueError(f"the starting recipe costs {lstm_cost(start):,} multiply-adds per "
                         f"image, over max_cost {max_cost:,}")
    current.kept = True
    ablation = Ablation([current])
    for ingredient in ingredients:
        tried = [trained(ingredient.name, _change_text(option),
                         dataclasses.replace(current.recipe, **option))
                 for option in ingredient.options]
        ablation.rows += tried
        tried = [row for row in tried if row.fits]
        if not tried:
            continue
        best = max(tried, key=lambda row: row.accuracy)  # the first of equals
        if best.accuracy > current.accuracy + margin:
            best.kept = True
            current = best
    ablation.chosen = current.recipe
    return ablation


#: Recipes the command line trains by name (``--recipe``): the tutorial's Model A, and the
#: recipe lesson 08 assembled from its ablation's validation results (its stored run;
#: ``tests/test_beyond.py`` checks that the two agree).
NAMED_RECIPES = {
    "tutorial": LSTM_RECIPES["A"],
    "lesson08": Recipe("lesson 08", "lstm", layer_dim=2, hidden_dim=80, optimizer="adam",
                       learning_rate=0.01, n_iters=6600, batch_size=100, dropout=0.2,
                       forget_bias=1.0, schedule="onecycle", clip_grad_norm=1.0),
}
