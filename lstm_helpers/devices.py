"""Choosing where tensors live: CUDA, Apple's MPS, or the CPU (the tutorial's GPU section)."""

from __future__ import annotations

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def _mps_available() -> bool:
    return hasattr(torch.backends, "mps") and torch.backends.mps.is_available()


def pick_device(preference: str | torch.device = "auto") -> torch.device:
    """The ``torch.device`` to train on.

    Args:
        preference: ``"auto"`` picks ``cuda`` if a CUDA GPU is usable, else ``mps`` (Apple
            silicon), else ``cpu``; ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"mps"`` ask for
            that device.

    Raises:
        ValueError: the name is not a device type, or the device asked for is not there
            (``cuda`` on a machine without a usable CUDA GPU, say); the message says what
            this machine has.
    """
    if str(preference) == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    device = parse_device(preference)
    problem = unavailable(device)
    if problem is not None:
        raise ValueError(f"{problem}; use 'auto' or 'cpu'")
    return device


def parse_device(name: str | torch.device) -> torch.device:
    """``torch.device(name)``, with a message listing the choices for an unknown name.

    Raises:
        ValueError: ``name`` is not a device PyTorch knows.
    """
    try:
        return torch.device(name)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"unknown device {name!r}: use one of "
                         f"{', '.join(DEVICE_CHOICES)} (or cuda:N)") from error


def unavailable(device: torch.device) -> str | None:
    """Why ``device`` cannot be used on this machine, in words, or None when it can.

    E.g. ``"device 'cuda' is not available on this machine (available: cpu)"`` or
    ``"device 'cuda:3' does not exist: this machine has 1 CUDA device(s)"``.
    """
    available = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": _mps_available()}
    if not available.get(device.type, False):
        have = [name for name, ok in available.items() if ok]
        return (f"device {str(device)!r} is not available on this machine (available: "
                f"{', '.join(have)})")
    if device.type == "cuda" and device.index is not None and \
            device.index >= torch.cuda.device_count():
        return (f"device {str(device)!r} does not exist: this machine has "
                f"{torch.cuda.device_count()} CUDA device(s)")
    return None


def describe_device(device: torch.device) -> str:
    """A one-line description: the GPU's name for CUDA, a note for MPS or the CPU."""
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "mps (Apple GPU)"
    if torch.cuda.is_available() or _mps_available():
        return "cpu"
    return "cpu (no CUDA or MPS GPU found: everything runs on the CPU)"


def fits_on_device(nbytes: int, device: torch.device, share: float = 0.5) -> bool:
    """Whether ``nbytes`` (bytes) fit in ``share`` of the device's free memory.

    The CPU always answers True (the tensors are there already); MPS, which reports no free
    memory, True below 1 GiB.
    """
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return nbytes <= share * free
    if device.type == "mps":
        return nbytes < 2**30
    return True
