"""A source read from a git repository: OpenCVE's knowledge base, or a cvelistV5 checkout.

Cursor: the commit imported last. A run imports only the files changed between that commit and the new
HEAD (`git diff --name-only`); the first run imports every record file. History rewritten upstream (a
force-push: the cursor commit is gone or not an ancestor of HEAD) is noticed and recorded, and every file is
read again: the importer keeps newer copies, so nothing is rolled back and unchanged records change nothing.
A HEAD that is an ancestor of the cursor (the upstream went back) applies nothing and keeps the cursor.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cvewatch.ingest.records import Item
from cvewatch.sync import git
from cvewatch.sync.errors import UpstreamError
from cvewatch.sync.sources.base import Context, Step, is_record_file, read_items
from cvewatch.sync.transport import is_http, local_path


def repository(ctx: Context) -> Path:
    """The repository to read: a local checkout as it is, a remote mirrored in the data directory."""
    if is_http(ctx.url) or ctx.url.endswith(".git") and not local_path(ctx.url).exists():
        return git.mirror(ctx.url, ctx.state_dir / "mirror.git")
    path = local_path(ctx.url)
    if not git.is_repository(path):
        raise UpstreamError(f"{path}: not a git repository")
    return path


@dataclass(frozen=True)
class GitSource:
    name: str
    subdir: str = ""  # only record files under this directory ("cves/" in cvelistV5)

    def steps(self, ctx: Context) -> Iterator[Step]:
        repo = repository(ctx)
        yield from self.steps_in(ctx, repo)

    def steps_in(self, ctx: Context, repo: Path) -> Iterator[Step]:
        new = git.head(repo)
        old = ctx.cursor.get("commit", "")
        if old == new:
            ctx.note(f"{self.name}: no new commit (still {new[:12]})")
            return
        if not old:
            paths, label = git.all_files(repo, new), f"all files at {new[:12]}"
        elif not git.has_commit(repo, old) or not git.is_ancestor(repo, old, new):
            if git.has_commit(repo, old) and git.is_ancestor(repo, new, old):
                ctx.note(
                    f"{self.name}: upstream went back in time: HEAD {new[:12]} is an ancestor of the cursor "
                    f"{old[:12]}; nothing applied, cursor kept"
                )
                return
            ctx.note(
                f"{self.name}: upstream history was rewritten (the cursor {old[:12]} is not an ancestor of "
                f"{new[:12]}): every file read again; older copies never replace newer ones"
            )
            paths, label = git.all_files(repo, new), f"all files at {new[:12]} (history rewritten)"
        else:
            paths, label = git.changed_files(repo, old, new), f"{old[:12]}..{new[:12]}"
        paths = [p for p in paths if p.startswith(self.subdir) and is_record_file(p.rpartition("/")[2])]
        yield Step(
            items=self.items(ctx, repo, new, paths),
            cursor={"commit": new},
            label=f"{label}: {len(paths):,} files",
        )

    def items(self, ctx: Context, repo: Path, commit: str, paths: list[str]) -> Iterator[Item]:
        for archive in git.export(repo, commit, paths, ctx.workdir):
            ctx.heartbeat()
            yield from read_items([archive], only_cve_files=True)
