"""Save a trained model to a file and load it back, safely.

A checkpoint is one file written by ``torch.save`` holding plain data only: the model's
``state_dict``, its class name (``LSTMModel`` or ``RNNModel``), its sizes (the constructor's
arguments) and JSON-able metadata such as the iteration and the test accuracy.

* Saving is atomic: the file is written to a temporary file in the same folder, flushed to
  disk (``fsync``) and renamed over the target with ``os.replace``. An interrupted save (a
  KeyboardInterrupt, a full disk) leaves the previous checkpoint as it was and no temporary
  file behind.
* Loading uses ``torch.load(..., weights_only=True)``: the unpickler accepts tensors and
  plain containers only, so a malicious file cannot run code (see the "Security" note of
  https://pytorch.org/docs/stable/generated/torch.load.html).
* A checkpoint loaded into a model of another architecture is refused with a message
  listing the sizes that differ.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from .devices import parse_device, pick_device, unavailable
from .models import LSTMModel, RNNModel
from .training import Evaluation
from .validation import output_file

FORMAT = "lstm_helpers.checkpoint"
VERSION = 1
MODEL_CLASSES = {cls.__name__: cls for cls in (LSTMModel, RNNModel)}


class CheckpointError(ValueError):
    """A checkpoint file is unsafe, damaged, not a course checkpoint, or does not fit."""


def save_checkpoint(path: str | os.PathLike, model: nn.Module, **metadata) -> Path:
    """Write ``model`` and ``metadata`` to ``path`` atomically; return the path.

    Args:
        path: the checkpoint file (``.pt`` by convention); missing folders are created and an
            existing file is replaced only once the new one is complete on disk.
        model: an :class:`~lstm_helpers.LSTMModel` or :class:`~lstm_helpers.RNNModel`, on
            any device (tensors are stored as they are; load with ``map_location``).
        **metadata: JSON-able values (numbers, strings, lists, dicts, None) stored with the
            weights, e.g. ``iteration=3000, accuracy=97.5``.

    Raises:
        TypeError: ``model`` is not one of the course's model classes.
        ValueError: a metadata value is not JSON-able (the message names it), or ``path``
            cannot be written: a folder, a path under a file, a read-only folder (see
            :func:`lstm_helpers.validation.output_file`).
    """
    if type(model) not in MODEL_CLASSES.values():
        raise TypeError(
            f"save_checkpoint stores {' or '.join(MODEL_CLASSES)} models, got "
            f"{type(model).__name__}; for another module save model.state_dict() with "
            f"torch.save")
    try:
        metadata = json.loads(json.dumps(metadata))
    except (TypeError, ValueError) as error:
        raise ValueError(f"checkpoint metadata must be JSON-able (numbers, strings, lists, "
                         f"dicts, None); not so: {', '.join(_not_json(metadata))} "
                         f"({error})") from error
    payload = {"format": FORMAT, "version": VERSION, "model_class": type(model).__name__,
               "hyperparameters": model.hyperparameters(), "metadata": metadata,
               "state_dict": model.state_dict()}
    path = output_file(path, "the checkpoint")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.",
                                         suffix=".tmp", delete=False)
    try:
        with handle:
            torch.save(payload, handle)
            handle.flush()
            os.fsync(handle.fileno())
        # Temporary files are private (0600): give the checkpoint a normal file's mode.
        os.chmod(handle.name, 0o666 & ~_umask())
        os.replace(handle.name, path)
    except BaseException:  # KeyboardInterrupt included: never leave a half-written file
        Path(handle.name).unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)
    return path


def _not_json(metadata: dict) -> list[str]:
    """The metadata keys whose values json cannot write."""
    bad = []
    for key, value in metadata.items():
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            bad.append(key)
    return bad


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def load_checkpoint(path: str | os.PathLike, model: nn.Module | None = None,
                    map_location: str | torch.device = "cpu") -> tuple[nn.Module, dict]:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Args:
        path: the checkpoint file.
        model: None to build a new model of the stored class and sizes, or a model to load
            the weights into (its class and sizes must match the stored ones).
        map_location: the device the stored tensors are loaded onto (``"cpu"`` by default,
            so a checkpoint saved on a GPU loads anywhere); a new model is moved there. A
            device this machine lacks (``"cuda"`` without a CUDA GPU, ``"mps"`` off Apple
            silicon, ``"cuda:3"`` with one GPU) is refused before the file is read;
            ``"auto"`` picks the best device there is (:func:`lstm_helpers.pick_device`).
            Anything else ``torch.load`` accepts (None, a dict or a function) is passed on
            as it is.

    Returns:
        ``(model, metadata)``: the model holding the stored weights (mode left unchanged:
        call ``model.eval()`` before evaluating) and the stored metadata dict.

    Raises:
        FileNotFoundError: there is no file at ``path``.
        ValueError: ``map_location`` (or, with ``map_location=None``, the device the file
            was saved from) is not available on this machine; the message says how to load
            on the CPU.
        CheckpointError (a ValueError): the file asks to run code or build objects other
            than tensors and plain containers (refused, nothing is executed); it is
            truncated or not a PyTorch file; it is not a course checkpoint; or ``model``
            has another class or other sizes (the message lists each size that differs).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}: check the path, or train and "
                                f"save one first (save_checkpoint)")
    if isinstance(map_location, str) and map_location == "auto":
        map_location = pick_device("auto")
    _check_map_location(path, map_location)
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        found = re.search(r"WeightsUnpickler error:\s*(.+?)(?:\n\s*\n|$)", str(error), re.S)
        detail = " ".join((found.group(1) if found else str(error)).split())[:200]
        raise CheckpointError(
            f"refused to load {path}: the safe loader (torch.load with weights_only=True) "
            f"found something other than tensors and plain data ({detail}). Such a file is "
            f"damaged or made to run code when loaded; nothing in it was run. Load only "
            f"checkpoints written by save_checkpoint.") from error
    except RuntimeError as error:
        # A file saved on a GPU, loaded with map_location=None on a machine without one.
        if _SAVED_ON_MISSING_DEVICE.search(str(error)):
            raise ValueError(
                f"{path} holds tensors of a device this machine does not have, and "
                f"map_location={map_location!r} leaves them there (torch.load: "
                f"{' '.join(str(error).split())[:120]}). Load it on the CPU with "
                f"load_checkpoint(path) (map_location='cpu', the default), or pass "
                f"map_location='auto' for the best device this machine has") from error
        raise _damaged(path, error) from error
    except Exception as error:  # torch reports a damaged file in many ways
        raise _damaged(path, error) from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(
            f"{path} is not a checkpoint written by lstm_helpers.save_checkpoint; a bare "
            f"state_dict loads with model.load_state_dict(torch.load(path, weights_only=True))")
    if payload.get("version") != VERSION or payload.get("model_class") not in MODEL_CLASSES:
        raise CheckpointError(
            f"{path} holds checkpoint version {payload.get('version')!r} of a "
            f"{payload.get('model_class')!r}; this lstm_helpers reads version {VERSION} of "
            f"{', '.join(MODEL_CLASSES)}")
    stored = payload.get("hyperparameters")
    if model is not None:
        _check_fits(path, payload["model_class"], stored or {}, model)
    try:  # a file in the right format may still hold inconsistent contents
        if model is None:
            model = MODEL_CLASSES[payload["model_class"]](**stored)
            if isinstance(map_location, (str, torch.device)):
                model.to(map_location)
        model.load_state_dict(payload["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        detail = " ".join(str(error).split())[:300]
        raise CheckpointError(f"{path} is inconsistent: its sizes and weights do not fit "
                              f"together ({type(error).__name__}: {detail}); save it again "
                              f"with save_checkpoint") from error
    return model, payload.get("metadata", {})


# What torch.load says when a file's tensors belong to a device this machine lacks.
_SAVED_ON_MISSING_DEVICE = re.compile(r"Attempting to deserialize object on|"
                                      r"Storage device not recognized")


def _damaged(path: Path, error: Exception) -> CheckpointError:
    detail = " ".join(str(error).split())[:200] or "empty file"
    return CheckpointError(f"{path} is truncated or not a PyTorch checkpoint "
                           f"({type(error).__name__}: {detail}); save it again with "
                           f"save_checkpoint")


def _check_map_location(path: Path, map_location) -> None:
    """Refuse a ``map_location`` naming a device this machine lacks, before reading the file
    (torch.load would otherwise fail in ways that look like a damaged file).

    Raises:
        ValueError: the device is unknown or not available; the message says how to load
            on the CPU instead.
    """
    if not isinstance(map_location, (str, torch.device)):
        return  # None, a dict or a function: torch.load's own business
    try:
        problem = unavailable(parse_device(map_location))
    except ValueError as error:
        raise ValueError(f"cannot load {path} onto {map_location!r}: {error}") from None
    if problem is not None:
        raise ValueError(
            f"cannot load {path} onto {str(map_location)!r}: {problem}. Load it on the CPU "
            f"with load_checkpoint(path) (map_location='cpu', the default), or pass "
            f"map_location='auto' for the best device this machine has")


def _check_fits(path: Path, stored_class: str, stored: dict, model: nn.Module) -> None:
    """Raise CheckpointError naming the class or each size where checkpoint and model differ."""
    if type(model) is not MODEL_CLASSES[stored_class]:
        raise CheckpointError(f"{path} holds {stored_class} weights, but the model passed "
                              f"is a {type(model).__name__}; pass model=None to build the "
                              f"{stored_class}")
    current = model.hyperparameters()
    differ = [f"{name} {stored.get(name)!r} (checkpoint) vs {current.get(name)!r} (model)"
              for name in sorted(stored.keys() | current.keys())
              if stored.get(name) != current.get(name)]
    if differ:
        raise CheckpointError(
            f"{path} does not fit this {stored_class}: {'; '.join(differ)}. Build the model "
            f"with the checkpoint's sizes, or pass model=None to let load_checkpoint do it")


def checkpoint_callback(path: str | os.PathLike, **metadata
                        ) -> Callable[[Evaluation, nn.Module], None]:
    """An ``on_evaluation`` hook for :func:`lstm_helpers.train` that saves after each evaluation.

    Each call overwrites ``path`` atomically with the model and ``metadata`` plus the
    evaluation's ``iteration``, ``loss`` and ``accuracy`` (percent), so the file always holds
    the last completed evaluation, even if training is interrupted::

        lh.train(model, criterion, optimizer, train_batches, test_batches,
                 on_evaluation=checkpoint_callback("runs/model_a.pt", seed=0))

    Raises:
        ValueError: ``path`` cannot be written (a folder, a path under a file, a read-only
            folder): checked here, before any training, not at the first evaluation.
    """
    path = output_file(path, "the checkpoint")

    def save_after_evaluation(record: Evaluation, model: nn.Module) -> None:
        save_checkpoint(path, model, **{**metadata, "iteration": record.iteration,
                                        "loss": record.loss, "accuracy": record.accuracy})

    return save_after_evaluation


def best_checkpoint_callback(path: str | os.PathLike, **metadata
                             ) -> Callable[[Evaluation, nn.Module], None]:
    """An ``on_evaluation`` hook that keeps the best model by the scored accuracy.

    Like :func:`checkpoint_callback`, but ``path`` is overwritten (atomically) only when an
    evaluation's accuracy is higher than every earlier one of this hook: after training the
    file holds the best evaluation's weights, with its ``iteration``, ``loss``, ``accuracy``
    and ``split`` in the metadata. Meant for ``train(..., validation_batches=...)``, where
    the best model is chosen on the validation set; the test set then scores that model
    once. Equal accuracies keep the earlier model. Use a new hook for each run.

    Raises:
        ValueError: ``path`` cannot be written (checked here, before any training).
    """
    path = output_file(path, "the checkpoint")
    best: list[float] = []  # the best accuracy so far, once there is one

    def save_if_best(record: Evaluation, model: nn.Module) -> None:
        if best and record.accuracy <= best[0]:
            return
        save_checkpoint(path, model, **{**metadata, "iteration": record.iteration,
                                        "loss": record.loss, "accuracy": record.accuracy,
                                        "split": record.split})
        best[:] = [record.accuracy]

    return save_if_best
