# ---
# jupyter:
#   accelerator: GPU
#   colab:
#     gpuType: T4
# ---

# %% [markdown]
# # The GPU variant: Model C on an accelerator
#
# <!-- launch links: written by scripts/notebook_setup.py -->
# **Run it in the cloud:** [Open in Colab](https://colab.research.google.com/github/lstm-course/lstm-networks-with-pytorch/blob/v0.2.0/notebooks/04_gpu.ipynb) · [Launch Binder](https://mybinder.org/v2/gh/lstm-course/lstm-networks-with-pytorch/v0.2.0?urlpath=lab%2Ftree%2Fnotebooks%2F04_gpu.ipynb) (JupyterLab, with `04_gpu.ipynb` open). Run the first code cell first: there it installs the course's package. Colab opens it on a GPU runtime (free, when one is available: *Runtime › Change runtime type*); on a CPU it runs in about 3 minutes. Binder shuts a session down after 10 minutes without activity and keeps nothing: download your notebook (*File › Download*) to keep your work; in Colab, *File › Save a copy in Drive*.
# <!-- end of launch links -->
#
# Training on a GPU needs two things on the GPU: the **model** (its parameters) and the
# **tensors** it computes with (the images, the labels and the initial states). Compared
# with Model C only Steps 3, 4 and 7 change, so this notebook writes those three out again,
# as Model A did, with every device move in sight:
#
# * Step 3: the class creates its zero states on the input's device;
# * Step 4: the model moves to the device once, before the optimizer is made;
# * Step 7: every batch of images and labels moves to the model's device.
#
# This notebook picks the device once: a CUDA GPU if there is one, else Apple's MPS, else the
# CPU. On a machine without a GPU it says so and runs the very same code on the CPU; the
# outputs stored with it come from such a run.

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
import math
import os
import time

import matplotlib.pyplot as plt
import torch
from torch import nn

import lstm_helpers as lh

SEED = 0  # the course's seed
lh.set_seed(SEED)

device = lh.pick_device("auto")
print("device:", lh.describe_device(device))

# %% [markdown]
# ## Repeatable results on a GPU
#
# On the CPU a seed fixes the whole run. On a CUDA GPU, cuDNN picks among several algorithms
# for each operation and some of them add numbers in an order that changes from run to run,
# so two runs with one seed can drift apart in the last digits and then further. To trade
# some speed for bit-for-bit repeatable runs, switch the deterministic algorithms on before
# any work on the GPU. cuBLAS also needs a fixed workspace size for that, set through an
# environment variable. Set `DETERMINISTIC = True` to try it.

# %%
DETERMINISTIC = False
if DETERMINISTIC:
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(True)
print("deterministic algorithms:", torch.are_deterministic_algorithms_enabled())

# %% [markdown]
# ## Steps 1 and 2: the data, once, on the device
#
# The tutorial moves every batch from host memory to the GPU inside the training loop. Here
# the whole data set (about 220 MB as float32) goes to the device once, when it fits in half
# of the free memory, so no copy happens per batch. On the CPU the tensors are already where
# they need to be.

# %%
train_loader, test_loader = lh.mnist_batches(batch_size=100)
nbytes = train_loader.nbytes + test_loader.nbytes
if lh.fits_on_device(nbytes, device):
    train_loader, test_loader = train_loader.to(device), test_loader.to(device)
print(f"data set: {nbytes / 2**20:.0f} MiB, batches served from: {train_loader.device.type}")

# %% [markdown]
# ## Step 3: the model class, states on the input's device
#
# The class of Model A, unchanged. The tutorial's GPU listing creates the zero states on the
# CPU and copies them to a global `device` at every forward pass. Here `x.new_zeros(...)`
# makes them on the device and with the dtype of the batch `x`: on the GPU when the batch is
# there, with no copy and no global variable. That line is what lets the same class run on
# any device.

# %%
class LSTMModel(nn.Module):
    def __init__(self, input_dim, hidden_dim, layer_dim, output_dim):
        super().__init__()
        self.hidden_dim = hidden_dim  # hidden units per layer
        self.layer_dim = layer_dim  # number of stacked LSTM layers
        # batch_first=True: input and output are shaped (batch, seq, feature)
        self.lstm = nn.LSTM(input_dim, hidden_dim, layer_dim, batch_first=True)
        # the readout: a hidden state of hidden_dim numbers -> output_dim scores (logits)
        self.fc = nn.Linear(hidden_dim, output_dim)

    def forward(self, x):
        # Zero initial hidden and cell states, shape (layer_dim, batch, hidden_dim).
        # Device: x.new_zeros makes them where x is (the GPU, if x is there), no copy.
        # No requires_grad_()/detach(): fresh zeros every batch have no history to cut.
        h0 = x.new_zeros(self.layer_dim, x.size(0), self.hidden_dim)
        c0 = x.new_zeros(self.layer_dim, x.size(0), self.hidden_dim)
        # out: (batch, seq, hidden_dim), the top layer's hidden state at every time step;
        # (hn, cn): each layer's hidden and cell states after the last step, unused here
        out, (hn, cn) = self.lstm(x, (h0, c0))
        # only the last time step has seen the whole image: (batch, hidden_dim) -> logits
        out = self.fc(out[:, -1, :])
        return out

