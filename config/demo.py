"""`make demo`: the whole shop on one machine, offline, from one command.

    python -m config.demo   # ports: DEMO_PORT (8000), SANDBOX_PORT (12111); state: VAR_DIR

Starts, in order and each in its own process group: the Stripe sandbox (state in
VAR_DIR/stripe_sandbox.sqlite3, webhooks signed with the shop's own secrets),
`migrate` and `seed_demo` (which onboards the demo contractors at the sandbox), a
Celery worker, Celery beat and the web server; prints the URL, logins and test
cards; then watches. Ctrl-C or SIGTERM stops everything it started, and so does the
death of any one process. Each writes VAR_DIR/log/<name>.log. A second run reuses
the database, the sandbox's state and queued tasks. Children are configured only
through environment variables, as a deployment would be; settings.py picks the broker.
"""

import contextlib
import ctypes
import importlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import environ
import redis

BASE_DIR = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
CARDS = """Test cards (any future expiry date, any CVC, any postcode):
  4242 4242 4242 4242  succeeds             4000 0025 0000 3155  asks for 3-D Secure
  4000 0000 0000 0002  is declined          4000 0000 0000 9995  insufficient funds"""
# Charged money stays "pending" this long before it is "available": long enough to
# see both states on a contractor's dashboard.
AVAILABLE_AFTER_SECONDS = 60
# The sandbox pays connected accounts out on this schedule (as Stripe's default does,
# daily): at midnight UTC on the sandbox's clock. DEMO_PAYOUT_INTERVAL=weekly, monthly
# or manual changes it (manual: contractors use "Pay out now").
PAYOUT_INTERVAL = os.environ.get("DEMO_PAYOUT_INTERVAL", "daily")


class DemoError(Exception):
    """Something the person running the demo must fix; printed without a traceback."""


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    log: Path

    def tail(self, lines: int = 15) -> str:
        text = self.log.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(f"    {line}" for line in text)


def _die_with_launcher() -> None:
    # Children live in their own sessions (so a terminal's Ctrl-C reaches only the
    # launcher, which then stops them in order). If the launcher itself is killed
    # with SIGKILL, Linux still tells them to go; elsewhere this is a no-op.
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Launcher:
    def __init__(self) -> None:
        self.log_dir = BASE_DIR / "var" / "log"  # replaced by VAR_DIR/log once settings are read
        self.children: list[Child] = []

    def start(self, name: str, *argv: str, **env: str) -> Child:
        log = self.log_dir / f"{name}.log"
        with log.open("ab") as out:  # the child keeps its own copy of the descriptor
            out.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {name} ---\n".encode())
            out.flush()
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
                [sys.executable, *argv],
                cwd=BASE_DIR,
                env={**os.environ, **env},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_launcher,  # safe: the launcher runs no threads
            )
        child = Child(name, process, log)
        self.children.append(child)
        return child

    def run(self, name: str, *argv: str, **env: str) -> str:
        """A one-off step (migrate, seed) that must succeed; returns what it printed."""
        log = self.log_dir / f"{name}.log"
        offset = log.stat().st_size if log.exists() else 0
        child = self.start(name, *argv, **env)
        code = child.process.wait()
        self.children.remove(child)
        if code != 0:
            raise DemoError(f"{name} failed (exit code {code}); see {log}:\n{child.tail()}")
        with log.open("rb") as out:
            out.seek(offset)
            return out.read().decode(errors="replace").split("\n", 1)[1]

    def check_alive(self) -> None:
        for child in self.children:
            code = child.process.poll()
            if code is not None:
                raise DemoError(
                    f"{child.name} stopped unexpectedly (exit code {code}), so the demo is "
                    f"stopping everything else. Last lines of {child.log}:\n{child.tail()}"
                )

    def wait_for_http(self, url: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise DemoError(f"Nothing answered at {url} within {timeout:.0f} s.")

    def stop_all(self) -> int:
        """Newest first: the web server stops taking orders before the worker and the
        sandbox it talks to go away. SIGTERM is a warm shutdown for Celery (running
        tasks finish); whatever is left after 15 s is killed with its process group."""
        stopped = len(self.children)
        for child in reversed(self.children):
            if child.process.poll() is None:
                child.process.terminate()
                try:
                    child.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    print(f"{child.name} did not stop within 15 s: killing it.", flush=True)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.process.pid, signal.SIGKILL)  # and any grandchildren
            child.process.wait()
        self.children.clear()
        return stopped


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        # As the servers do, so a port left in TIME_WAIT by the last run still counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def configure() -> tuple[int, int]:
    """Put the demo's configuration into the environment the children inherit."""
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)  # as settings.py does
    web_port = int(os.environ.get("DEMO_PORT", "8000"))
    sandbox_port = int(os.environ.get("SANDBOX_PORT", "12111"))
    for name, port in (("DEMO_PORT", web_port), ("SANDBOX_PORT", sandbox_port)):
        if not port_free(port):
            raise DemoError(
                f"Port {port} on {HOST} is already in use (another `make demo`?). "
                f"Stop whatever holds it, or choose another port: {name}=<port> make demo"
            )
    redis_url = os.environ.get("REDIS_URL", "")
    if redis_url and not os.environ.get("CELERY_BROKER_URL"):
        try:
            redis.Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=1).ping()
        except (redis.RedisError, OSError, ValueError):
            print(f"Redis at {redis_url} does not answer: using the embedded broker.")
            os.environ["REDIS_URL"] = ""  # settings.py then falls back to filesystem://
    sandbox = f"http://{HOST}:{sandbox_port}"
    os.environ.update(
        STRIPE_API_BASE=sandbox,
        STRIPE_JS_URL=f"{sandbox}/v3/",
        SITE_URL=f"http://{HOST}:{web_port}",  # links in emails, seed_demo's onboarding pages
        PYTHONUNBUFFERED="1",  # logs reach the files as they happen
    )
    return web_port, sandbox_port


