# %% [markdown]
# # Beyond the tutorial: 99% in two minutes of a CPU, chosen on a validation set
#
# <!-- launch links: written by scripts/notebook_setup.py -->
# **Run it in the cloud:** [Open in Colab](https://colab.research.google.com/github/lstm-course/lstm-networks-with-pytorch/blob/v0.2.0/notebooks/08_beyond_the_tutorial.ipynb) · [Launch Binder](https://mybinder.org/v2/gh/lstm-course/lstm-networks-with-pytorch/v0.2.0?urlpath=lab%2Ftree%2Fnotebooks%2F08_beyond_the_tutorial.ipynb) (JupyterLab, with `08_beyond_the_tutorial.ipynb` open). Run the first code cell first: there it installs the course's package. It runs in about 5 minutes on a 2-core CPU, as Colab's free runtime and Binder give. Binder shuts a session down after 10 minutes without activity and keeps nothing: download your notebook (*File › Download*) to keep your work; in Colab, *File › Save a copy in Drive*.
# <!-- end of launch links -->
#
# The tutorial stops at 96.05 / 95.24 / 91.22% for Models A, B and C (its summary table),
# and the course's best run so far is Model C with Adam, 96.36% after 1000 iterations
# (the deep learning notes). This lesson asks how far the same idea, **one unidirectional
# LSTM stack reading the 28 rows of a digit**, goes when it is trained well, within a budget
# a laptop has: **two minutes of training on 2 CPU cores**. No convolutions, no extra data,
# no augmentation, no ensembles, no test-time tricks: one model, read row by row.
#
# It also keeps a promise the tutorial makes in its Step 1 and never keeps: *three groups,
# training, validation and testing, for a more robust evaluation*. Every choice in the
# tutorial, and in this course so far, was read off the test set: which model is better,
# how many iterations. A number chosen by looking at the test set is no longer a fair
# estimate of how the model does on new digits; the more choices are made that way, the more
# optimistic it gets. Here:
#
# 1. **Three groups.** 5,000 of the 60,000 training images are set apart, with a seeded
#    split, as the validation set. The 10,000 test images are not looked at until the end.
# 2. **One ingredient at a time.** Starting from the tutorial's recipe, each improvement
#    (Adam, a learning-rate schedule, gradient clipping, width, a second layer with
#    dropout, forget-gate bias 1) is tried at a reduced budget, with two seeds, and kept
#    only if it raises the **validation** accuracy. The final recipe is assembled from those
#    results by code, not typed in.
# 3. **The final run.** The chosen recipe trains for the full budget; the best model by
#    validation accuracy is kept in a checkpoint, reloaded, and scored on the test set
#    **once**.
#
# The notebook runs in about 4 to 5 minutes on a 2-core CPU: about 2.5 minutes of ablation
# and under 2 of final training (4.3 minutes in the stored run).

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
import dataclasses
import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown

import lstm_helpers as lh

# The thread count is the machine's: nbval does not compare this output.
# NBVAL_IGNORE_OUTPUT
print("PyTorch", torch.__version__)
print(f"CPU threads used by PyTorch: {torch.get_num_threads()} (of {os.cpu_count()} cores)")

# %% [markdown]
# ## 1. Three groups: training, validation, test
#
# The split is one random permutation of the 60,000 training indices, drawn from a
# generator of its own seeded with `SPLIT_SEED`: the same seed gives the same split on any
# machine, and drawing it does not disturb the global random state that seeds the models.
# Its last 5,000 positions are the validation set, the first 55,000 the training set. This
# is the function the package's `lh.split_indices` holds (a test checks that the two agree):

# %%
def split_indices(n, validation_size, seed):
    """(train_indices, validation_indices): a seeded split of range(n), disjoint, complete."""
    generator = torch.Generator().manual_seed(seed)  # its own generator: global state untouched
    order = torch.randperm(n, generator=generator)
    return order[:n - validation_size], order[n - validation_size:]

