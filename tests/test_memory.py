"""The memory lesson's helpers: delayed MNIST, the gradient probe, row blanking, its plots."""

import warnings

import matplotlib
import pytest
import torch
from torch import nn

import lstm_helpers as lh
from lstm_helpers.plots import FIGURE_WIDTH, alt_text

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def test_split():
    """The real MNIST test split, (10000, 28, 28) float32 in [0, 1] and (10000,) labels."""
    return lh.mnist_tensors(train=False)


# --- delayed data ---------------------------------------------------------------------------

@pytest.mark.parametrize("layout", [(28, 28), (1, 28, 28), (784,)])
def test_blank_rows_follow_the_digit_unchanged(test_split, layout):
    images = test_split[0][:50]
    delayed = lh.add_blank_rows(images.reshape(50, *layout), 56)
    assert delayed.shape == (50, 84, 28) and delayed.dtype == torch.float32
    assert torch.equal(delayed[:, :28], images)  # the digit's rows, in order
    assert torch.count_nonzero(delayed[:, 28:]) == 0  # then 56 blank rows
    assert torch.equal(lh.add_blank_rows(images, 0), images)


@pytest.mark.parametrize("delay", [0, 3])
def test_the_callers_images_are_never_changed(test_split, delay):
    images = test_split[0][:4].clone()
    delayed = lh.add_blank_rows(images, delay)
    delayed[:] = 0.5  # writing into the result leaves the caller's tensor as it was
    assert torch.equal(images, test_split[0][:4])


@pytest.mark.parametrize("delay", [-1, 2.0, True, "56", None])
def test_a_bad_delay_is_refused(delay):
    with pytest.raises(ValueError, match="delay must be a whole number of blank rows"):
        lh.add_blank_rows(torch.zeros(2, 28, 28), delay)
    with pytest.raises(ValueError, match="delay must be a whole number of blank rows"):
        lh.DelayedBatches([], delay)


def test_raw_pixels_and_wrong_sizes_are_refused():
    with pytest.raises(ValueError, match="floating-point images"):
        lh.add_blank_rows(torch.zeros(2, 28, 28, dtype=torch.uint8), 3)
    with pytest.raises(ValueError, match="28 x 28 images"):
        lh.add_blank_rows(torch.zeros(2, 32, 32), 3)


def test_delayed_batches_keep_the_labels_order_and_length(test_split):
    images, labels = test_split
    batches = lh.TensorBatches(images, labels, 1000)
    delayed = lh.DelayedBatches(batches, 14)
    assert len(delayed) == len(batches) == 10 and delayed.seq_dim == 42
    served = list(delayed)
    assert all(x.shape == (len(y), 42, 28) for x, y in served)
    assert torch.equal(torch.cat([y for _, y in served]), labels)
    assert torch.equal(torch.cat([x[:, :28] for x, _ in served]), images)
    assert "delay=14" in repr(delayed)


def test_train_and_evaluate_accept_delayed_batches(test_split):
    """A small LSTM learns the digits through 8 blank rows, with lh.train as it is."""
    images, labels = test_split
    train = lh.DelayedBatches(lh.TensorBatches(images[:4000], labels[:4000], 100, shuffle=True),
                              8)
    test = lh.DelayedBatches(lh.TensorBatches(images[4000:5000], labels[4000:5000], 500), 8)
    lh.set_seed(0)
    model = lh.LSTMModel(28, 32, 1, 10)
    history = lh.train(model, nn.CrossEntropyLoss(),
                       torch.optim.Adam(model.parameters(), lr=0.005), train, test,
                       n_iters=120, eval_every=120, seq_dim=train.seq_dim, log=None,
                       progress=False)
    assert history.final_accuracy > 25  # chance is about 11%; this run reached 36%
    assert lh.evaluate(model, test, seq_dim=test.seq_dim) == history.final_accuracy


# --- the gradient probe ---------------------------------------------------------------------

def test_gradient_norms_are_each_images_own_gradient_averaged(test_split):
    images, labels = test_split[0][:6], test_split[1][:6]
    lh.set_seed(0)
    model = lh.LSTMModel(28, 16, 1, 10)
    norms = lh.input_gradient_norms(model, images, labels)
    assert norms.shape == (28,) and norms.dtype == torch.float32
    assert all(p.grad is None for p in model.parameters())  # the model's .grad untouched
    expected = torch.zeros(28)
    for image, label in zip(images, labels, strict=True):  # one image at a time, its own loss
        x = image.unsqueeze(0).clone().requires_grad_(True)
        nn.functional.cross_entropy(model(x), label.unsqueeze(0)).backward()
        expected += x.grad[0].norm(dim=1) / len(images)
    torch.testing.assert_close(norms, expected, rtol=1e-4, atol=1e-9)


