"""The tutorial's model classes (Step 3): a recurrent layer stack plus a linear readout.

``LSTMModel`` is the class written out in Step 3 of ``notebooks/01_model_a``, with input
checks added; ``tests/test_lesson_code.py`` proves that both build the same parameters and
compute the same logits. ``RNNModel`` is its counterpart for the companion RNN page.

Both take batch-first input (batch, seq_dim, input_dim), for MNIST (batch, 28, 28): 28 time
steps, one image row of 28 pixels each, and return logits (batch, output_dim) computed from
the hidden state of the last time step, ``out[:, -1, :]``.
See https://pytorch.org/docs/stable/generated/torch.nn.LSTM.html for nn.LSTM's shapes.
"""

from __future__ import annotations

import torch
from torch import nn

from .validation import finite_number, positive_int


def check_input(x: torch.Tensor, input_dim: int) -> None:
    """Refuse an input the recurrent layer would misread or reject with a cryptic message.

    Raises:
        ValueError: x is not 3-D, has no time step, or its last size is not ``input_dim``
            (a flattened (100, 784) image batch, say); the message names the expected
            shape. Or x holds integers (MNIST's raw uint8 pixels): the message says how
            to convert them.
    """
    if x.dim() != 3 or x.size(1) < 1 or x.size(-1) != input_dim:
        raise ValueError(
            f"expected a batch-first input of shape (batch, seq_dim, input_dim={input_dim}), "
            f"got {tuple(x.shape)}. For MNIST images use images.view(-1, 28, 28): 28 time "
            f"steps of 28 pixels."
        )
    if not x.is_floating_point():
        raise ValueError(
            f"expected floating-point inputs, got {x.dtype}. MNIST's dataset.data holds "
            f"raw pixels 0..255: use images.float() / 255, the values ToTensor() gives."
        )


