"""Mixed precision: the autocast block of training, and whether it works on this machine.

``train(..., autocast_dtype=torch.bfloat16)`` and the command line's ``--bf16`` run the
forward passes under ``torch.autocast`` (:func:`autocast_context`). Whether a machine can
do that is decided by doing it: :func:`autocast_problem` runs one forward and one backward
pass of a copy of the model, on one small batch, in that dtype. CPU flags cannot decide it:
oneDNN, which runs the LSTM layer on the CPU, has bfloat16 LSTM kernels only with AVX-512
(``avx512_bf16``, AMX), so on a laptop with AVX2 alone the first forward pass dies with
"could not create a primitive descriptor for the LSTM forward propagation primitive", while
a plain RNN trains; and the course's machine run with ``ONEDNN_MAX_CPU_ISA=AVX2`` fails in
the same way although its flags still list ``avx512_bf16``.

Tried: an x86-64 CPU with AVX-512 bf16, and the same limited to AVX2 by
``ONEDNN_MAX_CPU_ISA`` (Linux). Not tried: ARM CPUs (Apple silicon, Graviton), Apple's MPS,
and GPUs (none was available; NVIDIA's before Ampere have no native bfloat16). The probe
decides there too, whatever the answer.

:func:`require_autocast` turns a failed probe into :class:`UnsupportedPrecisionError`, the
course's one error for it; under DistributedDataParallel every process learns the verdict of
all of them, so they all stop together or all train.
"""

from __future__ import annotations

import contextlib
import copy

import torch
import torch.distributed as dist
from torch import nn

#: Lower-precision dtypes train() and evaluate() accept as ``autocast_dtype``.
AUTOCAST_DTYPES = (torch.bfloat16,)

#: Images in the probe's batch: the kernels chosen do not depend on the batch size.
PROBE_BATCH = 2

_verdicts: dict[tuple, str | None] = {}  # (device, dtype, model, sizes) -> problem or None


class UnsupportedPrecisionError(RuntimeError):
    """This model cannot run in ``dtype`` on ``device``: train in float32 instead.

    Attributes:
        dtype: the autocast dtype asked for (``torch.bfloat16``).
        device: the device the model is on.
        problem: what failed, in a few words (the library's message, or which processes
            failed under DDP).
        summary: what does not work where, and why, in one clause (for the command line,
            which gives its own advice).
    """

    def __init__(self, dtype: torch.dtype, device: torch.device, problem: str):
        self.dtype, self.device, self.problem = dtype, device, problem
        name = str(dtype).removeprefix("torch.")
        self.summary = (f"{name} mixed precision does not work for this model on "
                        f"{_where(device)}: one forward and backward pass in {name} failed "
                        f"({problem})")
        super().__init__(f"{self.summary}. Train in float32: leave out autocast_dtype (or "
                         f"pass autocast_dtype=None).")


