"""The classroom: the nbgitpuller link, the hub's configuration, and a real JupyterHub.

The hub test starts JupyterHub on 127.0.0.1 (free ports for the hub, the proxy's API and the
proxy) with the course's own ``classroom/jupyterhub_config.py`` and configurable-http-proxy
from npm (``make classroom-proxy``), two local users made for the test (``useradd``; so it
runs as root, as CI does, and is skipped otherwise) and a DummyAuthenticator used here only.
Both users' servers start; nbgitpuller, asked through the link ``classroom.gitpuller_link``
prints, pulls the course from a local git repository into each home; the first student
exercise opens, its cells run in a kernel the server started (REST and websocket, through
the proxy), and its first check prints "Not done yet"; one user cannot read the other's
files. Everything it starts it stops, also when it fails: servers, hub, proxy, users.

A second hub, its idle culler's documented settings shortened (a 40-second timeout), stops an
idle server within twice the timeout and spares, for three times the timeout, a server whose
kernel trains with the course's progress bar while no browser is connected. The Kubernetes
values are validated, merged over the chart's defaults, against Zero to JupyterHub 4.4.0's
schema (../shared/z2jh-4.4.0; the test fails without it), and the image's requirements are
checked against the chart's hub and resolved by ``pip install --dry-run``.

The students' servers run the course's Python as the students. When that Python lives
where other users cannot reach (pyenv's in root's home, here and in CI), the test lets them
through for its duration: search permission (``o+x``, no listing) on the directories in the
way, restored afterwards. A class sets up a Python every user can read (docs/teachers.md).
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import websocket
import yaml
from traitlets.config.loader import PyFileConfigLoader
from unprivileged import blocked_directories

import lstm_helpers as lh
from classroom.gitpuller_link import gitpuller_link, target_folder
from classroom.gitpuller_link import main as link_main

REPO = Path(__file__).resolve().parents[1]
CLASSROOM = REPO / "classroom"
PROXY = CLASSROOM / "node_modules" / ".bin" / "configurable-http-proxy"
EXERCISE = "notebooks/exercises/student/ex1_parameter_count.ipynb"
START_S = 240  # a cold JupyterLab + torch start on a busy 2-core machine
CELL_S = 300


# ---------------------------------------------------------------------------------------------
# The nbgitpuller link.

def test_the_link_follows_nbgitpullers_format_and_escapes_every_value():
    link = gitpuller_link("https://hub.example.org/course/",
                          "https://git.example.org/a b/lstm-course.git", "spring&2027",
                          "notebooks/exercises/student/ex1_parameter_count.ipynb")
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https", "hub.example.org", "/course/hub/user-redirect/git-pull")
    assert " " not in link and link.count("&") == 3  # the & of the branch is escaped
    assert parse_qs(parts.query) == {
        "repo": ["https://git.example.org/a b/lstm-course.git"], "branch": ["spring&2027"],
        "targetpath": ["lstm-course"],
        "urlpath": ["lab/tree/lstm-course/notebooks/exercises/student/ex1_parameter_count.ipynb"]}


@pytest.mark.parametrize("repo, folder", [
    ("https://github.com/org/lstm-course", "lstm-course"),
    ("https://github.com/org/lstm-course.git/", "lstm-course"),
    ("git@github.com:org/lstm-course.git", "lstm-course"),
    ("/srv/lstm-course/course.git", "course"),
])
def test_the_target_folder_is_the_repository_name(repo, folder):
    assert target_folder(repo) == folder


@pytest.mark.parametrize("arguments, message", [
    (["--hub", "hub.example.org", "--repo", "r"], "http(s) address"),
    (["--hub", "https://h", "--repo", " "], "--repo is empty"),
    (["--hub", "https://h", "--repo", "r", "--path", "../secret"], "inside the repository"),
    (["--hub", "https://h", "--repo", "r", "--branch", ""], "--branch is empty"),
])
def test_the_link_helper_refuses_bad_input_with_one_line(arguments, message, capsys):
    assert link_main(arguments) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and message in error and error.count("\n") == 1


def test_the_link_helper_prints_the_link(capsys):
    assert link_main(["--hub", "https://hub.example.org", "--repo",
                      "https://github.com/org/lstm-course", "--app", "notebook"]) == 0
    printed = capsys.readouterr().out.strip()
    assert parse_qs(urlsplit(printed).query)["urlpath"] == [
        "tree/lstm-course/notebooks/exercises/student"]


# ---------------------------------------------------------------------------------------------
# The configurations, read without running them.

def test_the_one_machine_config_spawns_local_users_in_the_course_environment(monkeypatch):
    monkeypatch.setenv("LSTM_COURSE_DATA", "/srv/mnist")
    config = PyFileConfigLoader("jupyterhub_config.py", path=str(CLASSROOM)).load_config()
    assert config.JupyterHub.spawner_class == "localprocess"
    assert config.JupyterHub.authenticator_class == "pam"
    assert Path(config.Spawner.cmd[0]).name == "jupyterhub-singleuser"
    assert Path(config.Spawner.cmd[0]).parent == Path(sys.executable).parent
    environment = config.Spawner.environment
    assert environment["LSTM_HELPERS_DATA"] == "/srv/mnist"
    assert "TQDM_DISABLE" not in environment  # progress bars on for students
    assert config.ConfigurableHTTPProxy.command == [str(PROXY)]
    assert callable(config.Spawner.pre_spawn_hook)
    culler = next(s for s in config.JupyterHub.services if s["name"] == "idle-culler")
    assert culler["command"][1:] == ["-m", "jupyterhub_idle_culler", "--timeout=3600",
                                     "--cull-every=300"]
    assert environment["JUPYTERHUB_ACTIVITY_INTERVAL"] == "300"
    role = next(r for r in config.JupyterHub.load_roles if r["name"] == "idle-culler")
    assert "delete:servers" in role["scopes"] and role["services"] == ["idle-culler"]


def test_the_kubernetes_values_do_the_same():
    values = yaml.safe_load((CLASSROOM / "z2jh-values.yaml").read_text())
    single = values["singleuser"]
    assert single["image"]["name"] and single["defaultUrl"] == "/lab"
    assert single["extraEnv"]["LSTM_HELPERS_DATA"] == "/srv/data"
    mounts = {m["name"]: m for m in single["storage"]["extraVolumeMounts"]}
    volumes = {v["name"]: v for v in single["storage"]["extraVolumes"]}
    assert mounts["mnist"]["mountPath"] == "/srv/data" and mounts["mnist"]["readOnly"]
    assert volumes["mnist"]["persistentVolumeClaim"]["readOnly"]
    assert single["memory"]["limit"] and single["cpu"]["limit"]
    assert "TQDM_DISABLE" not in single["extraEnv"]


# The chart's own files (Zero to JupyterHub 4.4.0), beside the clone: ../shared/z2jh-4.4.0.
CHART = REPO.parent / "shared" / "z2jh-4.4.0"


def _chart_file(name: str) -> Path:
    path = CHART / name
    assert path.is_file(), (f"{path} is missing: the Kubernetes values are checked against "
                            f"Zero to JupyterHub 4.4.0's own files (see {CHART}/README.md)")
    return path


def _merged(defaults: dict, values: dict) -> dict:
    """Helm's merge of a values file over the chart's defaults: maps merge, the rest replaces."""
    merged = dict(defaults)
    for key, value in values.items():
        merged[key] = (_merged(defaults[key], value) if isinstance(value, dict)
                       and isinstance(defaults.get(key), dict) else value)
    return merged


def _schema_errors(values: dict) -> list[str]:
    import jsonschema

    schema = yaml.safe_load(_chart_file("values.schema.yaml").read_text())
    defaults = yaml.safe_load(_chart_file("values.yaml").read_text())
    validator = jsonschema.Draft7Validator(schema)
    return [f"{'.'.join(map(str, error.absolute_path))}: {error.message}"
            for error in validator.iter_errors(_merged(defaults, values))]


def test_the_kubernetes_values_validate_against_the_charts_schema():
    values = yaml.safe_load((CLASSROOM / "z2jh-values.yaml").read_text())
    assert _schema_errors(values) == []
    assert "--version 4.4.0" in (CLASSROOM / "z2jh-values.yaml").read_text()


def test_the_schema_catches_a_nested_misspelling():
    values = yaml.safe_load((CLASSROOM / "z2jh-values.yaml").read_text())
    values["singleuser"]["storage"]["capcity"] = values["singleuser"]["storage"].pop("capacity")
    errors = _schema_errors(values)
    assert any("capcity" in error and error.startswith("singleuser.storage") for error in errors)
    values = yaml.safe_load((CLASSROOM / "z2jh-values.yaml").read_text())
    values["hub"]["config"]["JupyterHubb"] = {}  # hub.config is open: the docs say so
    assert _schema_errors(values) == []


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"{path.name}: {line!r} is not pinned with =="
            pins[name.strip().lower()] = version.strip()
    return pins


def test_the_image_runs_the_user_side_of_the_charts_jupyterhub():
    image = _pins(CLASSROOM / "image-requirements.txt")
    hub = {name: version for name, version in _pins_loose(_chart_file(
        "hub-image-requirements.txt")).items()}
    app_version = yaml.safe_load(_chart_file("Chart.yaml").read_text())["appVersion"]
    assert image["jupyterhub"].split(".")[0] == hub["jupyterhub"].split(".")[0] == \
        str(app_version).split(".")[0] == "5"
    course = _pins(REPO / "requirements.txt")
    assert course["jupyterhub-idle-culler"] == hub["jupyterhub-idle-culler"]
    for name, version in image.items():  # the course's tested versions, jupyterhub aside
        if name != "jupyterhub":
            assert course.get(name) == version, name
    dockerfile = [line.strip() for line in (CLASSROOM / "Dockerfile").read_text().splitlines()
                  if line.strip() and not line.startswith("#")]
    base = next(line for line in dockerfile if line.startswith("FROM ")).split()[1]
    assert ":" in base and not base.endswith(":latest")
    assert any("classroom/image-requirements.txt" in line for line in dockerfile)
    assert any("pip install" in line and "-r /tmp/image-requirements.txt" in line
               for line in dockerfile)
    assert any("--no-deps /opt/lstm-course" in line for line in dockerfile)
    assert "USER 1000" in dockerfile and 'CMD ["jupyterhub-singleuser"]' in dockerfile


def _pins_loose(path: Path) -> dict[str, str]:
    """``name==version`` lines of a pip-compile output (comments and hashes skipped)."""
    pins = {}
    for line in path.read_text().splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, _, version = line.split("#")[0].strip().partition("==")
            pins[name.lower()] = version.split()[0].rstrip("\\").strip()
    return pins


@pytest.mark.slow
def test_the_image_requirements_resolve(tmp_path):
    report = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
         "--report", str(report), "-r", str(CLASSROOM / "image-requirements.txt")],
        capture_output=True, text=True, check=False, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    resolved = {item["metadata"]["name"].lower(): item["metadata"]["version"]
                for item in json.loads(report.read_text())["install"]}
    assert resolved["jupyterhub"] == "5.5.0" and resolved["torch"] == "2.14.1"


def test_the_proxy_is_pinned_in_the_lock_file():
    lock = json.loads((CLASSROOM / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/configurable-http-proxy"]["version"] == "5.3.0"
    assert json.loads((CLASSROOM / "package.json").read_text())["dependencies"] == {
        "configurable-http-proxy": "5.3.0"}


# ---------------------------------------------------------------------------------------------
# A real hub.

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(*command: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(list(command), capture_output=True, text=True, check=True, **kwargs)


class Kernel:
    """A kernel's websocket (through the hub's proxy), speaking the Jupyter protocol."""

    def __init__(self, url: str, token: str):
        self.session = uuid.uuid4().hex
        self.ws = websocket.create_connection(f"{url}?session_id={self.session}",
                                              header=[f"Authorization: token {token}"],
                                              timeout=CELL_S)

    def execute(self, code: str) -> dict:
        return self._wait(self.send(code))

    def send(self, code: str) -> str:
        """Ask the kernel to run ``code``; return at once (the message id)."""
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "session": self.session,
                       "username": "test", "version": "5.3",
                       "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}))
        return msg_id

    def _wait(self, msg_id: str) -> dict:
        result = {"stdout": "", "stderr": "", "errors": [], "reply": None}
        idle = False
        while result["reply"] is None or not idle:
            frame = self.ws.recv()
            if isinstance(frame, bytes):
                continue
            message = json.loads(frame)
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, body = message["header"]["msg_type"], message["content"]
            if kind == "stream":
                result[body["name"]] += body["text"]
            elif kind == "error":
                result["errors"].append(f"{body['ename']}: {body['evalue']}")
            elif kind == "status":
                idle = body["execution_state"] == "idle"
            elif message.get("channel") == "shell":
                result["reply"] = body
        return result

    def close(self) -> None:
        self.ws.close()


class Hub:
    """Two test users, a bare git repository of the course, and JupyterHub serving them."""

    def __init__(self, base: Path, environment: dict[str, str] | None = None):
        self.base, self.token = base, secrets.token_hex(24)
        self.overrides = dict(environment or {})  # documented settings of the hub's config
        tag = secrets.token_hex(3)
        self.users = [f"lstmhub{tag}a", f"lstmhub{tag}b"]
        self.created_users: list[str] = []
        self.modes: dict[Path, int] = {}
        self.process: subprocess.Popen | None = None
        self.log_path = base / "hub.log"
        self.ports = {name: _free_port() for name in ("proxy", "hub", "api")}
        self.url = f"http://127.0.0.1:{self.ports['proxy']}"
        self.data = lh.resolve_root().resolve()

    # -- set-up -------------------------------------------------------------------------
    def make_users(self) -> None:
        homes = self.base / "homes"
        homes.mkdir(mode=0o755)
        for name in self.users:
            _run("useradd", "--create-home", "--home-dir", str(homes / name), "--shell",
                 "/bin/bash", "--user-group", name)
            self.created_users.append(name)

    def let_users_reach(self, paths: list[Path]) -> None:
        for folder in blocked_directories(paths):
            self.modes[folder] = stat.S_IMODE(folder.stat().st_mode)
            folder.chmod(self.modes[folder] | stat.S_IXOTH)

    def course_repository(self) -> Path:
        """A bare repository holding the course as it is in this working tree."""
        snapshot, bare = self.base / "snapshot", self.base / "lstm-course.git"
        tracked = _run("git", "ls-files", "-z", cwd=REPO).stdout.split("\0")
        for name in filter(None, tracked):
            if (REPO / name).is_file():
                (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO / name, snapshot / name)
        git = ["git", "-c", "user.name=Teacher", "-c", "user.email=teacher@example.org"]
        _run(*git, "init", "-q", "-b", "main", str(snapshot))
        _run(*git, "-C", str(snapshot), "add", "-A")
        _run(*git, "-C", str(snapshot), "commit", "-q", "-m", "The course")
        _run("git", "clone", "-q", "--bare", str(snapshot), str(bare))
        # The students' git refuses a repository someone else owns unless the system's git
        # configuration names it: a teacher runs `git config --system --add safe.directory`.
        (self.base / "gitconfig").write_text(f"[safe]\n\tdirectory = {bare}\n")
        return bare

    def start(self) -> None:
        config = self.base / "test_jupyterhub_config.py"
        state = self.base / "state"
        state.mkdir()
        config.write_text(f"""
