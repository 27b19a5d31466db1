"""The course's command line: train the tutorial's models, or run the speed benchmark.

    python -m lstm_helpers train --model A|B|C [--rnn relu|tanh] [--iters N] [--lr X]
                                 [--optimizer sgd|adam] [--device auto|cpu|cuda|mps]
                                 [--seed S] [--checkpoint PATH] [--eval-every N] [--bf16]
    python -m lstm_helpers bench [--iters N] [--models ABC] ...

``train`` prints the tutorial's log line every ``--eval-every`` iterations below a
progress bar (hide the bar with ``TQDM_DISABLE=1``). Bad arguments end with a one-line
error and exit status 2; a missing data set ends with status 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from pathlib import Path

import torch
from tqdm.auto import tqdm

from .checkpoints import checkpoint_callback
from .data import mnist_batches
from .devices import describe_device, fits_on_device, pick_device
from .download import MNISTDataError
from .experiments import LSTM_RECIPES, OPTIMIZERS, RNN_RECIPES, Recipe, run_recipe

#: Adam's default learning rate here: the course measured 98% for Models A and C with it.
ADAM_LEARNING_RATE = 0.002
PROG = "python -m lstm_helpers"


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line: ``prog: error: message (see --help)``."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} "
                     f"(see {self.prog} --help)\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


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


def _checkpoint_path(text: str) -> Path:
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder: give a file name such as "
                                         f"{str(path / 'model.pt')!r}")
    return path


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m lstm_helpers`` with its ``train`` and ``bench`` commands."""
    parser = _Parser(prog=PROG, description="Train the tutorial's LSTMs on MNIST from the "
                     "command line, or measure the course's training speed.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=_Parser)
    train_parser = commands.add_parser(
        "train", help="train Model A, B or C and print the tutorial's log",
        description="Train one of the tutorial's models on MNIST (batches of 100, the test "
                    "set scored every --eval-every iterations) and print the tutorial's log "
                    "lines under a progress bar. Data: $LSTM_HELPERS_DATA or ./data, "
                    "downloaded if missing.",
        epilog="Defaults follow the tutorial: LSTM Models A, B, C have 1, 2, 3 layers of 100 "
               "units, SGD at learning rate 0.1. With --rnn, the companion RNN page's models: "
               "A and B 1 and 2 layers at 0.01, C 2 layers at 0.1. Adam defaults to "
               f"{ADAM_LEARNING_RATE}. Example: {PROG} train --model C --optimizer adam "
               "--checkpoint runs/model_c.pt")
    _add_train(train_parser)
    bench = commands.add_parser(
        "bench", help="the speed benchmark: tutorial vs course vs floor",
        description="Time, in one process, the tutorial's pipeline (a), the course's (b) "
                    "and the floor (c: forward, backward and SGD step on one fixed batch) "
                    "for Models A, B and C; print it/s, the ratios (b)/(a) and (b)/(c) and "
                    "peak memory, and write JSON. Run it on an otherwise idle machine.")
    speed = _benchmark_module()
    if speed is not None:
        speed.add_arguments(bench)
    parser.commands = {"train": train_parser, "bench": bench}
    return parser


def _add_train(parser: argparse.ArgumentParser) -> None:
    add_training_arguments(parser)
    parser.add_argument("--device", default="auto", metavar="{auto,cpu,cuda,mps}",
                        help="where to train: auto picks a CUDA or Apple GPU if there is one "
                             "(default auto; cuda:N picks one GPU)")


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that describe a run (model, optimizer, iterations, seed, checkpoint, data),
    shared by ``train`` and ``python -m lstm_helpers.distributed``."""
    parser.add_argument("--model", required=True, choices=sorted(LSTM_RECIPES),
                        help="the tutorial's model: A, B or C (1, 2 or 3 LSTM layers)")
    parser.add_argument("--rnn", choices=("relu", "tanh"), default=None,
                        help="train the companion page's plain RNN of that letter with this "
                             "nonlinearity instead of the LSTM")
    parser.add_argument("--iters", type=_positive_int, default=3000, metavar="N",
                        help="iterations, i.e. batches of 100 (default 3000 = 5 epochs)")
    parser.add_argument("--eval-every", type=_positive_int, default=500, metavar="N",
                        help="score the test set and print a log line every N iterations "
                             "(default 500)")
    parser.add_argument("--lr", type=_learning_rate, default=None, metavar="X",
                        help="learning rate (default: the tutorial's for the model, "
                             f"{ADAM_LEARNING_RATE} for Adam)")
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="sgd",
                        help="sgd (the tutorial's) or adam (default sgd)")
    parser.add_argument("--seed", type=_seed, default=0, metavar="S",
                        help="seed of the weights and of the batch order (default 0)")
    parser.add_argument("--checkpoint", type=_checkpoint_path, default=None, metavar="PATH",
                        help="save the model after every evaluation to PATH (atomically; "
                             "load it with lstm_helpers.load_checkpoint)")
    parser.add_argument("--bf16", action="store_true",
                        help="mixed precision: forward passes under torch.autocast with "
                             "bfloat16 (off by default; fast on CPUs with avx512_bf16/AMX "
                             "and recent GPUs)")
    parser.add_argument("--data-root", default=None, metavar="DIR",
                        help="folder holding MNIST/raw/ (default: $LSTM_HELPERS_DATA, else "
                             "./data)")


def _benchmark_module():
    """``benchmarks.speed`` from the course's repository, or None outside a checkout."""
    try:
        from benchmarks import speed
    except ImportError:
        root = Path(__file__).resolve().parents[1]
        if not (root / "benchmarks" / "speed.py").is_file():
            return None
        sys.path.insert(0, str(root))
        from benchmarks import speed
    return speed


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
                               n_iters=args.iters)


