"""`cvewatch serve` as a real process tree: gunicorn's web workers plus one job worker that lives and dies
with it (SIGTERM, SIGINT or a crash of serve leave no orphan), restarted if it dies, absent when external.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket

import pytest

from tests.jobs.conftest import alive, children, cmdline, wait_for


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/api/cve")
        return conn.getresponse().status == 401
    except OSError:
        return False
    finally:
        conn.close()


def _start_serve(env, **extra: str):
    port = _free_port()
    serve = env.start("serve", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "2",
                      log="serve.log", **extra)
    wait_for(lambda: _answers(port), timeout=60, what="cvewatch serve to answer")
    return serve


def _job_workers(serve_pid: int) -> list[int]:
    return [pid for pid in children(serve_pid) if f"worker --parent-pid {serve_pid}" in cmdline(pid)]


def _tree(serve_pid: int) -> list[int]:
    return [serve_pid, *children(serve_pid)]


def test_serve_runs_one_job_worker_in_its_own_process_group_and_restarts_it(cvewatch_env):
    serve = _start_serve(cvewatch_env)
    (job_worker,) = wait_for(lambda: _job_workers(serve.pid), timeout=30, what="serve's job worker")
    web_workers = [pid for pid in children(serve.pid) if pid != job_worker]
    assert len(web_workers) == 1
    assert os.getpgid(job_worker) == job_worker != os.getpgid(serve.pid)

    os.kill(job_worker, signal.SIGKILL)
    (replacement,) = wait_for(lambda: [p for p in _job_workers(serve.pid) if p != job_worker], timeout=30,
                              what="a new job worker")
    assert f"job worker (pid {job_worker}) is gone; restarting" in cvewatch_env.log("serve.log")
    wait_for(lambda: f"cvewatch worker pid {replacement}:" in cvewatch_env.log("serve.log"), timeout=30,
             what="the new job worker to be consuming")

    tree = _tree(serve.pid)
    serve.send_signal(signal.SIGTERM)
    assert serve.wait(timeout=30) == 0
    wait_for(lambda: not any(alive(pid) for pid in tree), timeout=15, what="every process of serve to exit")
    log = cvewatch_env.log("serve.log")
    assert f"cvewatch worker pid {replacement} stopped" in log  # it stopped cleanly, not killed


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL])
def test_no_orphan_when_serve_is_interrupted_or_killed(cvewatch_env, how):
    serve = _start_serve(cvewatch_env)
    wait_for(lambda: _job_workers(serve.pid), timeout=30, what="serve's job worker")
    tree = _tree(serve.pid)
    assert len(tree) == 3, [cmdline(pid) for pid in tree]
    serve.send_signal(how)
    serve.wait(timeout=30)
    # After a SIGKILL nobody is left to stop the children: each notices its parent is gone by itself.
    try:
        wait_for(lambda: not any(alive(pid) for pid in tree), timeout=20, what="no orphan left")
    except AssertionError:
        left = [(pid, cmdline(pid)) for pid in tree if alive(pid)]
        raise AssertionError(f"left behind: {left}\n{cvewatch_env.log('serve.log')[-3000:]}") from None


def test_external_worker_mode_starts_no_job_worker(cvewatch_env):
    serve = _start_serve(cvewatch_env, CVEWATCH_WORKER="external")
    assert len(children(serve.pid)) == 1  # the web worker only
    assert _job_workers(serve.pid) == []
    assert "without a job worker (CVEWATCH_WORKER=external)" in cvewatch_env.log("serve.log")
    serve.send_signal(signal.SIGTERM)
    assert serve.wait(timeout=30) == 0
