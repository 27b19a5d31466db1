# %% [markdown]
# # Exercise 10: the honest protocol
#
# <!-- launch links: written by scripts/notebook_setup.py -->
# **Run it in the cloud:** [Open in Colab](https://colab.research.google.com/github/lstm-course/lstm-networks-with-pytorch/blob/v0.2.0/notebooks/exercises/student/ex10_honest_protocol.ipynb) · [Launch Binder](https://mybinder.org/v2/gh/lstm-course/lstm-networks-with-pytorch/v0.2.0?urlpath=lab%2Ftree%2Fnotebooks%2Fexercises%2Fstudent%2Fex10_honest_protocol.ipynb) (JupyterLab, with `ex10_honest_protocol.ipynb` open). Run the first code cell first: there it installs the course's package. It opens the exercise without its solutions. Binder shuts a session down after 10 minutes without activity and keeps nothing: download your notebook (*File › Download*) to keep your work; in Colab, *File › Save a copy in Drive*.
# <!-- end of launch links -->
#
# *Goes with: Beyond the tutorial (sections 1 and 4).*
#
# The tutorial, and the course until lesson 08, scored the test set during training and
# read the best result off it. Below is such a loop, as it is often written: it trains, scores
# the **test** set after every epoch, and keeps the epoch where the test accuracy was
# highest. The number it reports was chosen by looking at the test set, so it is not a fair
# estimate of how the model does on digits it has never seen.
#
# You fix it in two parts: (a) set a validation set apart from the training images, with a
# seed; (b) rewrite the loop so that it chooses on the validation set and reads the test set
# once, at the end. The checks do not read your code: they run it on data and loaders that
# log every image and every batch handed out, and say what they measured. Replace each `...`
# below `# YOUR CODE HERE`, run the cell, then run the check under it. Each check takes well
# under a second.

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
import copy

import torch
from torch import nn

import lstm_helpers as lh
from lstm_helpers import checks

# %% [markdown]
# ## Part (a): a validation set, apart from the training set
#
# ## Your task (a)
#
# Write `split_train_validation(images, labels, validation_size, seed)`: return
# `((train_images, train_labels), (validation_images, validation_labels))`, with
# `validation_size` images for validation and all the others for training. Choose them at
# random, but so that the same seed always gives the same split: draw one permutation of the
# indices with a generator of your own, `torch.randperm(n,
# generator=torch.Generator().manual_seed(seed))` (the global random state, which seeds the
# models, stays as it was), and cut it in two. Keep each image with its label.

# %%
def split_train_validation(images, labels, validation_size, seed):
    """((train_images, train_labels), (validation_images, validation_labels))."""
    ### BEGIN SOLUTION
    n = len(images)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    train, validation = order[:n - validation_size], order[n - validation_size:]
    return (images[train], labels[train]), (images[validation], labels[validation])
    ### PLACEHOLDER
    # order = ...
    # return ...
    ### END SOLUTION

# %% [markdown]
# ## Check (a)
#
# The check splits 1,000 numbered images (every pixel of image k holds k, and its label is
# k) with `validation_size=100`, and measures what came back: the sizes, images still with
# their labels, images in both sets, images lost, the same split again for the same seed and
# another for another seed, and the global random state.

# %%
checks.check_split_train_validation(split_train_validation).require()

# %% [markdown]
# ## Part (b): choose on validation, test once
#
# The loop below receives everything it works with as arguments: the model, the three sets
# of batches, the number of epochs, and two functions, `train_one_epoch(model, batches)`,
# which trains the model for one pass over `batches`, and `accuracy(model, batches)`, which
# returns its accuracy in percent. It returns `(best_epoch, best_accuracy, test_accuracy)`.
# Read it: where does it look at the test set, and what does it choose with it?

# %%
def leaky_run(model, train_batches, validation_batches, test_batches, epochs,
              train_one_epoch, accuracy):
    """The loop as it is often written: it picks its epoch on the test set."""
    best_epoch, best_test = 0, -1.0
    for epoch in range(1, epochs + 1):
        train_one_epoch(model, train_batches)
        test_accuracy = accuracy(model, test_batches)  # the test set, after every epoch
        if test_accuracy > best_test:
            best_epoch, best_test = epoch, test_accuracy
    return best_epoch, best_test, best_test

# %% [markdown]
# Handed to check (b) below, this loop is stopped at its second step: *"The test set was read
# before the end: step 2 of your loop, accuracy(model, test_batches) on the model after
# epoch 1, and training went on after it."* The check finds it by running the loop, not by
# reading it.

