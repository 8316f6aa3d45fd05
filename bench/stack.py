"""The real stack for `make bench`: its own database, Redis database and free ports.

Starts each server as a child process in its own session (as `config.demo` does),
logs to `var/bench/log/<name>.log`, and stops everything it started, newest first.
Children are configured only through environment variables, like a deployment.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DB_NAME = os.environ.get("BENCH_DB_NAME", "marketplace_bench")
# A Redis database of its own: the test suite and the demo use database 0, and a
# bench worker must never take their tasks (nor theirs ours).
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
VAR_DIR = ROOT / "var" / "bench"


class StackError(Exception):
    """A process would not start or a service is missing; printed without a traceback."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def tail(self, lines: int = 20) -> str:
        text = self.log.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(f"    {line}" for line in text)


def check_services() -> None:
    """PostgreSQL and Redis must answer (BENCH_PG_URL, BENCH_REDIS_URL)."""
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            pass
    except psycopg.Error as exc:
        raise StackError(f"PostgreSQL at {PG_ADMIN_URL} does not answer: {exc}") from exc
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except (redis.RedisError, OSError) as exc:
        raise StackError(f"Redis at {REDIS_URL} does not answer: {exc}") from exc


def database_url(name: str = DB_NAME) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


def database_recreate(name: str = DB_NAME) -> None:
    """Drop and create the bench database (never any other one)."""
    if not name.endswith("_bench"):
        raise StackError(f"refusing to drop {name!r}: the bench database's name ends in _bench")
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def redis_clear() -> None:
    """Forget queued tasks in the bench's Redis database (and only there)."""
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match="*"))
    if keys:
        client.delete(*keys)


# The bench's own Stripe credentials: production settings refuse the sandbox's
# published defaults, and the sandbox takes any test-mode key.
BENCH_SECRET_KEY = "sk_test_bench_0123456789abcdef"
BENCH_WEBHOOK_SECRET = "whsec_bench_platform_0123456789"


def child_env(**extra: str) -> dict[str, str]:
    """Production-like settings (DEBUG off) pointed at the bench's services."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "False",
        "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdef",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        # TLS ends at the proxy in production; the bench talks plain HTTP on loopback.
        "SECURE_SSL_REDIRECT": "False",
        "SESSION_COOKIE_SECURE": "False",
        "CSRF_COOKIE_SECURE": "False",
        "SECURE_HSTS_SECONDS": "0",
        "DATABASE_URL": database_url(),
        "REDIS_URL": REDIS_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "VAR_DIR": str(VAR_DIR),
        "LOG_LEVEL": "WARNING",
        "EMAIL_URL": "dummymail://",
        # The bench checks out hundreds of times as one buyer: the per-user bound on
        # Stripe-reading page loads (a defence, not a cost) would answer 429.
        "STRIPE_READS_PER_MINUTE": "1000000",
        "STRIPE_SECRET_KEY": BENCH_SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": "pk_test_bench_0123456789abcdef",
        "STRIPE_WEBHOOK_SECRET": BENCH_WEBHOOK_SECRET,
        "STRIPE_CONNECT_WEBHOOK_SECRET": "whsec_bench_connect_0123456789",
    }
    env.pop("CELERY_RESULT_BACKEND", None)
    env.update(extra)
    return env


class Stack:
    def __init__(self) -> None:
        self.log_dir = VAR_DIR / "log"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.children: list[Child] = []

    def start(self, name: str, argv: list[str], env: dict[str, str], cwd: Path = ROOT) -> Child:
        log = self.log_dir / f"{name}.log"
        with log.open("ab") as out:
            out.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {name} ---\n".encode())
            out.flush()
            process = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        child = Child(name, process, log)
        self.children.append(child)
        return child

    def run(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        child = self.start(name, argv, env)
        code = child.process.wait()
        self.children.remove(child)
        if code != 0:
            raise StackError(f"{name} failed (exit code {code}):\n{child.tail()}")

    def check_alive(self) -> None:
        for child in self.children:
            code = child.process.poll()
            if code is not None:
                raise StackError(f"{child.name} stopped (exit code {code}):\n{child.tail()}")

    def wait_http(self, url: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise StackError(f"nothing answered at {url} within {timeout:.0f} s")

    def stop(self, child: Child, timeout: float = 20) -> None:
        if child.process.poll() is None:
            child.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=timeout)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.process.pid, signal.SIGKILL)  # and what it forked
        child.process.wait()
        if child in self.children:
            self.children.remove(child)

    def stop_all(self) -> None:
        for child in reversed(list(self.children)):
            self.stop(child)

    # --- the servers ----------------------------------------------------------------

    def sandbox(self, port: int, latency_ms: int = 0) -> Child:
        child = self.start(
            "sandbox",
            [sys.executable, "-m", "stripe_sandbox", "--host", HOST, "--port", str(port),
             "--latency-ms", str(latency_ms)],
            child_env(),
        )  # fmt: skip
        self.wait_http(f"http://{HOST}:{port}/_sandbox/health", timeout=30)
        return child

    def web(self, port: int, env: dict[str, str], name: str = "web", root: Path = ROOT) -> Child:
        """gunicorn serving config.wsgi with gunicorn.conf.py (`root`: another checkout of
        the code, for before/after comparisons)."""
        child = self.start(
            name,
            [sys.executable, "-m", "gunicorn", "config.wsgi", "-c", str(root / "gunicorn.conf.py"),
             "--bind", f"{HOST}:{port}"],
            {**env, "DJANGO_SETTINGS_MODULE": "bench.settings", "BENCH_ROUTES": "1",
             "GUNICORN_LOG_LEVEL": "warning", "PYTHONPATH": str(root)},
            cwd=root,
        )  # fmt: skip
        self.wait_http(f"http://{HOST}:{port}/_bench/bare/", timeout=60)
        return child

    def worker(self, name: str, env: dict[str, str], pool: str, concurrency: int) -> Child:
        return self.start(
            name,
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "WARNING",
             "--hostname", f"{name}@%h", "--pool", pool, "--concurrency", str(concurrency),
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            env,
        )  # fmt: skip


# --- memory -----------------------------------------------------------------------------


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command may contain spaces and parentheses: the ppid follows the last ')'.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _kib(pid: int, path: str, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/{path}").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory(pid: int) -> dict[str, float]:
    """RSS and PSS (MiB) of a process and everything it forked; PSS splits shared pages."""
    pids = _tree(pid)
    rss = sum(_kib(p, "status", "VmRSS") for p in pids)
    pss = sum(_kib(p, "smaps_rollup", "Pss") for p in pids)
    return {"processes": len(pids), "rss_mib": rss / 1024, "pss_mib": pss / 1024}


# --- CPU time ---------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    pids = [pid]
    for parent in pids:
        pids.extend(_children_of(parent))
    return pids


def _cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime


def cpu_seconds(pids: list[int]) -> float:
    """CPU time used so far by these processes and everything they forked (alive ones)."""
    return sum(_cpu(p) for pid in pids for p in _tree(pid))


def postgres_backends(dbname: str = DB_NAME) -> list[int]:
    """The server processes serving connections to the bench database (same machine)."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (dbname,)
        ).fetchall()
    return [row[0] for row in rows]
