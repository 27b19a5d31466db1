"""A real JupyterLab server for the tests, started exactly as ``make lab`` starts it.

``make lab`` runs ``scripts/lab.py``; the tests take its command line and environment from
the same functions (``lab_command``, ``lab_environment``) and add only what a test needs: a
free port (``--port=0``), a token, no browser, and Jupyter folders of their own (config,
data, runtime, IPython), so the user's settings and kernels stay out of the test. The server
runs over a copy of the course, never over the repository's files.

``KernelChannels`` speaks the Jupyter messaging protocol over the kernel websocket, as
JupyterLab does, and builds a cell's outputs as a frontend does (streams merged, displays
updated in place through their display id).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests
import websocket

REPO = Path(__file__).resolve().parents[1]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: A short training with the progress bar on synthetic data: a run saved "with the bar".
TRAINING_WITH_BAR = """\
import torch
from torch import nn
import lstm_helpers as lh

lh.set_seed(0)
images, labels = torch.rand(200, 28, 28), torch.randint(0, 10, (200,))
batches = [(images[i:i + 20], labels[i:i + 20]) for i in range(0, 200, 20)]
model = lh.LSTMModel(input_dim=28, hidden_dim=16, layer_dim=1, output_dim=10)
history = lh.train(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
                   batches, batches, n_iters=30, eval_every=10)"""
FINAL_BAR = re.compile(r"^training: 100%\|█+\| 30/30 \[[^\]]+\]$")
SERVER_START_S = 120  # a cold start on a busy 2-core machine takes a few seconds, rarely more
CELL_TIMEOUT_S = 300


def load_script(name: str):
    """A module of scripts/ (not a package), imported from its file."""
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lab = load_script("lab")


def isolated_environment(home: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with Jupyter's and IPython's folders
    under ``home``."""
    env = {**(os.environ if base is None else base),
           "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_DATA_DIR": str(home / "data"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "IPYTHONDIR": str(home / "ipython")}
    env.pop("JUPYTER_PATH", None)
    return env


class JupyterServer:
    """``jupyter lab`` as ``make lab`` runs it, over ``root``, and a REST client."""

    def __init__(self, root: Path, home: Path, options: list[str] | None = None, *,
                 command: list[str] | None = None, env: dict[str, str] | None = None):
        """``command`` and ``env`` replace ``make lab``'s (another environment's JupyterLab,
        as Binder starts it); the test's own options and Jupyter folders still apply."""
        self.root, self.home, self.token = root, home, secrets.token_hex(16)
        home.mkdir(parents=True, exist_ok=True)
        env = lab.lab_environment(isolated_environment(home)) if env is None \
            else isolated_environment(home, env)
        self.log_path = home / "server.log"
        self._log = open(self.log_path, "wb")
        runtime = Path(env["JUPYTER_RUNTIME_DIR"])
        command = [*(command or lab.lab_command(root)),
                   "--no-browser", "--allow-root", "--port=0", "--ServerApp.port_retries=0",
                   f"--IdentityProvider.token={self.token}", *(options or [])]
        self.process = subprocess.Popen(command, cwd=root, env=env, stdout=self._log,
                                        stderr=subprocess.STDOUT)
        # The server writes jpserver-<pid>.json (with the port it got) once it listens.
        deadline = time.monotonic() + SERVER_START_S
        while not (found := list(runtime.glob("jpserver-*.json"))):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"the Jupyter server did not start:\n{self.log_tail()}")
            time.sleep(0.2)
        time.sleep(0.1)  # the file is written in one go, but let the writer close it
        self.url = json.loads(found[0].read_text())["url"].rstrip("/")
        self.ws_url = "ws" + self.url[len("http"):]
        self.headers = {"Authorization": f"token {self.token}"}
        self.env = env

    def log_tail(self, lines: int = 40) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def api(self, method: str, path: str, expect: int | tuple[int, ...] = 200,
            **kwargs) -> dict:
        response = requests.request(method, f"{self.url}/api/{path}", headers=self.headers,
                                    timeout=120, **kwargs)
        expected = expect if isinstance(expect, tuple) else (expect,)
        assert response.status_code in expected, (
            f"{method} /api/{path} answered {response.status_code}: {response.text[:2000]}\n"
            f"server log:\n{self.log_tail()}")
        return response.json() if response.content else {}

    def get_notebook(self, path: str) -> dict:
        """The notebook at ``path`` as JupyterLab opens it (a .py opens as a notebook too)."""
        return self.api("GET", f"contents/{path}", params={"content": 1, "type": "notebook"})

    def save_notebook(self, path: str, content: dict) -> dict:
        """Save ``content`` at ``path`` as JupyterLab saves a notebook (201: a new file)."""
        return self.api("PUT", f"contents/{path}", expect=(200, 201),
                        json={"type": "notebook", "format": "json", "content": content})

    def start_session(self, path: str) -> dict:
        """A kernel for the notebook at ``path``, started the way JupyterLab starts one."""
        return self.api("POST", "sessions", expect=201, json={
            "path": path, "type": "notebook", "name": Path(path).name,
            "kernel": {"name": "python3"}})

    def stop(self) -> None:
        if self.process.poll() is None:
            try:  # a clean shutdown also shuts down every kernel the server started
                requests.post(f"{self.url}/api/shutdown", headers=self.headers, timeout=10)
                self.process.wait(timeout=30)
            except (AttributeError, requests.RequestException, subprocess.TimeoutExpired):
                self.process.terminate()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        self._log.close()


