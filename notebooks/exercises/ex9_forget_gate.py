# %% [markdown]
# # Exercise 9: the forget gate, started open
#
# <!-- launch links: written by scripts/notebook_setup.py -->
# **Run it in the cloud:** [Open in Colab](https://colab.research.google.com/github/lstm-course/lstm-networks-with-pytorch/blob/v0.2.0/notebooks/exercises/student/ex9_forget_gate.ipynb) · [Launch Binder](https://mybinder.org/v2/gh/lstm-course/lstm-networks-with-pytorch/v0.2.0?urlpath=lab%2Ftree%2Fnotebooks%2Fexercises%2Fstudent%2Fex9_forget_gate.ipynb) (JupyterLab, with `ex9_forget_gate.ipynb` open). Run the first code cell first: there it installs the course's package. It opens the exercise without its solutions. Binder shuts a session down after 10 minutes without activity and keeps nothing: download your notebook (*File › Download*) to keep your work; in Colab, *File › Save a copy in Drive*.
# <!-- end of launch links -->
#
# *Goes with: Why an LSTM: its memory measured (section 4).*
#
# An LSTM carries its memory in the cell state, $c_t = f_t \odot c_{t-1} + i_t \odot g_t$.
# When nothing new is written, each time step multiplies the memory by the forget gate
# $f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf})$. With PyTorch's initialisation
# the gate starts near $\sigma(0) = 0.5$, so the memory halves at every step; the lesson
# showed that an LSTM started that way cannot learn to carry a digit across 56 blank rows,
# while the same LSTM with its forget gate's bias set to 3 can.
#
# In this exercise you write the line that makes the difference, and the arithmetic behind
# it. Replace each `...` below `# YOUR CODE HERE`, run the cell, then run the check under it.
# Each check takes under a second.

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

import lstm_helpers as lh
from lstm_helpers import checks

# %% [markdown]
# ## Part (a): setting the forget gate's bias
#
# `nn.LSTM` keeps each layer's biases in two vectors, `bias_ih_l0` and `bias_hh_l0` for the
# first layer (`bias_ih_l1` and `bias_hh_l1` for the second, and so on). Each holds
# 4 × `hidden_dim` values: the biases of the four gates, stacked in the order (i, f, g, o),
# one block of `hidden_dim` values per gate. PyTorch **adds** the two vectors: the forget
# gate sees $b_{if} + b_{hf}$.

# %%
lh.set_seed(0)  # the same initial values at every run
lstm = nn.LSTM(input_size=28, hidden_size=4, num_layers=1, batch_first=True)
for name, parameter in lstm.named_parameters():
    print(f"{name:<13} {tuple(parameter.shape)}")
print("bias_ih_l0, in blocks of hidden_dim = 4 (i, f, g, o):")
print(lstm.bias_ih_l0.detach().view(4, 4))

# %% [markdown]
# The tools:
#
# * `lstm.hidden_size` and `lstm.num_layers` give the sizes;
# * `getattr(lstm, f"bias_ih_l{layer}")` reaches a layer's bias vector by name;
# * a bias is a parameter that records gradients, so write into it inside
#   `with torch.no_grad():`, with slice assignment, for example `vector[a:b] = 1.0`, which
#   changes the tensor in place: an optimizer built before still holds the same tensor.
#
# ## Your task (a)
#
# Write `set_forget_bias`: in every layer of `lstm`, make the forget gate's total bias,
# $b_{if} + b_{hf}$, equal to `bias` in every unit. Change nothing else: not the other
# gates, not the weights. Return `lstm`.

# %%
def set_forget_bias(lstm, bias):
    """Set b_if + b_hf = bias in every unit of every layer of the nn.LSTM; return it."""
    ### BEGIN SOLUTION
    hidden_dim = lstm.hidden_size
    forget = slice(hidden_dim, 2 * hidden_dim)  # (i, f, g, o): the second block
    with torch.no_grad():
        for layer in range(lstm.num_layers):
            getattr(lstm, f"bias_ih_l{layer}")[forget] = bias
            getattr(lstm, f"bias_hh_l{layer}")[forget] = 0.0  # the two vectors add
    return lstm
    ### PLACEHOLDER
    # hidden_dim = ...
    #
    # return ...
    ### END SOLUTION

