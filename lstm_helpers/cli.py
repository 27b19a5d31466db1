"""The course's command line: train the tutorial's models, in one process or under torchrun.

    python -m lstm_helpers train --model A|B|C [--rnn relu|tanh] [--iters N] [--lr X]
                                 [--optimizer sgd|adam] [--device auto|cpu|cuda|mps]
                                 [--seed S] [--checkpoint PATH] [--eval-every N] [--bf16]
                                 [--batch-size N] [--subset N] [--data-root DIR]
    python -m lstm_helpers train --recipe lesson08|tutorial [--epochs N | --iters N]
                                 [--validation-size N] [--split-seed S] [--seed S]
                                 [--checkpoint PATH] [--eval-every N] [--device ...]
    torchrun --rdzv-backend=c10d --rdzv-endpoint=127.0.0.1:0 --local-addr=127.0.0.1 \\
        --nproc-per-node=2 -m lstm_helpers train --model A [--backend gloo|nccl] ...

``train --model`` follows the tutorial's protocol (the test set scored during training);
``train --recipe`` lesson 08's honest one (:func:`lstm_helpers.train_validate_test`): a
seeded validation split of the training images is scored during training, the best model
by validation is kept in ``--checkpoint``, and the test set is scored once, at the end.
``train`` prints the tutorial's log line every ``--eval-every`` iterations below a
progress bar (hide the bar with ``TQDM_DISABLE=1``). Started by torchrun, the same command
trains with DistributedDataParallel (see :mod:`lstm_helpers.distributed`). Bad arguments,
an unusable output path or device end with a one-line error and exit status 2, before any
training; a missing data set, or a loss that became nan (training diverged), end with one
line and status 1. The speed benchmark is not part of the package: from a clone of the
course, run ``make bench`` (``python -m benchmarks.speed``).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
from pathlib import Path

import torch
from tqdm.auto import tqdm

from . import distributed
from .checkpoints import checkpoint_callback
from .data import VALIDATION_SIZE, TensorBatches, mnist_split_batches, mnist_tensors
from .devices import describe_device, fits_on_device, pick_device
from .download import DataRoot, MNISTDataError
from .experiments import (
    LSTM_RECIPES,
    NAMED_RECIPES,
    OPTIMIZERS,
    RNN_RECIPES,
    Recipe,
    run_recipe,
    train_validate_test,
)
from .precision import UnsupportedPrecisionError, require_autocast
from .training import TrainingDivergedError
from .validation import output_file_argument, positive_int, positive_int_argument

#: Adam's default learning rate here: the course measured 98% for Models A and C with it.
ADAM_LEARNING_RATE = 0.002
PROG = "python -m lstm_helpers"
TRAIN_IMAGES = 60_000  # MNIST's training split
EVAL_BATCH_SIZE = 1000  # test batches: no gradients kept, so large batches are cheap


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line: ``prog: error: message (see --help)``."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} "
                     f"(see {self.prog} --help)\n")


def _learning_rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"the learning rate must be positive and finite, "
                                         f"got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not 0 <= value < 2**32:  # NumPy's seed range
        raise argparse.ArgumentTypeError(f"the seed must be from 0 to 2**32 - 1, got {text!r}")
    return value


def _data_root(text: str) -> DataRoot:
    """The --data-root folder, remembered as coming from the option (for the messages)."""
    return DataRoot.from_text(text, "option")


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m lstm_helpers`` with its ``train`` command."""
    parser = _Parser(prog=PROG, description="Train the tutorial's LSTMs on MNIST from the "
                     "command line, in one process or several (under torchrun).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=_Parser)
    train_parser = commands.add_parser(
        "train", help="train Model A, B or C and print the tutorial's log",
        description="Train one of the tutorial's models on MNIST (batches of 100, the test "
                    "set scored every --eval-every iterations) and print the tutorial's log "
                    "lines under a progress bar. Started by torchrun, train with "
                    "DistributedDataParallel, one process per CPU group or GPU. Data: "
                    "--data-root, else $LSTM_HELPERS_DATA, else the checkout's data/ (or a "
                    "per-user cache folder), downloaded if missing.",
        epilog="Defaults follow the tutorial: LSTM Models A, B, C have 1, 2, 3 layers of 100 "
               "units, SGD at learning rate 0.1. With --rnn, the companion RNN page's models: "
               "A and B 1 and 2 layers at 0.01, C 2 layers at 0.1. Adam defaults to "
               f"{ADAM_LEARNING_RATE}. Example: {PROG} train --model C --optimizer adam "
               f"--checkpoint runs/model_c.pt. Several processes: {distributed.EXAMPLE}")
    add_training_arguments(train_parser)
    # The benchmark lives in the course repository, not in the package (which must not
    # import it): this entry only says where it is.
    bench = commands.add_parser("bench", add_help=False,
                                help="moved: run `make bench` (python -m benchmarks.speed) "
                                     "from a clone of the course")
    parser.commands = {"train": train_parser, "bench": bench}
    return parser


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``train``: what defines a run, where it runs, and what it writes."""
    parser.add_argument("--model", choices=sorted(LSTM_RECIPES),
                        help="the tutorial's model: A, B or C (1, 2 or 3 LSTM layers); "
                             "required unless --recipe is given")
    parser.add_argument("--recipe", choices=sorted(NAMED_RECIPES), default=None,
                        help="instead of --model: a named recipe trained with lesson 08's "
                             "protocol (validation split, best checkpoint by validation, the "
                             "test set scored once at the end); lesson08 is the recipe the "
                             "lesson chose on validation")
    parser.add_argument("--epochs", type=positive_int_argument, default=None, metavar="N",
                        help="with --recipe: train N passes over the training split instead "
                             "of the recipe's iterations")
    parser.add_argument("--validation-size", type=positive_int_argument,
                        default=VALIDATION_SIZE, metavar="N",
                        help=f"with --recipe: training images set apart for validation "
                             f"(default {VALIDATION_SIZE:,})")
    parser.add_argument("--split-seed", type=_seed, default=0, metavar="S",
                        help="with --recipe: seed of the training/validation split (default "
                             "0, the lesson's)")
    parser.add_argument("--rnn", choices=("relu", "tanh"), default=None,
                        help="train the companion page's plain RNN of that letter with this "
                             "nonlinearity instead of the LSTM")
    parser.add_argument("--iters", type=positive_int_argument, default=None, metavar="N",
                        help="iterations, i.e. optimizer steps (default 3000 = 5 epochs of "
                             "batches of 100; with --recipe, the recipe's)")
    parser.add_argument("--eval-every", type=positive_int_argument, default=None, metavar="N",
                        help="score the test set and print a log line every N iterations "
                             "(default 500; with --recipe, the validation set once per "
                             "epoch)")
    parser.add_argument("--lr", type=_learning_rate, default=None, metavar="X",
                        help="learning rate (default: the tutorial's for the model, "
                             f"{ADAM_LEARNING_RATE} for Adam)")
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="sgd",
                        help="sgd (the tutorial's) or adam (default sgd)")
    parser.add_argument("--seed", type=_seed, default=0, metavar="S",
                        help="seed of the weights and of the batch order (default 0)")
    parser.add_argument("--checkpoint", type=output_file_argument, default=None,
                        metavar="PATH",
                        help="save the model after every evaluation to PATH (atomically; "
                             "load it with lstm_helpers.load_checkpoint); checked before "
                             "training starts")
    parser.add_argument("--bf16", action="store_true",
                        help="mixed precision: forward passes under torch.autocast with "
                             "bfloat16 (off by default; fast on CPUs with avx512_bf16/AMX "
                             "and recent GPUs)")
    parser.add_argument("--data-root", type=_data_root, default=None, metavar="DIR",
                        help="folder holding MNIST/raw/ (default: $LSTM_HELPERS_DATA, else "
                             "the checkout's data/, else a per-user cache folder)")
    parser.add_argument("--device", default="auto", metavar="{auto,cpu,cuda,mps}",
                        help="where to train: auto picks a CUDA or Apple GPU if there is one "
                             "(default auto; cuda:N picks one GPU; under torchrun each "
                             "process takes GPU LOCAL_RANK)")
    parser.add_argument("--batch-size", type=positive_int_argument, default=None,
                        metavar="N",
                        help="images per optimizer step (default 100, the tutorial's, or the "
                             "recipe's); under torchrun over all processes, so a multiple of "
                             "their number")
    parser.add_argument("--subset", type=positive_int_argument, default=None, metavar="N",
                        help="train on the first N training images only (a quick try)")
    parser.add_argument("--backend", choices=("gloo", "nccl"), default=None,
                        help="under torchrun: gloo (CPU) or nccl (CUDA GPUs); default nccl "
                             "on GPUs, else gloo")


def recipe_for(args: argparse.Namespace) -> Recipe:
    """The :class:`~lstm_helpers.experiments.Recipe` the ``train`` arguments describe."""
    if args.rnn is None:
        recipe = LSTM_RECIPES[args.model]
    else:
        recipe = dataclasses.replace(RNN_RECIPES[args.model], nonlinearity=args.rnn,
                                     name=f"RNN {args.model} ({args.rnn})")
    learning_rate = args.lr
    if learning_rate is None:
        learning_rate = ADAM_LEARNING_RATE if args.optimizer == "adam" else recipe.learning_rate
    return dataclasses.replace(recipe, optimizer=args.optimizer, learning_rate=learning_rate,
                               n_iters=args.iters or 3000)


#: Options of the tutorial's protocol that a named recipe decides itself.
_NOT_WITH_RECIPE = {"model": "--model", "rnn": "--rnn", "lr": "--lr", "subset": "--subset",
                    "bf16": "--bf16", "backend": "--backend"}


def _check_protocol(args: argparse.Namespace) -> None:
    """Settle ``--model`` or ``--recipe`` and the defaults that depend on it.

    Raises:
        ValueError: neither or both given; an option the recipe decides, or --epochs and
            --iters together, or --epochs without --recipe; the validation set leaves no
            training image; --recipe under torchrun.
    """
    if args.recipe is None:
        if args.model is None:
            raise ValueError("the following arguments are required: --model (or --recipe "
                             f"NAME, one of {', '.join(sorted(NAMED_RECIPES))})")
        if args.epochs is not None:
            raise ValueError("argument --epochs: goes with --recipe; with --model give "
                             "--iters")
        args.batch_size = args.batch_size or 100
        args.eval_every = args.eval_every or 500
        return
    given = [flag for name, flag in _NOT_WITH_RECIPE.items()
             if getattr(args, name) not in (None, False)]
    if args.optimizer != "sgd":
        given.append("--optimizer")
    if given:
        raise ValueError(f"argument --recipe: {args.recipe} decides {', '.join(given)} "
                         f"itself; leave {'it' if len(given) == 1 else 'them'} out")
    if args.epochs is not None and args.iters is not None:
        raise ValueError("argument --epochs: give --epochs or --iters, not both")
    if not args.validation_size < TRAIN_IMAGES:
        raise ValueError(f"argument --validation-size: {args.validation_size} leaves none of "
                         f"the {TRAIN_IMAGES} training images to train on")
    if distributed.launched_by_torchrun():
        raise ValueError("argument --recipe: runs in one process; start it without torchrun")
    args.batch_size = args.batch_size or NAMED_RECIPES[args.recipe].batch_size


def _check_sizes(args: argparse.Namespace, processes: int) -> None:
    """Refuse, before any work, a batch the training split or the processes cannot split.

    Raises:
        ValueError: the batch is larger than the training images, or not a multiple of the
            number of processes.
    """
    images = min(args.subset or TRAIN_IMAGES, TRAIN_IMAGES)
    if args.recipe is not None:
        images = TRAIN_IMAGES - args.validation_size
    if args.batch_size > images:
        raise ValueError(f"argument --batch-size: {args.batch_size} is more than the "
                         f"{images} training images")
    if args.batch_size % processes:
        raise ValueError(f"argument --batch-size: {args.batch_size} images per step do not "
                         f"split evenly over {processes} processes: use a multiple of "
                         f"{processes}")


def _batches(args: argparse.Namespace, device: torch.device):
    """``(train_batches, test_batches)``: this process's training batches (its shard under
    DDP) and the test batches of 1000, on ``device`` when they fit there.

    Raises:
        MNISTDataError, ChecksumError: the data set is missing and cannot be fetched.
    """
    images, labels = mnist_tensors(True, args.data_root)
    test_images, test_labels = mnist_tensors(False, args.data_root)
    if args.subset is not None:
        images, labels = images[:args.subset], labels[:args.subset]
    # Whole splits on the GPU once (220 MB) when they fit: no copy per batch.
    if device.type != "cpu" and fits_on_device(
            sum(t.element_size() * t.nelement()
                for t in (images, labels, test_images, test_labels)), device):
        images, labels = images.to(device), labels.to(device)
        test_images, test_labels = test_images.to(device), test_labels.to(device)
    test_batches = TensorBatches(test_images, test_labels,
                                 min(EVAL_BATCH_SIZE, len(test_images)))
    if distributed.is_distributed():
        processes = distributed.world_size()
        train_batches = distributed.ShardedBatches(
            images.to(device), labels.to(device), args.batch_size // processes,
            distributed.rank(), processes, args.seed)
    else:
        train_batches = TensorBatches(images, labels, args.batch_size, shuffle=True)
    return train_batches, test_batches


def run_train(args: argparse.Namespace, device: torch.device) -> float:
    """Train as ``args`` say on ``device`` (under DDP if a process group is set up); print
    the log on rank 0; return the final accuracy (%).

    Raises:
        MNISTDataError, ChecksumError: the data set is missing and cannot be fetched.
        TrainingDivergedError: the loss became nan or infinite.
    """
    recipe = recipe_for(args)
    train_batches, test_batches = _batches(args, device)
    first = distributed.rank() == 0
    processes = distributed.world_size()
    if first:
        where = describe_device(device)
        if processes > 1:
            where = (f"{processes} processes ({torch.distributed.get_backend()}; rank 0 on "
                     f"{device}), {args.batch_size // processes} images per process and step")
        print(f"{recipe.name}: {recipe.layer_dim} layer(s) of {recipe.hidden_dim} units, "
              f"{recipe.optimizer} lr {recipe.learning_rate:g}, {recipe.n_iters} iterations "
              f"of {args.batch_size} images, seed {args.seed}"
              f"{', bf16 autocast' if args.bf16 else ''}, on {where}", flush=True)
    on_evaluation = None
    if args.checkpoint is not None:
        on_evaluation = checkpoint_callback(
            args.checkpoint, recipe=dataclasses.asdict(recipe), seed=args.seed,
            bf16=args.bf16, device=str(device), batch_size=args.batch_size,
            world_size=processes)
    _, history = run_recipe(recipe, train_batches, test_batches, seed=args.seed,
                            log=tqdm.write, eval_every=args.eval_every, device=device,
                            on_evaluation=on_evaluation,
                            autocast_dtype=torch.bfloat16 if args.bf16 else None)
    if first:
        print(f"final test accuracy: {history.final_accuracy:.2f}% after {recipe.n_iters} "
              f"iterations in {history.seconds:.1f} s")
        if args.checkpoint is not None:
            print(f"checkpoint: {args.checkpoint}")
    return history.final_accuracy


def run_protocol(args: argparse.Namespace, device: torch.device):
    """Train the named recipe with lesson 08's protocol (validation split, best checkpoint by
    validation, the test set once at the end) and print what it gave.

    Returns:
        Outcome: see :func:`lstm_helpers.train_validate_test`.

    Raises:
        MNISTDataError, ChecksumError: the data set is missing and cannot be fetched.
        TrainingDivergedError: the loss became nan or infinite.
    """
    train_batches, validation_batches, test_batches = mnist_split_batches(
        args.batch_size, args.validation_size, args.split_seed, root=args.data_root)
    recipe = NAMED_RECIPES[args.recipe]
    n_iters = args.iters or (args.epochs * len(train_batches) if args.epochs
                             else recipe.n_iters)
    recipe = dataclasses.replace(recipe, n_iters=n_iters, batch_size=args.batch_size)
    checkpoint = args.checkpoint or Path("runs") / f"{args.recipe}.pt"
    print(f"{recipe.name}: {recipe.describe()}; {len(train_batches.images):,} training and "
          f"{len(validation_batches.images):,} validation images (split seed "
          f"{args.split_seed}), seed {args.seed}, on {describe_device(device)}", flush=True)
    outcome = train_validate_test(
        recipe, train_batches, validation_batches, test_batches, checkpoint, seed=args.seed,
        eval_every=args.eval_every, log=tqdm.write, device=device,
        split_seed=args.split_seed, validation_size=args.validation_size)
    print(f"best validation accuracy: {outcome.best.accuracy:.2f}% at iteration "
          f"{outcome.best.iteration}, kept in {checkpoint}")
    print(f"test accuracy (the test set scored once, after training): "
          f"{outcome.test_accuracy:.2f}%; {outcome.parameters:,} parameters, trained in "
          f"{outcome.seconds:.1f} s")
    return outcome


def _processes() -> int:
    """How many processes torchrun started (1 without torchrun).

    Raises:
        RuntimeError: torchrun's environment is incomplete or WORLD_SIZE is not a number.
    """
    if not distributed.launched_by_torchrun():
        return 1
    try:
        return positive_int("WORLD_SIZE", int(os.environ["WORLD_SIZE"]))
    except ValueError as error:
        raise RuntimeError(f"torchrun's environment is broken: {error}") from None


def _set_up_device(args: argparse.Namespace) -> torch.device:
    """This process's device; under torchrun, after joining the process group.

    Raises:
        ValueError, RuntimeError: the device is not available, --backend is given outside
            torchrun, or torchrun's environment is incomplete.
    """
    if distributed.launched_by_torchrun():
        return distributed.setup(args.backend, args.device)
    if args.backend is not None:
        raise ValueError("argument --backend: applies only to several processes started by "
                         f"torchrun, e.g. {distributed.EXAMPLE} --backend gloo")
    try:
        return pick_device(args.device)
    except ValueError as error:
        raise ValueError(f"argument --device: {error}") from None


def _require_bf16(args: argparse.Namespace, device: torch.device,
                  command: argparse.ArgumentParser) -> None:
    """End with one line and exit status 2, before any data is read, when --bf16 cannot work
    on this device (decided by a one-batch probe; under torchrun by all processes alike)."""
    try:
        require_autocast(recipe_for(args).build_model().to(device), torch.bfloat16,
                         all_processes=distributed.is_distributed())
    except UnsupportedPrecisionError as error:
        first = distributed.rank() == 0
        distributed.teardown()
        if not first:  # rank 0 says it once
            raise SystemExit(2) from None
        command.error(f"argument --bf16: {error.summary}: run in float32, without --bf16")


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m lstm_helpers``; returns the exit status."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)  # bench's options are unknown here
    command = parser.commands[args.command]  # its error() names the command
    if args.command == "bench":
        parser.error("bench: the speed benchmark is not part of the lstm_helpers package: "
                     "from a clone of the course run `make bench`, or `python -m "
                     "benchmarks.speed --help` for its options")
    if unknown:
        command.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:  # every check before any work: data, process group or training
        _check_protocol(args)
        _check_sizes(args, _processes())
        device = _set_up_device(args)
    except (ValueError, RuntimeError) as error:
        command.error(str(error))
    if args.bf16:
        _require_bf16(args, device, command)
    try:
        if args.recipe is not None:
            run_protocol(args, device)
        else:
            run_train(args, device)
    except MNISTDataError as error:  # ChecksumError included
        print(f"{PROG}: {error}", file=sys.stderr)
        return 1
    except TrainingDivergedError as error:
        print(f"{PROG} train: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        saved = f"; {args.checkpoint} holds the last evaluation" if args.checkpoint else ""
        print(f"\ninterrupted{saved}", file=sys.stderr)
        return 130
    finally:
        distributed.teardown()
    return 0
