"""Helpers for the course "LSTM networks with PyTorch": data, models, training, plots."""

from .data import (IMAGE_SIZE, TensorBatches, load_mnist, mnist_batches, mnist_dataloaders,
                   mnist_tensors)
from .devices import pick_device
from .download import ChecksumError, MNISTDataError, ensure_mnist, resolve_root
from .models import LSTMModel, RNNModel
from .parameters import describe_parameters, parameter_shapes
from .plots import plot_digit_as_sequence, plot_history
from .training import Evaluation, History, evaluate, set_seed, train

__all__ = [
    "IMAGE_SIZE", "TensorBatches", "load_mnist", "mnist_batches", "mnist_dataloaders",
    "mnist_tensors", "ChecksumError", "MNISTDataError", "ensure_mnist", "resolve_root",
    "LSTMModel", "RNNModel", "describe_parameters", "parameter_shapes",
    "plot_digit_as_sequence", "plot_history", "Evaluation", "History", "evaluate",
    "set_seed", "train", "pick_device",
]