def demo(launcher: Launcher) -> NoReturn:
    started = time.monotonic()
    web_port, sandbox_port = configure()
    # The shop's settings decide VAR_DIR, the broker and the Stripe keys and secrets
    # (defaults: the sandbox's); the sandbox is started with the very same secrets.
    shop = importlib.import_module("config.settings")
    var_dir: Path = shop.VAR_DIR
    os.environ["VAR_DIR"] = str(var_dir)
    launcher.log_dir = var_dir / "log"
    launcher.log_dir.mkdir(exist_ok=True)
    site = os.environ["SITE_URL"]

    print(f"Starting the Stripe sandbox on {shop.STRIPE_API_BASE} ...", flush=True)
    launcher.start(
        "sandbox", "-m", "stripe_sandbox",
        "--host", HOST, "--port", str(sandbox_port),
        "--db", str(var_dir / "stripe_sandbox.sqlite3"),
        "--forward", f"{site}/payments/webhooks/stripe/",
        "--forward-connect", f"{site}/payments/webhooks/connect/",
        "--webhook-secret", shop.STRIPE_WEBHOOK_SECRET,
        "--connect-webhook-secret", shop.STRIPE_CONNECT_WEBHOOK_SECRET,
        "--available-after", str(AVAILABLE_AFTER_SECONDS),
        "--payout-interval", PAYOUT_INTERVAL,
        # Webhooks sent before the web server is up (seeding) are retried soon.
        "--webhook-retry-base", "2",
    )  # fmt: skip
    launcher.wait_for_http(f"{shop.STRIPE_API_BASE}/_sandbox/health", timeout=30)
    print("Migrating and seeding the database ...", flush=True)
    launcher.run("migrate", "manage.py", "migrate", "--noinput")
    # Its output goes into the banner: without the Stripe SDK's request log lines.
    seeded = launcher.run("seed", "manage.py", "seed_demo", LOG_LEVEL="WARNING")
    celery = ("-m", "celery", "-A", "config")
    # One worker on one machine: gossip, mingle and heartbeats are cluster features.
    # Threads rather than forked processes: the tasks wait on HTTP, and it stops faster.
    launcher.start(
        "worker", *celery, "worker", "--loglevel", "INFO", "--hostname", "demo@%h",
        "--pool", "threads", "--concurrency", "4",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    )  # fmt: skip
    launcher.start(
        "beat", *celery, "beat", "--loglevel", "INFO",
        "--schedule", str(var_dir / "celerybeat-schedule"),
    )  # fmt: skip
    launcher.start("web", "manage.py", "runserver", f"{HOST}:{web_port}", "--noreload")
    launcher.wait_for_http(f"{site}/", timeout=60)

    broker = shop.CELERY_BROKER_URL
    if broker.startswith("filesystem://"):
        broker += f"  (embedded: message files in {shop.CELERY_BROKER_FOLDER})"
    lines = [
        f"\nThe shop is ready at {site}/  (started in {time.monotonic() - started:.1f} s)\n",
        seeded.strip() + "\n",
        CARDS + "\n",
        f"Stripe sandbox: {shop.STRIPE_API_BASE}  (money stays pending "
        f"{AVAILABLE_AFTER_SECONDS} s; state in {var_dir / 'stripe_sandbox.sqlite3'})",
        f"Payouts:        {PAYOUT_INTERVAL}, at midnight UTC on the sandbox clock "
        f"(README: from pending to the bank)",
        f"Celery broker:  {broker}",
        f"Logs:           {launcher.log_dir}/{{sandbox,worker,beat,web}}.log",
    ]
    if getattr(shop, "EMAIL_FILE_PATH", None):  # the file backend, unless EMAIL_URL is set
        # (relative to the working directory, which for every child is BASE_DIR)
        lines.append(f"Emails:         written as files to {BASE_DIR / shop.EMAIL_FILE_PATH}")
    print("\n".join([*lines, "Press Ctrl-C to stop everything."]), flush=True)
    while True:
        launcher.check_alive()
        time.sleep(0.5)


def main() -> int:
    launcher = Launcher()
    # Ctrl-C raises KeyboardInterrupt even if our parent started us with SIGINT ignored
    # (a background job); SIGTERM stops the demo the same way.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        demo(launcher)
    except DemoError as exc:
        print(f"\nmake demo: {exc}", file=sys.stderr, flush=True)
        return 1
    except (KeyboardInterrupt, SystemExit):
        print("\nStopping ...", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut cleanup
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if launcher.stop_all():
            print(f"Demo stopped; its state stays in {launcher.log_dir.parent}.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
