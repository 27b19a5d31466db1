"""The nbgitpuller link that pulls the course into a student's home on a JupyterHub.

    python -m classroom.gitpuller_link --hub https://hub.example.org \\
        --repo https://github.com/ORG/lstm-course --branch main \\
        --path notebooks/exercises/student/ex1_parameter_count.ipynb

A student who opens the link logs in (if needed), nbgitpuller clones the repository into
``~/<name of the repository>`` the first time and merges new commits on later visits (it
never overwrites a file the student changed), then JupyterLab opens ``--path``. The format
is nbgitpuller's documented one: ``<hub>/hub/user-redirect/git-pull?repo=...&branch=...
&targetpath=...&urlpath=...`` (nbgitpuller's documentation, "Link generator" and "Topic
guides: URL parameters").
"""

from __future__ import annotations

import argparse
import sys
from pathlib import PurePosixPath
from urllib.parse import quote, urlencode, urlsplit

APPS = {"lab": "lab/tree", "notebook": "tree"}  # where the path opens: JupyterLab, Notebook 7
DEFAULT_PATH = "notebooks/exercises/student"


def target_folder(repo: str) -> str:
    """The folder the link asks nbgitpuller to clone ``repo`` into, in the student's home:
    the repository's name without ``.git``. (The link names it as ``targetpath``: left to
    itself, nbgitpuller would keep the ``.git``.)"""
    name = repo.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return name.removesuffix(".git")


def gitpuller_link(hub: str, repo: str, branch: str = "main", path: str = DEFAULT_PATH,
                   app: str = "lab") -> str:
    """The link, every query value escaped (urllib), nothing concatenated unescaped.

    Args:
        hub: the hub's address, e.g. ``https://hub.example.org`` (a path prefix is kept).
        repo: the git repository to pull, as ``git clone`` takes it.
        branch: the branch to pull.
        path: what to open, relative to the repository's root (a notebook or a folder).
        app: ``lab`` (JupyterLab) or ``notebook`` (Jupyter Notebook 7).

    Raises:
        ValueError: a hub that is not an http(s) address, an empty repository or branch,
            a path that leaves the repository, or an unknown app.
    """
    parts = urlsplit(hub)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"--hub must be the hub's http(s) address, such as "
                         f"https://hub.example.org; got {hub!r}")
    if not repo.strip():
        raise ValueError("--repo is empty: give the repository's clone URL")
    if not branch.strip():
        raise ValueError("--branch is empty: give the branch to pull, such as main")
    if app not in APPS:
        raise ValueError(f"--app must be one of {', '.join(APPS)}; got {app!r}")
    relative = PurePosixPath(path.strip("/") or ".")
    if relative.is_absolute() or ".." in relative.parts:
        raise ValueError(f"--path must lie inside the repository, relative to its root; "
                         f"got {path!r}")
    folder = target_folder(repo)
    if not folder or folder in (".", ".."):
        raise ValueError(f"cannot tell the folder name from --repo {repo!r}")
    opened = PurePosixPath(folder) / relative
    query = urlencode({"repo": repo, "branch": branch, "targetpath": folder,
                       "urlpath": f"{APPS[app]}/{opened}"}, quote_via=quote, safe="")
    return f"{hub.rstrip('/')}/hub/user-redirect/git-pull?{query}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hub", required=True, help="the hub's address, https://...")
    parser.add_argument("--repo", required=True, help="the repository's clone URL")
    parser.add_argument("--branch", default="main", help="the branch to pull (main)")
    parser.add_argument("--path", default=DEFAULT_PATH,
                        help=f"what to open, relative to the repository ({DEFAULT_PATH})")
    parser.add_argument("--app", default="lab", choices=sorted(APPS),
                        help="open it in JupyterLab (lab) or Notebook 7 (notebook)")
    args = parser.parse_args(argv)
    try:
        print(gitpuller_link(args.hub, args.repo, args.branch, args.path, args.app))
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
