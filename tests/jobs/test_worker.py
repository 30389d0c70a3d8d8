"""`cvewatch worker` as a real process on each queue store: it consumes the queue and stops on signals."""

from __future__ import annotations

import signal

from huey.serializer import Serializer

from tests.jobs.conftest import wait_for


def _heartbeat(env) -> dict | None:
    raw = env.queue_storage().peek_data("heartbeat")
    return None if raw is None or not isinstance(raw, bytes) else Serializer().deserialize(raw)


def test_the_check_fails_while_no_worker_has_run(cvewatch_env):
    done = cvewatch_env.run("worker", "--check")
    assert done.returncode == 1
    assert "last heartbeat: never" in done.stdout
    assert "is `cvewatch worker` running?" in done.stderr


def test_a_worker_on_the_sqlite_queue_runs_jobs_and_stops_on_sigterm(cvewatch_env):
    worker = cvewatch_env.start("worker", "--threads", "2", log="worker.log")
    beat = wait_for(lambda: _heartbeat(cvewatch_env), timeout=30, what="the worker's first heartbeat")
    assert beat["worker"].split(":")[1] == str(worker.pid)
    done = cvewatch_env.run("worker", "--check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SqliteStorage" in done.stdout

    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=15) == 0
    log = cvewatch_env.log("worker.log")
    assert "2 threads on SqliteStorage" in log
    assert "Received SIGTERM" in log and f"cvewatch worker pid {worker.pid} stopped" in log


def test_a_worker_on_redis_runs_jobs_and_stops_on_sigint(redis_env):
    worker = redis_env.start("worker", log="worker.log")
    beat = wait_for(lambda: _heartbeat(redis_env), timeout=30, what="the worker's first heartbeat in Redis")
    assert beat["worker"].split(":")[1] == str(worker.pid)
    assert redis_env.run("worker", "--check").returncode == 0

    worker.send_signal(signal.SIGINT)
    assert worker.wait(timeout=15) == 0
    log = redis_env.log("worker.log")
    assert "on RedisStorage" in log and "Received SIGINT" in log
