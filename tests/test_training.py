"""Training on a small real subset: the loss falls, and one seed gives one history."""

import numpy as np
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
    for p, q in zip(model_a.parameters(), model_b.parameters(), strict=True):
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


def test_numpy_integers_are_counts_like_python_ints(subset):
    # One rule for every positive-integer argument (lstm_helpers.validation.positive_int).
    model = lh.LSTMModel(28, 8, 1, 10)
    batches = lh.TensorBatches(subset[0][:200], subset[1][:200], 100)
    history = lh.train(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
                       batches, batches, n_iters=np.int64(2), eval_every=np.int32(1), log=None,
                       progress=False)
    assert [e.iteration for e in history.evaluations] == [1, 2]


# --- batches that are not one batch-first image per label -----------------------------------

def _batch(shape, n_labels=None):
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(shape, generator=generator)
    labels = torch.randint(0, 10, (n_labels if n_labels is not None else shape[0],),
                           generator=generator)
    return images, labels


# (images shape, number of labels or a labels shape, what the message must say)
WRONG_LAYOUTS = {
    "time-major (28, batch, 28)": ((28, 100, 28), 100,
                                   r"shape \(28, 100, 28\) do not match the 100 labels.*"
                                   r"time-major.*images\.transpose\(0, 1\)"),
    "fewer labels than images": ((100, 28, 28), 50,
                                 r"shape \(100, 28, 28\) do not match the 50 labels.*Pass the "
                                 r"images and the labels of the same batch"),
    "features first (784, batch)": ((784, 100), 100,
                                    r"do not match the 100 labels.*images\.movedim\(1, 0\)"),
    "one image without a batch axis": ((28, 28), 1, r"images\.view\(1, 28, 28\)"),
    "rows of 29 pixels": ((100, 28, 29), 100,
                          r"\(100, 28, 29\) are not a batch of 28 x 28 images"),
    "two channels of 392": ((100, 2, 392), 100, r"are not a batch of 28 x 28 images"),
}


@pytest.mark.parametrize("shape, n_labels, message", WRONG_LAYOUTS.values(),
                         ids=WRONG_LAYOUTS.keys())
def test_evaluate_and_train_refuse_a_batch_that_is_not_one_image_per_label(shape, n_labels,
                                                                           message):
    # The issue's case: evaluate(model, [(x.permute(1, 0, 2).contiguous(), y)]) used to
    # return an accuracy computed on scrambled images.
    images, labels = _batch(shape, n_labels)
    model = lh.LSTMModel(28, 8, 1, 10)
    with pytest.raises(ValueError, match=message):
        lh.evaluate(model, [(images, labels)])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(ValueError, match=message):
        lh.train(model, nn.CrossEntropyLoss(), optimizer, [(images, labels)],
                 [(images, labels)], n_iters=1, log=None, progress=False)
    assert all(torch.equal(p, q) for p, q in zip(before, model.parameters(), strict=True))


def test_the_issues_time_major_batch_is_refused_with_the_fix():
    x, y = torch.rand(100, 28, 28), torch.randint(0, 10, (100,))
    model = lh.LSTMModel(28, 8, 1, 10)
    with pytest.raises(ValueError, match=r"time-major .* batch: make it batch-first with "
                                         r"images\.transpose\(0, 1\)"):
        lh.evaluate(model, [(x.permute(1, 0, 2).contiguous(), y)])
    # The fix named in the message gives back the batch-first batch, and its accuracy.
    fixed = x.permute(1, 0, 2).contiguous().transpose(0, 1)
    assert lh.evaluate(model, [(fixed, y)]) == lh.evaluate(model, [(x, y)])


def test_labels_that_are_not_one_per_image_are_refused():
    images, labels = _batch((100, 28, 28))
    with pytest.raises(ValueError, match=r"labels must hold one class index per image, shape "
                                         r"\(batch,\), got \(100, 1\): use labels\.view\(-1\)"):
        lh.evaluate(lh.LSTMModel(28, 8, 1, 10), [(images, labels.view(100, 1))])


@pytest.mark.parametrize("layout", [(100, 28, 28), (100, 1, 28, 28), (100, 784),
                                    (100, 28, 28, 1), (100, 1, 784)])
def test_every_image_batch_layout_gives_the_same_accuracy(layout):
    images, labels = _batch((100, 28, 28))
    model = lh.LSTMModel(28, 8, 1, 10)
    expected = lh.evaluate(model, [(images, labels)])
    assert lh.evaluate(model, [(images.reshape(layout), labels)]) == expected


def test_as_sequences_returns_the_batch_first_view():
    images, labels = _batch((7, 1, 28, 28))
    sequences = lh.as_sequences(images, labels)
    assert sequences.shape == (7, 28, 28)
    assert torch.equal(sequences[3, 5], images[3, 0, 5])  # image 3, time step (row) 5


# --- a loss that becomes nan or infinite --------------------------------------------------

class _LossBecomesInfinite:
    """Cross entropy, except that the loss of one iteration (1-based) is infinite."""

    def __init__(self, at: int):
        self.at, self.calls = at, 0

    def __call__(self, logits, labels):
        self.calls += 1
        loss = nn.functional.cross_entropy(logits, labels)
        return loss * float("inf") if self.calls == self.at else loss


def test_an_infinite_loss_stops_training_before_the_next_evaluation(subset):
    train_x, train_y, test_x, test_y = subset
    model = lh.LSTMModel(28, 8, 1, 10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    criterion = _LossBecomesInfinite(at=7)
    evaluated, lines = [], []
    with pytest.raises(lh.TrainingDivergedError) as info:
        lh.train(model, criterion, optimizer, lh.TensorBatches(train_x, train_y, 100),
                 lh.TensorBatches(test_x, test_y, 500), n_iters=100, eval_every=5,
                 log=lines.append, progress=False,
                 on_evaluation=lambda record, _: evaluated.append(record.iteration))
    error = info.value
    assert (error.iteration, error.loss) == (7, float("inf"))
    assert "the loss became inf at iteration 7 with learning rate 0.1" in str(error)
    assert "Lower the learning rate (try 0.01)" in str(error)
    # Stopped at the check before the evaluation of iteration 10: nothing diverged was
    # evaluated or handed to on_evaluation (a checkpoint keeps the last good weights).
    assert evaluated == [5] and len(lines) == 1
    assert criterion.calls == 10 and len(error.history.train_loss) == 10
    assert isinstance(error, RuntimeError)


def test_a_diverging_run_stops_within_the_check_interval(subset):
    # A ReLU RNN at learning rate 100 blows up within a few steps; the run stops at the
    # next check (every lh.training.DIVERGENCE_CHECK_EVERY iterations), long before n_iters.
    train_x, train_y, test_x, test_y = subset
    lh.set_seed(0)
    model = lh.RNNModel(28, 32, 1, 10, nonlinearity="relu")
    with pytest.raises(lh.TrainingDivergedError, match="training diverged: the loss became "
                                                       "(nan|inf) at iteration") as info:
        lh.train(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=100.0),
                 lh.TensorBatches(train_x, train_y, 100, shuffle=True),
                 lh.TensorBatches(test_x, test_y, 500), n_iters=3000, eval_every=500,
                 log=None, progress=False)
    checked = lh.training.DIVERGENCE_CHECK_EVERY
    history = info.value.history
    assert info.value.iteration <= len(history.train_loss) <= info.value.iteration + checked
    assert history.evaluations == []