def test_the_gradient_vanishes_across_blank_rows_unless_the_forget_gate_is_open(test_split):
    """56 blank steps: a tanh RNN's gradient on the digit is tiny; an open LSTM's is not."""
    delayed = lh.add_blank_rows(test_split[0][:200], 56)
    labels = test_split[1][:200]
    lh.set_seed(0)
    rnn = lh.RNNModel(28, 32, 1, 10, nonlinearity="tanh")
    lh.set_seed(0)
    lstm = lh.LSTMModel(28, 32, 1, 10)
    with torch.no_grad():
        lstm.lstm.bias_ih_l0[32:64] = 5.0  # forget gate near 1
        lstm.lstm.bias_hh_l0[32:64] = 0.0
    rnn_norms = lh.input_gradient_norms(rnn, delayed, labels)
    lstm_norms = lh.input_gradient_norms(lstm, delayed, labels)
    assert rnn_norms.shape == lstm_norms.shape == (84,)
    assert rnn_norms[4:24].mean() < 1e-6 * rnn_norms[-1]  # vanished over 56+ steps
    assert lstm_norms[4:24].mean() > 1e-3 * lstm_norms[-1]  # carried by the cell state
    assert lstm_norms[4:24].mean() > 1e3 * rnn_norms[4:24].mean()


def test_the_gradient_probe_refuses_bad_shapes():
    model = lh.LSTMModel(28, 8, 1, 10)
    with pytest.raises(ValueError, match=r"\(batch, seq_dim, input_dim\)"):
        lh.input_gradient_norms(model, torch.zeros(4, 784), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="one label per image"):
        lh.input_gradient_norms(model, torch.zeros(4, 28, 28), torch.zeros(3, dtype=torch.long))


# --- row blanking ---------------------------------------------------------------------------

class OneRowReader(nn.Module):
    """Classifies from image row ``row`` alone: blanking any other row changes nothing."""

    def __init__(self, row: int):
        super().__init__()
        self.row = row
        torch.manual_seed(0)
        self.fc = nn.Linear(28, 10)

    def forward(self, x):
        return self.fc(x[:, self.row])


def test_row_blanking_costs_only_the_rows_the_model_reads(test_split):
    images, labels = test_split
    batches = lh.TensorBatches(images, labels, 1000)
    model = OneRowReader(14)
    accuracies = lh.row_blanking_accuracy(model, batches)
    assert accuracies.shape == (28,) and accuracies.dtype == torch.float64
    baseline = lh.evaluate(model, batches)
    others = torch.cat([accuracies[:14], accuracies[15:]])
    assert torch.all(others == baseline)
    blanked = images.clone()
    blanked[:, 14] = 0.0
    assert accuracies[14].item() == lh.evaluate(model, lh.TensorBatches(blanked, labels, 1000))
    assert accuracies[14].item() != baseline
    assert lh.row_blanking_accuracy(model, batches, rows=[14, 0]).tolist() == [
        accuracies[14].item(), baseline]


@pytest.mark.parametrize("row", [28, -1, 2.0, True])
def test_row_blanking_refuses_rows_outside_the_image(row):
    with pytest.raises(ValueError, match="rows must be integers from 0 to 27"):
        lh.row_blanking_accuracy(OneRowReader(0), [], rows=[row])


# --- the plots ------------------------------------------------------------------------------

def test_the_memory_plots_carry_their_titles(test_split):
    images, labels = test_split[0][:2], test_split[1][:2]
    gates = {"input gate i": torch.rand(2, 28, 16), "forget gate f": torch.rand(2, 28, 16)}
    figures = [
        lh.plot_lstm_states(images, labels, gates, torch.randn(2, 28, 16), "states"),
        lh.plot_row_blanking({"LSTM": torch.full((28,), 90.0)}, {"LSTM": 95.0}, "rows"),
        lh.plot_gradient_norms({"start": {"RNN": torch.rand(84) + 1e-9}}, "grads", blank_from=28),
        lh.plot_accuracy_vs_delay({"RNN": {0: 92.0, 56: 11.35}}, "delays", chance=11.35),
    ]
    for figure, title in zip(figures, ("states", "rows", "grads", "delays"), strict=True):
        assert figure.get_suptitle() == title
        # the site's conventions: the text column's width at most, and an alt text from titles
        assert figure.get_size_inches()[0] <= FIGURE_WIDTH
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # an untitled figure would warn
            assert alt_text(figure).startswith(title)
    assert len(figures[0].axes) >= 2 * 4  # image + 2 gates + cell state, per digit
    for figure in figures:
        matplotlib.pyplot.close(figure)


def test_the_states_plot_refuses_tensors_that_do_not_match_the_digits(test_split):
    images, labels = test_split[0][:2], test_split[1][:2]
    with pytest.raises(ValueError, match=r"forget gate f: expected shape \(2, 28, hidden_dim\)"):
        lh.plot_lstm_states(images, labels, {"forget gate f": torch.rand(3, 28, 16)},
                            torch.randn(2, 28, 16), "states")
    with pytest.raises(ValueError, match=r"cell state c: expected shape \(2, 28, hidden_dim\)"):
        lh.plot_lstm_states(images, labels, {}, torch.randn(2, 84, 16), "states")
    with pytest.raises(ValueError, match="expected 2 labels"):
        lh.plot_lstm_states(images, labels[:1], {}, torch.randn(2, 28, 16), "states")
    with pytest.raises(ValueError, match="images of 28 x 28"):
        lh.plot_lstm_states(torch.zeros(2, 32, 32), labels, {}, torch.randn(2, 28, 16), "s")
