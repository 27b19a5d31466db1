"""nbgrader's kernel for a submission, confined like the grader process.

``nbgrader_config.py`` sets ``Execute.kernel_manager_class`` to :class:`ConfinedKernelManager`:
it starts the notebook's kernel through this file,

    python classroom/grading/kernel.py --home DIR [--uid N --gid N] -f CONNECTION_FILE

which, still as the teacher's process, imports the course's packages and sets the kernel up
(its sockets and shell), then switches for good to the grader user in ``DIR`` (a fresh,
empty folder) before the kernel runs the first cell (:mod:`.confinement`). The kernel's
scores are not used (the grader process decides them); it runs so that the feedback page
shows the notebook as the student wrote it, and it must not reach the gradebook either.
"""

from __future__ import annotations

import sys
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

REPO = Path(__file__).resolve().parents[2]
PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "IPython.core.interactiveshell",
           "IPython.display", "comm", "numpy", "torch", "torch.nn", "torch.optim",
           "lstm_helpers", "lstm_helpers.checks", "lstm_helpers.notebook",
           "matplotlib_inline.backend_inline")


def _launch(argv: list[str]) -> None:
    import argparse
    import importlib
    import shutil

    sys.path[0] = str(REPO)  # this file's folder → the course, for classroom.grading
    from classroom.grading.confinement import drop_privileges

    parser = argparse.ArgumentParser()
    parser.add_argument("--home", required=True)
    parser.add_argument("--uid", type=int)
    parser.add_argument("--gid", type=int)
    parser.add_argument("-f", dest="connection_file", required=True)
    args, rest = parser.parse_known_args(argv)
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    copy = str(Path(args.home) / "kernel.json")  # the grader user may not read the original
    shutil.copyfile(args.connection_file, copy)
    identity = None if args.uid is None else {"uid": args.uid, "gid": args.gid}
    if identity is not None:
        import os

        os.chown(copy, identity["uid"], identity["gid"])
    sys.path.remove(str(REPO))
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(["-f", copy, *rest])  # imports, sockets, the shell: before the switch
    drop_privileges(identity, args.home)
    app.start()


class ConfinedKernelManager(AsyncKernelManager):
    """Starts the kernel through this file, as the grader user (see the module)."""

    _home: str | None = None

    def format_kernel_cmd(self, extra_arguments=None):
        from classroom.grading.confinement import grader_identity, private_home

        super().format_kernel_cmd(extra_arguments)  # its checks; the command is ours
        identity = grader_identity()
        self._home = private_home(identity)
        ids = [] if identity is None else ["--uid", str(identity["uid"]),
                                           "--gid", str(identity["gid"])]
        return [sys.executable, str(Path(__file__).resolve()), "--home", self._home, *ids,
                "-f", self.connection_file]

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        from classroom.grading.confinement import remove_home

        await super()._async_cleanup_resources(restart)
        remove_home(self._home)

    cleanup_resources = _async_cleanup_resources


if __name__ == "__main__":
    _launch(sys.argv[1:])
