"""`make demo`'s launcher (config/demo.py), run for real: its own processes on free
ports with a temporary VAR_DIR, the embedded Celery broker and a SQLite database.

First run: everything answers, a buyer who signs up through the web form gets their
Stripe Customer from the Celery worker, a second launcher on the same ports is
refused, and SIGINT stops every process. Second run: nothing is seeded twice, and
a crashed child takes the rest down with a clear message.
"""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from stripe_sandbox.testing import free_port

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

ROOT = Path(__file__).resolve().parents[1]


class Demo:
    def __init__(self, env: dict, log: Path) -> None:
        self.log = log
        self.out = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "config.demo"],
            cwd=ROOT,
            env=env,
            stdout=self.out,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"launcher never printed {text!r}:\n{self.output()}")
            time.sleep(0.1)

    def children(self) -> set[int]:
        """Every process under the launcher (read from /proc)."""
        parents = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(stat.parent.name)] = int(fields[1])
        found, frontier = set(), {self.process.pid}
        while frontier:
            frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
            found |= frontier
        return found

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.out.close()

    def kill(self) -> None:
        """Last resort, so a failing test leaves nothing behind."""
        pids = self.children()
        self.process.kill()
        for pid in pids:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        self.wait(10)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def demo_env(tmp_path):
    env = {**os.environ, "VAR_DIR": str(tmp_path / "var")}
    env.update(DEMO_PORT=str(free_port()), SANDBOX_PORT=str(free_port()), LOG_LEVEL="WARNING")
    # Hermetic: the embedded broker and SQLite under VAR_DIR, whatever CI exports.
    env.update(REDIS_URL="", CELERY_BROKER_URL="")
    env.pop("DATABASE_URL", None)
    return env


def emailed_link(var_dir: Path, to: str, path_part: str, timeout: float = 20) -> str:
    """The first link with `path_part` in an email the demo wrote (as a file) to `to`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in sorted((var_dir / "emails").glob("*.log")):
            for block in message.read_text(errors="replace").split("-" * 79):
                found = re.search(rf"http://\S*{re.escape(path_part)}\S*", block)
                if f"To: {to}" in block and found:
                    return found.group(0)
        time.sleep(0.2)
    raise AssertionError(f"no email to {to} with a link to {path_part}")


def sign_up_buyer(http: httpx.Client, site: str, var_dir: Path) -> None:
    form = http.get(f"{site}/accounts/signup/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    password = "a-long-demo-password-77"
    response = http.post(
        f"{site}/accounts/signup/",
        data={
            "csrfmiddlewaretoken": token,
            "email": "new-buyer@example.com",
            "display_name": "New Buyer",
            "role": "buyer",
            "password1": password,
            "password2": password,
        },
        headers={"Referer": f"{site}/accounts/signup/"},
    )
    assert response.status_code == 302, response.text
    # The emailed one-time link signs the new buyer in.
    link = emailed_link(var_dir, "new-buyer@example.com", "/accounts/signup/confirm/")
    page = http.get(link)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    confirmed = http.post(link, data={"csrfmiddlewaretoken": token}, headers={"Referer": link})
    assert confirmed.status_code == 302, confirmed.text


# Migrating and seeding a fresh database: seconds on an idle laptop, much longer on a
# CI machine running other test workers beside it. A wait, not a speed assertion.
START_TIMEOUT = 240


def test_demo_serves_the_shop_and_stops_every_process(demo_env, tmp_path):
    site = f"http://127.0.0.1:{demo_env['DEMO_PORT']}"
    sandbox = f"http://127.0.0.1:{demo_env['SANDBOX_PORT']}"
    demo = Demo(demo_env, tmp_path / "demo.out")
    try:
        started = time.monotonic()
        demo.wait_for_output("Press Ctrl-C to stop everything.", timeout=START_TIMEOUT)
        print(f"first start: ready in {time.monotonic() - started:.1f} s")
        output = demo.output()
        assert f"The shop is ready at {site}/" in output
        assert "Contractor alice@example.com: connected account acct_" in output
        assert "4242 4242 4242 4242" in output
        assert "filesystem://" in output

        with httpx.Client(timeout=10) as http:
            assert http.get(f"{site}/").status_code == 200
            assert http.get(f"{sandbox}/_sandbox/health").status_code == 200
            assert http.get(f"{sandbox}/v3/").status_code == 200  # Stripe.js for the checkout
            sign_up_buyer(http, site, Path(demo_env["VAR_DIR"]))
            customer = wait_until(
                lambda: re.search(
                    r"<code>(cus_\w+)</code>", http.get(f"{site}/accounts/profile/").text
                ),
                timeout=15,
                what="the worker to give the new buyer a Stripe Customer",
            )
        assert customer.group(1).startswith("cus_")

        refused = subprocess.run(
            [sys.executable, "-m", "config.demo"],
            cwd=ROOT,
            env=demo_env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert refused.returncode == 1
        assert "is already in use" in refused.stderr

        children = demo.children()
        assert len(children) >= 4  # sandbox, worker, beat, web
        demo.process.send_signal(signal.SIGINT)
        assert demo.wait(timeout=30) == 0
    except BaseException:
        if demo.process.poll() is None:
            demo.kill()
        raise
    assert [pid for pid in children if alive(pid)] == []
    assert "Demo stopped" in demo.output()

    # Second run: same database and sandbox state, nothing new; a crash stops the rest.
    again = Demo(demo_env, tmp_path / "demo-again.out")
    try:
        again.wait_for_output("Press Ctrl-C to stop everything.", timeout=START_TIMEOUT)
        assert "Demo data ready (0 new rows)." in again.output()
        assert re.findall(r"acct_\w+", again.output()) == re.findall(r"acct_\w+", output)
        children = again.children()
        worker = next(
            pid for pid in children if b"worker" in Path(f"/proc/{pid}/cmdline").read_bytes()
        )
        os.kill(worker, signal.SIGKILL)
        assert again.wait(timeout=30) == 1
    except BaseException:
        if again.process.poll() is None:
            again.kill()
        raise
    assert "worker stopped unexpectedly" in again.output()
    assert [pid for pid in children if alive(pid)] == []
