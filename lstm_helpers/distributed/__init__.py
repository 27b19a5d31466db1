"""What is particular to training on several processes with DistributedDataParallel (DDP).

Each process (rank) holds a full copy of the model and trains on its own share of every
batch; after each backward pass DDP averages the gradients over the ranks (an all-reduce),
so every rank takes the same optimizer step and the copies stay identical. With a global
batch of 100 on 2 ranks, each rank computes 50 images and the step is the step of the
whole 100 (see https://pytorch.org/docs/stable/notes/ddp.html).

This module holds only the DDP-specific parts: joining the process group ``torchrun``
describes (:func:`setup`), wrapping and unwrapping the model (:func:`wrap`,
:func:`unwrap`), and each rank's share of the training set (:class:`ShardedBatches`). The
training itself is the same code for one process and many: ``python -m lstm_helpers
train`` (see :mod:`lstm_helpers.cli`) notices torchrun's environment variables and uses
these, and :func:`lstm_helpers.run_recipe` wraps the model whenever a process group is set
up. Start it with ``torchrun``, which starts the processes and sets ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` for them::

    # 2 processes on one machine's CPU (gloo), e.g. to try it out
    torchrun --rdzv-backend=c10d --rdzv-endpoint=127.0.0.1:0 --local-addr=127.0.0.1 \\
        --nproc-per-node=2 -m lstm_helpers train --model A

    # one process per GPU on a machine with 4 GPUs (nccl)
    torchrun --rdzv-backend=c10d --rdzv-endpoint=127.0.0.1:0 --local-addr=127.0.0.1 \\
        --nproc-per-node=4 -m lstm_helpers train --model C

    # two machines with 8 GPUs each: run on both, with node-rank 0 and 1
    torchrun --nnodes=2 --node-rank=0 --nproc-per-node=8 \\
        --rdzv-backend=c10d --rdzv-endpoint=HOST0:29500 -m lstm_helpers train --model C

On one machine the rendezvous is pinned to 127.0.0.1 on a free port (``:0``) and
``--local-addr=127.0.0.1`` makes the workers reach it there: ``torchrun --standalone`` (and
the rendezvous options without ``--local-addr``) publish the machine's host name instead,
and where that name does not resolve (many containers and laptops) the workers wait
forever before the course's code starts (measured with torch 2.14.1).
``python -m lstm_helpers.distributed`` is an alias of ``python -m lstm_helpers train``,
kept so older commands work (its ``__main__`` module, the one place that imports the command
line from here: the package's layers, in :mod:`lstm_helpers`, keep DDP below the CLI).

Each epoch, every rank draws the same permutation of the training set from a shared seed
(``seed + epoch``) and takes its own slice of it (``torch.utils.data.DistributedSampler``),
so the ranks never read the same image twice in one epoch. Only rank 0 prints the log,
shows the progress bar and writes the checkpoint. Every rank scores the whole test set
(10,000 images: cheap, and no extra communication); the loss printed is rank 0's share of
the batch.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import BatchSampler, DistributedSampler, TensorDataset

from ..data import check_batch_size

#: The variables torchrun sets for every process it starts.
TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")

#: The command the messages and docs/command-line.md give for 2 processes on one machine.
EXAMPLE = ("torchrun --rdzv-backend=c10d --rdzv-endpoint=127.0.0.1:0 --local-addr=127.0.0.1 "
           "--nproc-per-node=2 -m lstm_helpers train --model A")


class ShardedBatches:
    """One rank's batches of every epoch: its slice of a permutation shared by all ranks.

    Each pass (epoch ``e``) shuffles all N indices with the seed ``seed + e`` (the same
    order on every rank), pads the list to a multiple of ``world_size`` by repeating its
    first indices, and gives rank ``r`` every ``world_size``-th index from ``r`` on, cut
    into batches of ``batch_size`` (the last one may be smaller). Every rank therefore gets
    the same number of batches per epoch, as DDP requires.

    Args:
        images: (N, ...) tensor, for MNIST float32 (N, 28, 28); labels: (N,) int64.
        batch_size: images per batch on this rank (the global batch / world_size).
        rank, world_size: this process's rank, and the number of processes.
        seed: the shared seed of the shuffles.

    Raises:
        ValueError: rank outside 0..world_size-1, lengths differ, or batch_size is not an
            integer from 1 to the shard's size.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int,
                 rank: int, world_size: int, seed: int = 0):
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be from 0 to world_size - 1 = {world_size - 1}, "
                             f"got {rank}")
        if len(images) != len(labels):
            raise ValueError(f"images ({len(images)}) and labels ({len(labels)}) differ in "
                             f"length")
        self.dataset = TensorDataset(images, labels)
        self.sampler = DistributedSampler(self.dataset, num_replicas=world_size, rank=rank,
                                          shuffle=True, seed=seed)
        batch_size = check_batch_size(batch_size, self.sampler.num_samples)
        self.batches = BatchSampler(self.sampler, batch_size, drop_last=False)
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.batches)

    @property
    def device(self) -> torch.device:
        return self.dataset.tensors[0].device

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        self.sampler.set_epoch(self.epoch)  # a new shared permutation every pass
        self.epoch += 1
        for indices in self.batches:
            yield self.dataset[torch.tensor(indices, device=self.device)]