c = get_config()
load_subconfig({str(CLASSROOM / 'jupyterhub_config.py')!r})
c.JupyterHub.bind_url = "http://127.0.0.1:{self.ports['proxy']}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {self.ports['hub']}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{self.ports['api']}"
c.JupyterHub.db_url = "sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = {str(state / 'cookie_secret')!r}
c.ConfigurableHTTPProxy.pid_file = {str(state / 'proxy.pid')!r}
c.Spawner.ip = "127.0.0.1"
c.JupyterHub.authenticator_class = "dummy"  # this test only; a class logs in with PAM
c.Authenticator.allowed_users = {set(self.users)!r}
c.LocalAuthenticator.allowed_groups = set()
c.JupyterHub.services.append({{"name": "lstm-hub-test", "api_token": {self.token!r}}})
c.JupyterHub.load_roles.append({{"name": "lstm-hub-test", "services": ["lstm-hub-test"],
    "scopes": ["admin:users", "admin:servers", "access:servers", "read:users", "tokens"]}})
c.Spawner.environment.update({{
    "LSTM_HELPERS_DATA": {str(self.data)!r},
    "PYTHONPATH": {str(REPO)!r},  # this checkout's lstm_helpers (the venv may point elsewhere)
    "GIT_CONFIG_SYSTEM": {str(self.base / 'gitconfig')!r},
}})
""")
        environment = {key: value for key, value in os.environ.items()
                       if not key.startswith(("JUPYTER", "JPY_", "LSTM_CULL", "LSTM_ACTIVITY"))}
        environment.update(self.overrides)
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("jupyterhub")), "-f", str(config)],
            cwd=state, env=environment, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.monotonic() + START_S
        while True:
            try:
                if requests.get(f"{self.url}/hub/api/", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterHub did not start:\n{self.log_tail()}")
            time.sleep(0.5)

    # -- use ----------------------------------------------------------------------------
    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def api(self, method: str, path: str, expect: tuple[int, ...] = (200,), **kwargs):
        response = requests.request(method, f"{self.url}{path}", timeout=120,
                                    headers={"Authorization": f"token {self.token}"}, **kwargs)
        assert response.status_code in expect, (
            f"{method} {path}: {response.status_code} {response.text[:1000]}\n{self.log_tail()}")
        return response

    def start_server(self, name: str) -> None:
        self.api("POST", f"/hub/api/users/{name}/server", expect=(201, 202))

    def wait_ready(self, name: str) -> None:
        deadline = time.monotonic() + START_S
        while time.monotonic() < deadline:
            server = self.api("GET", f"/hub/api/users/{name}").json()["servers"].get("", {})
            if server.get("ready"):
                return
            time.sleep(1)
        pytest.fail(f"{name}'s server did not start in {START_S} s:\n{self.log_tail()}")

    def home(self, name: str) -> Path:
        return Path(pwd.getpwnam(name).pw_dir)

    # -- tear-down ----------------------------------------------------------------------
    def stop(self) -> None:
        try:
            if self.process is not None and self.process.poll() is None:
                for name in self.users:  # stop the servers first, through the hub
                    try:
                        self.api("DELETE", f"/hub/api/users/{name}/server",
                                 expect=(202, 204, 400, 404))
                    except (AssertionError, requests.RequestException):
                        pass
                # SIGTERM: the hub stops the servers it spawned and the proxy it started.
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait()
        finally:
            self._kill_left_over()
            for name in self.created_users:
                subprocess.run(["userdel", "--remove", name], capture_output=True, check=False)
            for folder, mode in self.modes.items():
                folder.chmod(mode)
            if hasattr(self, "_log"):
                self._log.close()

    def _kill_left_over(self) -> None:
        """Processes still running as the test users (started by this test): ended."""
        uids = set()
        for name in self.created_users:
            try:
                uids.add(pwd.getpwnam(name).pw_uid)
            except KeyError:
                pass
        proxy_pid = self.base / "state" / "proxy.pid"
        pids = [int(proxy_pid.read_text())] if proxy_pid.exists() else []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if entry.stat().st_uid in uids:
                        pids.append(int(entry.name))
                except OSError:
                    pass
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


@contextmanager
def _serving(environment: dict[str, str] | None = None):
    """A hub from the course's configuration (``environment``: documented settings), two
    test users whose servers run, the course in a local repository; all stopped after."""
    if os.geteuid() != 0:
        pytest.skip("the hub test creates two local users and spawns servers as them: run it "
                    "as root (CI does)")
    if shutil.which("useradd") is None or shutil.which("git") is None:
        pytest.skip("the hub test needs useradd and git")
    if not PROXY.exists():
        pytest.skip("configurable-http-proxy is not installed: run `make classroom-proxy` "
                    "(npm ci in classroom/); .ci/run does")
    base = Path(tempfile.mkdtemp(prefix="lstm-hub-", dir="/tmp"))
    base.chmod(0o755)
    running = Hub(base, environment)
    try:
        running.make_users()
        running.let_users_reach([Path(sys.executable), Path(sys.prefix), REPO, running.data])
        running.repository = running.course_repository()
        running.start()
        for name in running.users:  # both servers start at once, as in a class
            running.start_server(name)
        for name in running.users:
            running.wait_ready(name)
        yield running
    finally:
        running.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def hub():
    with _serving() as running:
        yield running


def _user_url(hub: Hub, name: str) -> str:
    return f"{hub.url}/user/{name}/"


def _pull(hub: Hub, name: str) -> list[dict]:
    """Follow the printed nbgitpuller link the way its page does: its /api event stream."""
    link = gitpuller_link(hub.url, str(hub.repository), "main", EXERCISE)
    query = {key: values[0] for key, values in parse_qs(urlsplit(link).query).items()}
    page = hub.api("GET", f"/user/{name}/git-pull", params=query)
    assert "nbgitpuller" in page.text.lower()
    events = []
    with requests.get(f"{_user_url(hub, name)}git-pull/api", stream=True, timeout=CELL_S,
                      params={key: query[key] for key in ("repo", "branch", "targetpath")},
                      headers={"Authorization": f"token {hub.token}"}) as response:
        assert response.status_code == 200, response.text[:1000]
        for line in response.iter_lines(decode_unicode=True):
            if line and line.startswith("data:"):
                events.append(json.loads(line[len("data:"):]))
                if events[-1].get("phase") in ("finished", "error"):
                    break
    return events


@pytest.mark.slow
def test_both_servers_start_and_nbgitpuller_pulls_the_course_into_each_home(hub):
    for name in hub.users:
        events = _pull(hub, name)
        assert events and events[-1]["phase"] == "finished", events
        course = hub.home(name) / target_folder(str(hub.repository))
        notebook = course / EXERCISE
        assert notebook.is_file()
        assert notebook.stat().st_uid == pwd.getpwnam(name).pw_uid  # the student's own copy
        assert stat.S_IMODE(hub.home(name).stat().st_mode) == 0o700  # private home
        opened = hub.api("GET", f"/user/{name}/api/contents/lstm-course/{EXERCISE}",
                         params={"content": 1}).json()
        assert opened["type"] == "notebook"


@pytest.mark.slow
def test_a_student_exercise_runs_in_the_kernel_and_its_first_check_says_not_done(hub):
    name = hub.users[0]
    if not (hub.home(name) / "lstm-course" / EXERCISE).exists():
        _pull(hub, name)
    notebook = hub.api("GET", f"/user/{name}/api/contents/lstm-course/{EXERCISE}",
                       params={"content": 1}).json()["content"]
    session = hub.api("POST", f"/user/{name}/api/sessions", expect=(201,), json={
        "path": f"lstm-course/{EXERCISE}", "type": "notebook", "name": "ex1",
        "kernel": {"name": "python3"}}).json()
    kernel = Kernel(f"ws://127.0.0.1:{hub.ports['proxy']}/user/{name}/api/kernels/"
                    f"{session['kernel']['id']}/channels", hub.token)
    try:
        probe = kernel.execute(
            "import os, getpass, lstm_helpers\n"
            "print(getpass.getuser())\nprint(os.getcwd())\n"
            "print(os.environ.get('LSTM_HELPERS_DATA'))\nprint(os.environ.get('TQDM_DISABLE'))\n"
            "print(lstm_helpers.__file__)\n"
            "print(os.access(os.path.join(os.environ['LSTM_HELPERS_DATA'], 'MNIST'), os.R_OK))")
        assert not probe["errors"], probe
        user, cwd, data, tqdm_off, package, readable = probe["stdout"].splitlines()
        assert user == name
        assert Path(cwd) == hub.home(name) / "lstm-course" / Path(EXERCISE).parent
        assert (data, tqdm_off, readable) == (str(hub.data), "None", "True")
        assert Path(package).is_relative_to(REPO)
        code = [cell["source"] for cell in notebook["cells"] if cell["cell_type"] == "code"]
        first_check = next(i for i, source in enumerate(code) if ".require()" in source)
        for source in code[:first_check + 1]:
            result = kernel.execute(source)
            assert not result["errors"] and result["reply"]["status"] == "ok", (source, result)
        assert result["stdout"].startswith("Not done yet: Exercise 1 (parameter count)"), \
            result["stdout"]
    finally:
        kernel.close()
        hub.api("DELETE", f"/user/{name}/api/sessions/{session['id']}", expect=(204,))


@pytest.mark.slow
def test_one_student_cannot_read_the_others_files(hub):
    reader, owner = hub.users
    for name in hub.users:
        if not (hub.home(name) / "lstm-course" / EXERCISE).exists():
            _pull(hub, name)
    theirs = hub.home(owner) / "lstm-course" / EXERCISE
    assert theirs.is_file()
    session = hub.api("POST", f"/user/{reader}/api/sessions", expect=(201,), json={
        "path": "probe.ipynb", "type": "notebook", "name": "probe",
        "kernel": {"name": "python3"}}).json()
    kernel = Kernel(f"ws://127.0.0.1:{hub.ports['proxy']}/user/{reader}/api/kernels/"
                    f"{session['kernel']['id']}/channels", hub.token)
    try:
        for code in (f"open({str(theirs)!r}).read()", f"os.listdir({str(hub.home(owner))!r})"):
            result = kernel.execute(f"import os\n{code}")
            assert any(error.startswith("PermissionError") for error in result["errors"]), result
    finally:
        kernel.close()
        hub.api("DELETE", f"/user/{reader}/api/sessions/{session['id']}", expect=(204,))
    # Nor through the hub: the reader's own token opens the reader's server, not the other's.
    token = hub.api("POST", f"/hub/api/users/{reader}/tokens", expect=(201,),
                    json={"note": "test", "expires_in": 600}).json()["token"]
    mine, other = (requests.get(f"{_user_url(hub, name)}api/contents", timeout=60,
                                headers={"Authorization": f"token {token}"},
                                allow_redirects=False) for name in (reader, owner))
    assert mine.status_code == 200
    assert other.status_code in (403, 404), other.status_code


# ---------------------------------------------------------------------------------------------
# Idle culling, with the documented settings shortened.

CULL_TIMEOUT_S = 40
CULLING = {"LSTM_CULL_TIMEOUT": str(CULL_TIMEOUT_S), "LSTM_CULL_EVERY": "10",
           "LSTM_ACTIVITY_INTERVAL": "10"}
TRAINING = """
import torch
from torch import nn
import lstm_helpers as lh
images, labels = lh.mnist_tensors(train=False)
batches = lh.TensorBatches(images[:2000], labels[:2000], batch_size=50, shuffle=True)
lh.set_seed(0)
model = lh.LSTMModel(28, 8, 1, 10)
lh.train(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), batches,
         batches, n_iters=10**7, eval_every=10**7)
