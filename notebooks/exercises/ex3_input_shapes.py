# %% [markdown]
# # Exercise 3: giving an LSTM an image batch
#
# <!-- launch links: written by scripts/notebook_setup.py -->
# **Run it in the cloud:** [Open in Colab](https://colab.research.google.com/github/lstm-course/lstm-networks-with-pytorch/blob/v0.2.0/notebooks/exercises/student/ex3_input_shapes.ipynb) · [Launch Binder](https://mybinder.org/v2/gh/lstm-course/lstm-networks-with-pytorch/v0.2.0?urlpath=lab%2Ftree%2Fnotebooks%2Fexercises%2Fstudent%2Fex3_input_shapes.ipynb) (JupyterLab, with `ex3_input_shapes.ipynb` open). Run the first code cell first: there it installs the course's package. It opens the exercise without its solutions. Binder shuts a session down after 10 minutes without activity and keeps nothing: download your notebook (*File › Download*) to keep your work; in Colab, *File › Save a copy in Drive*.
# <!-- end of launch links -->
#
# *Goes with: Model A, Steps 2 and 7 (batches, and shaping the input).*
#
# A `DataLoader` over MNIST hands out image batches of shape (100, 1, 28, 28): batch,
# channel, rows, columns. An LSTM wants a sequence: one row of 28 pixels per time step. In
# this exercise you write the reshaping for both layouts of `nn.LSTM`, batch first and
# time first, and meet the most common slip of the second one.
#
# Replace each `...` below `# YOUR CODE HERE`, run the cell, then run the check under it.

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

lh.set_seed(0)

# %% [markdown]
# ## A batch as the tutorial loads it

# %%
train_loader, test_loader = lh.mnist_dataloaders(batch_size=100)
images, labels = next(iter(train_loader))
print("images:", tuple(images.shape), images.dtype, "| labels:", tuple(labels.shape))

# %% [markdown]
# ## Your task (a): batch first
#
# Write `batch_first_input(images)`, which turns a batch of shape (batch, 1, 28, 28) into
# (batch, 28, 28) for an LSTM built with `batch_first=True`: time step *t* of image *b* is
# row *t* of that image. It must work for any batch size (the last batch of an epoch can be
# smaller, even a single image; the check uses batches of 7 images and of 1).

# %%
def batch_first_input(images):
    """(batch, 1, 28, 28) images -> (batch, 28, 28): one row per time step."""
    ### BEGIN SOLUTION
    return images.view(-1, 28, 28)
    ### PLACEHOLDER
    # return ...
    ### END SOLUTION

# %%
checks.check_batch_first_input(batch_first_input).require()

# %% [markdown]
# ## Your task (b): time first
#
# With `batch_first=False` (PyTorch's default), `nn.LSTM` expects *(seq, batch, feature)*.
# Write `seq_first_input(images)`, which gives shape (28, batch, 28) where step *t* holds
# row *t* of every image.

# %%
def seq_first_input(images):
    """(batch, 1, 28, 28) images -> (28, batch, 28): time first, row t at step t."""
    ### BEGIN SOLUTION
    return images.view(-1, 28, 28).permute(1, 0, 2)  # swap the batch and time axes
    ### PLACEHOLDER
    # return ...
    ### END SOLUTION

# %%
checks.check_seq_first_input(seq_first_input).require()

# %% [markdown]
# ## Why the right shape is not enough
#
# `images.view(28, -1, 28)` also has shape (28, 100, 28), and an LSTM runs on it without
# complaint. But `view` (like `reshape`) only cuts the same row of numbers in memory into a
# new shape. Memory holds image 0's rows 0 to 27, then image 1's rows, and so on. So the
# "sequence" of image 0 under this view is not image 0's rows:

# %%
cut = images.view(28, -1, 28)
print("shape:", tuple(cut.shape))
print("step 0 of sequence 0 is row 0 of image 0:", torch.equal(cut[0, 0], images[0, 0, 0]))
print("step 1 of sequence 0 is row 1 of image 0:", torch.equal(cut[1, 0], images[0, 0, 1]))
print("step 0 of sequence 1 is row 1 of image 0:", torch.equal(cut[0, 1], images[0, 0, 1]))

# %% [markdown]
# The LSTM would train on such input without an error, but each of its "sequences" is made
# of rows from many different images, while its label belongs to only one of them. No
# message warns you: only the values tell.
#
# ## To think about
#
# The course's models take batch-first input and call `images.view(-1, 28, 28)`. Why does
# a `view` work there, when it fails for the time-first layout?