# %% [markdown]
# ## Your task (b)
#
# Write `honest_run`, with the same arguments. It should:
#
# * train for `epochs` epochs on `train_batches` only (epochs are counted from 1);
# * after each epoch, score `validation_batches`, and when the accuracy is higher than every
#   earlier one, remember the epoch and the accuracy and **keep a copy** of the model
#   (`copy.deepcopy(model)`: the model itself goes on training);
# * after the last epoch, score the **kept** model on `test_batches`, once;
# * return `(best_epoch, best_validation_accuracy, test_accuracy)`.

# %%
def honest_run(model, train_batches, validation_batches, test_batches, epochs,
               train_one_epoch, accuracy):
    """Choose the epoch on validation; score the kept model on the test set once, at the end."""
    ### BEGIN SOLUTION
    best_epoch, best_validation, best_model = 0, -1.0, None
    for epoch in range(1, epochs + 1):
        train_one_epoch(model, train_batches)
        validation_accuracy = accuracy(model, validation_batches)
        if validation_accuracy > best_validation:
            best_epoch, best_validation = epoch, validation_accuracy
            best_model = copy.deepcopy(model)
    return best_epoch, best_validation, accuracy(best_model, test_batches)
    ### PLACEHOLDER
    # best = ...  # the best validation accuracy so far, its epoch, a copy of the model
    # ...  # epoch after epoch: train, score the validation set, keep a copy when it improves
    # return ...
    ### END SOLUTION

# %% [markdown]
# ## Check (b)
#
# The check runs `honest_run` for 5 epochs with logged batches and stand-ins for the two
# functions, whose accuracies follow a script: the validation accuracy is highest after
# epoch 3, the test accuracy after epoch 5. It names the first step of your loop that reads
# the test set before the end, a set trained on that should not be, a choice made on the
# training set, a test set scored more than once, and a test accuracy that is not the kept
# model's.

# %%
checks.check_honest_run(honest_run).require()

# %% [markdown]
# ## Your functions at work
#
# Once both checks pass, this cell runs your two functions on real MNIST, small enough to take
# a few seconds: 5,000 training images split into 4,000 and 1,000, an LSTM of 32 units, three
# epochs, and 2,000 test images.

# %%
def train_one_epoch(model, batches):
    """One pass over `batches` with Adam (the optimizer lives on the model between calls)."""
    if not hasattr(model, "optimizer"):
        model.optimizer = torch.optim.Adam(model.parameters(), lr=0.005)
    model.train()
    for images, labels in batches:
        model.optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        model.optimizer.step()


# The epoch kept can change with the last digits of training: nbval does not compare this.
# NBVAL_IGNORE_OUTPUT
written = [split_train_validation(torch.zeros(4, 28, 28), torch.zeros(4), 1, 0),
           honest_run(lh.LSTMModel(28, 4, 1, 10), [], [], [], 0, lambda *a: None,
                      lambda *a: 0.0)]
if all(answer is not ... for answer in written):
    images, labels = lh.mnist_tensors(train=True)
    (train_x, train_y), (val_x, val_y) = split_train_validation(images[:5000], labels[:5000],
                                                                1000, seed=0)
    test_x, test_y = lh.mnist_tensors(train=False)
    lh.set_seed(0)
    epoch, validation, test = honest_run(
        lh.LSTMModel(28, 32, 1, 10), lh.TensorBatches(train_x, train_y, 100, shuffle=True),
        lh.TensorBatches(val_x, val_y, 1000), lh.TensorBatches(test_x[:2000], test_y[:2000], 1000),
        3, train_one_epoch, lh.evaluate)
    print(f"kept epoch {epoch}: validation accuracy {validation:.2f}%, "
          f"test accuracy (read once) {test:.2f}%")
else:
    print("Parts (a) and (b) first: this cell uses both of your functions.")

# %% [markdown]
# ## To think about
#
# * The leaky loop's number is usually a little higher than the honest one. Why, even
#   though both train exactly the same model?
# * With 5,000 validation images, one image is 0.02 points. How small a difference between
#   two epochs, or two recipes, can the validation set tell apart from luck?
# * Lesson 08 chose a learning rate, a schedule, a width and the epoch to keep on the
#   validation set. Why is its validation accuracy then a little optimistic too, and why is
#   its test accuracy not?
