"""Watching a training step from the outside, through PyTorch's hooks (exercise 8's set-up).

A :class:`Watch` holds a model, a loss and an optimizer to hand to a student's code, and
records what that code did to them, call by call (one :class:`CallRecord` per call), without
reading the code:

* a forward pre-hook on the model: each forward pass's mode (``model.training``), whether
  gradients were on, and the input's shape;
* :class:`TaggedLoss` tags every loss it returns with the call it was made in, and a hook on
  that loss tensor fires when a backward pass goes through it: which loss backward ran on;
* a hook on every parameter receives each backward pass's own gradient before PyTorch adds
  it into ``.grad`` (https://pytorch.org/docs/stable/generated/torch.Tensor.register_hook.html),
  so the gradient of this batch alone is known exactly;
* the optimizer's step pre-hook (``Optimizer.register_step_pre_hook``) sees every step and
  what ``.grad`` held when the step read it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial

import torch
from torch import nn

from ..models import LSTMModel

# What .grad can hold when it is looked at, compared with this call's backward passes.
EMPTY = "empty"        # nothing: None or zeros everywhere
EARLIER = "earlier"    # gradients, but no backward pass has run in this call yet
OWN = "own"            # exactly the gradient of this call's backward pass(es)
MORE = "more"          # this call's gradient plus something left from before


@dataclass
class Step:
    """One optimizer step: what ``.grad`` held, and how many backward passes came before."""

    held: str
    after_backwards: int


@dataclass
class CallRecord:
    """What one call of the student's function did to the watched objects."""

    number: int                                          # 1, 2, ... in the order of the calls
    forwards: list[tuple[bool, bool, tuple]] = field(default_factory=list)  # (training,
    #                                                      gradients on, input shape)
    losses: list[float] = field(default_factory=list)    # values the criterion returned
    backward_from: list[tuple[int, float]] = field(default_factory=list)  # (call it was
    #                                                      made in, value) of each loss a
    #                                                      backward pass went through
    backwards: int = 0                                   # backward passes reaching the weights
    own: list[torch.Tensor | None] | None = None         # their gradient, per parameter
    steps: list[Step] = field(default_factory=list)
    held_at_end: str = EMPTY                             # what .grad held after the call
    changed: bool = False                                # the weights moved during the call


class TaggedLoss(nn.CrossEntropyLoss):
    """Cross entropy that tags every loss it returns with the call it was made in."""

    def __init__(self, watch: Watch):
        super().__init__()
        self._watch = watch

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        loss = super().forward(logits, labels)
        now = self._watch.now
        now.losses.append(loss.item())
        if loss.requires_grad:  # fires when a backward pass starts from (or goes through) it
            loss.register_hook(partial(self._watch.note_backward_from, now.number,
                                       now.losses[-1]))
        return loss


class Watch:
    """An ``LSTMModel(input_dim, hidden_dim, 1, 10)`` in training mode, a :class:`TaggedLoss`
    and ``make_optimizer(model.parameters())``, with hooks on all three.

    ``begin()`` starts the record of a call (``now``), ``finish(weights_before)`` completes
    it; ``recording = False`` hides forward passes the check makes itself. ``close()``
    removes the hooks.
    """

    def __init__(self, input_dim: int, hidden_dim: int, make_optimizer: Callable):
        self.model = LSTMModel(input_dim, hidden_dim, 1, 10)
        self.criterion = TaggedLoss(self)
        self.optimizer = make_optimizer(self.model.parameters())
        self.params = list(self.model.parameters())
        self.now = CallRecord(0)
        self.recording = True
        self._handles = [self.model.register_forward_pre_hook(self._forward),
                         self.optimizer.register_step_pre_hook(self._before_step)]
        self._handles += [p.register_hook(partial(self._gradient, i))
                          for i, p in enumerate(self.params)]

    def close(self) -> None:
        for handle in self._handles:
            handle.remove()

    def begin(self, number: int) -> CallRecord:
        self.now = CallRecord(number)
        return self.now

    def finish(self, weights_before: torch.Tensor) -> None:
        self.now.changed = not torch.equal(weights_before, self.weights())
        self.now.held_at_end = self.held()

    def weights(self) -> torch.Tensor:
        """All parameters, flattened into one new tensor."""
        return torch.cat([p.detach().reshape(-1) for p in self.params])

    def grads(self) -> list[torch.Tensor | None]:
        return [None if p.grad is None else p.grad.detach().clone() for p in self.params]

    def held(self) -> str:
        """What ``.grad`` holds now: EMPTY, EARLIER, OWN or MORE (see their comments)."""
        grads = [p.grad for p in self.params]
        if all(g is None or not g.any() for g in grads):
            return EMPTY
        if self.now.own is None:
            return EARLIER
        return OWN if all(map(same_grad, grads, self.now.own)) else MORE

    def note_backward_from(self, made_in: int, value: float, grad: torch.Tensor) -> None:
        self.now.backward_from.append((made_in, value))

    def _forward(self, module: nn.Module, args: tuple) -> None:
        if self.recording:
            x = args[0] if args else None
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else ()
            self.now.forwards.append((module.training, torch.is_grad_enabled(), shape))

    def _gradient(self, index: int, grad: torch.Tensor) -> None:
        now = self.now
        if now.own is None:
            now.own = [None] * len(self.params)
        if index == len(self.params) - 1:  # the readout's bias: every backward pass reaches it
            now.backwards += 1
        previous = now.own[index]
        now.own[index] = grad.detach().clone() if previous is None else previous + grad

    def _before_step(self, optimizer, args, kwargs) -> None:
        self.now.steps.append(Step(self.held(), self.now.backwards))


def same_grad(grad: torch.Tensor | None, own: torch.Tensor | None) -> bool:
    """True when a ``.grad`` equals a recorded gradient (both None counts as equal)."""
    if grad is None or own is None:
        return grad is None and own is None
    return torch.allclose(grad, own, rtol=1e-5, atol=1e-7)


def take_batches(batches: Iterable, n: int, small: tuple[int, ...] = ()
                 ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """``n`` batches from ``batches`` (pass after pass), then one batch of each size in
    ``small``, cut from the next batch.

    Raises:
        TypeError: ``batches`` yields nothing (the notebook's set-up is broken).
    """
    def forever():
        while True:
            empty = True
            for batch in batches:
                empty = False
                yield batch
            if empty:
                raise TypeError("the check needs batches of (images, labels): pass the "
                                "notebook's train_batches and test_batches")
    stream = forever()
    yield from itertools.islice(stream, n)
    for size in small:
        images, labels = next(stream)
        yield images[:size], labels[:size]
