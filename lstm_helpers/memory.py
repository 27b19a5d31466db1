"""Delayed MNIST for the memory experiment: each digit's 28 rows, then ``delay`` blank rows.

A model that reads the rows in order and answers after the last one must carry what it saw
of the digit through ``delay`` steps of zeros. With ``delay = 0`` the batches are the plain
tutorial batches. The blank rows are added batch by batch, so no padded copy of the data
set is held in memory (the training split padded with 56 rows would take 560 MB).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import torch

from .data import IMAGE_SIZE


def check_delay(delay) -> int:
    """``delay`` as an int >= 0 (bools, floats and strings are refused).

    Raises:
        ValueError: ``delay`` is not a non-negative integer; the message says what it got.
    """
    if isinstance(delay, bool) or not isinstance(delay, int) or delay < 0:
        raise ValueError(f"delay must be a whole number of blank rows, 0 or more, got {delay!r}")
    return delay


def add_blank_rows(images: torch.Tensor, delay: int) -> torch.Tensor:
    """``images`` as (batch, 28 + delay, 28): the 28 rows of each image, then ``delay`` zeros.

    Args:
        images: floating-point MNIST images of shape (batch, 28, 28), (batch, 1, 28, 28) or
            (batch, 784), as ``lh.mnist_batches`` or a torchvision ``DataLoader`` serve them.
        delay: blank rows (time steps of 28 zeros) added after the last row; 0 adds none.

    Returns:
        A new tensor on the images' device and dtype, batch-first (batch, seq_dim, input_dim)
        with seq_dim = 28 + delay. A blank row is 0.0, the value of MNIST's background.

    Raises:
        ValueError: ``delay`` is not an integer >= 0, the images are not floating point, or
            they do not hold 28 x 28 values each.
    """
    check_delay(delay)
    if not images.is_floating_point():
        raise ValueError(f"expected floating-point images (values in [0, 1]), got {images.dtype}; "
                         "use images.float() / 255 on MNIST's raw uint8 pixels")
    if images.dim() < 2 or images[0].numel() != IMAGE_SIZE * IMAGE_SIZE:
        raise ValueError(f"expected a batch of 28 x 28 images, got shape {tuple(images.shape)}")
    rows = images.reshape(len(images), IMAGE_SIZE, IMAGE_SIZE)
    if delay == 0:
        return rows.clone()
    blank = rows.new_zeros(len(rows), delay, IMAGE_SIZE)
    return torch.cat([rows, blank], dim=1)


class DelayedBatches:
    """The batches of ``batches`` with ``delay`` blank rows after every image.

    Wraps any iterable of ``(images, labels)`` batches (``lh.TensorBatches``, a
    ``DataLoader``) and yields ``(add_blank_rows(images, delay), labels)``: the same images in
    the same order (shuffling, if any, is the wrapped iterable's), each now a sequence of
    ``seq_dim = 28 + delay`` time steps. Pass that ``seq_dim`` to ``lh.train`` and
    ``lh.evaluate``::

        train_delayed = DelayedBatches(train_loader, 56)
        lh.train(model, criterion, optimizer, train_delayed, DelayedBatches(test_loader, 56),
                 seq_dim=train_delayed.seq_dim)

    Raises:
        ValueError: ``delay`` is not an integer >= 0.
    """

    def __init__(self, batches: Iterable, delay: int):
        self.batches = batches
        self.delay = check_delay(delay)

    @property
    def seq_dim(self) -> int:
        """Time steps per sequence: 28 image rows plus the blank ones."""
        return IMAGE_SIZE + self.delay

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for images, labels in self.batches:
            yield add_blank_rows(images, self.delay), labels

    def __repr__(self) -> str:
        return f"DelayedBatches(delay={self.delay}, seq_dim={self.seq_dim}, batches={len(self)})"