class KernelChannels:
    """The kernel websocket of one session, speaking the Jupyter messaging protocol (JSON)."""

    def __init__(self, server: JupyterServer, kernel_id: str):
        self.session = uuid.uuid4().hex
        self.ws = websocket.create_connection(
            f"{server.ws_url}/api/kernels/{kernel_id}/channels?session_id={self.session}",
            header=[f"Authorization: token {server.token}"], timeout=CELL_TIMEOUT_S)

    def request(self, msg_type: str, content: dict, timeout: float = CELL_TIMEOUT_S) -> dict:
        """Send one shell request; gather its iopub messages until the reply and idle status.

        Returns ``stdout``, ``stderr``, ``errors`` (error contents), ``reply`` and
        ``outputs``: the nbformat outputs a frontend would show and save.
        """
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": msg_type, "session": self.session,
                       "username": "test", "version": "5.3",
                       "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
            "parent_header": {}, "metadata": {}, "content": content, "buffers": [],
            "channel": "shell"}))
        result = {"stdout": "", "stderr": "", "errors": [], "reply": None, "outputs": []}
        displays: dict[str, list[int]] = {}  # display id -> indices of its outputs
        idle = False
        deadline = time.monotonic() + timeout
        while result["reply"] is None or not idle:
            self.ws.settimeout(max(1.0, deadline - time.monotonic()))
            frame = self.ws.recv()
            if isinstance(frame, bytes):  # binary frames carry buffers we do not ask for
                continue
            message = json.loads(frame)
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, body = message["header"]["msg_type"], message["content"]
            if kind == "status":
                idle = body["execution_state"] == "idle"
            elif message.get("channel") == "shell":
                result["reply"] = body
            else:
                _add_output(result, displays, kind, body)
        return result

    def execute(self, code: str) -> dict:
        return self.request("execute_request", {
            "code": code, "silent": False, "store_history": True, "user_expressions": {},
            "allow_stdin": False, "stop_on_error": True})

    def close(self) -> None:
        self.ws.close()


def _add_output(result: dict, displays: dict, kind: str, body: dict) -> None:
    """Apply one iopub message to the outputs, as JupyterLab's output area does."""
    outputs = result["outputs"]
    if kind == "stream":
        result[body["name"]] += body["text"]
        if outputs and outputs[-1]["output_type"] == "stream" \
                and outputs[-1]["name"] == body["name"]:
            outputs[-1]["text"] += body["text"]
        else:
            outputs.append({"output_type": "stream", "name": body["name"], "text": body["text"]})
    elif kind in ("display_data", "execute_result"):
        output = {"output_type": kind, "data": body["data"], "metadata": body["metadata"]}
        if kind == "execute_result":
            output["execution_count"] = body["execution_count"]
        display_id = body.get("transient", {}).get("display_id")
        if display_id:
            displays.setdefault(display_id, []).append(len(outputs))
        outputs.append(output)
    elif kind == "update_display_data":
        for index in displays.get(body.get("transient", {}).get("display_id"), []):
            outputs[index].update(data=body["data"], metadata=body["metadata"])
    elif kind == "error":
        result["errors"].append(body)
        outputs.append({"output_type": "error", **{k: body[k] for k in
                                                   ("ename", "evalue", "traceback")}})
