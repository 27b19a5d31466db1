"""The command line: help, one-line errors with exit status 2, and a short real run."""

import subprocess
import sys

import pytest
import torch

import lstm_helpers as lh
from lstm_helpers.cli import build_parser, main, recipe_for


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
    status, out = _exit_status(["bench", "--help"], capsys)
    assert status == 0 and "--iters N" in out.out and "(b)/(c)" in out.out


BAD_ARGUMENTS = [
    ([], "the following arguments are required: COMMAND"),
    (["fly"], "invalid choice: 'fly'"),
    (["train"], "the following arguments are required: --model"),
    (["train", "--model", "D"], "argument --model: invalid choice: 'D'"),
    (["train", "--model", "A", "--iters", "0"], "argument --iters: expected a positive integer"),
    (["train", "--model", "A", "--iters", "ten"], "argument --iters: expected a positive integer"),
    (["train", "--model", "A", "--eval-every", "-5"], "argument --eval-every"),
    (["train", "--model", "A", "--lr", "0"], "argument --lr: the learning rate must be positive"),
    (["train", "--model", "A", "--lr", "nan"], "argument --lr: the learning rate must be positive"),
    (["train", "--model", "A", "--seed", "-1"], "argument --seed: the seed must be from 0"),
    (["train", "--model", "A", "--optimizer", "rmsprop"], "argument --optimizer: invalid choice"),
    (["train", "--model", "A", "--rnn", "gelu"], "argument --rnn: invalid choice"),
    (["train", "--model", "A", "--device", "tpu"], "argument --device: unknown device 'tpu'"),
    (["bench", "--iters", "700"], "argument --iters: expected a positive multiple of 500"),
    (["bench", "--models", "AD"], "argument --models: expected letters of ABC"),
    (["bench", "--accuracy-iters", "-1"], "argument --accuracy-iters"),
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
@pytest.mark.parametrize("command", ["train --model A", "bench"])
def test_a_missing_gpu_is_a_one_line_error(command, capsys):
    status, out = _exit_status(command.split() + ["--device", "cuda"], capsys)
    assert status == 2
    assert out.err.count("\n") == 1 and "device 'cuda' is not available" in out.err


def test_a_folder_given_as_checkpoint_is_refused(tmp_path, capsys):
    status, out = _exit_status(["train", "--model", "A", "--checkpoint", str(tmp_path)], capsys)
    assert status == 2 and "is a folder" in out.err and out.err.count("\n") == 1


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

    model, metadata = lh.load_checkpoint(checkpoint)
    assert (metadata["iteration"], metadata["seed"]) == (60, 1)
    assert metadata["recipe"]["optimizer"] == "adam" and model.layer_dim == 1
    _, test_batches = lh.mnist_batches()
    assert lh.evaluate(model, test_batches) == pytest.approx(metadata["accuracy"])
    assert f"{metadata['accuracy']:.2f}" == f"{accuracy:.2f}"


def test_bf16_trains_in_mixed_precision_and_still_learns(capsys, monkeypatch):
    monkeypatch.setenv("TQDM_DISABLE", "1")
    status = main(["train", "--model", "A", "--iters", "40", "--eval-every", "40",
                   "--optimizer", "adam", "--device", "cpu", "--bf16"])
    out = capsys.readouterr().out
    assert status == 0 and "bf16 autocast" in out.splitlines()[0]
    assert float(out.split("final test accuracy: ")[1].split("%")[0]) > 30.0


def test_autocast_runs_the_lstm_in_bfloat16_and_keeps_float32_weights():
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
