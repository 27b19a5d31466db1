"""Listing a model's parameter groups the way the tutorial's Step 6 does."""

from __future__ import annotations

import re

from torch import nn

_RECURRENT = re.compile(r"(weight|bias)_(ih|hh)_l(\d+)")


def count_parameters(module: nn.Module) -> int:
    """Number of trainable numbers in ``module`` (all parameter tensors' elements)."""
    return sum(p.numel() for p in module.parameters())


def parameter_shapes(model: nn.Module) -> list[tuple[int, ...]]:
    """Shapes of ``model.parameters()`` in order, e.g. [(400, 28), (400, 100), (400,), ...]."""
    return [tuple(p.shape) for p in model.parameters()]


def _role(name: str, gates: int) -> str:
    match = _RECURRENT.search(name)
    if match is None:
        kind = "weights" if name.endswith("weight") else "biases"
        return f"readout {kind}: hidden state -> output"
    kind, source, layer = match.groups()
    source = "input" if source == "ih" else "hidden state"
    if int(layer) > 0 and source == "input":
        source = f"layer {layer}'s hidden state"
    kind = "weights" if kind == "weight" else "biases"
    target = f"{gates} gates" if gates > 1 else "hidden state"
    return f"layer {int(layer) + 1} {kind}: {source} -> {target}"


def describe_parameters(model: nn.Module) -> str:
    """A table of the parameter groups: index, name, shape and role, one line each.

    For an LSTM every recurrent matrix stacks its four gates (input, forget, cell, output)
    along the first dimension, hence 4 x hidden_dim = 400 rows for 100 hidden units.
    """
    gates = 4 if any(isinstance(m, nn.LSTM) for m in model.modules()) else 1
    lines = []
    for index, (name, parameter) in enumerate(model.named_parameters()):
        shape = str(list(parameter.shape))
        lines.append(f"{index:>2}  {name:<18} {shape:<11} {_role(name, gates)}")
    lines.append(f"{len(lines)} parameter groups, "
                 f"{count_parameters(model):,} numbers in all")
    return "\n".join(lines)