# %%
SPLIT_SEED, VALIDATION_SIZE = 0, 5_000
train_indices, validation_indices = split_indices(60_000, VALIDATION_SIZE, SPLIT_SEED)
assert not set(train_indices.tolist()) & set(validation_indices.tolist())  # disjoint
assert len(train_indices) + len(validation_indices) == 60_000  # and complete

train_batches, validation_batches, test_batches = lh.mnist_split_batches(
    batch_size=100, validation_size=VALIDATION_SIZE, seed=SPLIT_SEED)
full_images, full_labels = lh.mnist_tensors(train=True)
assert torch.equal(validation_batches.images, full_images[validation_indices])
print(f"training: {len(train_batches.images):,} images in {len(train_batches)} batches of 100")
print(f"validation: {len(validation_batches.images):,} images; test: "
      f"{len(test_batches.images):,} images (not read until the end)")
print("validation images per digit:",
      torch.bincount(validation_batches.labels, minlength=10).tolist())

# %% [markdown]
# Every digit is there in about its share (a tenth, give or take the digits' own
# imbalance), so the validation accuracy measures the same task as the test accuracy. From
# here on, `test_batches` is not touched until section 4.
#
# ## 2. The budget
#
# The final recipe gets a fixed number of epochs whose stored training time, validation
# passes included, is at most **120 seconds on 2 CPU cores** (the machine of the stored run:
# a 2-core x86-64 CPU with nothing else running). One epoch of a one-layer LSTM of 128 units,
# in batches of 100, took about 7.5 s there, so **`EPOCHS = 12`** (about 90 s) leaves room
# for a slower day.
#
# A step's time grows with its multiply-adds, and those can be counted without a clock:
# `lh.lstm_cost(recipe)` gives them per image (a layer does `4 × hidden × (inputs + hidden)`
# per row, 28 rows). The 12 epochs fit in 2 minutes for recipes up to about 2.5 million
# multiply-adds per image, a little more than one layer of 128 units; wider or deeper recipes
# are listed by the ablation but not trained: they would need fewer epochs, that is, another
# comparison.
#
# **The full experiment.** `FULL_EXPERIMENT = True` trains the final recipe for 34 epochs
# instead, about 5 minutes on the same machine. It was run once, when the lesson was
# written; its result is in section 5.

# %%
FULL_EXPERIMENT = False
EPOCHS = 34 if FULL_EXPERIMENT else 12
MAX_COST = 2_500_000  # multiply-adds per image that EPOCHS epochs allow in 120 s on 2 cores
ABLATION_STEPS = len(train_batches)  # one epoch per ablation run: the reduced budget
ABLATION_SEEDS = [0, 1]
SEED = 0  # the final run's seed (section 4)
for width in (64, 128, 256):
    cost = lh.lstm_cost(lh.Recipe("width", hidden_dim=width))
    print(f"one layer of {width:>3} units: {cost:>9,} multiply-adds per image"
          f"{'' if cost <= MAX_COST else ' (over the budget)'}")

# %% [markdown]
# ## 3. The recipe, one ingredient at a time
#
# The starting point is the tutorial's Model A: one layer of 100 units, SGD at learning rate
# 0.1, batches of 100. Each ingredient below is tried **on top of the recipe kept so far**;
# where it has several options (learning rates, widths), each is trained. Every run trains
# for one epoch (550 steps; the reduced budget) with seeds 0 and 1 and is scored on the
# validation set. The best option replaces the current recipe if its mean validation
# accuracy is higher; otherwise the ingredient is left out. The test set plays no part.
#
# * **Adam** instead of SGD, at the learning rate the deep learning notes used (0.002).
# * **A learning-rate schedule**: PyTorch's `OneCycleLR` warms the rate up from a 25th of
#   its peak over the first 30% of the steps and anneals it to almost 0; `CosineAnnealingLR`
#   lowers it from its start to 0 along a cosine. The peak is part of the choice.
# * **Gradient-norm clipping** at 1: a step whose gradient has a norm above 1 is scaled
#   down to norm 1 (`torch.nn.utils.clip_grad_norm_`), which keeps a high learning rate from
#   throwing the weights off on an unlucky batch.
# * **Width**: 64, 128 or 256 units per layer (256 costs too much for the budget).
# * **A second layer with dropout 0.2 between the layers** (dropout acts between stacked
#   layers, so only where there are two): at the current width, or two layers of 80 units,
#   the widest pair that fits.
# * **Forget-gate bias 1**: the forget gate's total bias $b_{if} + b_{hf}$ set to 1, as in
#   exercise 9, so the cell starts keeping $\sigma(1) = 0.73$ of its memory at each row.

