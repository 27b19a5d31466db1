"""Peak resident memory (RSS) of this process, per benchmark stage where the OS allows it.

On Linux the kernel keeps the peak as ``VmHWM`` in ``/proc/self/status`` and resets it to
the current RSS when ``5`` is written to ``/proc/self/clear_refs`` (Linux 4.0+, see
``man 5 proc``): each stage's own peak can be measured inside one process. Elsewhere only
the peak since the process started is known (``resource.getrusage``), and the benchmark
says so in its output.
"""

from __future__ import annotations

import re
import resource
import sys
from pathlib import Path

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


class PeakMemory:
    """Reset and read the process's peak resident memory, in MiB.

    ``scope`` is ``"stage"`` when :meth:`reset` works (the peak is the stage's own) and
    ``"process"`` when it cannot (the peak is the whole process's so far).
    """

    def __init__(self):
        self.scope = "stage" if self._try_reset() else "process"

    @staticmethod
    def _try_reset() -> bool:
        try:
            _CLEAR_REFS.write_text("5")
            return "VmHWM" in _STATUS.read_text()
        except OSError:
            return False

    def reset(self) -> None:
        """Start a new stage: from now on the peak is measured afresh (if the OS allows)."""
        if self.scope == "stage":
            self._try_reset()

    def peak_mib(self) -> float:
        """Peak resident memory in MiB since the last :meth:`reset` (or process start)."""
        if self.scope == "stage":
            found = re.search(r"VmHWM:\s+(\d+)\s+kB", _STATUS.read_text())
            if found:
                return int(found.group(1)) / 1024
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        # ru_maxrss is in KiB on Linux, in bytes on macOS.
        return peak / 2**20 if sys.platform == "darwin" else peak / 1024
