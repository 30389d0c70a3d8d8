"""Real local upstreams for the sync tests: a threaded HTTP server on 127.0.0.1 and git repositories in tmp_path."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.conftest import DATA


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a stalled upstream)
    truncate: int | None = None  # send only this many body bytes, though Content-Length says more


@dataclass
class Request:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


class Upstream:
    """Routes path -> replies (consumed in order, the last one repeats); records every request."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[Request] = []
        self.handlers: dict[str, Callable[[Request], Reply]] = {}
        handler = self._handler_class()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def serve(self, path: str, *replies: Reply) -> str:
        self.routes[path] = list(replies)
        return self.url(path)

    def serve_file(self, path: str, file: Path, *, etag: str | None = None) -> str:
        headers = {"ETag": etag} if etag else {}
        return self.serve(path, Reply(body=file.read_bytes(), headers=headers))

    def dynamic(self, path: str, handler: Callable[[Request], Reply]) -> str:
        """handler(Request) -> Reply, for answers that depend on the query (NVD paging)."""
        self.handlers[path] = handler
        return self.url(path)

    def hits(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _reply_for(self, request: Request) -> Reply:
        if request.path in self.handlers:
            return self.handlers[request.path](request)
        replies = self.routes.get(request.path)
        if not replies:
            return Reply(status=404, body=b"not found")
        return replies.pop(0) if len(replies) > 1 else replies[0]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                parsed = urlparse(self.path)
                request = Request(
                    parsed.path, parse_qs(parsed.query), {k.lower(): v for k, v in self.headers.items()}
                )
                upstream.requests.append(request)
                reply = upstream._reply_for(request)
                if reply.delay:
                    time.sleep(reply.delay)
                etag = reply.headers.get("ETag")
                if etag and request.headers.get("if-none-match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                body = reply.body if reply.truncate is None else reply.body[: reply.truncate]
                try:
                    self.wfile.write(body)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
                if reply.truncate is not None:
                    self.close_connection = True

        return Handler


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    yield server
    server.close()


class GitRepo:
    """A real git repository made with the git command line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "sync@test")
        self.git("config", "user.name", "sync test")

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=self.path, check=True, capture_output=True, text=True
        ).stdout.strip()

    def put(self, relative: str, source: Path | bytes) -> None:
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, Path):
            shutil.copyfile(source, target)
        else:
            target.write_bytes(source)

    def commit(self, message: str = "update") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def make_repo(tmp_path: Path):
    def make(name: str = "repo") -> GitRepo:
        return GitRepo(tmp_path / name)

    return make


@pytest.fixture
def sync_urls(settings):
    """Points sources at test upstreams: sync_urls(kev=url, ...)."""

    def point(**urls: str) -> None:
        settings.SYNC_URLS = {**settings.SYNC_URLS, **{k.replace("_", "-"): v for k, v in urls.items()}}

    return point


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


__all__ = ["DATA", "GitRepo", "Reply", "Upstream", "gz"]
