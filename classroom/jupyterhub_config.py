"""JupyterHub for a class on one machine: every student a real local user, every server the
course's environment.

    sudo make hub   # = cd <course> && sudo .venv/bin/jupyterhub -f classroom/jupyterhub_config.py

Set-up the teacher does once (docs/teachers.md, "A class on one machine", step by step):

* the course checked out where every user can read it, with its environment installed:
  ``sudo git clone <course repo> /opt/lstm-course && cd /opt/lstm-course && sudo make install
  PYTHON=/usr/bin/python3``. Everything a student's server runs comes from there (the
  ``.venv``'s jupyterhub-singleuser, its kernel, ``lstm_helpers``), so its Python must be
  readable by every user too: a system Python, not one inside root's home;
* ``sudo make classroom-proxy``: configurable-http-proxy from npm (classroom/package.json);
* MNIST once, in a folder students can read but not change (``LSTM_COURSE_DATA``, by default
  /srv/lstm-course/data, holding MNIST/raw/...): ``sudo chmod -R a+rX,go-w`` on it;
* one local account per student in the group ``LSTM_COURSE_GROUP`` (default
  ``lstm-students``): ``sudo useradd -m -G lstm-students alice`` and a password. Students
  log in with it (PAM); teachers listed in ``LSTM_COURSE_ADMINS`` are hub admins.

Each student then opens the nbgitpuller link (``python -m classroom.gitpuller_link``), which
pulls the course into ``~/<repository name>`` and opens an exercise. Home folders are made
private (mode 700) before a server starts, so no student reads another's work. Progress
bars stay on in the students' kernels (TQDM_DISABLE is not passed on).

Idle servers are stopped by jupyterhub-idle-culler, a hub service (the end of this file):
after ``LSTM_CULL_TIMEOUT`` seconds without activity (default 3600), checked every
``LSTM_CULL_EVERY`` seconds (300); servers report activity every ``LSTM_ACTIVITY_INTERVAL``
seconds (300). A culled student keeps every file in their home and loses the running kernels.

Everything here can be changed through the environment of the hub process, listed below,
or by a config file that loads this one: ``load_subconfig("classroom/jupyterhub_config.py")``.
"""

import os
import stat
import sys
from pathlib import Path

COURSE = Path(__file__).resolve().parents[1]  # the course checkout this file belongs to
VENV_BIN = Path(os.environ.get("LSTM_COURSE_VENV_BIN", Path(sys.executable).parent))
STATE = Path(os.environ.get("LSTM_HUB_STATE", "/srv/lstm-course/hub"))  # database, secret
DATA = os.environ.get("LSTM_COURSE_DATA", "/srv/lstm-course/data")  # read-only MNIST root
GROUP = os.environ.get("LSTM_COURSE_GROUP", "lstm-students")
ADMINS = set(filter(None, os.environ.get("LSTM_COURSE_ADMINS", "").split(",")))
# Idle culling (docs/teachers.md, "Idle servers"): a server with no activity for CULL_TIMEOUT
# seconds is stopped, checked every CULL_EVERY seconds; each server reports its activity to
# the hub every ACTIVITY_INTERVAL seconds.
CULL_TIMEOUT = int(os.environ.get("LSTM_CULL_TIMEOUT", "3600"))
CULL_EVERY = int(os.environ.get("LSTM_CULL_EVERY", "300"))
ACTIVITY_INTERVAL = int(os.environ.get("LSTM_ACTIVITY_INTERVAL", "300"))

c = get_config()  # noqa: F821 (defined by the traitlets loader that reads this file)

# -- the hub ----------------------------------------------------------------------------------
c.JupyterHub.bind_url = os.environ.get("LSTM_HUB_URL", "http://:8000")  # put TLS in front
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")
c.ConfigurableHTTPProxy.command = [
    str(COURSE / "classroom" / "node_modules" / ".bin" / "configurable-http-proxy")]

# -- who may log in: local accounts, by group -----------------------------------------------
c.JupyterHub.authenticator_class = "pam"
c.LocalAuthenticator.allowed_groups = {GROUP}  # PAM (a LocalAuthenticator) reads /etc/group
c.Authenticator.admin_users = ADMINS

# -- each student's server: a local process, as that user, in the course's environment ----
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(VENV_BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.environment = {
    "LSTM_HELPERS_DATA": DATA,  # one shared copy of MNIST, read-only for students
    # The kernel starts in the notebook's folder: Jupyter finds the course's kernel first.
    "PATH": os.pathsep.join([str(VENV_BIN), "/usr/local/bin", "/usr/bin", "/bin"]),
    "JUPYTERHUB_ACTIVITY_INTERVAL": str(ACTIVITY_INTERVAL),  # how often it tells the hub
}
c.Spawner.mem_limit = os.environ.get("LSTM_STUDENT_MEMORY", "4G")  # honoured by some spawners
c.Spawner.start_timeout = 120  # a cold start of JupyterLab and torch on a busy machine
c.Spawner.http_timeout = 120


def _private_home(spawner) -> None:
    """Before a student's server starts: their home folder readable by them alone."""
    home = Path(os.path.expanduser(f"~{spawner.user.name}"))
    if home.is_dir() and stat.S_IMODE(home.stat().st_mode) & 0o077:
        home.chmod(0o700)


c.Spawner.pre_spawn_hook = _private_home


# -- idle culling: jupyterhub-idle-culler (the version Zero to JupyterHub 4.4.0 pins) ---------
# Activity is what the student's server reports: a browser tab talking to it, and any message
# a kernel sends (a cell's output, the course's progress bars while a model trains). A kernel
# that computes without printing anything shows none, and is culled like an idle one.
c.JupyterHub.services = [{
    "name": "idle-culler",
    "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                f"--timeout={CULL_TIMEOUT}", f"--cull-every={CULL_EVERY}"],
}]
c.JupyterHub.load_roles = [{
    "name": "idle-culler", "services": ["idle-culler"],
    "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
}]
