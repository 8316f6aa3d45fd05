"""The real stack for the fault suite, in child processes it can kill and start again.

PostgreSQL (a database of the suite's own on the system server), a private
redis-server on a free port (the broker and the cache, as REDIS_URL makes them in
production; stopping it is one of the faults, so it is never the system Redis),
the Stripe sandbox forwarding signed webhooks to gunicorn, one Celery worker
(prefork, 2 processes) and Celery beat. Every child is configured through the
environment only, like a deployment (bench/stack.py's `child_env`, DEBUG off).

Each child runs in its own session (bench/stack.py), so its process group is
the child and everything it forked: SIGKILL of the group takes gunicorn's workers
or the prefork pool down with their parent, as an OOM kill or a lost machine would.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import redis

from bench import stack as bench
from bench.stack import HOST, Child, StackError, free_port

ROOT = bench.ROOT
# Collected static files, shared by every run (see ChaosStack.static_files).
STATIC_CACHE = ROOT / "var" / "chaos-static"
PG_ADMIN_URL = os.environ.get("CHAOS_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
# bench/stack.py's child_env: the web server checks webhooks with these secrets, and
# the sandbox signs with them.
SECRET_KEY = bench.BENCH_SECRET_KEY
WEBHOOK_SECRET = bench.BENCH_WEBHOOK_SECRET
CONNECT_WEBHOOK_SECRET = bench.child_env()["STRIPE_CONNECT_WEBHOOK_SECRET"]
# Children that only report (they must not inherit a developer's Sentry or metrics).
UNWANTED_ENV = ("SENTRY_DSN", "PROMETHEUS_MULTIPROC_DIR", "METRICS_TOKEN", "STRIPE_JS_URL")


def missing_services() -> str | None:
    """Why the suite cannot run on this machine, or None."""
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (the suite runs a private one as its broker)"
    try:
        psycopg.connect(PG_ADMIN_URL, connect_timeout=3).close()
    except psycopg.Error as exc:
        return f"PostgreSQL at {PG_ADMIN_URL} (CHAOS_PG_URL) does not answer: {exc}"
    return None


def admin_connection() -> psycopg.Connection:
    """A connection to the server's maintenance database, never to the suite's own."""
    return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)


class ChaosStack:
    """Ports, environment and processes of one run."""

    def __init__(self, db_name: str, var_dir: Path) -> None:
        # The suite drops and refuses connections to this database: never another one.
        if "chaos" not in db_name:
            raise StackError(f"refusing to use {db_name!r}: the suite's databases are *chaos*")
        self.db_name = db_name
        self.var_dir = var_dir
        self.procs = bench.Stack()
        self.procs.log_dir = var_dir / "log"
        self.procs.log_dir.mkdir(parents=True, exist_ok=True)
        for old in self.procs.log_dir.glob("*.log"):  # each run's logs are its own
            old.unlink()
        self.redis_port, self.sandbox_port, self.web_port = free_port(), free_port(), free_port()
        self.env = self._env()
        self.redis: Child | None = None
        self.web: Child | None = None
        self.worker: Child | None = None
        self.beat: Child | None = None
        self._started: dict[str, int] = {}

    @property
    def sandbox_url(self) -> str:
        return f"http://{HOST}:{self.sandbox_port}"

    @property
    def web_url(self) -> str:
        return f"http://{HOST}:{self.web_port}"

    @property
    def database_url(self) -> str:
        return f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{self.db_name}"

    def _env(self) -> dict[str, str]:
        broker = f"redis://{HOST}:{self.redis_port}/0"
        env = bench.child_env(
            DATABASE_URL=self.database_url,
            REDIS_URL=broker,
            CELERY_BROKER_URL=broker,
            CACHE_URL=f"redis://{HOST}:{self.redis_port}/1",
            VAR_DIR=str(self.var_dir),
            STRIPE_API_BASE=self.sandbox_url,
            LOG_LEVEL="INFO",
            # The pages the suite's users load call Stripe at most this often anyway.
            STRIPE_READS_PER_MINUTE="1000000",
        )
        for name in UNWANTED_ENV:
            env.pop(name, None)
        return env

    # --- the whole stack -------------------------------------------------------------

    def start(self) -> None:
        self.database_recreate()
        self.redis_start()
        self.manage_checked("migrate", "--noinput", "-v0")
        self.static_files()
        self.sandbox_start()
        self.web_start()
        self.worker_start()
        self.beat_start()
        # Untimed: the first scenario's set-up needs a worker to process its webhooks.
        wait_log(self.worker, "ready.", timeout=120)

    def stop(self) -> None:
        self.procs.stop_all()

    def database_recreate(self) -> None:
        with admin_connection() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.db_name}"')

    def database_drop(self) -> None:
        with admin_connection() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')

    def static_files(self) -> None:
        """gunicorn (DEBUG off) serves the collected, hashed static files. Collecting
        them costs 6 s of CPU, so runs share one folder, collected again only when
        the sources changed (a lock keeps two runs from collecting at once)."""
        STATIC_CACHE.mkdir(parents=True, exist_ok=True)
        link = self.var_dir / "static"  # STATIC_ROOT (settings made it empty, or a run did)
        if not link.is_symlink():
            shutil.rmtree(link, ignore_errors=True)
            link.symlink_to(STATIC_CACHE, target_is_directory=True)
        stamp = STATIC_CACHE / ".sources"
        with (STATIC_CACHE / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            wanted = static_sources_fingerprint()
            if stamp.exists() and stamp.read_text() == wanted:
                return
            self.manage_checked("collectstatic", "--noinput", "-v0")
            stamp.write_text(wanted)

    # --- management commands ---------------------------------------------------------

    def manage(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        """`manage.py <args>` as an operator would run it, with the stack's settings."""
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def manage_checked(self, *args: str) -> None:
        result = self.manage(*args)
        if result.returncode != 0:
            raise StackError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-2000:]}")

    # --- the children ------------------------------------------------------------------

    def _start(self, role: str, argv: list[str], env: dict[str, str] | None = None) -> Child:
        """Start a child; its log is <role>.log, then <role>-2.log … for restarts."""
        count = self._started[role] = self._started.get(role, 0) + 1
        name = role if count == 1 else f"{role}-{count}"
        return self.procs.start(name, argv, env or self.env)

    def redis_start(self) -> None:
        self.redis = self._start(
            "redis",
            ["redis-server", "--bind", HOST, "--port", str(self.redis_port), "--save", "",
             "--appendonly", "no"],
        )  # fmt: skip
        client = redis.Redis(host=HOST, port=self.redis_port, socket_connect_timeout=1)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError):
                if client.ping():
                    return
            time.sleep(0.05)
        raise StackError(f"redis-server did not answer on port {self.redis_port}")

    def redis_stop(self) -> None:
        """The broker goes away (and, with no persistence, every message in it)."""
        if self.redis is not None:
            self.procs.stop(self.redis, timeout=10)
            self.redis = None

    def sandbox_start(self) -> None:
        webhooks = f"{self.web_url}/payments/webhooks"
        self._start(
            "sandbox",
            [sys.executable, "-m", "stripe_sandbox", "--host", HOST, "--port",
             str(self.sandbox_port), "--forward", f"{webhooks}/stripe/",
             "--forward-connect", f"{webhooks}/connect/", "--webhook-secret", WEBHOOK_SECRET,
             "--connect-webhook-secret", CONNECT_WEBHOOK_SECRET,
             # Stripe retries a failed delivery for 3 days; the sandbox gives up after
             # max-attempts. Enough attempts, 0.25 s apart then doubling, to outlast
             # every outage the suite makes without stretching its recovery.
             "--webhook-retry-base", "0.25", "--webhook-max-attempts", "12"],
        )  # fmt: skip
        self.procs.wait_http(f"{self.sandbox_url}/_sandbox/health", timeout=30)

    def web_start(self) -> None:
        """gunicorn as the Procfile runs it (gunicorn.conf.py: 2 × cores + 1 workers)."""
        self.web = self._start(
            "web",
            [sys.executable, "-m", "gunicorn", "config.wsgi", "-c", str(ROOT / "gunicorn.conf.py"),
             "--bind", f"{HOST}:{self.web_port}"],
            {**self.env, "GUNICORN_LOG_LEVEL": "warning"},
        )  # fmt: skip
        self.procs.wait_http(f"{self.web_url}/healthz", timeout=60)

    def worker_start(self) -> None:
        """A worker as the Procfile runs it: prefork, 2 processes."""
        number = self._started.get("worker", 0) + 1
        self.worker = self._start(
            "worker",
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "prefork",
             "--concurrency", "2", "--loglevel", "INFO", "--hostname", f"chaos{number}@%h"],
        )  # fmt: skip

    def beat_start(self) -> None:
        self.beat = self._start(
            "beat",
            [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
             "--schedule", str(self.var_dir / "celerybeat-schedule")],
        )  # fmt: skip

    def kill(self, child: Child | None) -> None:
        """SIGKILL the child's whole process group: no shutdown, no acknowledgements."""
        if child is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
        child.process.wait()
        if child in self.procs.children:
            self.procs.children.remove(child)

    def restart_if_dead(self, known: str) -> list[str]:
        """Start again a worker or beat that exited on its own; what happened, in words
        (saying "known bug" when its log shows `known`)."""
        notes = []
        for role, start in (("worker", self.worker_start), ("beat", self.beat_start)):
            child: Child | None = getattr(self, role)
            if child is None or child.process.poll() is None:
                continue
            code = child.process.returncode
            text = child.log.read_text(errors="replace")
            reason = f"known bug: {known}" if known in text else last_error_line(text)
            notes.append(f"{child.name} exited (code {code}), {reason}; restarted")
            self.procs.children.remove(child)
            start()
        return notes


def static_sources_fingerprint() -> str:
    """Every static source file of the project (name, size, time) and the pinned
    requirements (the installed apps' own static files)."""
    digest = hashlib.sha256((ROOT / "requirements.txt").read_bytes())
    apps = [p for p in ROOT.glob("*/static") if p.parent.name not in ("var", "node_modules")]
    for folder in [ROOT / "static", *apps]:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                info = path.stat()
                digest.update(
                    f"{path.relative_to(ROOT)}|{info.st_size}|{info.st_mtime_ns}".encode()
                )
    return digest.hexdigest()


def wait_log(child: Child, text: str, timeout: float) -> None:
    """Until the child's log says `text` (Celery's "ready." once it consumes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in child.log.read_text(errors="replace"):
            return
        if child.process.poll() is not None:
            break
        time.sleep(0.2)
    raise StackError(f"{child.name} did not log {text!r} within {timeout:.0f} s:\n{child.tail()}")


def last_error_line(log_text: str) -> str:
    """The most telling line of a dead process's log: its last error, else its last line."""
    lines = [line for line in log_text.splitlines() if line.strip()]
    for line in reversed(lines):
        if "Error" in line or "error" in line:
            return line.strip()[:300]
    return lines[-1].strip()[:300] if lines else "no output"
