# %% [markdown]
# # Exercise 8: the training loop, written by you
#
# <!-- launch links: written by scripts/notebook_setup.py -->
# **Run it in the cloud:** [Open in Colab](https://colab.research.google.com/github/lstm-course/lstm-networks-with-pytorch/blob/v0.2.0/notebooks/exercises/student/ex8_training_loop.ipynb) · [Launch Binder](https://mybinder.org/v2/gh/lstm-course/lstm-networks-with-pytorch/v0.2.0?urlpath=lab%2Ftree%2Fnotebooks%2Fexercises%2Fstudent%2Fex8_training_loop.ipynb) (JupyterLab, with `ex8_training_loop.ipynb` open). Run the first code cell first: there it installs the course's package. It opens the exercise without its solutions. Binder shuts a session down after 10 minutes without activity and keeps nothing: download your notebook (*File › Download*) to keep your work; in Colab, *File › Save a copy in Drive*.
# <!-- end of launch links -->
#
# *Goes with: Model A, Step 7 (training the model).*
#
# Every iteration of Model A's training loop runs the same five lines: clear the gradients,
# compute the logits of one batch, its loss, the gradients of that loss, and update the
# weights. In this exercise you write them yourself, as a function the check calls once per
# iteration, and then the short evaluation a loop runs between iterations.
#
# The checks do not read your code. They run it on real MNIST images and measure what it did
# to the model, the loss and the optimizer. When a line is missing, or in a place where it
# cannot do its job, the check names the slip and says what goes wrong because of it.
#
# Replace each `...` below `# YOUR CODE HERE`, run the cell, then run the check under it.
# Each check takes a few seconds.

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
import torch

import lstm_helpers as lh
from lstm_helpers import checks

# %% [markdown]
# ## The data
#
# The first 10,000 training images, in batches of 100 reshuffled at every pass, and the first
# 1,000 test images in two batches of 500. Each batch of images is shaped (batch, 1, 28, 28),
# the way the tutorial's `DataLoader` over torchvision's MNIST serves it: one colour channel,
# then 28 rows of 28 pixels.

# %%
train_images, train_labels = lh.mnist_tensors(train=True)
test_images, test_labels = lh.mnist_tensors(train=False)
train_batches = lh.TensorBatches(train_images[:10_000].unsqueeze(1), train_labels[:10_000],
                                 batch_size=100, shuffle=True)
test_batches = lh.TensorBatches(test_images[:1_000].unsqueeze(1), test_labels[:1_000],
                                batch_size=500)
print("training images:", tuple(train_batches.images.shape), "in", len(train_batches),
      "batches | test images:", tuple(test_batches.images.shape), "in", len(test_batches))

# %% [markdown]
# ## Part (a): one training iteration
#
# `train_step` receives what one iteration of Model A's loop works with:
#
# * `model`: Model A (`lh.LSTMModel(28, 100, 1, 10)`, the class you met in Step 3), in
#   training mode;
# * `criterion`: the cross-entropy loss, `nn.CrossEntropyLoss()`;
# * `optimizer`: `torch.optim.SGD` over the model's parameters, learning rate 0.1;
# * `images`, (batch, 1, 28, 28), and `labels`, (batch,), one batch of `train_batches`;
# * `seq_dim` and `input_dim`: how the model reads an image, here 28 time steps of 28
#   pixels.
#
# The tools, in no particular order:
#
# * `model(x)` returns the logits, (batch, 10), for a batch-first `x` of shape
#   (batch, seq_dim, input_dim);
# * `criterion(logits, labels)` returns the loss: one number, in a tensor;
# * `loss.backward()` computes the gradient of `loss` for every parameter and **adds** it
#   to that parameter's `.grad`;
# * `optimizer.step()` moves every parameter against the gradient in its `.grad`, scaled by
#   the learning rate;
# * `optimizer.zero_grad()` empties every parameter's `.grad`;
# * `loss.item()` turns the loss into a Python float.
#
# Finding their order is part of the exercise: each line needs what an earlier one produced,
# and the check tells you when the order is off. (Model A's notebook has the lines; try
# first without looking.)
#
# ## Your task (a)
#
# Write `train_step`: view the images as (batch, seq_dim, input_dim), run one training
# iteration on them, and return the loss of this batch as a Python float, for the log.