def _where(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return "this CPU" if device.type == "cpu" else str(device)


def autocast_context(device: torch.device, autocast_dtype: torch.dtype | None):
    """``torch.autocast(device.type, dtype=autocast_dtype)``, or a no-op when it is None.

    Under autocast, matrix products (``nn.Linear``, and on the CPU the oneDNN LSTM layer)
    run in ``autocast_dtype`` while the parameters, their gradients and the loss stay
    float32: mixed precision. bfloat16 keeps float32's exponent range, so no loss scaling
    is needed (float16 would need a ``torch.amp.GradScaler`` and is not offered). It pays
    off on CPUs with bfloat16 instructions (``avx512_bf16`` or ``amx_bf16`` in the CPU
    flags) and on recent GPUs. See https://pytorch.org/docs/stable/amp.html.

    Raises:
        ValueError: ``autocast_dtype`` is neither None nor ``torch.bfloat16``.
    """
    if autocast_dtype is None:
        return contextlib.nullcontext()
    if autocast_dtype not in AUTOCAST_DTYPES:
        raise ValueError(f"autocast_dtype must be None (float32 throughout) or torch.bfloat16, "
                         f"got {autocast_dtype!r}")
    return torch.autocast(device.type, dtype=autocast_dtype)


def _bare(model: nn.Module) -> nn.Module:
    """The model inside a DistributedDataParallel wrapper (whose passes talk to the other
    processes), or the model itself."""
    if isinstance(model, nn.parallel.DistributedDataParallel):
        return model.module
    return model


def _one_pass(model: nn.Module, device: torch.device, dtype: torch.dtype | None,
              seq_dim: int, input_dim: int) -> None:
    images = torch.zeros(PROBE_BATCH, seq_dim, input_dim, device=device)
    with autocast_context(device, dtype):
        logits = model(images)
    logits.float().sum().backward()


def autocast_problem(model: nn.Module, autocast_dtype: torch.dtype, seq_dim: int = 28,
                     input_dim: int = 28) -> str | None:
    """Why ``model`` cannot train under autocast in ``autocast_dtype`` here, or None if it can.

    Runs one forward and backward pass of a copy of the model (on its device, in training
    mode) on a batch of zeros of shape (2, seq_dim, input_dim). The model itself, its
    gradients and the random number generators are left as they were. A pass that fails in
    float32 too is no precision problem: its error is raised as it is. The verdict is kept
    for the process, per device, dtype, model architecture and input size, so later calls
    cost nothing.

    Returns:
        None, or the first sentence of the library's error (e.g. oneDNN's "could not create
        a primitive descriptor for the LSTM forward propagation primitive").

    Raises:
        ValueError: ``autocast_dtype`` is not supported (see :func:`autocast_context`).
    """
    model = _bare(model)
    device = next(model.parameters()).device
    autocast_context(device, autocast_dtype)  # refuse a bad dtype first
    key = (str(device), autocast_dtype, repr(model), seq_dim, input_dim)
    if key not in _verdicts:
        _verdicts[key] = _probe(model, device, autocast_dtype, seq_dim, input_dim)
    return _verdicts[key]


def _copy(model: nn.Module) -> nn.Module:
    """A copy in training mode without the hooks of the original (a forward hook that
    records activations, say), which the probe must not call."""
    copied = copy.deepcopy(model).train()
    for module in copied.modules():
        for hooks in (module._forward_pre_hooks, module._forward_hooks,
                      module._backward_pre_hooks, module._backward_hooks):
            hooks.clear()
    return copied


def _probe(model: nn.Module, device: torch.device, dtype: torch.dtype, seq_dim: int,
           input_dim: int) -> str | None:
    copied = _copy(model)
    generators = [device] if device.type == "cuda" else []
    # Grad mode on even inside torch.no_grad() or inference_mode(): the probe needs backward.
    with torch.random.fork_rng(devices=generators), torch.inference_mode(False), \
            torch.enable_grad():
        try:
            _one_pass(copied, device, dtype, seq_dim, input_dim)
            return None
        except RuntimeError as error:
            problem = _first_sentence(error)
        _one_pass(_copy(model), device, None, seq_dim, input_dim)
    return problem


def _first_sentence(error: Exception) -> str:
    """oneDNN's "could not create a primitive descriptor for ...", without its advice."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text.split(". ")[0].removesuffix(".")


def require_autocast(model: nn.Module, autocast_dtype: torch.dtype | None, seq_dim: int = 28,
                     input_dim: int = 28, all_processes: bool = False) -> None:
    """Raise :class:`UnsupportedPrecisionError` unless ``model`` trains in ``autocast_dtype``
    here (see :func:`autocast_problem`); nothing to check for None (float32).

    Args:
        all_processes: the model trains in a process group (DDP): every process must call
            this, and each learns whether any of them failed (one all-reduce), so all of
            them raise or none does.

    Raises:
        UnsupportedPrecisionError: the probe failed here, or, with ``all_processes``, on
            another process (the message names its rank).
        ValueError: ``autocast_dtype`` is not supported.
    """
    if autocast_dtype is None:
        return
    problem = autocast_problem(model, autocast_dtype, seq_dim, input_dim)
    device = next(_bare(model).parameters()).device
    if all_processes:
        failed = torch.zeros(dist.get_world_size(), device=device)
        failed[dist.get_rank()] = float(problem is not None)
        dist.all_reduce(failed)
        ranks = [str(rank) for rank, flag in enumerate(failed.tolist()) if flag]
        if ranks and problem is None:
            problem = f"it failed on the process of rank {', '.join(ranks)}"
    if problem is not None:
        raise UnsupportedPrecisionError(autocast_dtype, device, problem)
