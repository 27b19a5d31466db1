"""What machine a benchmark ran on: processor, cores, bfloat16 support, GPU, versions."""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

import torch

#: CPU flags (Linux /proc/cpuinfo names) that give fast bfloat16 matrix products.
BF16_FLAGS = ("avx512_bf16", "amx_bf16", "amx_tile")


def _cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


def cpu_name() -> str:
    """The processor's model name (Linux /proc/cpuinfo, else platform.processor())."""
    found = re.search(r"^model name\s*:\s*(.+)$", _cpuinfo(), re.M)
    return found.group(1).strip() if found else (platform.processor() or platform.machine())


def bf16_cpu_flags() -> list[str]:
    """The bfloat16 flags of :data:`BF16_FLAGS` this CPU reports (empty if none or unknown)."""
    found = re.search(r"^flags\s*:\s*(.+)$", _cpuinfo(), re.M)
    flags = set(found.group(1).split()) if found else set()
    return [flag for flag in BF16_FLAGS if flag in flags]


def describe_host(device: torch.device) -> dict:
    """A JSON-able description of the machine and of the software that ran the benchmark."""
    info = {
        "cpu": cpu_name(),
        "machine": platform.machine(),
        "logical_cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "bf16_cpu_flags": bf16_cpu_flags(),
        "device": str(device),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def host_kind(device: torch.device) -> str:
    """A short file-name-safe label, e.g. ``cpu-x86_64-2cores`` or ``cuda-nvidia-h200``."""
    if device.type == "cuda":
        label = f"cuda-{torch.cuda.get_device_name(device)}"
    else:
        label = f"{device.type}-{platform.machine()}-{os.cpu_count()}cores"
    return re.sub(r"[^a-z0-9_.-]+", "-", label.lower()).strip("-")


def machine_busy_seconds() -> float | None:
    """CPU seconds all processes have used since boot (Linux ``/proc/stat``), or None.

    Minus this process's own CPU time (``os.times()``), the difference between two reads
    is what other programs took meanwhile: the benchmark reports it per stage, so a timing
    disturbed by another program can be told apart from a slow pipeline.
    """
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[1:9])
    # steal: time the hypervisor gave this machine's CPUs to other virtual machines.
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU seconds this process (all its threads) has used."""
    times = os.times()
    return times.user + times.system