# %% [markdown]
# ## Step 4: instantiating the model, and moving it to the device
#
# `.to(device)` moves every parameter, once. For `nn.LSTM` on CUDA it also lays the weights
# out again as one contiguous block, which cuDNN needs. PyTorch's documentation asks for the
# move before the optimizer is created (Step 6): the optimizer holds on to the parameters it
# is given, and those must be the ones that live on the device.

# %%
input_dim = 28
hidden_dim = 100
layer_dim = 3
output_dim = 10

model = LSTMModel(input_dim, hidden_dim, layer_dim, output_dim)
model.to(device)  # device move 1: the parameters, once, before the optimizer exists
print(model)
print("parameters on:", next(model.parameters()).device.type)

# %% [markdown]
# ## Steps 5 and 6: loss and optimizer (unchanged)
#
# The optimizer is created after the move, so it holds the device's parameters.

# %%
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

# %% [markdown]
# ## Step 7: training on the device
#
# Model A's loop, with one change: each batch of images and labels goes to the model's
# device with `.to(device)` before it is used. When the batch is already there, as here
# once the data set has moved in Step 2 (or on a CPU-only machine), `.to(device)` returns the
# very same tensor and costs nothing; when the data stays in host memory (a data set too
# large for the GPU), it is the copy the GPU needs. The device is read from the model itself,
# so the functions need no global `device`.
#
# The accuracy is counted on the device too: the tutorial copied every prediction back to
# the CPU to compare it there; here only the count of correct predictions comes back, one
# number per test batch.

# %%
def evaluate_accuracy(model, test_loader, seq_dim, input_dim):
    """Test accuracy in percent (a float), computed on the model's device."""
    device = next(model.parameters()).device  # where Step 4 put the model
    model.eval()  # evaluation mode
    correct = 0
    total = 0
    with torch.inference_mode():  # no gradients recorded: faster, less memory
        for images, labels in test_loader:
            images, labels = images.to(device), labels.to(device)  # no-op if already there
            outputs = model(images.view(-1, seq_dim, input_dim))
            predicted = outputs.argmax(dim=1)  # the digit with the highest score
            correct += (predicted == labels).sum().item()  # one number back to the CPU
            total += labels.size(0)
    model.train()  # back to training mode
    return 100 * correct / total

# %% [markdown]
# One more remark for GPU users: `loss.item()` copies the loss to the CPU, so the CPU waits
# for the GPU at every iteration. `lh.train` keeps the losses on the device and reads them
# at each evaluation, which is somewhat faster on a GPU; here the plainer line wins.

# %%
def train_model(model, criterion, optimizer, train_loader, test_loader, n_iters, eval_every,
                seq_dim, input_dim):
    """Train for n_iters iterations, evaluating every eval_every; return an lh.History."""
    device = next(model.parameters()).device  # where Step 4 put the model
    num_epochs = math.ceil(n_iters / len(train_loader))  # Step 2's count, rounded up
    losses, evaluations = [], []
    bar = lh.progress_bar(total=n_iters, desc="training")  # tqdm, as one output line
    start = time.perf_counter()
    iteration = 0
    model.train()
    for epoch in range(num_epochs):
        for images, labels in train_loader:
            # device move 2: the batch goes where the model is (a no-op if already there)
            images, labels = images.to(device), labels.to(device)
            images = images.view(-1, seq_dim, input_dim)  # (batch, 28, 28)
            optimizer.zero_grad()  # clear the previous iteration's gradients
            outputs = model(images)  # forward pass: logits (batch, 10)
            loss = criterion(outputs, labels)  # cross entropy of this batch
            loss.backward()  # gradients of the loss for every parameter
            optimizer.step()  # parameters = parameters - learning_rate * gradients
            iteration += 1
            losses.append(loss.item())
            bar.update()
            if iteration % eval_every == 0 or iteration == n_iters:  # and after the last one
                accuracy = evaluate_accuracy(model, test_loader, seq_dim, input_dim)
                evaluations.append(lh.Evaluation(iteration, loss.item(), accuracy))
                print(f"Iteration: {iteration}. Loss: {loss.item():.4f}. Accuracy: {accuracy:.2f}")
            if iteration == n_iters:
                break  # the last epoch may end early
    bar.close()
    return lh.History(train_loss=losses, evaluations=evaluations,
                      seconds=time.perf_counter() - start)

# %%
seq_dim = 28  # time steps per image: one per row
history = train_model(model, criterion, optimizer, train_loader, test_loader,
                      n_iters=3000, eval_every=500, seq_dim=seq_dim, input_dim=input_dim)
print(f"trained 3000 iterations in {history.seconds:.1f} s")

# %% [markdown]
# The tutorial's GPU log read 11, 14, 28, 71, 86 and 89%: Model C's slow start again, since
# the device changes the speed, not the mathematics. The end point is checked loosely:

# %%
final = history.final_accuracy
assert final >= 75.0, f"Model C should pass 75% after 3000 iterations, got {final:.2f}%"
print(f"final test accuracy: {final:.2f}%")

# %%
lh.plot_history(history, f"Model C on {device.type}: 3 LSTM layers, SGD lr 0.1")
plt.show()

# %% [markdown]
# On a recent GPU these 3000 iterations take seconds; see the course's Performance page (docs/performance.md)
# for measured figures.
