# %% [markdown]
# # Comparison with RNNs: three RNNs and three LSTMs, trained here
#
# <!-- launch links: written by scripts/notebook_setup.py -->
# **Run it in the cloud:** [Open in Colab](https://colab.research.google.com/github/lstm-course/lstm-networks-with-pytorch/blob/v0.2.0/notebooks/05_rnn_vs_lstm.ipynb) · [Launch Binder](https://mybinder.org/v2/gh/lstm-course/lstm-networks-with-pytorch/v0.2.0?urlpath=lab%2Ftree%2Fnotebooks%2F05_rnn_vs_lstm.ipynb) (JupyterLab, with `05_rnn_vs_lstm.ipynb` open). Run the first code cell first: there it installs the course's package. It runs in about 7 minutes on a 2-core CPU, as Colab's free runtime and Binder give. Binder shuts a session down after 10 minutes without activity and keeps nothing: download your notebook (*File › Download*) to keep your work; in Colab, *File › Save a copy in Drive*.
# <!-- end of launch links -->
#
# The tutorial ends its model section with two tables, one for the plain RNNs of its
# companion page and one for the LSTMs. This notebook does not copy them: it trains all six
# models on the same data, with the same seed, batches and number of iterations, and builds
# the table from these runs, with the published figures in columns beside them.
#
# | model | cell | layers | nonlinearity | optimizer |
# |---|---|---|---|---|
# | RNN A | RNN | 1 | ReLU | SGD, lr 0.01 |
# | RNN B | RNN | 2 | ReLU | SGD, lr 0.01 |
# | RNN C | RNN | 2 | tanh | SGD, lr 0.1 |
# | LSTM A | LSTM | 1 | (gates) | SGD, lr 0.1 |
# | LSTM B | LSTM | 2 | (gates) | SGD, lr 0.1 |
# | LSTM C | LSTM | 3 | (gates) | SGD, lr 0.1 |
#
# All have 100 hidden units per layer and train for 3000 iterations of 100 images.
# The LSTMs are retrained here rather than taken from notebooks 01 to 03: each run below
# starts from `lh.set_seed(0)` right before its model is built, so all six start alike, and
# their numbers differ slightly from those notebooks, which drew other random numbers first.

# %%
# Set-up: the same first cell in every notebook of the course. In the course's own
# environment it does nothing. Anywhere else (Colab, Binder, a downloaded copy) it installs
# the course's package, lstm-helpers 0.2.0 ($LSTM_HELPERS_INSTALL_FROM may name a wheel).
import importlib.util
import os
import subprocess
import sys

COURSE = "git+https://github.com/lstm-course/lstm-networks-with-pytorch@v0.2.0"
if importlib.util.find_spec("lstm_helpers") is None and "NBGRADER_EXECUTION" not in os.environ:
    source = os.environ.get("LSTM_HELPERS_INSTALL_FROM") or COURSE
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                          source], capture_output=True, text=True)
    if pip.returncode:
        raise RuntimeError(f"pip could not install {source}:\n{pip.stderr[-3000:]}")
    importlib.invalidate_caches()
    import lstm_course_setup
    lstm_course_setup.finish(source, "0.2.0")

# %%
import matplotlib.pyplot as plt
from IPython.display import Markdown

import lstm_helpers as lh

SEED = 0  # every run below starts from this seed
train_loader, test_loader = lh.mnist_batches(batch_size=100)
recipes = [*lh.RNN_RECIPES.values(), *lh.LSTM_RECIPES.values()]
for recipe in recipes:
    print(recipe)

# %% [markdown]
# ## The parameter counts
#
# An LSTM layer has four gates where an RNN layer has one hidden-state update, so each of its
# weight matrices and bias vectors is four times as large: [400, 28] instead of [100, 28],
# and so on. The readout is the same size in both.

# %%
models = {recipe.name: recipe.build_model() for recipe in recipes}
for name, model in models.items():
    recurrent = model.rnn if isinstance(model, lh.RNNModel) else model.lstm
    print(f"{name:<7} {lh.count_parameters(model):>8,} parameters "
          f"({lh.count_parameters(recurrent):>8,} recurrent, "
          f"{lh.count_parameters(model.fc):,} readout)")

