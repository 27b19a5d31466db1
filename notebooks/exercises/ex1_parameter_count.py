# %% [markdown]
# # Exercise 1: counting an LSTM's parameters
#
# <!-- launch links: written by scripts/notebook_setup.py -->
# **Run it in the cloud:** [Open in Colab](https://colab.research.google.com/github/lstm-course/lstm-networks-with-pytorch/blob/v0.2.0/notebooks/exercises/student/ex1_parameter_count.ipynb) · [Launch Binder](https://mybinder.org/v2/gh/lstm-course/lstm-networks-with-pytorch/v0.2.0?urlpath=lab%2Ftree%2Fnotebooks%2Fexercises%2Fstudent%2Fex1_parameter_count.ipynb) (JupyterLab, with `ex1_parameter_count.ipynb` open). Run the first code cell first: there it installs the course's package. It opens the exercise without its solutions. Binder shuts a session down after 10 minutes without activity and keeps nothing: download your notebook (*File › Download*) to keep your work; in Colab, *File › Save a copy in Drive*.
# <!-- end of launch links -->
#
# *Goes with: Model A, Step 6 (parameters in depth), and Models B and C.*
#
# The tutorial lists the parameter groups of Models A, B and C and their shapes. In this
# exercise you turn those shapes into a formula: how many numbers does an LSTM classifier
# learn, for any input size, hidden size and number of layers? Then you compare your formula
# with PyTorch's own count.
#
# **How the exercises work.** Each exercise has a cell with `...` placeholders below a
# `# YOUR CODE HERE` line. Replace the placeholders with your code and run the cell, then run
# the check cell under it. The check answers in one of three ways: **Correct**, **Not yet**
# (with what is wrong and a hint), or **Not done yet** (the placeholder is still there).
# Run the cells from the top. A check cell ends in `.require()`: it shows the answer's
# feedback, and when your teacher grades the notebook with nbgrader it also marks the cell
# as failed unless the answer is correct. In your own session it never stops the notebook.

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
import lstm_helpers as lh
from lstm_helpers import checks

# %% [markdown]
# ## What the tutorial shows
#
# Model A (`input_dim` 28, `hidden_dim` 100, one layer, 10 outputs) holds 6 groups of
# parameters. Here they are again, with their shapes:

# %%
print(lh.describe_parameters(lh.LSTMModel(28, 100, 1, 10)))

# %% [markdown]
# Read each shape as a question: *from what, to what?* The LSTM's weight matrices stack its
# four gates, hence 4 × 100 = 400 rows. There are matrices for the input and for the previous
# hidden state, and PyTorch keeps two bias vectors. The readout `fc` maps the last hidden
# state to the 10 digit scores.
#
# Model B stacks a second LSTM layer. What does the second layer read as its input?

# %%
print(lh.describe_parameters(lh.LSTMModel(28, 100, 2, 10)))

# %% [markdown]
# ## Your task
#
# Write `count_parameters(input_dim, hidden_dim, layer_dim, output_dim)`: the total number of
# parameters of `lh.LSTMModel(input_dim, hidden_dim, layer_dim, output_dim)`, computed with
# arithmetic only. Do not build a model inside the function: the point is a formula that
# works for any sizes.

# %%
def count_parameters(input_dim, hidden_dim, layer_dim, output_dim):
    """Number of trainable parameters of an LSTM classifier, by formula."""
    ### BEGIN SOLUTION
    gates = 4 * hidden_dim  # rows of every LSTM matrix: input, forget, cell, output gates
    first_layer = gates * input_dim + gates * hidden_dim + 2 * gates
    later_layer = gates * hidden_dim + gates * hidden_dim + 2 * gates  # input: hidden state
    readout = hidden_dim * output_dim + output_dim
    return first_layer + (layer_dim - 1) * later_layer + readout
    ### PLACEHOLDER
    # return ...
    ### END SOLUTION

# %% [markdown]
# Side by side with PyTorch, which counts the numbers in every parameter tensor:

# %%
for layer_dim, name in [(1, "A"), (2, "B"), (3, "C")]:
    model = lh.LSTMModel(28, 100, layer_dim, 10)
    pytorch_count = sum(p.numel() for p in model.parameters())
    print(f"Model {name}: PyTorch counts {pytorch_count:,}; "
          f"your formula gives {count_parameters(28, 100, layer_dim, 10)!r}")

# %% [markdown]
# ## Check
#
# The check compares your formula with PyTorch on six sizes, including odd ones such as a
# single hidden unit or four layers.

# %%
checks.check_parameter_count(count_parameters).require()

# %% [markdown]
# ## To think about
#
# * Going from Model A to Model B adds more parameters than the whole of Model A's LSTM
#   layer. Why is the second layer larger than the first?
# * Doubling `hidden_dim` roughly quadruples the count of a deep LSTM. Which terms of your
#   formula grow with the square of `hidden_dim`?
