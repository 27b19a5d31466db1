# %% [markdown]
# # Model C: three stacked LSTM layers
#
# <!-- launch links: written by scripts/notebook_setup.py -->
# **Run it in the cloud:** [Open in Colab](https://colab.research.google.com/github/lstm-course/lstm-networks-with-pytorch/blob/v0.2.0/notebooks/03_model_c.ipynb) · [Launch Binder](https://mybinder.org/v2/gh/lstm-course/lstm-networks-with-pytorch/v0.2.0?urlpath=lab%2Ftree%2Fnotebooks%2F03_model_c.ipynb) (JupyterLab, with `03_model_c.ipynb` open). Run the first code cell first: there it installs the course's package. It runs in about 3 minutes on a 2-core CPU, as Colab's free runtime and Binder give. Binder shuts a session down after 10 minutes without activity and keeps nothing: download your notebook (*File › Download*) to keep your work; in Colab, *File › Save a copy in Drive*.
# <!-- end of launch links -->
#
# A third layer, and again only Step 4 changes. This model is the tutorial's cautionary
# tale: with plain SGD it sits at chance level (about 11%, the share of the most frequent
# digit) for the first thousand iterations before it starts to learn, and it ends below the
# one-layer Model A. This notebook shows why.
#
# As in Model B, the code cells of the seven steps are Model A's, with the class and the loop
# taken from the package, and differ in one line: `layer_dim` in Step 4. One section is
# extra, between Steps 6 and 7 and marked as beyond the seven steps: it measures the
# gradients of the untrained model to explain the slow start.

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
import matplotlib.pyplot as plt
import torch
from torch import nn

import lstm_helpers as lh

SEED = 0  # the course's seed: a rerun on the same machine repeats this history
lh.set_seed(SEED)
print("PyTorch", torch.__version__)

# %% [markdown]
# ## Step 1: Loading the MNIST training data set
#
# Unchanged from Model A.

# %%
train_dataset = lh.load_mnist(train=True)
test_dataset = lh.load_mnist(train=False)

print("training images:", train_dataset.data.size())
print("training labels:", train_dataset.targets.size())
print("test images:    ", test_dataset.data.size())
print("test labels:    ", test_dataset.targets.size())

# %% [markdown]
# ## Step 2: Making the data set iterable
#
# Batches of 100, 3000 iterations, 5 epochs.

# %%
batch_size = 100
n_iters = 3000
num_epochs = int(n_iters / (len(train_dataset) / batch_size))
print("epochs:", num_epochs)

# %%
train_loader, test_loader = lh.mnist_batches(batch_size=batch_size)
print("batches per epoch:", len(train_loader), "| test batches:", len(test_loader))

# %% [markdown]
# ## Step 3: Creating the model class
#
# `lh.LSTMModel` is the class you wrote in Model A, saved in the package.

# %%
LSTMModel = lh.LSTMModel  # the class you wrote in Model A

# %% [markdown]
# ## Step 4: Instantiating the model class (the one change)
#
# Three layers: each one reads the sequence of hidden states of the layer below, and the
# readout looks at the last time step of the top one.

# %%
input_dim = 28
hidden_dim = 100
layer_dim = 3  # Model A: 1, Model B: 2, Model C: 3
output_dim = 10

model = LSTMModel(input_dim, hidden_dim, layer_dim, output_dim)
print(model)

# %% [markdown]
# ## Step 5: Instantiating the loss class

# %%
criterion = nn.CrossEntropyLoss()

# %% [markdown]
# ## Step 6: Instantiating the optimizer class
#
# SGD, learning rate 0.1.

# %%
learning_rate = 0.1
optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)

# %% [markdown]
# ### Parameters in depth
#
# Three layers give 14 parameter groups: four per layer plus the readout's two. Layers 2
# and 3 both read a 100-number hidden state, so they have the same shapes.

# %%
print(len(list(model.parameters())), "parameter groups")
for shape in lh.parameter_shapes(model):
    print(list(shape))

# %%
print(lh.describe_parameters(model))

# %% [markdown]
# ## Beyond the seven steps: why a deep LSTM starts slowly
#
# This section is not one of the tutorial's steps; it measures what the tutorial's log only
# shows. Before training, the error signal for the first layer has to travel back through
# the readout, then through layers 3 and 2, each of which multiplies it by gate activations
# and weights that are small at initialisation. Measure it: one batch, one backward pass,
# and the size (L2 norm) of the gradient of each layer's input weights, for one, two and
# three layers from the same seed.

# %%
images, labels = next(iter(train_loader))
for layers in (1, 2, 3):
    torch.manual_seed(SEED)
    probe = LSTMModel(input_dim, hidden_dim, layers, output_dim)
    criterion(probe(images), labels).backward()
    norms = [getattr(probe.lstm, f"weight_ih_l{k}").grad.norm().item() for k in range(layers)]
    print(f"{layers} layer(s): gradient norm of each layer's input weights, bottom to top:",
          ", ".join(f"{n:.1e}" for n in norms))

lh.set_seed(SEED)  # the probe drew random numbers: training starts from a known state again

# %% [markdown]
# The bottom layer, the only one that sees the pixels, gets a gradient that shrinks with
# every layer stacked above it. SGD's step is the learning rate times that gradient, so the
# bottom layer barely moves, the layers above receive almost no information about the image,
# and the output stays near a constant guess. This is the **vanishing gradient** problem, here
# across layers rather than across time steps. It clears eventually, once the top layers
# and the readout have grown enough to pass a usable signal down; adaptive optimizers such as
# Adam, which rescale each parameter's step, avoid the wait (see the Deep Learning Notes).

# %% [markdown]
# ## Step 7: Training the model
#
# `lh.train` is the loop you wrote in Model A, saved in the package.

# %%
train_model = lh.train  # the loop you wrote in Model A

# %%
seq_dim = 28  # time steps per image: one per row
history = train_model(model, criterion, optimizer, train_loader, test_loader,
                      n_iters=n_iters, eval_every=500, seq_dim=seq_dim, input_dim=input_dim)
print(f"trained {n_iters} iterations in {history.seconds:.1f} s")

# %% [markdown]
# The tutorial's published log for Model C read 11, 11, 20, 59, 79 and 88%. Where exactly
# the climb starts varies from run to run and machine to machine; the check is deliberately
# loose about the end point:

# %%
final = history.final_accuracy
assert final >= 75.0, f"Model C should pass 75% after 3000 iterations, got {final:.2f}%"
print(f"final test accuracy: {final:.2f}%")

# %%
lh.plot_history(history, "Model C: 3 LSTM layers, 100 hidden units, SGD lr 0.1")
plt.show()

# %% [markdown]
# Three layers hold four times the parameters of Model A, take three times as long per
# iteration, and end lower after the same 3000 iterations. More capacity is not more accuracy
# by itself: it needs more data, more iterations, or a better optimizer.
#
# **Next:** the same model on a GPU, then the comparison with plain RNNs.
