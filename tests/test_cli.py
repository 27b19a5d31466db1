"""The command line: help, one-line errors with exit status 2, and short real runs."""

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import lstm_helpers as lh
from benchmarks import speed
from lstm_helpers.cli import build_parser, main, recipe_for

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def bf16_works():
    """Skip where bfloat16 LSTMs cannot run (an AVX2 laptop): tests/test_precision.py
    checks what happens there."""
    problem = lh.precision.autocast_problem(lh.LSTMModel(28, 16, 1, 10), torch.bfloat16)
    if problem:
        pytest.skip(f"bfloat16 does not work on this machine: {problem}")


def _exit_status(argv, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    return stopped.value.code, capsys.readouterr()


def test_help_lists_the_commands_and_every_training_option(capsys):
    status, out = _exit_status(["--help"], capsys)
    assert status == 0 and "train" in out.out and "bench" in out.out
    status, out = _exit_status(["train", "--help"], capsys)
    assert status == 0
    for option in ("--model {A,B,C}", "--rnn {relu,tanh}", "--iters N", "--lr X",
                   "--optimizer {adam,sgd}", "--device {auto,cpu,cuda,mps}", "--seed S",
                   "--checkpoint PATH", "--bf16"):
        assert option in out.out, option
    for option in ("--batch-size N", "--subset N", "--data-root DIR", "--backend {gloo,nccl}"):
        assert option in out.out, option


BAD_ARGUMENTS = [
    ([], "the following arguments are required: COMMAND"),
    (["fly"], "invalid choice: 'fly'"),
    (["train"], "the following arguments are required: --model"),
    (["train", "--model", "D"], "argument --model: invalid choice: 'D'"),
    (["train", "--model", "A", "--iters", "0"], "argument --iters: expected a positive integer"),
    (["train", "--model", "A", "--iters", "ten"], "argument --iters: expected a positive integer"),
    (["train", "--model", "A", "--iters", "1e3"], "argument --iters: expected a positive integer"),
    (["train", "--model", "A", "--batch-size", "0"], "argument --batch-size: expected a positive"),
    (["train", "--model", "A", "--subset", "-3"], "argument --subset: expected a positive"),
    (["train", "--model", "A", "--batch-size", "70000"],
     "argument --batch-size: 70000 is more than the 60000 training images"),
    (["train", "--model", "A", "--subset", "50"],
     "argument --batch-size: 100 is more than the 50 training images"),
    (["train", "--model", "A", "--backend", "gloo"],
     "argument --backend: applies only to several processes started by torchrun"),
    (["train", "--model", "A", "--bogus", "3"], "unrecognized arguments: --bogus 3"),
    (["train", "--model", "A", "--eval-every", "-5"], "argument --eval-every"),
    (["train", "--model", "A", "--lr", "0"], "argument --lr: the learning rate must be positive"),
    (["train", "--model", "A", "--lr", "nan"], "argument --lr: the learning rate must be positive"),
    (["train", "--model", "A", "--seed", "-1"], "argument --seed: the seed must be from 0"),
    (["train", "--model", "A", "--optimizer", "rmsprop"], "argument --optimizer: invalid choice"),
    (["train", "--model", "A", "--rnn", "gelu"], "argument --rnn: invalid choice"),
    (["train", "--model", "A", "--device", "tpu"], "argument --device: unknown device 'tpu'"),
    (["bench"], "bench: the speed benchmark is not part of the lstm_helpers package: from a "
                "clone of the course run `make bench`"),
    (["bench", "--iters", "500"], "bench: the speed benchmark is not part of the lstm_helpers"),
]


@pytest.mark.parametrize("argv, message", BAD_ARGUMENTS, ids=lambda value: " ".join(value)
                         if isinstance(value, list) else None)
def test_bad_arguments_end_with_one_line_and_status_2(argv, message, capsys):
    status, out = _exit_status(argv, capsys)
    assert status == 2
    assert out.out == ""
    lines = out.err.splitlines()
    assert len(lines) == 1, out.err
    assert lines[0].startswith("python -m lstm_helpers") and ": error: " in lines[0]
    assert message in lines[0]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_a_missing_gpu_is_a_one_line_error(capsys):
    status, out = _exit_status(["train", "--model", "A", "--device", "cuda"], capsys)
    assert status == 2
    assert out.err.count("\n") == 1 and "device 'cuda' is not available" in out.err


# --- output paths: checked before any training, one line, exit 2 ------------------------

def _unwritable(tmp_path, kind):
    """A path of each kind no file can be written to, and what the message says."""
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    return {
        "under a file": (a_file / "model.pt", "is a file, not a folder"),  # the case
        "deeper under a file": (a_file / "runs" / "x" / "model.pt", "is a file, not a folder"),
        "a folder": (tmp_path, "is a folder: give a file name such as"),
        "a trailing slash": (f"{tmp_path}/runs/", "ends with a slash, so it names a folder"),
    }[kind]


UNWRITABLE = ["under a file", "deeper under a file", "a folder", "a trailing slash"]


@pytest.mark.parametrize("kind", UNWRITABLE)
def test_an_unwritable_checkpoint_path_is_refused_before_training(tmp_path, capsys, kind):
    path, message = _unwritable(tmp_path, kind)
    before = sorted(tmp_path.rglob("*"))
    # --iters 1: were the path not checked first, the run would be short all the same.
    status, out = _exit_status(["train", "--model", "A", "--device", "cpu", "--iters", "1",
                                "--checkpoint", str(path)], capsys)
    assert status == 2 and out.out == ""  # no banner: nothing started
    assert out.err.count("\n") == 1 and "argument --checkpoint: the file" in out.err
    assert message in out.err
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.parametrize("kind", UNWRITABLE)
def test_an_unwritable_benchmark_output_is_refused_before_measuring(tmp_path, capsys, kind,
                                                                   monkeypatch):
    path, message = _unwritable(tmp_path, kind)
    monkeypatch.setattr(speed, "run_benchmark", lambda *args: pytest.fail("it measured"))
    with pytest.raises(SystemExit) as stopped:
        speed.main(["--output", str(path), "--models", "A"])
    out = capsys.readouterr()
    assert stopped.value.code == 2 and out.out == ""
    assert out.err.startswith("python -m benchmarks.speed: error: argument --output: the file")
    assert message in out.err and out.err.count("\n") == 1


def test_the_benchmarks_default_output_is_checked_before_measuring(tmp_path, monkeypatch,
                                                                   capsys):
    blocker = tmp_path / "results"
    blocker.write_text("a file where the results folder should be")
    monkeypatch.setattr(speed, "RESULTS", blocker)
    monkeypatch.setattr(speed, "run_benchmark", lambda *args: pytest.fail("it measured"))
    with pytest.raises(SystemExit) as stopped:
        speed.main(["--models", "A"])
    assert stopped.value.code == 2
    assert "--output" in capsys.readouterr().err


# --- the benchmark is not part of the package ----------------------------------------------

def test_the_package_imports_nothing_from_the_repository_around_it():
    outside = {"benchmarks", "scripts", "site_hooks", "tests", "notebooks", "conftest"}
    for source in (REPO / "lstm_helpers").glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            assert not {name.split(".")[0] for name in names} & outside, source.name


def test_the_command_line_runs_without_the_benchmarks_folder(tmp_path):
    # An installed copy: the package alone, no benchmarks/ beside it. `bench` says where the
    # benchmark is, in one line, and nothing imported it.
    site = tmp_path / "site"
    shutil.copytree(REPO / "lstm_helpers", site / "lstm_helpers",
                    ignore=shutil.ignore_patterns("__pycache__"))
    code = ("import sys, lstm_helpers.cli as cli\n"
            "try:\n    cli.main(['bench', '--iters', '500'])\nexcept SystemExit as stop:\n"
            "    print(stop.code, 'benchmarks' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(site)}, capture_output=True,
                          text=True, timeout=300)
    assert done.stdout.split() == ["2", "False"], done.stderr
    assert done.stderr.startswith("python -m lstm_helpers: error: bench: the speed benchmark "
                                  "is not part of the lstm_helpers package")
    assert "make bench" in done.stderr and done.stderr.count("\n") == 1


def test_the_benchmarks_options_refuse_bad_values_with_one_line(capsys):
    for argv, message in [(["--iters", "700"], "argument --iters: expected a positive multiple "
                                               "of 500"),
                          (["--models", "AD"], "argument --models: expected letters of ABC"),
                          (["--accuracy-iters", "-1"], "argument --accuracy-iters: expected 0 "
                                                       "or a positive integer"),
                          (["--repeats", "2.5"], "argument --repeats: expected a positive "
                                                 "integer, got '2.5'"),
                          (["--repeats", "0"], "argument --repeats: expected a positive "
                                               "integer, got '0'")]:
        with pytest.raises(SystemExit) as stopped:
            speed.main(argv)
        err = capsys.readouterr().err
        assert stopped.value.code == 2 and message in err and err.count("\n") == 1, err


def test_the_module_entry_point_exits_2_without_a_traceback():
    done = subprocess.run([sys.executable, "-m", "lstm_helpers", "train", "--model", "A",
                           "--iters", "0"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "python -m lstm_helpers train: error: argument --iters: expected a positive integer, "
        "got '0' (see python -m lstm_helpers train --help)"]


@pytest.mark.parametrize("argv, expected", [
    ("--model B", dict(cell="lstm", layer_dim=2, optimizer="sgd", learning_rate=0.1)),
    ("--model C --optimizer adam", dict(cell="lstm", layer_dim=3, learning_rate=0.002)),
    ("--model A --rnn relu", dict(cell="rnn", layer_dim=1, nonlinearity="relu",
                                  learning_rate=0.01)),
    ("--model C --rnn relu --lr 0.05 --iters 7", dict(cell="rnn", layer_dim=2,
                                                      nonlinearity="relu",
                                                      learning_rate=0.05, n_iters=7)),
])
def test_the_options_choose_the_tutorials_models(argv, expected):
    recipe = recipe_for(build_parser().parse_args(["train", *argv.split()]))
    for name, value in expected.items():
        assert getattr(recipe, name) == value, name


def test_a_short_real_run_logs_trains_and_saves_a_checkpoint(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TQDM_DISABLE", "1")
    checkpoint = tmp_path / "runs" / "model_a.pt"
    status = main(["train", "--model", "A", "--iters", "60", "--eval-every", "30",
                   "--optimizer", "adam", "--device", "cpu", "--seed", "1",
                   "--checkpoint", str(checkpoint)])
    out = capsys.readouterr().out.splitlines()
    assert status == 0
    assert out[0].startswith("LSTM A: 1 layer(s) of 100 units, adam lr 0.002, 60 iterations")
    log = [line for line in out if line.startswith("Iteration: ")]
    assert [line.split(".")[0] for line in log] == ["Iteration: 30", "Iteration: 60"]
    accuracy = float(log[-1].rsplit("Accuracy: ", 1)[1])
    assert accuracy > 40.0  # chance is 10%
    assert out[-2].startswith(f"final test accuracy: {accuracy:.2f}% after 60 iterations")
    assert "the code below" not in out[0]

    model, metadata = lh.load_checkpoint(checkpoint)
    assert (metadata["iteration"], metadata["seed"]) == (60, 1)
    assert metadata["recipe"]["optimizer"] == "adam" and model.layer_dim == 1
    _, test_batches = lh.mnist_batches()
    assert lh.evaluate(model, test_batches) == pytest.approx(metadata["accuracy"])
    assert f"{metadata['accuracy']:.2f}" == f"{accuracy:.2f}"


def test_bf16_trains_in_mixed_precision_and_still_learns(capsys, monkeypatch, bf16_works):
    monkeypatch.setenv("TQDM_DISABLE", "1")
    status = main(["train", "--model", "A", "--iters", "40", "--eval-every", "40",
                   "--optimizer", "adam", "--device", "cpu", "--bf16"])
    out = capsys.readouterr().out
    assert status == 0 and "bf16 autocast" in out.splitlines()[0]
    assert float(out.split("final test accuracy: ")[1].split("%")[0]) > 30.0


def test_autocast_runs_the_lstm_in_bfloat16_and_keeps_float32_weights(bf16_works):
    images, labels = torch.rand(200, 28, 28), torch.randint(0, 10, (200,))
    model = lh.LSTMModel(28, 16, 1, 10)
    seen = []
    model.lstm.register_forward_hook(lambda module, args, output: seen.append(output[0].dtype))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = lh.TensorBatches(images, labels, 50, shuffle=True)
    history = lh.train(model, torch.nn.CrossEntropyLoss(), optimizer, batches, batches,
                       n_iters=4, eval_every=4, log=None, progress=False,
                       autocast_dtype=torch.bfloat16)
    assert set(seen) == {torch.bfloat16} and len(seen) == 4 + 4  # 4 steps, 4 test batches
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert len(history.train_loss) == 4
    with pytest.raises(ValueError, match="autocast_dtype must be None .* or torch.bfloat16"):
        lh.train(model, torch.nn.CrossEntropyLoss(), optimizer, batches, batches,
                 autocast_dtype=torch.float16)


def test_a_diverging_run_ends_with_one_line_and_a_nonzero_status(capsys, monkeypatch):
    # The command: it printed "Loss: nan", a final 9.80% and exited 0.
    monkeypatch.setenv("TQDM_DISABLE", "1")
    status = main(["train", "--model", "A", "--rnn", "relu", "--lr", "1", "--iters", "100",
                   "--eval-every", "50", "--device", "cpu"])
    out = capsys.readouterr()
    assert status == 1
    assert "final test accuracy" not in out.out and "nan" not in out.out
    lines = out.err.splitlines()
    assert len(lines) == 1, out.err
    assert lines[0].startswith("python -m lstm_helpers train: error: training diverged: the "
                               "loss became nan at iteration ")
    assert "with learning rate 1, " in lines[0]
    assert lines[0].endswith("Lower the learning rate (try 0.1) and train a fresh model.")


def test_batch_size_and_subset_train_in_one_process(capsys, monkeypatch):
    monkeypatch.setenv("TQDM_DISABLE", "1")
    status = main(["train", "--model", "A", "--iters", "30", "--eval-every", "30",
                   "--optimizer", "adam", "--device", "cpu", "--batch-size", "50",
                   "--subset", "1500"])
    out = capsys.readouterr().out
    assert status == 0
    assert "30 iterations of 50 images" in out.splitlines()[0]
    assert float(out.split("final test accuracy: ")[1].split("%")[0]) > 20.0
