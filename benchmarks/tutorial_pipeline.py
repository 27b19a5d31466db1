"""Baseline (a): the tutorial's training pipeline as its page prints it, written afresh.

Everything here deliberately keeps the tutorial's choices, slow ones included, so the
benchmark compares the course with what a reader of the page would run:

* Steps 1-2: ``torchvision.datasets.MNIST`` with ``transforms.ToTensor()`` behind a
  ``DataLoader`` (batch 100, training set shuffled): every image is decoded from a PIL
  picture on every visit.
* Step 3: the model makes zero hidden and cell states with ``requires_grad_()`` and hands
  ``.detach()``-ed copies to ``nn.LSTM``.
* Step 7: ``images.view(-1, 28, 28).requires_grad_()`` on every training batch, and every
  500 iterations an evaluation over the test ``DataLoader`` in batches of 100, without
  ``torch.no_grad()`` and without ``model.eval()``, counting with ``torch.max``.

It does not use ``lstm_helpers`` except to find the data files (``load_mnist`` builds the
same torchvision dataset the tutorial builds, after checking the files' SHA-256).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import transforms

from lstm_helpers import load_mnist


class TutorialLSTMModel(nn.Module):
    """The tutorial's Step 3 model: ``nn.LSTM`` (batch first) and a linear readout.

    Input (batch, seq_dim, input_dim), output logits (batch, output_dim).
    """

    def __init__(self, input_dim: int, hidden_dim: int, layer_dim: int, output_dim: int):
        super().__init__()
        self.hidden_dim = hidden_dim
        self.layer_dim = layer_dim
        self.lstm = nn.LSTM(input_dim, hidden_dim, layer_dim, batch_first=True)
        self.fc = nn.Linear(hidden_dim, output_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # As printed: zero states made on the CPU, recording gradients, moved to the input's
        # device (a no-op on the CPU; the GPU section's copy), then detached before use.
        hidden = torch.zeros(self.layer_dim, x.size(0), self.hidden_dim).requires_grad_()
        cell = torch.zeros(self.layer_dim, x.size(0), self.hidden_dim).requires_grad_()
        hidden, cell = hidden.to(x.device), cell.to(x.device)
        out, (_, _) = self.lstm(x, (hidden.detach(), cell.detach()))
        return self.fc(out[:, -1, :])


def tutorial_loaders(root: str | os.PathLike | None = None, batch_size: int = 100
                     ) -> tuple[DataLoader, DataLoader]:
    """Steps 1-2 as printed: (train_loader, test_loader) over ToTensor() datasets."""
    to_tensor = transforms.ToTensor()
    train_dataset = load_mnist(True, root, transform=to_tensor)
    test_dataset = load_mnist(False, root, transform=to_tensor)
    return (DataLoader(dataset=train_dataset, batch_size=batch_size, shuffle=True),
            DataLoader(dataset=test_dataset, batch_size=batch_size, shuffle=False))


def train_as_printed(model: nn.Module, train_loader: DataLoader, test_loader: DataLoader,
                     n_iters: int, learning_rate: float = 0.1, seq_dim: int = 28,
                     input_dim: int = 28, log: Callable[[str], None] | None = None,
                     device: torch.device | None = None
                     ) -> list[tuple[int, float, float]]:
    """Steps 5-7 as printed: cross entropy, SGD, the loop with an evaluation every 500.

    The tutorial sizes its loop in whole epochs (``int(n_iters / (60000 / 100))``); here it
    stops after exactly ``n_iters`` iterations so that every pipeline of the benchmark
    runs the same number. On a GPU ``device`` (``model`` must be there already; None means
    the CPU) it copies every batch over and the predictions back, as the tutorial's GPU
    section does. Returns the log as (iteration, loss, accuracy %) tuples.
    """
    device = device if device is not None else torch.device("cpu")
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
    records = []
    iteration = 0
    while iteration < n_iters:
        for images, labels in train_loader:
            images = images.view(-1, seq_dim, input_dim).requires_grad_().to(device)
            optimizer.zero_grad()
            outputs = model(images)
            loss = criterion(outputs, labels.to(device))
            loss.backward()
            optimizer.step()
            iteration += 1
            if iteration % 500 == 0:
                correct = 0
                total = 0
                for test_images, test_labels in test_loader:
                    test_images = test_images.view(-1, seq_dim, input_dim).to(device)
                    outputs = model(test_images)
                    _, predicted = torch.max(outputs.data, 1)
                    total += test_labels.size(0)
                    correct += (predicted.cpu() == test_labels.cpu()).sum()
                accuracy = 100 * correct / total
                records.append((iteration, loss.item(), float(accuracy)))
                if log is not None:
                    log(f"Iteration: {iteration}. Loss: {loss.item()}. Accuracy: {accuracy}")
            if iteration == n_iters:
                break
    return records
