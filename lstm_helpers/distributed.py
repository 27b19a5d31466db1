"""The same training on several processes: DistributedDataParallel (DDP) under ``torchrun``.

Each process (rank) holds a full copy of the model and trains on its own share of every
batch; after each backward pass DDP averages the gradients over the ranks (an all-reduce),
so every rank takes the same optimizer step and the copies stay identical. With a global
batch of 100 on 2 ranks, each rank computes 50 images and the step is the step of the
whole 100 (see https://pytorch.org/docs/stable/notes/ddp.html).

Each epoch, every rank draws the same permutation of the training set from a shared seed
(``seed + epoch``) and takes its own slice of it (``torch.utils.data.DistributedSampler``),
so the ranks never read the same image twice in one epoch.

Run it with ``torchrun``, which starts the processes and sets ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` for them::

    # 2 processes on the CPU (gloo), e.g. to try it out
    torchrun --standalone --nproc_per_node=2 -m lstm_helpers.distributed --model A

    # one process per GPU on a machine with 4 GPUs (nccl)
    torchrun --standalone --nproc_per_node=4 -m lstm_helpers.distributed --model C

    # two machines with 8 GPUs each: run on both, with node-rank 0 and 1
    torchrun --nnodes=2 --node-rank=0 --nproc_per_node=8 \\
        --rdzv-backend=c10d --rdzv-endpoint=HOST0:29500 -m lstm_helpers.distributed --model C

Only rank 0 prints the log, shows the progress bar and writes the checkpoint. Every rank
scores the whole test set (10,000 images: cheap, and no extra communication); the loss
printed is rank 0's share of the batch.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Callable, Iterator

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import BatchSampler, DistributedSampler, TensorDataset
from tqdm.auto import tqdm

from .data import TensorBatches, check_batch_size, mnist_tensors
from .download import MNISTDataError
from .experiments import Recipe
from .training import Evaluation, History, set_seed, train


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
        check_batch_size(batch_size, self.sampler.num_samples)
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


def setup(backend: str | None = None) -> torch.device:
    """Join the process group ``torchrun`` describes; return this rank's device.

    Args:
        backend: ``"nccl"`` (CUDA GPUs) or ``"gloo"`` (CPU); None picks nccl when CUDA is
            usable, else gloo.

    Returns:
        ``cuda:LOCAL_RANK`` under nccl (one GPU per process), else the CPU.

    Raises:
        RuntimeError: the environment variables torchrun sets (RANK, WORLD_SIZE,
            MASTER_ADDR, MASTER_PORT) are missing; the message says how to start it.
        ValueError: nccl asked for on a machine without enough CUDA GPUs.
    """
    missing = [name for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
               if name not in os.environ]
    if missing:
        raise RuntimeError(f"{', '.join(missing)} not set: start this under torchrun, e.g. "
                           f"torchrun --standalone --nproc_per_node=2 -m "
                           f"lstm_helpers.distributed --model A")
    backend = backend or ("nccl" if torch.cuda.is_available() else "gloo")
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device("cpu")
    if backend == "nccl":
        if local_rank >= torch.cuda.device_count():
            raise ValueError(f"nccl needs one CUDA GPU per process: LOCAL_RANK {local_rank}, "
                             f"but {torch.cuda.device_count()} GPU(s); use --backend gloo or "
                             f"fewer processes")
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    dist.init_process_group(backend)
    return device


def train_ddp(recipe: Recipe, images: torch.Tensor, labels: torch.Tensor,
              test_batches: TensorBatches, device: torch.device, global_batch_size: int = 100,
              seed: int = 0, eval_every: int = 500,
              log: Callable[[str], None] | None = print,
              on_evaluation: Callable[[Evaluation, nn.Module], None] | None = None,
              autocast_dtype: torch.dtype | None = None) -> tuple[nn.Module, History]:
    """Train ``recipe`` with DDP on the process group already joined (see :func:`setup`).

    Args:
        recipe: the model, optimizer, learning rate and ``n_iters``.
        images, labels: the whole training split (every rank passes the same tensors),
            images (N, 28, 28) float32, labels (N,) int64.
        test_batches: the test batches every rank scores.
        device: this rank's device (from :func:`setup`).
        global_batch_size: images per optimizer step over all ranks (the tutorial's 100);
            each rank computes ``global_batch_size / world_size`` of them.
        seed: seeds the initial weights and the shared shuffles.
        log, on_evaluation: used on rank 0 only (on_evaluation gets the bare model).
        autocast_dtype: None (float32) or torch.bfloat16, as in :func:`lstm_helpers.train`.

    Returns:
        (model, history): this rank's copy of the trained model (not the DDP wrapper) and
        its history (the losses of its share of each batch).

    Raises:
        ValueError: global_batch_size is not a multiple of the world size.
    """
    rank, world_size = dist.get_rank(), dist.get_world_size()
    if global_batch_size % world_size:
        raise ValueError(f"the global batch ({global_batch_size}) must be a multiple of the "
                         f"number of processes ({world_size})")
    set_seed(seed)  # identical start everywhere (DDP also copies rank 0's weights over)
    model = recipe.build_model().to(device)
    ddp_model = DistributedDataParallel(
        model, device_ids=[device.index] if device.type == "cuda" else None)
    optimizer = recipe.build_optimizer(ddp_model)
    batches = ShardedBatches(images.to(device), labels.to(device),
                             global_batch_size // world_size, rank, world_size, seed)
    def on_evaluation_unwrapped(record: Evaluation, wrapped: nn.Module) -> None:
        on_evaluation(record, wrapped.module)  # checkpoints store the bare model

    hook = on_evaluation_unwrapped if rank == 0 and on_evaluation is not None else None
    history = train(ddp_model, nn.CrossEntropyLoss(), optimizer, batches, test_batches,
                    n_iters=recipe.n_iters, eval_every=eval_every,
                    log=log if rank == 0 else None, progress=rank == 0,
                    on_evaluation=hook, autocast_dtype=autocast_dtype)
    return model, history


def build_parser() -> argparse.ArgumentParser:
    """The options of ``python -m lstm_helpers.distributed`` (the train command's, plus)."""
    from .cli import _Parser, _positive_int, add_training_arguments
    parser = _Parser(prog="torchrun ... -m lstm_helpers.distributed",
                     description="Train one of the tutorial's models with "
                                 "DistributedDataParallel, one process per CPU group or "
                                 "GPU, started by torchrun.",
                     epilog="Example: torchrun --standalone --nproc_per_node=2 -m "
                            "lstm_helpers.distributed --model A")
    add_training_arguments(parser)
    parser.add_argument("--batch-size", type=_positive_int, default=100, metavar="N",
                        help="images per step over all processes (default 100, the "
                             "tutorial's); a multiple of the number of processes")
    parser.add_argument("--subset", type=_positive_int, default=None, metavar="N",
                        help="train on the first N training images only (a quick try)")
    parser.add_argument("--backend", choices=("gloo", "nccl"), default=None,
                        help="gloo (CPU) or nccl (CUDA GPUs); default nccl if CUDA is "
                             "usable, else gloo")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m lstm_helpers.distributed`` (under torchrun)."""
    from .checkpoints import checkpoint_callback
    from .cli import recipe_for
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        device = setup(args.backend)
    except (RuntimeError, ValueError) as error:
        parser.error(str(error))
    try:
        images, labels = mnist_tensors(True, args.data_root)
        test_images, test_labels = mnist_tensors(False, args.data_root)
        if args.subset is not None:
            images, labels = images[:args.subset], labels[:args.subset]
        test_batches = TensorBatches(test_images, test_labels, 1000).to(device)
        recipe = recipe_for(args)
        world_size = dist.get_world_size()
        if dist.get_rank() == 0:
            print(f"{recipe.name} on {world_size} processes ({dist.get_backend()}; rank 0 "
                  f"on {device}): {args.batch_size} images per step, "
                  f"{args.batch_size / world_size:g} per process", flush=True)
        callback = None
        if args.checkpoint is not None:
            callback = checkpoint_callback(args.checkpoint, recipe=dataclasses.asdict(recipe),
                                           seed=args.seed, world_size=world_size)
        model, history = train_ddp(
            recipe, images, labels, test_batches, device, args.batch_size, args.seed,
            args.eval_every, log=tqdm.write, on_evaluation=callback,
            autocast_dtype=torch.bfloat16 if args.bf16 else None)
        if dist.get_rank() == 0:
            print(f"final test accuracy: {history.final_accuracy:.2f}% after "
                  f"{recipe.n_iters} iterations in {history.seconds:.1f} s")
    except ValueError as error:
        print(f"lstm_helpers.distributed: error: {error}", file=sys.stderr)
        return 2
    except MNISTDataError as error:
        print(f"lstm_helpers.distributed: {error}", file=sys.stderr)
        return 1
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