class LSTMModel(nn.Module):
    """``nn.LSTM`` (batch_first) followed by ``nn.Linear(hidden_dim, output_dim)``.

    Args:
        input_dim: features per time step (28 pixels per image row).
        hidden_dim: hidden units per layer (the tutorial uses 100).
        layer_dim: stacked LSTM layers (Model A: 1, B: 2, C: 3).
        output_dim: classes (10 digits, 0 to 9).
        dropout: probability (0 <= p < 1) of zeroing each output of every LSTM layer but the
            last, while training (``nn.LSTM``'s own ``dropout``): it acts between stacked
            layers only, so it needs ``layer_dim >= 2``. Default 0, none.
        forget_bias: if given, the forget gate's total bias ``b_if + b_hf`` starts at this
            value in every unit of every layer (``b_if = forget_bias``, ``b_hf = 0``; the
            weights and the other gates keep PyTorch's initialisation). 1 is the usual
            choice (Jozefowicz et al., 2015): the cell starts keeping most of its memory,
            sigmoid(1) = 0.73 per step instead of 0.5. Default None, PyTorch's initialisation.
            Setting it draws no random numbers, so a seeded model differs from the one
            without it in those biases only.

    Raises:
        ValueError: any size is not a positive integer; ``dropout`` is not a number from 0
            to below 1, or is above 0 with ``layer_dim = 1`` (there is no layer after the
            only one to drop into; PyTorch would warn and ignore it); ``forget_bias`` is not
            a finite number.

    Initial hidden and cell states are zeros of shape (layer_dim, batch, hidden_dim), made on
    the input's device and dtype: what nn.LSTM assumes anyway, written out to show them.
    """

    def __init__(self, input_dim: int, hidden_dim: int, layer_dim: int, output_dim: int,
                 dropout: float = 0.0, forget_bias: float | None = None):
        super().__init__()
        self.input_dim = positive_int("input_dim", input_dim)
        self.hidden_dim = positive_int("hidden_dim", hidden_dim)
        self.layer_dim = positive_int("layer_dim", layer_dim)
        self.output_dim = positive_int("output_dim", output_dim)
        self.dropout = _dropout(dropout, self.layer_dim)
        self.forget_bias = _forget_bias(forget_bias)
        self.lstm = nn.LSTM(self.input_dim, self.hidden_dim, self.layer_dim, batch_first=True,
                            dropout=self.dropout)
        self.fc = nn.Linear(self.hidden_dim, self.output_dim)
        if self.forget_bias is not None:
            forget = slice(self.hidden_dim, 2 * self.hidden_dim)  # gates (i, f, g, o)
            with torch.no_grad():
                for layer in range(self.layer_dim):
                    getattr(self.lstm, f"bias_ih_l{layer}")[forget] = self.forget_bias
                    getattr(self.lstm, f"bias_hh_l{layer}")[forget] = 0.0  # the two add

    def hyperparameters(self) -> dict:
        """The constructor's arguments: ``LSTMModel(**model.hyperparameters())`` rebuilds
        the same architecture (what :mod:`lstm_helpers.checkpoints` stores). ``dropout`` and
        ``forget_bias`` appear only when set, so checkpoints of the tutorial's models read
        and compare as before."""
        sizes = {"input_dim": self.input_dim, "hidden_dim": self.hidden_dim,
                 "layer_dim": self.layer_dim, "output_dim": self.output_dim}
        if self.dropout:
            sizes["dropout"] = self.dropout
        if self.forget_bias is not None:
            sizes["forget_bias"] = self.forget_bias
        return sizes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (batch, output_dim) for a batch-first input (batch, seq_dim, input_dim).

        Raises:
            ValueError: see :func:`check_input`.
        """
        check_input(x, self.input_dim)
        # Zero initial states (layer_dim, batch, hidden_dim), on x's device and dtype.
        h0 = x.new_zeros(self.layer_dim, x.size(0), self.hidden_dim)
        c0 = x.new_zeros(self.layer_dim, x.size(0), self.hidden_dim)
        # out: (batch, seq_dim, hidden_dim), the top layer's hidden state at every step.
        out, _ = self.lstm(x, (h0, c0))
        # Only the last time step has seen the whole image: (batch, hidden_dim) -> logits.
        return self.fc(out[:, -1, :])


def _dropout(dropout, layer_dim: int) -> float:
    """``dropout`` as a float, checked (see :class:`LSTMModel`)."""
    value = finite_number(dropout)
    if value is None or not 0 <= value < 1:
        raise ValueError(f"dropout must be a probability from 0 to below 1, got {dropout!r}")
    if dropout and layer_dim == 1:
        raise ValueError(f"dropout={dropout!r} needs layer_dim >= 2: nn.LSTM drops between "
                         f"stacked layers, and one layer has none after it. Use layer_dim=2 "
                         f"or dropout=0")
    return value


def _forget_bias(forget_bias) -> float | None:
    """``forget_bias`` as a float or None, checked (see :class:`LSTMModel`)."""
    if forget_bias is None:
        return None
    value = finite_number(forget_bias)
    if value is None:
        raise ValueError(f"forget_bias must be a finite number (1.0, say) or None for "
                         f"PyTorch's initialisation, got {forget_bias!r}")
    return value


class RNNModel(nn.Module):
    """``nn.RNN`` (batch_first) followed by ``nn.Linear``, the companion RNN page's model.

    Same arguments as :class:`LSTMModel`, plus ``nonlinearity``: ``"tanh"`` or ``"relu"``.

    Raises:
        ValueError: a size is not a positive integer, or the nonlinearity is unknown.

    The initial hidden state is zeros of shape (layer_dim, batch, hidden_dim), on the input's
    device and dtype; a plain RNN has no cell state.
    """

    def __init__(self, input_dim: int, hidden_dim: int, layer_dim: int, output_dim: int,
                 nonlinearity: str = "tanh"):
        super().__init__()
        self.input_dim = positive_int("input_dim", input_dim)
        self.hidden_dim = positive_int("hidden_dim", hidden_dim)
        self.layer_dim = positive_int("layer_dim", layer_dim)
        self.output_dim = positive_int("output_dim", output_dim)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.rnn = nn.RNN(self.input_dim, self.hidden_dim, self.layer_dim, batch_first=True,
                          nonlinearity=nonlinearity)
        self.fc = nn.Linear(self.hidden_dim, self.output_dim)

    def hyperparameters(self) -> dict:
        """The constructor's arguments, ``nonlinearity`` included (see
        :meth:`LSTMModel.hyperparameters`)."""
        return {"input_dim": self.input_dim, "hidden_dim": self.hidden_dim,
                "layer_dim": self.layer_dim, "output_dim": self.output_dim,
                "nonlinearity": self.rnn.nonlinearity}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (batch, output_dim) for a batch-first input (batch, seq_dim, input_dim).

        Raises:
            ValueError: see :func:`check_input`.
        """
        check_input(x, self.input_dim)
        h0 = x.new_zeros(self.layer_dim, x.size(0), self.hidden_dim)
        out, _ = self.rnn(x, h0)
        return self.fc(out[:, -1, :])
