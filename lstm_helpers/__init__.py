"""Helpers for the course "LSTM networks with PyTorch": data, models, training, plots.

``__version__`` below is the course's one version number: ``pyproject.toml`` reads it, and
``tests/test_version.py`` checks every other mention (``CITATION.cff``, the notebooks' set-up
cells, the release steps in the docs) against it.

Layers, lowest first. A module imports only from modules on the lines above its own, in
functions too (``tests/test_layers.py`` holds the package to it), so no import goes in a
circle; a new module takes the line just above its lowest importer::

    1  validation progress notebook parameters devices download precision
    2  data models
    3  training
    4  plots memory probes checkpoints distributed
    5  memory_plots experiments
    6  cli
    7  checks.feedback
    8  checks.training_watch
    9  checks.ex*
    10 checks
    11 __main__ distributed.__main__

``checks.ex*`` are the exercise modules; one may import an exercise of a lower number. The
package itself (this file) imports from any of them.
"""

__version__ = "0.2.0"

from .checkpoints import (
    CheckpointError,
    best_checkpoint_callback,
    checkpoint_callback,
    load_checkpoint,
    save_checkpoint,
)
from .data import (
    IMAGE_SIZE,
    VALIDATION_SIZE,
    TensorBatches,
    load_mnist,
    mnist_batches,
    mnist_dataloaders,
    mnist_split_batches,
    mnist_tensors,
    split_indices,
    train_validation_split,
)
from .devices import describe_device, fits_on_device, pick_device
from .download import ChecksumError, DataRoot, MNISTDataError, ensure_mnist, resolve_root
from .experiments import (
    LSTM_RECIPES,
    NAMED_RECIPES,
    RNN_RECIPES,
    Ablation,
    AblationRow,
    Ingredient,
    Outcome,
    Recipe,
    lstm_cost,
    run_ablation,
    run_recipe,
    train_validate_test,
)
from .memory import DelayedBatches, add_blank_rows
from .memory_plots import (
    plot_accuracy_vs_delay,
    plot_gradient_norms,
    plot_lstm_states,
    plot_row_blanking,
)
from .models import LSTMModel, RNNModel
from .parameters import count_parameters, describe_parameters, parameter_shapes
from .plots import (
    plot_accuracy_curves,
    plot_accuracy_vs_seconds,
    plot_digit_as_sequence,
    plot_history,
)
from .precision import UnsupportedPrecisionError
from .probes import input_gradient_norms, row_blanking_accuracy
from .training import (
    Evaluation,
    History,
    TrainingDivergedError,
    as_sequences,
    evaluate,
    set_seed,
    train,
)

__all__ = [
    # data and downloads
    "IMAGE_SIZE", "TensorBatches", "load_mnist", "mnist_batches", "mnist_dataloaders",
    "mnist_tensors", "ChecksumError", "DataRoot", "MNISTDataError", "ensure_mnist",
    "resolve_root", "VALIDATION_SIZE", "split_indices", "train_validation_split",
    "mnist_split_batches",
    # models and their parameters
    "LSTMModel", "RNNModel", "count_parameters", "describe_parameters", "parameter_shapes",
    # training, runs and devices
    "Evaluation", "History", "TrainingDivergedError", "as_sequences", "evaluate", "set_seed",
    "train", "Recipe", "run_recipe", "LSTM_RECIPES", "RNN_RECIPES", "pick_device",
    "describe_device", "fits_on_device", "UnsupportedPrecisionError",
    # beyond the tutorial (notebook 08): validation, ablation, the honest protocol
    "NAMED_RECIPES", "Ablation", "AblationRow", "Ingredient", "Outcome", "lstm_cost",
    "run_ablation", "train_validate_test",
    # checkpoints
    "CheckpointError", "best_checkpoint_callback", "checkpoint_callback", "load_checkpoint",
    "save_checkpoint",
    # plots
    "plot_accuracy_curves", "plot_accuracy_vs_seconds", "plot_digit_as_sequence",
    "plot_history",
    # the memory lesson (notebook 07): delayed data, probes and their plots
    "DelayedBatches", "add_blank_rows", "input_gradient_norms", "row_blanking_accuracy",
    "plot_lstm_states", "plot_row_blanking", "plot_gradient_norms", "plot_accuracy_vs_delay",
]

# Notebook integration: progress bars that survive a save, and the course's own errors shown
# as one short message when the package is imported inside IPython (a Jupyter kernel).
from .notebook import install_short_errors  # noqa: E402
from .progress import progress_bar  # noqa: E402

__all__ += ["progress_bar", "install_short_errors"]
install_short_errors()
