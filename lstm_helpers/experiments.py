"""One training run from a short description: the tutorial's models and the comparison runs.

A :class:`Recipe` names everything that defines a run (architecture, sizes, optimizer,
learning rate, iterations); :func:`run_recipe` seeds, builds the model, trains it with
:func:`lstm_helpers.train` and returns the history. Used where a notebook compares many
models, so every run is set up the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
from torch import nn

from . import distributed
from .models import LSTMModel, RNNModel
from .training import Evaluation, History, set_seed, train

OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}


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
        learning_rate: the optimizer's step size.
        n_iters: optimizer steps (batches of 100: 3000 = 5 epochs).
    """

    name: str
    cell: str = "lstm"
    layer_dim: int = 1
    hidden_dim: int = 100
    nonlinearity: str = "tanh"
    optimizer: str = "sgd"
    learning_rate: float = 0.1
    n_iters: int = 3000

    def build_model(self) -> nn.Module:
        """A fresh, randomly initialised model for MNIST rows: input_dim 28, output_dim 10
        (seed first for repeatable weights).

        Raises:
            ValueError: unknown cell, or sizes the model classes refuse.
        """
        if self.cell == "lstm":
            return LSTMModel(28, self.hidden_dim, self.layer_dim, 10)
        if self.cell == "rnn":
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


def run_recipe(recipe: Recipe, train_batches: Iterable, test_batches: Iterable,
               seed: int = 0, log: Callable[[str], None] | None = None,
               progress: bool = True, eval_every: int = 500,
               device: str | torch.device | None = None,
               on_evaluation: Callable | None = None,
               autocast_dtype: torch.dtype | None = None) -> tuple[nn.Module, History]:
    """Seed, build and train one recipe with cross entropy; the test set every ``eval_every``.

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

    history = train(trained, nn.CrossEntropyLoss(), recipe.build_optimizer(model),
                    train_batches, test_batches, n_iters=recipe.n_iters, eval_every=eval_every,
                    log=log if first else None, progress=progress and first,
                    on_evaluation=on_evaluation_bare if on_evaluation and first else None,
                    autocast_dtype=autocast_dtype)
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
