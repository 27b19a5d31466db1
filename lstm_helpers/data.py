"""MNIST as the tutorial loads it (Steps 1 and 2), and the faster in-memory batches.

Two ways to make the data iterable:

* :func:`mnist_dataloaders`: the tutorial's path, ``torchvision.datasets.MNIST`` with
  ``transforms.ToTensor()`` behind a ``DataLoader``. Each image is converted on every visit.
* :func:`mnist_batches` (the course default): each split converted once and held as one
  tensor, then cut into shuffled batches. Same values, same batch sizes, no per-image work.

And the tutorial's promised third group: :func:`split_indices` and
:func:`train_validation_split` set a seeded validation set apart from the 60,000 training
images, :func:`mnist_split_batches` serves the three groups (training, validation, test).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from .download import ensure_mnist
from .validation import positive_int

IMAGE_SIZE = 28  # MNIST images are 28 x 28 pixels: 28 time steps (rows) of 28 features
VALIDATION_SIZE = 5000  # images set apart from MNIST's 60,000 training images: 55,000 / 5,000


def check_batch_size(batch_size, dataset_size: int, name: str = "batch_size") -> int:
    """Return ``batch_size`` if it is an integer from 1 to ``dataset_size``.

    Integers follow :func:`lstm_helpers.validation.positive_int` (NumPy integers are fine,
    bools and floats are not).

    Raises:
        ValueError: it is not an integer, is below 1, or is larger than the data set (a
            batch cannot hold more images than there are); the message names the argument
            and the allowed range.
    """
    try:
        size = positive_int(name, batch_size)
    except ValueError:
        size = None
    if size is None or size > dataset_size:
        raise ValueError(
            f"{name} must be an integer from 1 to the data set size {dataset_size}, "
            f"got {batch_size!r}"
        )
    return size


def load_mnist(train: bool = True, root: str | os.PathLike | None = None,
               transform=None) -> datasets.MNIST:
    """The MNIST training (60,000 images) or test (10,000) split as a torchvision dataset.

    Args:
        train: the training split if True, else the test split.
        root: data root holding ``MNIST/raw/``; None for ``$LSTM_HELPERS_DATA`` or the
            default (see :mod:`lstm_helpers.download`).
        transform: applied to each PIL image; ``transforms.ToTensor()`` when None, giving
            float32 tensors of shape (1, 28, 28) with values in [0, 1].

    ``dataset.data`` is uint8 of shape (N, 28, 28) and ``dataset.targets`` int64 of shape (N,)
    (the tutorial's ``train_data``/``train_labels`` are deprecated names for these).

    Raises:
        MNISTDataError, ChecksumError: see :func:`lstm_helpers.download.ensure_mnist`.
    """
    raw = ensure_mnist(root)  # <root>/MNIST/raw, absolute
    return datasets.MNIST(
        root=str(raw.parent.parent), train=train, download=False,
        transform=transform if transform is not None else transforms.ToTensor(),
    )


def mnist_tensors(train: bool = True, root: str | os.PathLike | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """One split as two tensors: images float32 (N, 28, 28) in [0, 1], labels int64 (N,).

    The images hold exactly the values ``transforms.ToTensor()`` gives (uint8 / 255).
    """
    dataset = load_mnist(train, root)
    return dataset.data.to(torch.float32).div_(255), dataset.targets.clone()


class TensorBatches:
    """Iterate over ``(images, labels)`` batches cut from tensors held in memory.

    A drop-in for a ``DataLoader`` over MNIST: with ``shuffle=True`` the order is redrawn at
    the start of every pass (epoch), the last batch may be smaller, and ``len()`` is the
    number of batches. Batches are views or index-selects on the device the tensors are on,
    so moving the whole split to a GPU once (:meth:`to`) removes per-batch copies.

    Args:
        images: (N, ...) tensor, for MNIST float32 (N, 28, 28).
        labels: (N,) int64 class indices.
        batch_size: images per batch, 1 <= batch_size <= N.
        shuffle: redraw the order every pass, from ``generator`` or the global torch RNG.
        generator: optional ``torch.Generator`` for the shuffle, for repeatable orders.

    Raises:
        ValueError: images and labels differ in length, or batch_size is out of range.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int,
                 shuffle: bool = False, generator: torch.Generator | None = None):
        if len(images) != len(labels):
            raise ValueError(f"images ({len(images)}) and labels ({len(labels)}) differ in length")
        batch_size = check_batch_size(batch_size, len(images))
        self.images, self.labels = images, labels
        self.batch_size, self.shuffle, self.generator = batch_size, shuffle, generator

    def __len__(self) -> int:
        return -(-len(self.images) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        if not self.shuffle:
            for start in range(0, len(self.images), self.batch_size):
                stop = start + self.batch_size
                yield self.images[start:stop], self.labels[start:stop]
            return
        order = torch.randperm(len(self.images), generator=self.generator).to(self.images.device)
        for batch in order.split(self.batch_size):
            yield self.images[batch], self.labels[batch]

    @property
    def device(self) -> torch.device:
        return self.images.device

    @property
    def nbytes(self) -> int:
        """Memory held by the images and labels, in bytes."""
        return sum(t.element_size() * t.nelement() for t in (self.images, self.labels))

    def to(self, device: str | torch.device) -> TensorBatches:
        """The same batches with both tensors moved to ``device`` (once, not per batch)."""
        return TensorBatches(self.images.to(device), self.labels.to(device),
                             self.batch_size, self.shuffle, self.generator)


def mnist_batches(batch_size: int = 100, eval_batch_size: int = 1000,
                  root: str | os.PathLike | None = None
                  ) -> tuple[TensorBatches, TensorBatches]:
    """The course's Step 2: ``(train_batches, test_batches)`` held in memory.

    Training batches of ``batch_size`` (the tutorial's 100) are reshuffled every epoch; the
    test split is not shuffled and is cut into ``eval_batch_size`` batches, larger because
    evaluation keeps no gradients (the batch size changes its speed, not its result).

    Raises:
        ValueError: ``batch_size`` is not an integer from 1 to 60,000 or ``eval_batch_size``
            not one from 1 to 10,000.
        MNISTDataError, ChecksumError: see :func:`lstm_helpers.download.ensure_mnist`.
    """
    train_images, train_labels = mnist_tensors(True, root)
    test_images, test_labels = mnist_tensors(False, root)
    check_batch_size(batch_size, len(train_images))
    check_batch_size(eval_batch_size, len(test_images), "eval_batch_size")
    return (TensorBatches(train_images, train_labels, batch_size, shuffle=True),
            TensorBatches(test_images, test_labels, eval_batch_size))


def mnist_dataloaders(batch_size: int = 100, root: str | os.PathLike | None = None
                      ) -> tuple[DataLoader, DataLoader]:
    """The tutorial's Step 2 as printed: ``DataLoader`` objects over the torchvision datasets.

    Training batches are shuffled, test batches are not; images come as (batch, 1, 28, 28).

    Raises:
        ValueError: ``batch_size`` is not an integer from 1 to 10,000 (the test split's size;
            a DataLoader would silently serve one short batch instead).
        MNISTDataError, ChecksumError: see :func:`lstm_helpers.download.ensure_mnist`.
    """
    train_dataset, test_dataset = load_mnist(True, root), load_mnist(False, root)
    check_batch_size(batch_size, len(test_dataset))
    return (DataLoader(train_dataset, batch_size=batch_size, shuffle=True),
            DataLoader(test_dataset, batch_size=batch_size, shuffle=False))


def split_indices(n: int, validation_size: int = VALIDATION_SIZE, seed: int = 0
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded split of ``range(n)``: ``(train_indices, validation_indices)``, int64.

    One permutation of ``0 .. n-1`` is drawn from a generator of its own seeded with
    ``seed`` (the global random state is neither read nor changed, so a split made between
    ``set_seed`` and training does not change the run); its last ``validation_size``
    positions are the validation set, the first ``n - validation_size`` the training set.
    The two are disjoint and together hold every index once. The same ``seed`` gives the
    same split on every machine (torch's CPU generator); another seed another split.

    Raises:
        ValueError: ``n`` or ``validation_size`` is not a positive integer, ``validation_size``
            leaves no training image (it must be below ``n``), or ``seed`` is not an integer
            from 0 to 2**63 - 1.
    """
    n = positive_int("n", n)
    validation_size = positive_int("validation_size", validation_size)
    if validation_size >= n:
        raise ValueError(f"validation_size must be below the {n} images to split, so that "
                         f"some are left to train on; got {validation_size}")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ValueError(f"seed must be an integer from 0 to 2**63 - 1, got {seed!r}")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return order[:n - validation_size], order[n - validation_size:]


def train_validation_split(images: torch.Tensor, labels: torch.Tensor,
                           validation_size: int = VALIDATION_SIZE, seed: int = 0
                           ) -> tuple[tuple[torch.Tensor, torch.Tensor],
                                      tuple[torch.Tensor, torch.Tensor]]:
    """``((train_images, train_labels), (validation_images, validation_labels))``.

    ``images`` (N, ...) and ``labels`` (N,) are cut by :func:`split_indices` ``(N,
    validation_size, seed)``: for MNIST's training split, (55000, 28, 28) + (55000,) to
    train on and (5000, 28, 28) + (5000,) to choose with. The results are copies (index
    selects); the inputs are unchanged.

    Raises:
        ValueError: images and labels differ in length, or see :func:`split_indices`.
    """
    if len(images) != len(labels):
        raise ValueError(f"images ({len(images)}) and labels ({len(labels)}) differ in length")
    train, validation = split_indices(len(images), validation_size, seed)
    return (images[train], labels[train]), (images[validation], labels[validation])


def mnist_split_batches(batch_size: int = 100, validation_size: int = VALIDATION_SIZE,
                        seed: int = 0, eval_batch_size: int = 1000,
                        root: str | os.PathLike | None = None
                        ) -> tuple[TensorBatches, TensorBatches, TensorBatches]:
    """The three groups the tutorial promises: ``(train, validation, test)`` batches.

    The 60,000 training images are split by :func:`train_validation_split` (seed ``seed``):
    ``60000 - validation_size`` shuffled training batches of ``batch_size``, and the
    validation images in unshuffled batches of ``eval_batch_size``, to make every choice
    on; the 10,000 test images, unshuffled in batches of ``eval_batch_size``, to be scored
    once at the end. ``seed`` chooses the split only: the order of the training batches
    follows the global seed (:func:`lstm_helpers.set_seed`), as in :func:`mnist_batches`.

    Raises:
        ValueError: a batch size out of range (``batch_size`` from 1 to the training images,
            ``eval_batch_size`` from 1 to ``validation_size``), or see :func:`split_indices`.
        MNISTDataError, ChecksumError: see :func:`lstm_helpers.download.ensure_mnist`.
    """
    images, labels = mnist_tensors(True, root)
    (train_images, train_labels), (val_images, val_labels) = train_validation_split(
        images, labels, validation_size, seed)
    check_batch_size(eval_batch_size, len(val_images), "eval_batch_size")
    test_images, test_labels = mnist_tensors(False, root)
    return (TensorBatches(train_images, train_labels, batch_size, shuffle=True),
            TensorBatches(val_images, val_labels, eval_batch_size),
            TensorBatches(test_images, test_labels, eval_batch_size))
