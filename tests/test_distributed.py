"""DistributedDataParallel on 2 CPU processes (gloo over 127.0.0.1), on a small real subset.

The workers are started the way torchrun starts them: the same environment variables, then
lstm_helpers.distributed.setup() and train_ddp().
"""

import os
import socket

import pytest
import torch
import torch.multiprocessing as mp

import lstm_helpers as lh
from lstm_helpers.distributed import ShardedBatches, setup, train_ddp
from lstm_helpers.experiments import Recipe

WORLD_SIZE = 2
RECIPE = Recipe("tiny LSTM", "lstm", layer_dim=1, hidden_dim=24, optimizer="adam",
                learning_rate=0.01, n_iters=80)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _worker(rank: int, port: int, folder: str) -> None:
    """One rank: join the group as under torchrun, train, save weights and losses."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(WORLD_SIZE), LOCAL_RANK=str(rank))
    torch.set_num_threads(1)  # 2 processes on a 2-core machine
    device = setup("gloo")
    try:
        images, labels = lh.mnist_tensors(train=True)
        test = lh.TensorBatches(images[4000:4500], labels[4000:4500], 500)
        model, history = train_ddp(RECIPE, images[:4000], labels[:4000], test, device,
                                   global_batch_size=100, seed=0, eval_every=40, log=None)
        torch.save({"state": model.state_dict(), "losses": history.train_loss,
                    "accuracy": history.final_accuracy}, os.path.join(folder, f"{rank}.pt"))
    finally:
        torch.distributed.destroy_process_group()


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ddp")
    mp.spawn(_worker, args=(_free_port(), str(folder)), nprocs=WORLD_SIZE, join=True)
    return [torch.load(folder / f"{rank}.pt", weights_only=True) for rank in range(WORLD_SIZE)]


def test_the_ranks_end_with_identical_weights(ranks):
    first, second = ranks[0]["state"], ranks[1]["state"]
    assert first.keys() == second.keys()
    for name in first:
        assert torch.equal(first[name], second[name]), name


def test_each_rank_trained_on_its_own_data_and_the_loss_falls(ranks):
    for result in ranks:
        losses = result["losses"]
        assert len(losses) == RECIPE.n_iters
        assert sum(losses[-10:]) / 10 < 0.6 * sum(losses[:10]) / 10
        assert result["accuracy"] > 40.0  # chance is 10%
    # Different halves of each batch: the ranks' own losses differ.
    assert ranks[0]["losses"] != ranks[1]["losses"]


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


def test_setup_outside_torchrun_says_how_to_start(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="torchrun --standalone --nproc_per_node=2"):
        setup()
