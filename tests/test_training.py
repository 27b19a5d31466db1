"""Training on a small real subset: the loss falls, and one seed gives one history."""

import pytest
import torch
from torch import nn

import lstm_helpers as lh


@pytest.fixture(scope="module")
def subset():
    images, labels = lh.mnist_tensors(train=True)
    return images[:3000], labels[:3000], images[3000:4000], labels[3000:4000]


def _run(subset, seed, n_iters=150, log=None):
    train_x, train_y, test_x, test_y = subset
    lh.set_seed(seed)
    model = lh.LSTMModel(28, 32, 1, 10)
    # Adam: plain SGD at lr 0.1 barely moves in 150 iterations (the tutorial's slow start).
    optimizer = torch.optim.Adam(model.parameters(), lr=0.005)
    history = lh.train(model, nn.CrossEntropyLoss(), optimizer,
                       lh.TensorBatches(train_x, train_y, 100, shuffle=True),
                       lh.TensorBatches(test_x, test_y, 500),
                       n_iters=n_iters, eval_every=50, log=log, progress=False)
    return model, history


def test_a_short_seeded_run_lowers_the_loss(subset):
    lines = []
    _, history = _run(subset, seed=0, log=lines.append)
    assert len(history.train_loss) == 150
    first, last = history.train_loss[:20], history.train_loss[-20:]
    assert sum(last) / 20 < 0.7 * sum(first) / 20
    assert [e.iteration for e in history.evaluations] == [50, 100, 150]
    assert history.final_accuracy > 50.0  # chance is 10%
    assert lines[0].startswith("Iteration: 50. Loss: ") and ". Accuracy: " in lines[0]


def test_one_seed_gives_an_identical_history_and_identical_weights(subset):
    model_a, history_a = _run(subset, seed=3, n_iters=60)
    model_b, history_b = _run(subset, seed=3, n_iters=60)
    assert history_a == history_b
    for p, q in zip(model_a.parameters(), model_b.parameters()):
        assert torch.equal(p, q)
    _, history_c = _run(subset, seed=4, n_iters=60)
    assert history_c != history_a


def test_evaluate_returns_a_float_percentage_and_restores_training_mode(subset):
    _, _, test_x, test_y = subset
    model = lh.LSTMModel(28, 16, 1, 10)
    model.train()
    accuracy = lh.evaluate(model, lh.TensorBatches(test_x, test_y, 300))
    assert isinstance(accuracy, float) and 0.0 <= accuracy <= 100.0
    assert model.training


@pytest.mark.parametrize("argument", ["n_iters", "eval_every"])
@pytest.mark.parametrize("value", [0, -1, 2.5])
def test_bad_iteration_counts_are_refused(subset, argument, value):
    model = lh.LSTMModel(28, 8, 1, 10)
    batches = lh.TensorBatches(subset[0], subset[1], 100)
    with pytest.raises(ValueError, match=f"{argument} must be a positive integer"):
        lh.train(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
                 batches, batches, **{argument: value})