# %%
TUTORIAL = lh.Recipe("the tutorial's Model A", hidden_dim=100, optimizer="sgd",
                     learning_rate=0.1, n_iters=ABLATION_STEPS)
INGREDIENTS = [
    lh.Ingredient("Adam instead of SGD", [{"optimizer": "adam", "learning_rate": 0.002}]),
    lh.Ingredient("learning-rate schedule", [
        {"schedule": "onecycle", "learning_rate": 0.005},
        {"schedule": "onecycle", "learning_rate": 0.01},
        {"schedule": "cosine", "learning_rate": 0.005}]),
    lh.Ingredient("gradient clipping", [{"clip_grad_norm": 1.0}]),
    lh.Ingredient("width", [{"hidden_dim": 64}, {"hidden_dim": 128}, {"hidden_dim": 256}]),
    lh.Ingredient("second layer + dropout", [
        {"layer_dim": 2, "dropout": 0.2},
        {"layer_dim": 2, "hidden_dim": 80, "dropout": 0.2}]),
    lh.Ingredient("forget-gate bias 1", [{"forget_bias": 1.0}]),
]
ablation = lh.run_ablation(TUTORIAL, INGREDIENTS, train_batches, validation_batches,
                           seeds=ABLATION_SEEDS, max_cost=MAX_COST,
                           eval_every=ABLATION_STEPS // 2)
print(f"{sum(len(row.histories) for row in ablation.rows)} runs of {ABLATION_STEPS} steps "
      f"in {sum(h.seconds for row in ablation.rows for h in row.histories):.0f} s")

# %% [markdown]
# The table is computed from those runs: the validation accuracy after one epoch (the mean
# of the two seeds), the seed-to-seed spread beside it (the difference between the two
# seeds, in points: an effect smaller than it is not to be trusted), the seconds one run
# took, its multiply-adds per image, and whether the ingredient was kept.

# %%
# The accuracies vary by machine in their last digits: nbval does not compare this table.
# NBVAL_IGNORE_OUTPUT
Markdown(f"Validation accuracy after {ABLATION_STEPS} steps (one epoch), mean of seeds "
         f"{ABLATION_SEEDS}\n\n" + ablation.table())

# %% [markdown]
# How to read it, in the stored run: Adam and the one-cycle schedule make the big steps (the
# tutorial's SGD at learning rate 0.1 is still below 20% after one epoch here, its slow
# start); the peak learning rate 0.01 beat 0.005 and the cosine schedule. Clipping was kept by
# the rule, but its gain (0.16 points) is smaller than its seed spread: at this budget it is
# not measurably better, and it is kept because nothing says it hurts. 128 units beat 64;
# two layers of 80 with dropout beat one of 128 by about as little; forget-gate bias 1 gave
# the last 0.3 points. Each of these is a measurement at one epoch: a recipe's ranking can
# change with more epochs, which is why the final run below is scored on validation again.

# %%
start = ablation.rows[0]
chosen_row = [row for row in ablation.rows if row.kept][-1]
assert chosen_row.recipe == ablation.chosen
assert chosen_row.accuracy > start.accuracy + 2, (start.accuracy, chosen_row.accuracy)
print(f"after one epoch: the tutorial's recipe {start.accuracy:.2f}%, the chosen one "
      f"{chosen_row.accuracy:.2f}% on validation")

# %% [markdown]
# ### The recipe assembled from the table
#
# The chosen recipe is the last one kept, now trained for the full budget: `EPOCHS`
# epochs. Its fields are printed as they are, so that the command line's named recipe
# (`python -m lstm_helpers train --recipe lesson08`) can be checked against them.

# %%
FINAL = dataclasses.replace(ablation.chosen, name="lesson 08",
                            n_iters=EPOCHS * len(train_batches))
# Printed for tests/test_beyond.py, which checks the command line's recipe against it.
# NBVAL_IGNORE_OUTPUT
print("chosen recipe:", json.dumps(dataclasses.asdict(FINAL)))
print(FINAL.describe())
print(f"{lh.lstm_cost(FINAL):,} multiply-adds per image (budget {MAX_COST:,})")

# %% [markdown]
# ## 4. The final run: validation every epoch, the best model kept, the test set once
#
# `lh.train_validate_test` is the protocol in one call, the same one the command line runs:
#
# 1. train `FINAL` from seed 0 on the 55,000 training images, scoring the validation set
#    after every epoch (the test batches are not touched);
# 2. each time the validation accuracy beats every earlier one, save the model with
#    `lh.save_checkpoint` (through `lh.best_checkpoint_callback`): which epoch to keep is
#    chosen on validation too;
# 3. after training, reload the best model with `lh.load_checkpoint` and score the test set:
#    the one and only time it is read.

# %%
# Which epoch is kept can change with the last digits of training: nbval skips this output;
# the asserts below check what holds on any CPU.
# NBVAL_IGNORE_OUTPUT
CHECKPOINT = Path("runs") / "lesson08.pt"
outcome = lh.train_validate_test(FINAL, train_batches, validation_batches, test_batches,
                                 CHECKPOINT, seed=SEED)
best = outcome.best
print(f"trained {EPOCHS} epochs in {outcome.seconds:.1f} s "
      f"({outcome.seconds / EPOCHS:.1f} s per epoch, validation included)")
for record in outcome.history.evaluations:
    print(f"  epoch {record.iteration // len(train_batches):>2}: validation "
          f"{record.accuracy:.2f}%")
print(f"kept: epoch {best.iteration // len(train_batches)}, validation {best.accuracy:.2f}%")
print(f"test accuracy of the kept model, scored once: {outcome.test_accuracy:.2f}%")

# %% [markdown]
# The checkpoint on disk is the model that was scored: reloaded here, its metadata holds the
# recipe, the epoch it comes from, its validation accuracy and the test accuracy just
# measured (the test set is not read again).

# %%
# NBVAL_IGNORE_OUTPUT
model, metadata = lh.load_checkpoint(CHECKPOINT)
print(f"{CHECKPOINT}: {CHECKPOINT.stat().st_size / 1024:.0f} KiB, "
      f"{lh.count_parameters(model):,} parameters")
print(f"stored: iteration {metadata['iteration']}, {metadata['split']} accuracy "
      f"{metadata['accuracy']:.2f}%, test accuracy {metadata['test_accuracy']:.2f}%")
assert metadata["test_accuracy"] == outcome.test_accuracy
assert model.hyperparameters() == outcome.model.hyperparameters()

# %% [markdown]
# What holds on any CPU (the last digits vary from machine to machine; the stored run
# reached the accuracies printed above):

# %%
assert outcome.seconds > 0 and best.split == "validation"
assert best.accuracy >= 98.5, best.accuracy
assert outcome.test_accuracy >= 98.5, outcome.test_accuracy
print("validation and test accuracy at least 98.5%")

# %% [markdown]
# ### Validation accuracy against training time
#
# The tutorial's recipe (its ablation run, seed 0, one epoch) and the final recipe
# (this run), each point placed at the seconds of training it had taken.

# %%
fig = lh.plot_accuracy_vs_seconds(
    {"the tutorial's recipe (Model A, SGD)": start.histories[0],
     "the final recipe": outcome.history},
    "Validation accuracy against training time, 2 CPU threads", ylim=(80, 100))
plt.show()

# %% [markdown]
# ## 5. What the recipe reaches, measured
#
# **Seeds.** The notebook runs seed 0. When the lesson was written, the same recipe was
# trained with seeds 0, 1 and 2 through the command line, which runs the same code
# (`python -m lstm_helpers train --recipe lesson08 --seed S`, 2 threads, nothing else
# running): test accuracy 99.08% (seed 0, the stored run), 99.11% (seed 1) and 99.04%
# (seed 2), a mean of **99.08%** with a spread of 0.07 points from the lowest to the
# highest; the validation accuracy kept was 99.20%, 99.06% and 99.00%. The three runs took
# 106 s, 147 s and 190 s for the same 6,600 steps: the machine, shared with others, slowed
# down during the hour (the same 150-step probe took 2.0 s before the first run and 6.6 s
# after the last). The 2-minute budget is the stored run's; on a busy or slower machine the
# same 12 epochs take longer, and give the same accuracies.
#
# **Five minutes.** `FULL_EXPERIMENT = True` (34 epochs) was run once, the same way
# (`--epochs 34`): the best validation accuracy was 98.94% (after epoch 29), and the test
# accuracy of that model 99.04%, in 338 s of training. Longer did not help here: with the
# same peak learning rate spread over 34 epochs, the validation accuracy stayed below the
# 12-epoch run's 99.20%, and the test accuracy agrees. The 99.2% we aimed at with 5
# minutes was not reached; what would have to change (the peak learning rate and the
# dropout for the longer schedule, chosen again on validation) is the next experiment, not
# something to read off the test set.
#
# **The published figures.** Few are published for row-by-row MNIST, and they are loosely
# labelled; none states its cost on a CPU.
#
# | model | test accuracy | source and how it was measured |
# |---|---|---|
# | LSTM A / B / C, SGD, 3000 iterations | 96.05 / 95.24 / 91.22% | the tutorial's summary table (its logs end at 95 / 95 / 88%) |
# | Model C, Adam, 1000 iterations | 96.36% | this course, the deep learning notes |
# | hierarchical RNN: an LSTM over the pixels of each row, then an LSTM over the rows | 98.64% | the Keras example `mnist_hierarchical_rnn.py`; reported as "val acc" but measured on the test set |
# | one LSTM layer of 256 units over the rows, Adam | about 98.9% | roatienza, *Deep-Learning-Experiments* (GitHub), the Keras RNN/LSTM MNIST example |
# | this lesson: the recipe chosen on validation, 12 epochs, under 2 minutes on 2 CPU cores | 99.08% (validation 99.20%, epoch 10 of 12 kept; 106 s of training) | the stored run above (seed 0), the test set read once |
#
# ## What we did not try
#
# * **Reading both ways.** A bidirectional LSTM reads the rows top to bottom and bottom to
#   top (exercise 6 builds one); it usually gains a few tenths on MNIST, at twice the cost
#   per step.
# * **Batch normalisation inside the recurrence.** *Recurrent Batch Normalization*
#   (Cooijmans et al., 2016) normalises the gates' inputs at every time step and reports
#   faster training on sequential MNIST.
# * **Pixel-by-pixel MNIST.** Reading one pixel per step, 784 steps, is the long-memory
#   benchmark of the recurrent-network papers (Le, Jaitly and Hinton, 2015, the IRNN; Arjovsky
#   et al., 2016, unitary RNNs): the memory lesson's question, at full length.
# * **Longer schedules, weight decay, a wider search.** The ablation tried a handful of
#   options at one epoch; a search over more of them, at the full budget, would be the next
#   step, and would still be made on the validation set.
