"""Training speed, side by side in one process: the tutorial's pipeline, the course's, the floor.

For each of the tutorial's LSTMs (Model A, B, C: 1, 2, 3 layers of 100 units, SGD at
learning rate 0.1, batches of 100) and the same number of iterations:

(a) ``tutorial``: the tutorial's pipeline as printed (:mod:`benchmarks.tutorial_pipeline`):
    ``DataLoader`` over ``ToTensor()`` datasets, its loop, its evaluation every 500
    iterations over the test loader in batches of 100 with gradients recorded.
(b) ``course``: the course's pipeline, ``lstm_helpers.mnist_batches`` (data held in memory
    as tensors), ``LSTMModel`` and ``lstm_helpers.train`` (evaluation every 500 iterations
    in batches of 1000 under ``torch.inference_mode()``).
(c) ``floor``: ``zero_grad``, forward, loss, backward and the SGD step alone, on one fixed
    batch: no data handling, no evaluation. What the hardware allows for this model.
(b16) ``course_bf16`` (unless ``--no-bf16``): (b) under ``torch.autocast`` with bfloat16.
    Where one bfloat16 step of the models fails on this machine (a CPU without bfloat16
    LSTM kernels: see :mod:`lstm_helpers.precision`), the bf16 stages are skipped, the
    reason printed and stored as ``settings.bf16_skipped``.

Each stage times its training loop with its evaluations (data set construction is timed
apart, as ``setup_s``), and records its own peak resident memory. The stages run
``--repeats`` times in turn and each keeps its fastest run; on Linux, a run during which
other programs took more than 5% of a core (read from ``/proc/stat``) is repeated up to
``--retries`` times and flagged ``disturbed`` if it never ran alone. Then, unless
``--accuracy-iters 0``, the course pipeline is run to the tutorial's 3000 iterations in
float32 and in bfloat16 for ``--accuracy-models`` (default A), to report what mixed
precision does to the final accuracy.

    python -m benchmarks.speed --help       # from the repository root; make bench runs it

It prints a table and writes ``benchmarks/results/<host-kind>.json`` (or ``--output``, checked
before any stage runs). Run it on a quiet
machine: another program using the CPU at the same time slows the stages unevenly. With
the defaults (500 iterations, best of 2, accuracy comparison for Model A) it takes about
6 minutes on 2 CPU cores; ``make bench`` adds Model C's comparison: about 9 minutes.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

import lstm_helpers as lh
from benchmarks.host import describe_host, host_kind, machine_busy_seconds, own_cpu_seconds
from benchmarks.memory import PeakMemory
from benchmarks.tutorial_pipeline import TutorialLSTMModel, train_as_printed, tutorial_loaders
from lstm_helpers.validation import (
    non_negative_int,
    non_negative_int_argument,
    output_file,
    output_file_argument,
    positive_int,
    positive_int_argument,
)

MODELS = {"A": 1, "B": 2, "C": 3}  # the tutorial's models: letter -> layer_dim
INPUT_DIM, HIDDEN_DIM, OUTPUT_DIM = 28, 100, 10
LEARNING_RATE, BATCH_SIZE, EVAL_EVERY = 0.1, 100, 500
DEFAULT_ITERS = 500    # per stage; a multiple of 500 keeps the tutorial's evaluation rate
DEFAULT_REPEATS = 2    # each stage runs this often; the fastest run counts
DEFAULT_RETRIES = 1    # extra runs of a stage that other programs disturbed
RESULTS = Path(__file__).resolve().parent / "results"
CPU = torch.device("cpu")


@dataclass
class Stage:
    """One pipeline's run: ``seconds`` of training + evaluations for ``iterations`` steps."""

    pipeline: str
    iterations: int
    seconds: float
    setup_s: float
    peak_rss_mib: float
    accuracy: float | None = None  # test accuracy (%) at the last iteration, if evaluated
    other_cpu_s: float | None = None  # CPU time other programs used meanwhile (Linux)
    attempts: int = 1  # > 1 when other programs disturbed the earlier attempts
    runs: list[float] = field(default_factory=list)  # seconds of every repeat (best kept)

    @property
    def its_per_s(self) -> float:
        return self.iterations / self.seconds

    @property
    def disturbed(self) -> bool:
        """Other programs used more than 5% of one core meanwhile: the timing is unreliable."""
        return self.other_cpu_s is not None and self.other_cpu_s > 0.05 * self.seconds

    def as_dict(self) -> dict:
        rounded = {name: round(value, 3) if isinstance(value, float) else value
                   for name, value in asdict(self).items()}
        rounded["runs"] = [round(seconds, 3) for seconds in self.runs]
        return {**rounded, "its_per_s": round(self.its_per_s, 2),
                "ms_per_it": round(1000 * self.seconds / self.iterations, 2),
                "disturbed": self.disturbed}

    def line(self, letter: str) -> str:
        accuracy = "" if self.accuracy is None else f"  acc {self.accuracy:6.2f}%"
        note = ""
        if self.disturbed:
            note = f"  (other programs took {self.other_cpu_s:.0f} CPU s: unreliable)"
        return (f"  {letter} {self.pipeline:<12} {self.its_per_s:7.1f} it/s "
                f"{1000 * self.seconds / self.iterations:7.2f} ms/it {self.seconds:6.1f} s  "
                f"peak RSS {self.peak_rss_mib:5.0f} MiB{accuracy}{note}")


