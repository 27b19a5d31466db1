"""Recipes: the tutorial's model table, repeatable runs, and clear errors."""

import matplotlib
import pytest
import torch

import lstm_helpers as lh

matplotlib.use("Agg")


def test_recipes_match_the_tutorial_and_the_rnn_page():
    assert [r.layer_dim for r in lh.LSTM_RECIPES.values()] == [1, 2, 3]
    assert all(r.learning_rate == 0.1 and r.optimizer == "sgd" for r in lh.LSTM_RECIPES.values())
    rnn = lh.RNN_RECIPES
    assert (rnn["A"].nonlinearity, rnn["A"].layer_dim, rnn["A"].learning_rate) == ("relu", 1, 0.01)
    assert (rnn["B"].nonlinearity, rnn["B"].layer_dim, rnn["B"].learning_rate) == ("relu", 2, 0.01)
    assert (rnn["C"].nonlinearity, rnn["C"].layer_dim, rnn["C"].learning_rate) == ("tanh", 2, 0.1)


def test_recipe_builds_the_named_model_and_optimizer():
    model = lh.RNN_RECIPES["C"].build_model()
    assert isinstance(model, lh.RNNModel) and model.rnn.nonlinearity == "tanh"
    adam = lh.Recipe("x", optimizer="adam", learning_rate=0.002)
    optimizer = adam.build_optimizer(adam.build_model())
    assert isinstance(optimizer, torch.optim.Adam) and optimizer.defaults["lr"] == 0.002


@pytest.mark.parametrize("recipe, message", [
    (lh.Recipe("x", cell="gru"), "cell must be 'lstm' or 'rnn'"),
    (lh.Recipe("x", hidden_dim=0), "hidden_dim must be a positive integer"),
])
def test_recipe_refuses_unknown_models(recipe, message):
    with pytest.raises(ValueError, match=message):
        recipe.build_model()


def test_recipe_refuses_an_unknown_optimizer():
    recipe = lh.Recipe("x", optimizer="rmsprop")
    with pytest.raises(ValueError, match="optimizer must be one of"):
        recipe.build_optimizer(recipe.build_model())


def test_run_recipe_is_repeatable_whatever_ran_before():
    images, labels = lh.mnist_tensors(train=False)
    train_batches = lh.TensorBatches(images[:2000], labels[:2000], 100, shuffle=True)
    test_batches = lh.TensorBatches(images[2000:3000], labels[2000:3000], 500)
    recipe = lh.Recipe("small", hidden_dim=16, n_iters=40)
    _, first = lh.run_recipe(recipe, train_batches, test_batches, seed=1, progress=False)
    torch.rand(100)  # consume random numbers between the runs
    _, second = lh.run_recipe(recipe, train_batches, test_batches, seed=1, progress=False)
    assert first == second and len(first.train_loss) == 40


def test_plots_draw_one_line_per_run():
    history = lh.History([2.3, 2.0, 1.5], [lh.Evaluation(3, 1.5, 40.0)])
    fig = lh.plot_accuracy_curves({"a": history, "b": history})
    assert len(fig.axes[0].lines) == 2
    fig = lh.plot_history(history)
    assert [ax.get_title() for ax in fig.axes] == ["training loss", "test accuracy"]


def test_plot_digit_as_sequence_refuses_a_non_mnist_image():
    with pytest.raises(ValueError, match="expected a 28 x 28 image"):
        lh.plot_digit_as_sequence(torch.zeros(3, 32, 32))


def test_cpu_device_is_described_and_always_fits():
    cpu = torch.device("cpu")
    assert lh.describe_device(cpu).startswith("cpu")
    assert lh.fits_on_device(10**12, cpu)