def launched_by_torchrun() -> bool:
    """Whether this process was started by torchrun (its ``RANK``/``WORLD_SIZE`` are set).

    Raises:
        RuntimeError: only some of torchrun's variables are set (a hand-made environment);
            the message names the missing ones.
    """
    present = [name for name in TORCHRUN_VARIABLES if name in os.environ]
    if not present:
        return False
    missing = [name for name in TORCHRUN_VARIABLES if name not in os.environ]
    if missing:
        raise RuntimeError(f"{', '.join(present)} set but {', '.join(missing)} not: start "
                           f"several processes with torchrun, e.g. {EXAMPLE}")
    return True


def setup(backend: str | None = None, device: str = "auto") -> torch.device:
    """Join the process group ``torchrun`` describes; return this rank's device.

    Args:
        backend: ``"nccl"`` (CUDA GPUs) or ``"gloo"`` (CPU); None picks nccl when the
            device is a CUDA GPU, else gloo.
        device: ``"auto"`` (a CUDA GPU per process when CUDA is usable, else the CPU),
            ``"cpu"`` or ``"cuda"``. Each process takes GPU ``LOCAL_RANK``.

    Returns:
        ``cuda:LOCAL_RANK`` for GPU training (one GPU per process), else the CPU.

    Raises:
        RuntimeError: the environment variables torchrun sets (RANK, WORLD_SIZE,
            MASTER_ADDR, MASTER_PORT) are missing; the message says how to start it.
        ValueError: a device DDP cannot use here (``mps``, or more processes than CUDA
            GPUs), or nccl asked for without a GPU.
    """
    missing = [name for name in TORCHRUN_VARIABLES if name not in os.environ]
    if missing:
        raise RuntimeError(f"{', '.join(missing)} not set: start this under torchrun, e.g. "
                           f"{EXAMPLE}")
    kind = str(device).split(":")[0]
    if kind == "auto":
        kind = "cuda" if torch.cuda.is_available() and backend != "gloo" else "cpu"
    if kind not in ("cpu", "cuda"):
        raise ValueError(f"device {device!r} cannot be used with several processes: use "
                         f"cpu (gloo) or cuda (nccl)")
    if backend == "nccl" and kind != "cuda":
        raise ValueError("nccl needs CUDA GPUs: use --backend gloo on the CPU")
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    result = torch.device("cpu")
    if kind == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise ValueError(f"one CUDA GPU per process is needed: LOCAL_RANK {local_rank}, "
                             f"but {torch.cuda.device_count()} GPU(s); start fewer processes "
                             f"or train on the CPU (--device cpu)")
        result = torch.device("cuda", local_rank)
        torch.cuda.set_device(result)
    dist.init_process_group(backend or ("nccl" if kind == "cuda" else "gloo"))
    return result


def is_distributed() -> bool:
    """Whether a process group is set up (this process is one rank of several)."""
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    """This process's rank: 0 in a single process."""
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    """The number of processes training together: 1 in a single process."""
    return dist.get_world_size() if is_distributed() else 1


def wrap(model: nn.Module) -> nn.Module:
    """``model`` in ``DistributedDataParallel`` (on its device), for the group set up.

    DDP copies rank 0's weights to every rank when it wraps, and averages the gradients
    during every backward pass.
    """
    device = next(model.parameters()).device
    return DistributedDataParallel(
        model, device_ids=[device.index] if device.type == "cuda" else None)


def unwrap(model: nn.Module) -> nn.Module:
    """The bare model inside a DDP wrapper (what checkpoints store), or ``model`` itself."""
    return model.module if isinstance(model, DistributedDataParallel) else model


def teardown() -> None:
    """Leave the process group, if one is set up."""
    if is_distributed():
        dist.destroy_process_group()