def run_train(args: argparse.Namespace, device: torch.device) -> float:
    """Train as ``args`` say on ``device``; print the log; return the final accuracy (%).

    Raises:
        MNISTDataError, ChecksumError: the data set is missing and cannot be fetched.
    """
    recipe = recipe_for(args)
    train_batches, test_batches = mnist_batches(root=args.data_root)
    # Whole splits on the GPU once (220 MB) when they fit: no copy per batch.
    if device.type != "cpu" and fits_on_device(train_batches.nbytes + test_batches.nbytes,
                                               device):
        train_batches, test_batches = train_batches.to(device), test_batches.to(device)
    print(f"{recipe.name}: {recipe.layer_dim} layer(s) of {recipe.hidden_dim} units, "
          f"{recipe.optimizer} lr {recipe.learning_rate:g}, {recipe.n_iters} iterations, "
          f"seed {args.seed}{', bf16 autocast' if args.bf16 else ''}, on "
          f"{describe_device(device)}", flush=True)
    on_evaluation = None
    if args.checkpoint is not None:
        on_evaluation = checkpoint_callback(
            args.checkpoint, recipe=dataclasses.asdict(recipe), seed=args.seed,
            bf16=args.bf16, device=str(device))
    _, history = run_recipe(recipe, train_batches, test_batches, seed=args.seed,
                            log=tqdm.write, eval_every=args.eval_every, device=device,
                            on_evaluation=on_evaluation,
                            autocast_dtype=torch.bfloat16 if args.bf16 else None)
    print(f"final test accuracy: {history.final_accuracy:.2f}% after {recipe.n_iters} "
          f"iterations in {history.seconds:.1f} s")
    if args.checkpoint is not None:
        print(f"checkpoint: {args.checkpoint}")
    return history.final_accuracy


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m lstm_helpers``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    command = parser.commands[args.command]  # its error() names the command
    if args.command == "bench":
        speed = _benchmark_module()
        if speed is None:
            command.error("the benchmark lives in the course repository's benchmarks/ "
                          "folder: run this from a clone of the course")
        try:
            speed.run(args)  # checks the device and every value before any work
        except ValueError as error:
            command.error(str(error))
        return 0
    try:
        device = pick_device(args.device)
    except ValueError as error:
        command.error(f"argument --device: {error}")
    try:
        run_train(args, device)
    except MNISTDataError as error:  # ChecksumError included
        print(f"{PROG}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        saved = f"; {args.checkpoint} holds the last evaluation" if args.checkpoint else ""
        print(f"\ninterrupted{saved}", file=sys.stderr)
        return 130
    return 0
