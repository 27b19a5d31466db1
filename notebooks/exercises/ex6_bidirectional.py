# %% [markdown]
# # Exercise 6: a bidirectional LSTM
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
