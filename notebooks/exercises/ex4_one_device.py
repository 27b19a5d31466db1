# %% [markdown]
# # Exercise 4: model, data and states on one device
#
# <!-- launch links: written by scripts/notebook_setup.py -->
# **Run it in the cloud:** [Open in Colab](https://colab.research.google.com/github/lstm-course/lstm-networks-with-pytorch/blob/v0.2.0/notebooks/exercises/student/ex4_one_device.ipynb) · [Launch Binder](https://mybinder.org/v2/gh/lstm-course/lstm-networks-with-pytorch/v0.2.0?urlpath=lab%2Ftree%2Fnotebooks%2Fexercises%2Fstudent%2Fex4_one_device.ipynb) (JupyterLab, with `ex4_one_device.ipynb` open). Run the first code cell first: there it installs the course's package. It opens the exercise without its solutions. Binder shuts a session down after 10 minutes without activity and keeps nothing: download your notebook (*File › Download*) to keep your work; in Colab, *File › Save a copy in Drive*.
# <!-- end of launch links -->
#
# *Goes with: the GPU variant of Model C.*
#
# To train on a GPU, everything a computation touches must live on the GPU: the model's
# parameters, the input batch and, when you pass them yourself, the initial hidden and cell
# states. PyTorch refuses to mix devices in one operation. The tutorial's GPU code moves the
# model and the tensors, but it creates the zero states on the CPU and copies them over on
# every batch. In this exercise you write the preparation step so that nothing is left
# behind, and the check proves it even on a machine without a GPU.
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
# ## Picking the device
#
# `lh.pick_device()` returns the CUDA GPU if there is one, else Apple's MPS, else the CPU.
# The course's model classes make their zero states with `x.new_zeros(...)`, which follows
# the input's device and dtype, so moving the model and the batch is enough for them:

# %%
device = lh.pick_device()
model = lh.LSTMModel(28, 100, 3, 10).to(device)
images = torch.rand(4, 1, 28, 28)  # four images on the CPU, as a DataLoader gives them

logits = model(images.to(device).view(-1, 28, 28))
print("logits on the model's device:", logits.device == next(model.parameters()).device)

# %% [markdown]
# ## Your task
#
# Write `prepare(model, images, device)` that returns `(model, x, (h0, c0))` ready for
# `model.lstm(x, (h0, c0))` on `device`:
#
# * `model`: the model, moved to `device`;
# * `x`: the images, shaped (batch, 28, 28) and on `device`;
# * `h0`, `c0`: zero states of shape (layer_dim, batch, hidden_dim), on `device` from the
#   start (no copy). The model knows its sizes: `model.layer_dim` and `model.hidden_dim`.
#
# Use the `device` argument, not a global and not `.cuda()`: the check calls your function
# with PyTorch's `meta` device, which exists on every machine (its tensors have shapes but no
# data). Whatever you forget to move stays on the CPU and shows.

# %%
def prepare(model, images, device):
    """(model, x, (h0, c0)), all on `device`, for model.lstm(x, (h0, c0))."""
    ### BEGIN SOLUTION
    model = model.to(device)  # a module moves in place (and returns itself)
    x = images.to(device).view(-1, 28, 28)  # a tensor's .to returns a new tensor
    h0 = torch.zeros(model.layer_dim, x.size(0), model.hidden_dim, device=device)
    c0 = torch.zeros_like(h0)
    return model, x, (h0, c0)
    ### PLACEHOLDER
    # return ...
    ### END SOLUTION

# %%
checks.check_one_device(prepare).require()

# %% [markdown]
# ## To think about
#
# * `model.to(device)` changes the model itself, but `images.to(device)` leaves `images`
#   where it was and returns a new tensor. What happens if you write only
#   `images.to(device)` on a line of its own?
# * The tutorial counts correct predictions after copying them back to the CPU. Where could
#   the counting happen instead, and what is the one number that must come back to the CPU
#   at the end?