one_layer = {cell: lh.count_parameters(getattr(models[f"{cell} A"], cell.lower()))
             for cell in ("RNN", "LSTM")}
print("one recurrent layer, LSTM / RNN:", one_layer["LSTM"] / one_layer["RNN"])

# %% [markdown]
# ## Training the six models
#
# One log per model, in the tutorial's format: test accuracy every 500 iterations.

# %%
histories = {}
for recipe in recipes:
    print(f"--- {recipe.name}")
    _, histories[recipe.name] = lh.run_recipe(recipe, train_loader, test_loader, seed=SEED,
                                              log=print)

# %% [markdown]
# ## The comparison table
#
# "This run" is the test accuracy after 3000 iterations measured just above. "Published
# table" is the figure in the tutorial's comparison tables; "published log" is the last line
# of the training log printed on the tutorial's pages (whole numbers: its accuracy used
# integer division).

# %%
PUBLISHED_TABLE = {"RNN A": 92.48, "RNN B": 95.09, "RNN C": 95.54,
                   "LSTM A": 96.05, "LSTM B": 95.24, "LSTM C": 91.22}
PUBLISHED_LOG = {"LSTM A": 95, "LSTM B": 95, "LSTM C": 88}

# Accuracies first; each model's layers and learning rate are in the table at the top.
rows = ["| model | this run (%) | published table (%) | published log (%) | parameters "
        "| time (s) |", "|---|--:|--:|--:|--:|--:|"]
for recipe in recipes:
    history = histories[recipe.name]
    parameters = lh.count_parameters(models[recipe.name])
    rows.append(f"| {recipe.name} | {history.final_accuracy:.2f} "
                f"| {PUBLISHED_TABLE[recipe.name]:.2f} | {PUBLISHED_LOG.get(recipe.name, '–')} "
                f"| {parameters:,} | {history.seconds:.0f} |")
# Accuracies and times vary from machine to machine; the checks below hold on any of them.
# NBVAL_IGNORE_OUTPUT
Markdown("\n".join(rows))

# %% [markdown]
# Every model must learn. The bars are set well below this run's results, so that they hold
# on any machine: the slow learners (the ReLU RNNs at learning rate 0.01, the three-layer
# LSTM) get the lowest ones.

# %%
THRESHOLDS = {"RNN A": 50, "RNN B": 50, "RNN C": 90, "LSTM A": 93, "LSTM B": 90, "LSTM C": 75}
for name, threshold in THRESHOLDS.items():
    assert histories[name].final_accuracy >= threshold, (name, histories[name].final_accuracy)
print("every model above its threshold:", THRESHOLDS)

# %%
lh.plot_accuracy_curves(histories, "Test accuracy during training, 100 hidden units per layer")
plt.show()

# %% [markdown]
# ## What the published tables get wrong
#
# * The LSTM table (96.05, 95.24, 91.22%) does not match the LSTM page's own logs, which end
#   at 95, 95 and 88%. The table must come from other runs than the ones printed.
# * The LSTM page's table lists RNN C with 3 layers; the RNN page trains it with 2. We follow
#   the RNN page, which holds the code.
# * Single runs of a few thousand iterations differ by a point or more from seed to seed, and
#   by more for the deep models whose slow start ends at a random moment. A table of single
#   runs ranks models only roughly; the plot above shows how much the curves wander.
#
# What this run shows (the stored table above):
#
# * The learning rate matters as much as the cell. The tanh RNN C, trained with learning
#   rate 0.1, is among the best of the six; the ReLU RNNs A and B, at 0.01, are still
#   climbing after 3000 iterations (about 75%, their logs show a slow start) and do not
#   reach the published 92.48 and 95.09% in this budget.
# * The one- and two-layer LSTMs reach the mid-nineties, close to the published logs.
# * The three-layer LSTM trails, because it spends its first thousand iterations at chance.
#
# On 28-step sequences a plain RNN with a good learning rate is competitive; the LSTM's
# gates earn their keep on longer dependencies, where an RNN's gradient vanishes over time.
