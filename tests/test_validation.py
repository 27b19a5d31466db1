"""One rule for every positive-integer argument and every output file, wherever it comes from:
the package's functions, the command line and the benchmark accept and refuse alike."""

import argparse

import numpy as np
import pytest
import torch

import lstm_helpers as lh
from benchmarks import speed
from lstm_helpers import validation
from lstm_helpers.cli import build_parser

ACCEPTED = [(1, 1), (3000, 3000), (np.int64(7), 7), (np.int32(2), 2)]
REFUSED = [0, -1, 2.5, 3.0, 1e2, True, "10", None]
# The same values as a command line spells them.
ACCEPTED_TEXT = [("1", 1), ("3000", 3000), ("+7", 7), ("3_000", 3000)]
REFUSED_TEXT = ["0", "-1", "2.5", "3.0", "1e2", "ten", ""]


@pytest.mark.parametrize("value, expected", ACCEPTED)
def test_positive_integers_are_accepted_as_plain_ints(value, expected):
    number = validation.positive_int("n_iters", value)
    assert number == expected and type(number) is int


@pytest.mark.parametrize("value", REFUSED, ids=repr)
def test_everything_else_is_refused_with_the_name(value):
    with pytest.raises(ValueError, match=f"n_iters must be a positive integer, got "
                                         f"{repr(value).replace('.', '[.]')}"):
        validation.positive_int("n_iters", value)


def test_zero_is_a_count_but_not_a_size():
    assert validation.non_negative_int("retries", 0) == 0
    with pytest.raises(ValueError, match="retries must be 0 or a positive integer, got -1"):
        validation.non_negative_int("retries", -1)


@pytest.mark.parametrize("text, expected", ACCEPTED_TEXT)
def test_the_argparse_type_follows_the_same_rule(text, expected):
    assert validation.positive_int_argument(text) == expected


@pytest.mark.parametrize("text", REFUSED_TEXT)
def test_the_argparse_type_refuses_what_the_rule_refuses(text):
    with pytest.raises(argparse.ArgumentTypeError,
                       match=f"expected a positive integer, got {text!r}"):
        validation.positive_int_argument(text)


@pytest.mark.parametrize("text", REFUSED_TEXT)
def test_every_count_option_of_the_cli_and_the_benchmark_refuses_alike(text, capsys):
    # Before: --repeats "2.5" said "expected 0 or a positive integer", --iters 1e3 and the
    # benchmark's own parser each had their own rule.
    cli = build_parser()
    for option in ("--iters", "--eval-every", "--batch-size", "--subset"):
        with pytest.raises(SystemExit):
            cli.parse_args(["train", "--model", "A", option, text])
        assert f"argument {option}: expected a positive integer, got {text!r}" in \
            capsys.readouterr().err
    with pytest.raises(SystemExit):
        speed.build_parser().parse_args(["--repeats", text])
    assert f"argument --repeats: expected a positive integer, got {text!r}" in \
        capsys.readouterr().err


@pytest.mark.parametrize("value, expected", ACCEPTED)
def test_the_package_accepts_what_the_rule_accepts(value, expected):
    images, labels = torch.rand(20, 28, 28), torch.randint(0, 10, (20,))
    assert lh.TensorBatches(images, labels, min(value, 20)).batch_size == min(expected, 20)
    assert lh.LSTMModel(28, value, 1, 10).hidden_dim == expected


@pytest.mark.parametrize("value", REFUSED, ids=repr)
def test_the_package_refuses_what_the_rule_refuses(value):
    images, labels = torch.rand(20, 28, 28), torch.randint(0, 10, (20,))
    model = lh.LSTMModel(28, 4, 1, 10)
    batches = lh.TensorBatches(images, labels, 10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="n_iters must be a positive integer"):
        lh.train(model, torch.nn.CrossEntropyLoss(), optimizer, batches, batches,
                 n_iters=value, log=None, progress=False)
    with pytest.raises(ValueError, match="batch_size must be an integer from 1 to"):
        lh.TensorBatches(images, labels, value)


def test_an_output_file_in_missing_folders_is_fine_and_nothing_is_created(tmp_path):
    path = tmp_path / "runs" / "a" / "model.pt"
    assert validation.output_file(path) == path
    assert list(tmp_path.iterdir()) == []
    existing = tmp_path / "model.pt"
    existing.write_text("old")
    assert validation.output_file(existing) == existing  # replaced later, not now
    assert existing.read_text() == "old"


def test_an_output_file_message_gives_the_absolute_path(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("x")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=f"the checkpoint '{tmp_path}/a-file/model.pt' cannot "
                                         f"be written: '{tmp_path}/a-file' is a file"):
        validation.output_file("a-file/model.pt", "the checkpoint")