# %%
def train_step(model, criterion, optimizer, images, labels, seq_dim, input_dim):
    """One training iteration on one batch; returns the batch's loss (a float)."""
    ### BEGIN SOLUTION
    images = images.view(-1, seq_dim, input_dim)  # (batch, 28, 28)
    optimizer.zero_grad()  # clear the previous iteration's gradients
    outputs = model(images)  # forward pass: logits (batch, 10)
    loss = criterion(outputs, labels)  # cross entropy of this batch
    loss.backward()  # gradients of this loss for every parameter
    optimizer.step()  # parameters = parameters - learning_rate * gradients
    return loss.item()
    ### PLACEHOLDER
    # images = ...  # (batch, seq_dim, input_dim)
    #
    # return ...
    ### END SOLUTION

# %% [markdown]
# ## Check (a)
#
# The check hands your function a fresh Model A, the loss and the optimizer described
# above, and calls it 100 times on `train_batches`, once per iteration, as Model A's loop
# does. Through PyTorch's hooks it watches every forward pass (the model's mode, and whether
# gradients are recorded), which loss each backward pass starts from, the gradient each
# backward pass computes, what the optimizer finds in `.grad` when it steps, and whether the
# weights move. It passes when every iteration takes exactly one step along the gradient of
# its own batch.

# %%
checks.check_train_step(train_step, train_batches).require()

# %% [markdown]
# ## Part (b): evaluating between iterations
#
# Every 500 iterations Model A's loop stops to score the model on test images, then goes on
# training. Such an evaluation has to measure the model without disturbing its training:
#
# * `model.eval()` switches the model to evaluation mode (layers such as dropout behave
#   differently there), and `model.train()` switches it back;
# * `with torch.no_grad():` runs a block without recording the operations for
#   backpropagation: faster, and no graph is kept in memory;
# * nothing in an evaluation calls `backward()` or `step()`: the test images are for
#   measuring, never for learning.
#
# Exercise 5 computed the accuracy over a whole test set. Here you write the smallest
# evaluation there is, the loss on one batch of test images.
#
# ## Your task (b)
#
# Write `test_loss`: the loss of `model` on these test images (viewed as in part (a)), as a
# Python float, measured in evaluation mode without gradients. Hand the model back in
# training mode, ready for the next iteration.

# %%
def test_loss(model, criterion, images, labels, seq_dim, input_dim):
    """The loss on one batch of test images (a float), without training on them."""
    ### BEGIN SOLUTION
    model.eval()  # evaluation mode
    with torch.no_grad():  # no gradients recorded
        outputs = model(images.view(-1, seq_dim, input_dim))
        loss = criterion(outputs, labels)
    model.train()  # back to training mode
    return loss.item()
    ### PLACEHOLDER
    # return ...
    ### END SOLUTION

# %% [markdown]
# ## Check (b)
#
# The check trains a fresh Model A with a correct step of its own and, before iterations
# 0, 10 and 20, calls your function on both test batches. It watches the mode and gradient
# setting of each forward pass, the mode your function leaves the model in, and the weights
# and their gradients, and it compares your loss with the one it measures itself.

# %%
checks.check_test_loss(test_loss, train_batches, test_batches).require()

# %% [markdown]
# ## How the checks see a slip
#
# PyTorch lets code watch a model from the outside through *hooks*, functions it calls at
# fixed moments. The checks use four: `model.register_forward_pre_hook` runs before every
# forward pass (it sees the mode and whether gradients are on); `Tensor.register_hook` on
# each parameter receives the gradient of every backward pass before it is added to `.grad`,
# and on each loss it tells which loss a backward pass started from;
# `optimizer.register_step_pre_hook` runs before every step, when `.grad` holds what the step
# is about to follow. A forgotten `zero_grad()` shows as a `.grad` that holds more than this
# batch's gradient, a forgotten `step()` as weights that never move.
#
# ## To think about
#
# * The check accepts `optimizer.zero_grad()` at the start of an iteration and at its end,
#   after the step. Why are both right, and why is clearing the gradients between
#   `backward()` and `step()` not?
# * Gradient accumulation on purpose: when a batch of 400 images does not fit in memory, a
#   loop can run backward on four batches of 100 and step once. What changes in
#   `train_step`, and why would you divide each of the four losses by 4?
# * Model A's notebook ends with two slips to try on a full run of 3000 iterations. Now that
#   you know what each line does, predict what its training log will show before you try
#   them.
