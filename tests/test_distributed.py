"""DistributedDataParallel on 2 CPU processes (gloo over 127.0.0.1), on a small real subset.

Two ways in, both through the course's one training entry point:

* workers started the way torchrun starts them (the same environment variables), which call
  ``lstm_helpers.distributed.setup()`` and ``lstm_helpers.run_recipe()``;
* ``torchrun`` itself, with the rendezvous docs/command-line.md gives (``--rdzv-backend=c10d
  --rdzv-endpoint=127.0.0.1:0 --local-addr=127.0.0.1``), running ``python -m lstm_helpers
  train``. Where this test may (root, with ``unshare``), the host name is made one that does
  not resolve, as in the containers where ``torchrun --standalone`` hangs.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

import lstm_helpers as lh
from lstm_helpers import distributed
from lstm_helpers.distributed import ShardedBatches, setup
from lstm_helpers.experiments import Recipe

REPO = Path(__file__).resolve().parents[1]
WORLD_SIZE = 2
RECIPE = Recipe("tiny LSTM", "lstm", layer_dim=1, hidden_dim=24, optimizer="adam",
                learning_rate=0.01, n_iters=80)
# A ReLU RNN at this learning rate blows up within a few dozen steps.
DIVERGING = Recipe("diverging RNN", "rnn", layer_dim=1, hidden_dim=24, nonlinearity="relu",
                   learning_rate=100.0, n_iters=400)
# The torchrun command of docs/command-line.md and the distributed module, 2 processes on the CPU.
TORCHRUN = ["--rdzv-backend=c10d", "--rdzv-endpoint=127.0.0.1:0", "--local-addr=127.0.0.1",
            "--nproc-per-node=2"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _worker(rank: int, port: int, folder: str) -> None:
    """One rank: join the group as under torchrun, train, save weights and losses; then a
    run that diverges, to see that every rank stops at once."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(WORLD_SIZE), LOCAL_RANK=str(rank))
    torch.set_num_threads(1)  # 2 processes on a 2-core machine
    assert setup("gloo", "cpu") == torch.device("cpu")
    try:
        images, labels = lh.mnist_tensors(train=True)
        test = lh.TensorBatches(images[4000:4500], labels[4000:4500], 500)
        shard = ShardedBatches(images[:4000], labels[:4000], 50, rank, WORLD_SIZE, seed=0)
        saved = []
        model, history = lh.run_recipe(
            RECIPE, shard, test, seed=0, eval_every=40, progress=False,
            on_evaluation=lambda record, bare: saved.append((record.iteration,
                                                              type(bare).__name__)))
        result = {"state": model.state_dict(), "losses": history.train_loss,
                  "accuracy": history.final_accuracy, "saved": saved}
        try:
            lh.run_recipe(DIVERGING, shard, test, seed=0, eval_every=400, progress=False)
            result["diverged"] = None
        except lh.TrainingDivergedError as error:
            result["diverged"] = len(error.history.train_loss)
        torch.save(result, os.path.join(folder, f"{rank}.pt"))
    finally:
        torch.distributed.destroy_process_group()


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ddp")
    mp.spawn(_worker, args=(_free_port(), str(folder)), nprocs=WORLD_SIZE, join=True)
    return [torch.load(folder / f"{rank}.pt", weights_only=True) for rank in range(WORLD_SIZE)]


@pytest.mark.slow
def test_the_ranks_end_with_identical_weights(ranks):
    first, second = ranks[0]["state"], ranks[1]["state"]
    assert first.keys() == second.keys()
    for name in first:
        assert torch.equal(first[name], second[name]), name


@pytest.mark.slow
def test_each_rank_trained_on_its_own_data_and_the_loss_falls(ranks):
    for result in ranks:
        losses = result["losses"]
        assert len(losses) == RECIPE.n_iters
        assert sum(losses[-10:]) / 10 < 0.6 * sum(losses[:10]) / 10
        assert result["accuracy"] > 40.0  # chance is 10%
    # Different halves of each batch: the ranks' own losses differ.
    assert ranks[0]["losses"] != ranks[1]["losses"]


@pytest.mark.slow
def test_only_rank_0_saves_and_it_gets_the_bare_model(ranks):
    assert ranks[0]["saved"] == [(40, "LSTMModel"), (80, "LSTMModel")]
    assert ranks[1]["saved"] == []


@pytest.mark.slow
def test_a_diverging_run_stops_every_rank_at_the_same_check(ranks):
    stopped = [result["diverged"] for result in ranks]
    assert stopped[0] is not None and stopped[0] < DIVERGING.n_iters
    assert stopped[0] == stopped[1]