class Bench:
    """Runs the stages on one device, measuring time, memory and interference.

    A stage during which other programs took more than 5% of a core (see
    :meth:`Stage.disturbed`) is run again, up to ``retries`` times, and flagged if it never
    ran undisturbed.
    """

    def __init__(self, device: torch.device, root=None, retries: int = DEFAULT_RETRIES,
                 log: Callable[[str], None] = print):
        self.device, self.root, self.retries, self.log = device, root, retries, log
        self.memory = PeakMemory()
        self._fixed_batch: tuple[torch.Tensor, torch.Tensor] | None = None

    def measure(self, pipeline: str, n_iters: int,
                run: Callable[[], tuple[float, float, float | None]]) -> Stage:
        """Run ``run`` (returning setup_s, seconds, accuracy) as one stage, retrying it if
        disturbed."""
        for attempt in range(1, self.retries + 2):
            gc.collect()
            self.memory.reset()
            busy, own = machine_busy_seconds(), own_cpu_seconds()
            setup_s, seconds, accuracy = run()
            other = None
            if busy is not None:
                other = max(0.0, machine_busy_seconds() - busy - (own_cpu_seconds() - own))
            stage = Stage(pipeline, n_iters, seconds, setup_s, self.memory.peak_mib(),
                          accuracy, other, attempt)
            if not stage.disturbed:
                break
            if attempt <= self.retries:
                self.log(f"  ({pipeline}: other programs took {other:.0f} CPU s during "
                         f"{seconds:.0f} s; running it again)")
        return stage

    def sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def tutorial(self, layer_dim: int, n_iters: int) -> Stage:
        """(a): the tutorial's own code, seeded with 0."""
        def run():
            start = time.perf_counter()
            lh.set_seed(0)
            train_loader, test_loader = tutorial_loaders(self.root, BATCH_SIZE)
            model = TutorialLSTMModel(INPUT_DIM, HIDDEN_DIM, layer_dim, OUTPUT_DIM)
            model = model.to(self.device)
            setup_s = time.perf_counter() - start
            start = time.perf_counter()
            records = train_as_printed(model, train_loader, test_loader, n_iters,
                                       LEARNING_RATE, device=self.device)
            self.sync()
            return setup_s, time.perf_counter() - start, records[-1][2]
        return self.measure("tutorial", n_iters, run)

    def course(self, layer_dim: int, n_iters: int,
               autocast_dtype: torch.dtype | None = None) -> Stage:
        """(b): lstm_helpers.mnist_batches + LSTMModel + lstm_helpers.train, seeded with 0."""
        def run():
            start = time.perf_counter()
            lh.set_seed(0)
            train_batches, test_batches = lh.mnist_batches(BATCH_SIZE, root=self.root)
            train_batches = train_batches.to(self.device)
            test_batches = test_batches.to(self.device)
            model = lh.LSTMModel(INPUT_DIM, HIDDEN_DIM, layer_dim, OUTPUT_DIM).to(self.device)
            optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
            setup_s = time.perf_counter() - start
            history = lh.train(model, nn.CrossEntropyLoss(), optimizer, train_batches,
                               test_batches, n_iters=n_iters, eval_every=EVAL_EVERY, log=None,
                               progress=False, autocast_dtype=autocast_dtype)
            self.sync()
            return setup_s, history.seconds, history.final_accuracy
        return self.measure("course" if autocast_dtype is None else "course_bf16", n_iters, run)

    def fixed_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The floor's batch: the first 100 training images and labels, on the device
        (loaded once, outside any stage, so the floor's memory is the model's alone)."""
        if self._fixed_batch is None:
            images, labels = lh.mnist_tensors(True, self.root)
            self._fixed_batch = (images[:BATCH_SIZE].clone().to(self.device),
                                 labels[:BATCH_SIZE].clone().to(self.device))
        return self._fixed_batch

    def floor(self, layer_dim: int, n_iters: int) -> Stage:
        """(c): zero_grad, forward, loss, backward, SGD step on one fixed batch (the first
        100 training images); nothing else."""
        images, labels = self.fixed_batch()

        def run():
            start = time.perf_counter()
            lh.set_seed(0)
            model = lh.LSTMModel(INPUT_DIM, HIDDEN_DIM, layer_dim, OUTPUT_DIM).to(self.device)
            optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
            criterion = nn.CrossEntropyLoss()
            setup_s = time.perf_counter() - start
            start = time.perf_counter()
            for _ in range(n_iters):
                optimizer.zero_grad()
                loss = criterion(model(images), labels)
                loss.backward()
                optimizer.step()
            self.sync()
            return setup_s, time.perf_counter() - start, None
        return self.measure("floor", n_iters, run)

    def bf16_problem(self, letters: str) -> str | None:
        """Why bfloat16 cannot train these models here (a one-batch probe), or None."""
        for letter in sorted(set(letters)):
            model = lh.LSTMModel(INPUT_DIM, HIDDEN_DIM, MODELS[letter], OUTPUT_DIM)
            problem = lh.precision.autocast_problem(model.to(self.device), torch.bfloat16)
            if problem:
                return f"Model {letter} failed one bfloat16 step on {self.device}: {problem}"
        return None

    def warm_up(self, bf16: bool) -> None:
        """A few steps of each model size, so no stage pays for library start-up alone."""
        for layer_dim in MODELS.values():
            model = lh.LSTMModel(INPUT_DIM, HIDDEN_DIM, layer_dim, OUTPUT_DIM).to(self.device)
            images = torch.rand(BATCH_SIZE, 28, 28, device=self.device)
            for dtype in (None, torch.bfloat16) if bf16 else (None,):
                for _ in range(3):
                    with lh.precision.autocast_context(self.device, dtype):
                        loss = model(images).sum()
                    loss.backward()

    def model(self, letter: str, n_iters: int, bf16: bool, repeats: int = 1) -> dict:
        """All stages of one model, its ratios, and a line per stage through ``log``.

        The stages run ``repeats`` times, in turn and in alternating order ((a), (b), (c),
        bf16, then bf16, (c), (b), (a), ...), so a machine that slows down or speeds up
        over minutes favours none of them; each keeps its fastest run (the least disturbed
        by the rest of the machine).
        """
        layer_dim = MODELS[letter]
        stage_runs = [lambda: self.tutorial(layer_dim, n_iters),
                      lambda: self.course(layer_dim, n_iters),
                      lambda: self.floor(layer_dim, n_iters)]
        if bf16:
            stage_runs.append(lambda: self.course(layer_dim, n_iters, torch.bfloat16))
        runs: list[list[Stage]] = [[] for _ in stage_runs]
        for repeat in range(repeats):
            order = range(len(stage_runs)) if repeat % 2 == 0 else reversed(range(len(stage_runs)))
            for index in order:
                runs[index].append(stage_runs[index]())
        stages = []
        for attempts in runs:
            best = min(attempts, key=lambda stage: stage.seconds)
            best.runs = [stage.seconds for stage in attempts]
            stages.append(best)
        by_name = {stage.pipeline: stage for stage in stages}
        tutorial, course, floor = by_name["tutorial"], by_name["course"], by_name["floor"]
        ratios = {"course_speedup_over_tutorial": tutorial.seconds / course.seconds,
                  "course_time_over_floor": course.seconds / floor.seconds}
        if bf16:
            ratios["bf16_speedup_over_fp32"] = course.seconds / by_name["course_bf16"].seconds
        for stage in stages:
            self.log(stage.line(letter))
        self.log(f"  {letter} course (b) is {ratios['course_speedup_over_tutorial']:.2f}x "
                 f"faster than the tutorial (a); (b)/(c) = "
                 f"{ratios['course_time_over_floor']:.3f}"
                 + (f"; bf16 {ratios['bf16_speedup_over_fp32']:.2f}x fp32" if bf16 else ""))
        return {"layer_dim": layer_dim, "stages": [stage.as_dict() for stage in stages],
                "ratios": {name: round(value, 3) for name, value in ratios.items()}}

    def accuracy(self, letter: str, n_iters: int) -> dict:
        """The course pipeline to ``n_iters`` in float32 and in bfloat16: accuracy, time."""
        result = {"iterations": n_iters}
        for name, dtype in (("fp32", None), ("bf16", torch.bfloat16)):
            stage = self.course(MODELS[letter], n_iters, dtype)
            result[name] = stage.as_dict()
            self.log(f"  {letter} {name}: {stage.accuracy:.2f}% after {n_iters} iterations, "
                     f"{stage.seconds:.1f} s ({1000 * stage.seconds / n_iters:.2f} ms/it)"
                     + ("  (disturbed by other programs)" if stage.disturbed else ""))
        return result


def run_benchmark(models: str = "ABC", n_iters: int = DEFAULT_ITERS, root=None,
                  device: torch.device = CPU, bf16: bool = True,
                  accuracy_iters: int = 3000, accuracy_models: str = "A",
                  retries: int = DEFAULT_RETRIES, repeats: int = DEFAULT_REPEATS,
                  log: Callable[[str], None] = print) -> dict:
    """Run every stage for ``models`` (letters of A, B, C); return the JSON-able results.

    Raises:
        ValueError: an unknown model letter, ``n_iters`` is not a positive multiple of
            500 (the tutorial's evaluation interval, kept so the ratios are fair),
            ``accuracy_iters`` or ``retries`` is negative, or ``repeats`` is below 1.
    """
    for letter in models + accuracy_models:
        if letter not in MODELS:
            raise ValueError(f"unknown model {letter!r}: use letters of {''.join(MODELS)}")
    if positive_int("--iters", n_iters) % EVAL_EVERY:
        raise ValueError(f"--iters must be a positive multiple of {EVAL_EVERY} (the "
                         f"tutorial's evaluation interval), got {n_iters}")
    non_negative_int("--accuracy-iters", accuracy_iters)
    non_negative_int("--retries", retries)
    positive_int("--repeats", repeats)
    bench = Bench(device, root, retries, log)
    host = describe_host(device)
    log(f"host: {host['cpu']}, {host['logical_cpus']} logical CPUs, torch {host['torch']} "
        f"({host['torch_threads']} threads, {host['cpu_capability']}), device {device}; "
        f"bf16 CPU flags: {', '.join(host['bf16_cpu_flags']) or 'none'}")
    log(f"{n_iters} iterations per stage, evaluation every {EVAL_EVERY}, best of {repeats}; "
        f"peak RSS per {bench.memory.scope}")
    bf16_skipped = bench.bf16_problem(models + accuracy_models) if bf16 else None
    if bf16_skipped:
        log(f"bf16 stages skipped: {bf16_skipped}")
        bf16 = False
    started = time.perf_counter()
    bench.warm_up(bf16)
    gc.collect()
    bench.memory.reset()
    baseline = bench.memory.peak_mib()
    log(f"resident memory before the stages (Python, PyTorch and its libraries): "
        f"{baseline:.0f} MiB")
    results = {"host": host, "settings": {
        "iterations": n_iters, "eval_every": EVAL_EVERY, "batch_size": BATCH_SIZE,
        "learning_rate": LEARNING_RATE, "hidden_dim": HIDDEN_DIM, "seed": 0,
        "repeats": repeats, "retries": retries, "peak_rss_scope": bench.memory.scope,
        "baseline_rss_mib": round(baseline, 1), "bf16_skipped": bf16_skipped},
        "models": {letter: bench.model(letter, n_iters, bf16, repeats) for letter in models}}
    if bf16 and accuracy_iters:
        results["bf16_accuracy"] = {letter: bench.accuracy(letter, accuracy_iters)
                                    for letter in accuracy_models}
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    log(f"benchmark took {results['total_seconds']:.0f} s")
    return results


def results_path(output: Path | None, device: torch.device) -> Path:
    """Where the results go: ``output``, or ``benchmarks/results/<host-kind>.json``.

    Raises:
        ValueError: the file cannot be written (see
            :func:`lstm_helpers.validation.output_file`).
    """
    return output_file(output or RESULTS / f"{host_kind(device)}.json", "--output")


def write_results(results: dict, output: Path | None, device: torch.device) -> Path:
    """Write ``results`` as JSON to ``output`` or ``benchmarks/results/<host-kind>.json``."""
    path = results_path(output, device)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path


def _iterations(text: str) -> int:
    try:
        value = positive_int_argument(text)
    except argparse.ArgumentTypeError:
        value = 0
    if value < EVAL_EVERY or value % EVAL_EVERY:
        raise argparse.ArgumentTypeError(
            f"expected a positive multiple of {EVAL_EVERY} (the tutorial's evaluation "
            f"interval, kept so the ratios are fair), got {text!r}")
    return value


def _letters(text: str) -> str:
    letters = text.upper()
    if not letters or any(letter not in MODELS for letter in letters):
        raise argparse.ArgumentTypeError(f"expected letters of {''.join(MODELS)}, got {text!r}")
    return letters


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's options."""
    parser.add_argument("--iters", type=_iterations, default=DEFAULT_ITERS, metavar="N",
                        help=f"iterations per stage, a multiple of {EVAL_EVERY} "
                             f"(default {DEFAULT_ITERS}; with the other defaults the whole "
                             f"benchmark takes about 6 minutes on 2 CPU cores)")
    parser.add_argument("--repeats", type=positive_int_argument, default=DEFAULT_REPEATS,
                        metavar="N",
                        help=f"run every stage N times in turn and keep its fastest run "
                             f"(default {DEFAULT_REPEATS})")
    parser.add_argument("--models", type=_letters, default="ABC", metavar="LETTERS",
                        help="which of the tutorial's models to run (default ABC)")
    parser.add_argument("--device", default="cpu", metavar="{auto,cpu,cuda,mps}",
                        help="where every stage runs (default cpu; the tutorial's stage "
                             "then follows its GPU section)")
    parser.add_argument("--no-bf16", dest="bf16", action="store_false",
                        help="skip the bfloat16 mixed-precision stages")
    parser.add_argument("--accuracy-iters", type=non_negative_int_argument, default=3000,
                        metavar="N",
                        help="train fp32 and bf16 this long for the accuracy comparison "
                             "(default 3000; 0 skips it)")
    parser.add_argument("--accuracy-models", type=_letters, default="A", metavar="LETTERS",
                        help="models of the fp32/bf16 accuracy comparison (default A; C "
                             "adds about 3.5 minutes)")
    parser.add_argument("--retries", type=non_negative_int_argument, default=DEFAULT_RETRIES,
                        metavar="N",
                        help="run a stage again, up to N times, when other programs used "
                             f"the CPU meanwhile (default {DEFAULT_RETRIES})")
    parser.add_argument("--output", type=output_file_argument, default=None, metavar="PATH",
                        help="JSON file to write (default benchmarks/results/<host-kind>.json); "
                             "checked before any stage runs")


def run(args: argparse.Namespace) -> Path:
    """Run the benchmark as ``args`` (from :func:`add_arguments`) asks; return the JSON path.

    Raises:
        ValueError: a bad option value (see :func:`run_benchmark`) or an unavailable device.
    """
    try:
        device = lh.pick_device(args.device)
    except ValueError as error:
        raise ValueError(f"argument --device: {error}") from error
    results_path(args.output, device)  # a bad output path fails now, not after minutes
    results = run_benchmark(args.models, args.iters, None, device, args.bf16,
                            args.accuracy_iters, args.accuracy_models, args.retries,
                            args.repeats)
    path = write_results(results, args.output, device)
    print(f"results written to {path}")
    return path


class _Parser(argparse.ArgumentParser):
    """Errors in one line, ``prog: error: message (see --help)``, as the course's CLI."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} "
                     f"(see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m benchmarks.speed``."""
    parser = _Parser(prog="python -m benchmarks.speed",
                     description="Time, in one process, the tutorial's pipeline (a), the "
                                 "course's (b) and the floor (c: forward, backward and SGD "
                                 "step on one fixed batch) for Models A, B and C; print it/s, "
                                 "the ratios (b)/(a) and (b)/(c) and peak memory, and write "
                                 "JSON. Run it on an otherwise idle machine.")
    add_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks.speed``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        run(args)
    except ValueError as error:
        parser.error(str(error))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