# %% [markdown]
# ## Check (a)
#
# The check builds an `nn.LSTM(28, 64, batch_first=True)`, calls
# `set_forget_bias(lstm, 3.0)`, and compares every parameter with its value before: the
# forget gate's two biases must add up to 3 in each of the 64 units, and nothing else may
# change.

# %%
checks.check_set_forget_bias(set_forget_bias).require()

# %% [markdown]
# ## Part (b): how much memory survives
#
# Take one unit whose forget gate sits at $f = \sigma(b)$ at every step while the input is
# blank, and suppose nothing new is written ($i_t \odot g_t = 0$). Then
# $c_t = f \cdot c_{t-1}$ at each step.
#
# ## Your task (b)
#
# Write `kept_fraction(bias, steps)`: the fraction of the cell state $c_0$ still there after
# `steps` such steps, $c_{\text{steps}} / c_0$, as a float. `bias` is a float (positive,
# zero or negative), `steps` an integer $\geq 0$. `torch.sigmoid` needs a tensor; `math.exp`
# works on a float.

# %%
def kept_fraction(bias, steps):
    """The fraction of c_0 kept after `steps` blank steps with the forget gate at sigmoid(bias)."""
    ### BEGIN SOLUTION
    gate = torch.sigmoid(torch.tensor(bias, dtype=torch.float64)).item()
    return gate ** steps
    ### PLACEHOLDER
    # gate = ...
    # return ...
    ### END SOLUTION

# %% [markdown]
# ## Check (b)
#
# Compared with the right fraction for biases 0, 1 and 3, after 0 to 56 steps.

# %%
checks.check_kept_fraction(kept_fraction).require()

# %% [markdown]
# ## Your functions at work
#
# Once both checks pass, this cell puts your two functions together. For each forget bias it builds the
# lesson's LSTM (one layer of 64 units, same seed), sets the bias with your
# `set_forget_bias`, and measures with `lh.input_gradient_norms` how large the loss's
# gradient is on the digit's rows when 56 blank rows follow them: the learning signal that
# reaches the digit before any training. Beside it, your `kept_fraction` after 56 steps.
# (Untrained models, 200 test images: a second or two.)

# %%
written = [set_forget_bias(nn.LSTM(1, 1), 0.0), kept_fraction(0.0, 1)]  # `...` until written
if all(answer is not ... for answer in written):
    images, labels = lh.mnist_tensors(train=False)
    delayed = lh.add_blank_rows(images[:200], 56)  # (200, 84, 28): the digit, 56 blank rows
    for bias in (0.0, 1.0, 3.0):
        lh.set_seed(0)
        model = lh.LSTMModel(28, 64, 1, 10)
        set_forget_bias(model.lstm, bias)
        norms = lh.input_gradient_norms(model, delayed, labels[:200])
        print(f"forget bias {bias:g}: kept after 56 steps {kept_fraction(bias, 56):.1e}, "
              f"gradient on the digit's rows {norms[4:24].mean().item():.1e}")
else:
    print("Parts (a) and (b) first: this cell uses both of your functions.")

# %% [markdown]
# ## To think about
#
# * The gradient on the digit's rows does not shrink exactly like `kept_fraction`. What
#   else lies on the path from the answer back to row 10, and why does the forget gate
#   still decide the order of magnitude?
# * Why set $b_{hf}$ to 0 rather than leave it? What would go wrong if you set both vectors
#   to `bias`?
# * A forget bias of 10 keeps almost everything for hundreds of steps. What would the cell
#   then find hard to do, and why might a task need its gate to close?
# * Chrono initialisation (Tallec and Ollivier, 2018) gives each unit its own forget bias,
#   drawn so that the units' memories span the range of delays the task needs. How would
#   you change `set_forget_bias` to take one bias per unit?