"""


@pytest.mark.slow
def test_the_culler_stops_an_idle_server_and_spares_one_training_with_a_progress_bar():
    with _serving(CULLING) as hub:
        trainer, idle = hub.users
        session = hub.api("POST", f"/user/{trainer}/api/sessions", expect=(201,), json={
            "path": "train.ipynb", "type": "notebook", "name": "train",
            "kernel": {"name": "python3"}}).json()
        kernel = Kernel(f"ws://127.0.0.1:{hub.ports['proxy']}/user/{trainer}/api/kernels/"
                        f"{session['kernel']['id']}/channels", hub.token)
        kernel.send(TRAINING)
        kernel.close()  # no browser from here on: only the kernel's own messages
        start, culled_after = time.monotonic(), None
        while (elapsed := time.monotonic() - start) < 3 * CULL_TIMEOUT_S + 10:
            servers = {name: hub.api("GET", f"/hub/api/users/{name}").json()["servers"]
                       for name in hub.users}
            assert "" in servers[trainer], (f"the training server was culled after "
                                            f"{elapsed:.0f} s:\n{hub.log_tail()}")
            if culled_after is None and "" not in servers[idle]:
                culled_after = elapsed
            time.sleep(5)
        assert culled_after is not None and culled_after <= 2 * CULL_TIMEOUT_S, culled_after
        kernel_state = hub.api("GET", f"/user/{trainer}/api/kernels/"
                                      f"{session['kernel']['id']}").json()
        assert kernel_state["execution_state"] == "busy"  # still training
        assert "idle-culler" in hub.log_path.read_text(errors="replace")
