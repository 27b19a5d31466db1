"""The model classes: the tutorial's parameter shapes, output shapes and clear errors."""

import pytest
import torch

import lstm_helpers as lh

# Step 6 and the Model B/C sections of the tutorial, in parameters() order.
LAYER = [(400, 100), (400, 100), (400,), (400,)]
TUTORIAL_SHAPES = {
    1: [(400, 28), (400, 100), (400,), (400,), (10, 100), (10,)],
    2: [(400, 28), (400, 100), (400,), (400,)] + LAYER + [(10, 100), (10,)],
    3: [(400, 28), (400, 100), (400,), (400,)] + LAYER * 2 + [(10, 100), (10,)],
}


@pytest.mark.parametrize("layer_dim", [1, 2, 3])
def test_parameter_shapes_match_the_tutorial(layer_dim):
    model = lh.LSTMModel(28, 100, layer_dim, 10)
    assert lh.parameter_shapes(model) == TUTORIAL_SHAPES[layer_dim]
    assert len(TUTORIAL_SHAPES[layer_dim]) == 6 + 4 * (layer_dim - 1)


def test_printed_model_matches_the_tutorial():
    text = str(lh.LSTMModel(28, 100, 2, 10))
    assert "(lstm): LSTM(28, 100, num_layers=2, batch_first=True)" in text
    assert "(fc): Linear(in_features=100, out_features=10, bias=True)" in text


def test_rnn_has_the_rnn_pages_parameter_shapes():
    model = lh.RNNModel(28, 100, 1, 10, nonlinearity="relu")
    assert lh.parameter_shapes(model) == [(100, 28), (100, 100), (100,), (100,), (10, 100),
                                          (10,)]


def _recurrent_layer(model):
    return model.lstm if isinstance(model, lh.LSTMModel) else model.rnn


@pytest.mark.parametrize("model_class", [lh.LSTMModel, lh.RNNModel])
def test_forward_gives_logits_from_the_last_time_step(model_class):
    torch.manual_seed(0)
    model = model_class(28, 100, 2, 10)
    x = torch.rand(7, 28, 28)
    logits = model(x)
    assert logits.shape == (7, 10)
    out, _ = _recurrent_layer(model)(x)  # nn.LSTM / nn.RNN's own default: zero states
    torch.testing.assert_close(logits, model.fc(out[:, -1, :]))


@pytest.mark.parametrize("model_class", [lh.LSTMModel, lh.RNNModel])
def test_initial_states_follow_the_input_dtype(model_class):
    """The zero states are made with x.new_zeros: a float64 model takes float64 input as is
    (states made with a fixed torch.zeros would be float32, and nn.LSTM would refuse them)."""
    torch.manual_seed(0)
    model = model_class(28, 16, 2, 10).double()
    x = torch.rand(3, 28, 28, dtype=torch.float64)
    logits = model(x)
    assert logits.dtype == torch.float64
    out, _ = _recurrent_layer(model)(x)
    torch.testing.assert_close(logits, model.fc(out[:, -1, :]))


@pytest.mark.parametrize("model_class", [lh.LSTMModel, lh.RNNModel])
def test_hyperparameters_rebuild_the_same_architecture(model_class):
    model = model_class(28, 12, 3, 5)
    rebuilt = model_class(**model.hyperparameters())
    assert lh.parameter_shapes(rebuilt) == lh.parameter_shapes(model)
    assert str(rebuilt) == str(model)


def test_describe_parameters_names_the_four_gates():
    text = lh.describe_parameters(lh.LSTMModel(28, 100, 1, 10))
    assert "weights: input -> 4 gates" in text and "6 parameter groups" in text


@pytest.mark.parametrize("sizes", [(0, 100, 1, 10), (28, -1, 1, 10), (28, 100, 1.5, 10),
                                   (28, 100, 1, "10"), (28, True, 1, 10)])
def test_bad_sizes_raise_value_error(sizes):
    with pytest.raises(ValueError, match="must be a positive integer"):
        lh.LSTMModel(*sizes)


def test_unknown_nonlinearity_is_refused():
    with pytest.raises(ValueError, match="'tanh' or 'relu'"):
        lh.RNNModel(28, 100, 1, 10, nonlinearity="sigmoid")


@pytest.mark.parametrize("model_class", [lh.LSTMModel, lh.RNNModel])
@pytest.mark.parametrize("shape", [(100, 784), (100, 1, 28, 28), (100, 28, 14)])
def test_wrong_input_shape_names_the_expected_shape(model_class, shape):
    model = model_class(28, 100, 1, 10)
    with pytest.raises(ValueError, match=r"\(batch, seq_dim, input_dim=28\)"):
        model(torch.zeros(shape))
