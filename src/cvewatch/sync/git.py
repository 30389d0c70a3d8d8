"""Reading a git repository through the `git` command line (subprocess): commits, changed files, file contents.

A remote (https://…, http://…, a .git URL) is mirrored as a bare clone in the data directory and fetched on
each run; a local checkout is read where it is, at its HEAD commit, without touching its work tree.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

from cvewatch.sync.errors import UpstreamError

GIT_TIMEOUT = 600  # seconds for one git command (a first clone of a large repository takes a while)
ARCHIVE_CHUNK = 2000  # paths per `git archive` call (command-line length)
_ENV = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_LITERAL_PATHSPECS": "1", "LC_ALL": "C"}


def git(repo: Path, *args: str, timeout: float = GIT_TIMEOUT) -> bytes:
    try:
        done = subprocess.run(
            ["git", f"--git-dir={_git_dir(repo)}", *args],
            capture_output=True,
            timeout=timeout,
            env=_ENV,
            check=False,
        )
    except FileNotFoundError:
        raise UpstreamError("the git command is not installed") from None
    except subprocess.TimeoutExpired:
        raise UpstreamError(f"git {args[0]} timed out after {timeout:g} s") from None
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        raise UpstreamError(f"git {args[0]} failed: {message[-1] if message else done.returncode}")
    return done.stdout


def _git_dir(repo: Path) -> Path:
    return repo / ".git" if (repo / ".git").exists() else repo


def is_repository(path: Path) -> bool:
    return (path / ".git").exists() or (path / "HEAD").is_file() and (path / "objects").is_dir()


def mirror(remote: str, dest: Path) -> Path:
    """A bare clone of remote at dest, fetched up to date (all branches, force-pushes included)."""
    if not (dest / "HEAD").is_file():
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            subprocess.run(
                ["git", "clone", "--bare", "--quiet", remote, str(dest)],
                capture_output=True, timeout=GIT_TIMEOUT, env=_ENV, check=True,
            )  # fmt: skip
        except subprocess.CalledProcessError as exc:
            message = exc.stderr.decode(errors="replace").strip().splitlines()
            raise UpstreamError(
                f"git clone {remote} failed: {message[-1] if message else exc.returncode}"
            ) from None
        except subprocess.TimeoutExpired:
            raise UpstreamError(f"git clone {remote} timed out") from None
    else:
        git(dest, "fetch", "--quiet", "--force", "--prune", "origin", "+refs/heads/*:refs/heads/*")
    return dest


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "--verify", "HEAD^{commit}").decode().strip()


def has_commit(repo: Path, commit: str) -> bool:
    try:
        git(repo, "cat-file", "-e", f"{commit}^{{commit}}")
    except UpstreamError:
        return False
    return True


def is_ancestor(repo: Path, older: str, newer: str) -> bool:
    result = subprocess.run(
        ["git", f"--git-dir={_git_dir(repo)}", "merge-base", "--is-ancestor", older, newer],
        capture_output=True, timeout=GIT_TIMEOUT, env=_ENV, check=False,
    )  # fmt: skip
    return result.returncode == 0


def changed_files(repo: Path, old: str, new: str) -> list[str]:
    """Files added or modified from old to new (a rename counts as an addition; deletions are left out)."""
    out = git(repo, "diff", "--name-only", "--no-renames", "--diff-filter=d", "-z", old, new)
    return [p for p in out.decode().split("\0") if p]


def all_files(repo: Path, commit: str) -> list[str]:
    out = git(repo, "ls-tree", "-r", "--name-only", "-z", commit)
    return [p for p in out.decode().split("\0") if p]


def export(repo: Path, commit: str, paths: Sequence[str], dest_dir: Path) -> Iterator[Path]:
    """Tar archives of the files at commit (ARCHIVE_CHUNK paths each): the ingest walker reads them as they come."""
    for start in range(0, len(paths), ARCHIVE_CHUNK):
        target = dest_dir / f"{commit[:12]}-{start // ARCHIVE_CHUNK}.tar"
        git(
            repo,
            "archive",
            "--format=tar",
            f"--output={target}",
            commit,
            "--",
            *paths[start : start + ARCHIVE_CHUNK],
        )
        yield target
        target.unlink(missing_ok=True)
