# %% [markdown]
# # Exercise 2: the last time step, two ways
#
# <!-- launch links: written by scripts/notebook_setup.py -->
# **Run it in the cloud:** [Open in Colab](https://colab.research.google.com/github/lstm-course/lstm-networks-with-pytorch/blob/v0.2.0/notebooks/exercises/student/ex2_last_time_step.ipynb) · [Launch Binder](https://mybinder.org/v2/gh/lstm-course/lstm-networks-with-pytorch/v0.2.0?urlpath=lab%2Ftree%2Fnotebooks%2Fexercises%2Fstudent%2Fex2_last_time_step.ipynb) (JupyterLab, with `ex2_last_time_step.ipynb` open). Run the first code cell first: there it installs the course's package. It opens the exercise without its solutions. Binder shuts a session down after 10 minutes without activity and keeps nothing: download your notebook (*File › Download*) to keep your work; in Colab, *File › Save a copy in Drive*.
# <!-- end of launch links -->
#
# *Goes with: Model A, Step 3 (creating the model class).*
#
# The models of this course classify an image from the hidden state of the **last** time
# step, `out[:, -1, :]`. `nn.LSTM` also returns `h_n`, the final hidden state of every layer.
# In this exercise you take both apart, find out how they are related, and see what changes
# when the LSTM is not batch first.
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
from torch import nn

from lstm_helpers import checks

# %% [markdown]
# ## A two-layer LSTM, batch first
#
# Five random "images" of 28 rows of 28 pixels go through a two-layer LSTM with 16 hidden
# units. With `batch_first=True` the input is *(batch, seq, feature)* and so is `out`.
# `h_n` and `c_n`, the final hidden and cell states, are *(layers, batch, hidden)*.

# %%
torch.manual_seed(0)
lstm = nn.LSTM(input_size=28, hidden_size=16, num_layers=2, batch_first=True)
x = torch.rand(5, 28, 28)  # 5 sequences of 28 time steps with 28 features

with torch.no_grad():
    out, (h_n, c_n) = lstm(x)
print("out:", tuple(out.shape), "| h_n:", tuple(h_n.shape), "| c_n:", tuple(c_n.shape))

# %% [markdown]
# ## Your task (a)
#
# 1. `last_step`: from `out`, the output of the last time step for every sequence, shape
#    (5, 16).
# 2. `final_hidden`: from `h_n`, the final hidden state of the top layer, shape (5, 16).

# %%
### BEGIN SOLUTION
last_step = out[:, -1, :]  # all sequences, last time step, all hidden units
final_hidden = h_n[-1]     # the top layer; h_n[0] is the bottom one
### PLACEHOLDER
# last_step = ...
# final_hidden = ...
### END SOLUTION

# %%
checks.check_last_step(lstm, x, last_step, final_hidden).require()

# %% [markdown]
# `out` holds the *top* layer's hidden state at every time step; `h_n` holds every layer's
# hidden state at the *last* time step. They meet in one place: the top layer at the last
# step. So a model could read out either one. (For a bidirectional LSTM they no longer agree:
# that is exercise 6.)
#
# ## The same LSTM without `batch_first`
#
# `batch_first=False` is PyTorch's default, and many examples use it. Then the input and
# `out` are *(seq, batch, feature)*, time first. Here are 5 sequences of 28 steps in that
# layout:

# %%
torch.manual_seed(0)
lstm_seq_first = nn.LSTM(input_size=28, hidden_size=16, num_layers=2)  # batch_first=False
x_seq_first = torch.rand(28, 5, 28)  # 28 time steps, 5 sequences, 28 features

with torch.no_grad():
    out_seq_first, (h_n_seq_first, c_n_seq_first) = lstm_seq_first(x_seq_first)
print("out:", tuple(out_seq_first.shape), "| h_n:", tuple(h_n_seq_first.shape))

# %% [markdown]
# ## Your task (b)
#
# `last_step_seq_first`: from `out_seq_first`, the output of the last time step for every
# sequence, shape (5, 16).

# %%
### BEGIN SOLUTION
last_step_seq_first = out_seq_first[-1]  # time is the first axis now
### PLACEHOLDER
# last_step_seq_first = ...
### END SOLUTION

# %%
checks.check_last_step_seq_first(lstm_seq_first, x_seq_first, last_step_seq_first).require()

# %% [markdown]
# ## To think about
#
# Which of the two expressions, the slice of `out` or the row of `h_n`, would you rather
# write in a model that someone might later switch to `batch_first=False`? Why?
