# %% [markdown]
# # Exercise 5: an evaluation loop that measures the right thing
#
# <!-- launch links: written by scripts/notebook_setup.py -->
# **Run it in the cloud:** [Open in Colab](https://colab.research.google.com/github/lstm-course/lstm-networks-with-pytorch/blob/v0.2.0/notebooks/exercises/student/ex5_evaluation_loop.ipynb) · [Launch Binder](https://mybinder.org/v2/gh/lstm-course/lstm-networks-with-pytorch/v0.2.0?urlpath=lab%2Ftree%2Fnotebooks%2Fexercises%2Fstudent%2Fex5_evaluation_loop.ipynb) (JupyterLab, with `ex5_evaluation_loop.ipynb` open). Run the first code cell first: there it installs the course's package. It opens the exercise without its solutions. Binder shuts a session down after 10 minutes without activity and keeps nothing: download your notebook (*File › Download*) to keep your work; in Colab, *File › Save a copy in Drive*.
# <!-- end of launch links -->
#
# *Goes with: Model A, Step 7 (computing the test accuracy).*
#
# The tutorial measures test accuracy every 500 iterations, and its loop has three slips:
# the model is never switched to evaluation mode, gradients are recorded for nothing, and
# the accuracy `100 * correct / total` is computed on integer tensors, which on the PyTorch
# of its day cut off the fraction (its log shows whole numbers only). In this exercise you
# write the loop without them.
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

# %% [markdown]
# ## What the loop receives
#
# `batches` is any iterable of `(images, labels)` pairs, such as a `DataLoader`: images of
# shape (batch, 1, 28, 28) and labels of shape (batch,) holding the digit (0 to 9). The last
# batch may be smaller than the others. The model takes (batch, 28, 28) and returns logits
# of shape (batch, 10), one score per digit. The three tools you need:
#
# * `model.eval()` switches layers such as dropout to their evaluation behaviour
#   (`model.train()` switches back);
# * `with torch.no_grad():` runs a block without recording the operations for
#   backpropagation;
# * `logits.argmax(dim=1)` gives the predicted digit of each image.

# %% [markdown]
# ## Your task
#
# Write `accuracy(model, batches)`: the percentage of images whose predicted digit equals the
# label, as a Python `float` between 0 and 100, counted over all images.

# %%
def accuracy(model, batches):
    """Test accuracy of `model` over `batches`, in percent (float)."""
    ### BEGIN SOLUTION
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in batches:
            logits = model(images.view(-1, 28, 28))
            correct += (logits.argmax(dim=1) == labels).sum().item()
            total += labels.size(0)
    return 100.0 * correct / total
    ### PLACEHOLDER
    # return ...
    ### END SOLUTION

# %% [markdown]
# ## Check
#
# The check hands your function a small LSTM, in training mode, and 300 images in batches of
# 64 (so the last batch holds 44), then 130 other images in batches of 32. It watches every
# call of the model: in which mode, and whether gradients were on. On these images the exact
# accuracy has a fraction, and it differs between the two sets.

# %%
checks.check_accuracy_function(accuracy).require()

# %% [markdown]
# ## To think about
#
# * The course's `lh.evaluate` uses `torch.inference_mode()` rather than `torch.no_grad()`.
#   Look up the difference in the PyTorch documentation.
# * After evaluation, training continues. `lh.evaluate` puts the model back into the mode it
#   found it in. What would go wrong, for a model with dropout, if it did not?
