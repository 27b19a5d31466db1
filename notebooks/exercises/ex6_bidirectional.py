# %% [markdown]
# # Exercise 6: a bidirectional LSTM
#
# <!-- launch links: written by scripts/notebook_setup.py -->
# **Run it in the cloud:** [Open in Colab](https://colab.research.google.com/github/lstm-course/lstm-networks-with-pytorch/blob/v0.2.0/notebooks/exercises/student/ex6_bidirectional.ipynb) · [Launch Binder](https://mybinder.org/v2/gh/lstm-course/lstm-networks-with-pytorch/v0.2.0?urlpath=lab%2Ftree%2Fnotebooks%2Fexercises%2Fstudent%2Fex6_bidirectional.ipynb) (JupyterLab, with `ex6_bidirectional.ipynb` open). Run the first code cell first: there it installs the course's package. It opens the exercise without its solutions. Binder shuts a session down after 10 minutes without activity and keeps nothing: download your notebook (*File › Download*) to keep your work; in Colab, *File › Save a copy in Drive*.
# <!-- end of launch links -->
#
# *Goes with: Model A, Step 3, and the Deep Learning Notes (other ways to grow a recurrent
# net).*
#
# A bidirectional LSTM runs two LSTMs over the sequence: one forward, from the first row of
# the image to the last, and one backward, from the last row to the first. Each time step
# then knows about the rows above it *and* below it. In this exercise you build a classifier
# on one, and you will see that the readout of Model A, `out[:, -1, :]`, is no longer the
# right choice.
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
# ## What a bidirectional LSTM returns
#
# With `bidirectional=True`, each time step of `out` holds both directions side by side:
# the first `hidden_size` features come from the forward pass, the last `hidden_size` from
# the backward pass. `h_n` holds the final state of each direction of each layer, layer by
# layer: (layers × 2, batch, hidden).

# %%
torch.manual_seed(0)
bi_lstm = nn.LSTM(input_size=28, hidden_size=16, num_layers=2, batch_first=True,
                  bidirectional=True)
x = torch.rand(5, 28, 28)

with torch.no_grad():
    out, (h_n, c_n) = bi_lstm(x)
print("out:", tuple(out.shape), "| h_n:", tuple(h_n.shape))

# %% [markdown]
# The forward direction finishes at the last time step, after reading every row. Where does
# the backward direction finish? Compare the halves of `out` with the top layer's two final
# states:

# %%
hidden = 16
print("forward half of the last step  == h_n[-2]:", torch.allclose(out[:, -1, :hidden], h_n[-2]))
print("backward half of the first step == h_n[-1]:", torch.allclose(out[:, 0, hidden:], h_n[-1]))
print("backward half of the last step  == h_n[-1]:", torch.allclose(out[:, -1, hidden:], h_n[-1]))

# %% [markdown]
# ## Your task
#
# Complete `BiLSTMModel`: like `lh.LSTMModel`, batch first, with the same four sizes, but
# with a bidirectional `nn.LSTM` of `layer_dim` layers and a readout `nn.Linear` that reads
# the final state of **both** directions of the top layer, each after it has read the whole
# image. `forward(x)` takes (batch, 28, 28) and returns logits (batch, output_dim). You may
# let `nn.LSTM` start from its default zero states.

# %%
class BiLSTMModel(nn.Module):
    """A bidirectional LSTM classifier: nn.LSTM(bidirectional=True) and a linear readout."""

    def __init__(self, input_dim, hidden_dim, layer_dim, output_dim):
        super().__init__()
        ### BEGIN SOLUTION
        self.lstm = nn.LSTM(input_dim, hidden_dim, layer_dim, batch_first=True,
                            bidirectional=True)
        self.fc = nn.Linear(2 * hidden_dim, output_dim)  # both directions side by side
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        _, (h_n, _) = self.lstm(x)
        # The top layer's forward state (after the last row) and backward state (after the
        # first row); out[:, -1, hidden_dim:] would be the backward pass after one row only.
        both = torch.cat([h_n[-2], h_n[-1]], dim=1)
        return self.fc(both)
        ### PLACEHOLDER
        # return ...
        ### END SOLUTION

# %%
checks.check_bidirectional(BiLSTMModel).require()

# %% [markdown]
# ## To think about
#
# * How many parameters does `BiLSTMModel(28, 100, 1, 10)` have, compared with Model A's
#   53,010? And with two layers: what does the second layer read now? (Exercise 1's way of
#   counting helps; `lh.describe_parameters` confirms.)
# * A bidirectional LSTM needs the whole sequence before it can answer. For which tasks is
#   that fine, and for which is it not?
# * Going further: `nn.GRU` has the same interface as `nn.LSTM` but no cell state, so it
#   returns `out, h_n` instead of `out, (h_n, c_n)`. Write a GRU classifier and train it with
#   `lh.train` like Model A.
