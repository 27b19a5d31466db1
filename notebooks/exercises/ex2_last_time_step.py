# %% [markdown]
# # Exercise 2: the last time step, two ways
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