def test_the_shards_split_each_epoch_permutation_between_ranks():
    images, labels = torch.arange(10.0).view(10, 1), torch.arange(10)
    shards = [ShardedBatches(images, labels, 2, rank, 2, seed=7) for rank in range(2)]
    epochs = []
    for _ in range(2):
        seen = [torch.cat([batch_labels for _, batch_labels in shard]) for shard in shards]
        assert len(seen[0]) == len(seen[1]) == 5
        assert sorted(torch.cat(seen).tolist()) == list(range(10))  # disjoint, complete
        epochs.append(torch.cat(seen).tolist())
    assert epochs[0] != epochs[1]  # reshuffled every epoch
    again = ShardedBatches(images, labels, 2, 0, 2, seed=7)
    assert torch.cat([y for _, y in again]).tolist() == epochs[0][:5]  # shared seed


def test_bad_shard_arguments_are_refused():
    images, labels = torch.zeros(10, 1), torch.zeros(10, dtype=torch.long)
    with pytest.raises(ValueError, match="rank must be from 0 to"):
        ShardedBatches(images, labels, 2, rank=2, world_size=2)
    with pytest.raises(ValueError, match="batch_size must be an integer from 1 to"):
        ShardedBatches(images, labels, 6, rank=0, world_size=2)


def test_setup_outside_torchrun_gives_the_command_that_works_everywhere(monkeypatch):
    for name in distributed.TORCHRUN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert not distributed.launched_by_torchrun()
    with pytest.raises(RuntimeError, match="torchrun --rdzv-backend=c10d "
                                           "--rdzv-endpoint=127.0.0.1:0 --local-addr=127.0.0.1"):
        setup()


def test_a_partial_torchrun_environment_is_refused(monkeypatch):
    for name in distributed.TORCHRUN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RANK", "0")
    with pytest.raises(RuntimeError, match="RANK set but WORLD_SIZE, MASTER_ADDR, MASTER_PORT "
                                           "not"):
        distributed.launched_by_torchrun()


def test_the_old_module_is_an_alias_of_train():
    done = subprocess.run([sys.executable, "-m", "lstm_helpers.distributed", "--model", "A",
                           "--iters", "0"], capture_output=True, text=True, cwd=REPO,
                          timeout=120)
    assert done.returncode == 2
    assert "python -m lstm_helpers train: error: argument --iters" in done.stderr


def test_the_documented_commands_pin_the_rendezvous_to_127_0_0_1():
    # torchrun --standalone publishes the host name; where it does not resolve, it hangs.
    for path in ("docs/command-line.md", "lstm_helpers/distributed/__init__.py",
                 "lstm_helpers/cli.py"):
        text = (REPO / path).read_text().replace("\\\n", " ")  # join continued lines
        commands = re.findall(r"^\s*(?:\.venv/bin/)?torchrun .*$", text, re.M)
        assert commands, path
        assert not [command for command in commands if "--standalone" in command], path
        assert any("--rdzv-endpoint=127.0.0.1:0 --local-addr=127.0.0.1" in " ".join(
            command.split()) for command in commands), path


def _unresolvable_host_prefix() -> list[str]:
    """``unshare --uts`` with a host name that does not resolve, where this process may."""
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        return []
    probe = subprocess.run([unshare, "--uts", "true"], capture_output=True)
    return [unshare, "--uts", "sh", "-c", 'hostname no-such-host.invalid && exec "$@"', "sh"] \
        if probe.returncode == 0 else []


@pytest.mark.slow
def test_torchrun_trains_with_the_documented_rendezvous(tmp_path):
    prefix = _unresolvable_host_prefix()
    checkpoint = tmp_path / "model.pt"
    command = [*prefix, sys.executable, "-m", "torch.distributed.run", *TORCHRUN,
               "-m", "lstm_helpers", "train", "--model", "A", "--iters", "20",
               "--eval-every", "20", "--subset", "2000", "--device", "cpu",
               "--checkpoint", str(checkpoint)]
    env = {**os.environ, "TQDM_DISABLE": "1", "PYTHONPATH": str(REPO)}
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout.splitlines()
    banner = [line for line in out if line.startswith("LSTM A:")]
    assert len(banner) == 1 and "2 processes (gloo; rank 0 on cpu), 50 images per " \
        "process and step" in banner[0]  # printed by rank 0 only
    assert len([line for line in out if line.startswith("Iteration: 20.")]) == 1
    model, metadata = lh.load_checkpoint(checkpoint)
    assert metadata["world_size"] == 2 and metadata["iteration"] == 20
    assert type(model) is lh.LSTMModel
