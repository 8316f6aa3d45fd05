"""The whole journey in Chromium, against the processes `make demo` starts.

`python -m config.demo` runs here exactly as a newcomer runs it (sandbox, Celery
worker and beat, web server), on free ports with a temporary VAR_DIR, SQLite and
the embedded broker, so the test behaves the same on a laptop and in CI. The test
only talks to it through the browser: no ORM, no patched settings.

Without Chromium or Playwright the journey skips, unless REQUIRE_SERVICES is set
(CI), where that is a failure. Screenshots of every step, the step timings and the
demo's logs end up in test-artifacts/journey/<module>/.
"""

import importlib.util
import os
import shutil
import signal
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from stripe_sandbox.testing import free_port
from tests.test_demo import Demo

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "journey"
VIEWPORT = {"width": 1000, "height": 720}


@pytest.fixture(scope="module")
def chromium():
    """Checked before the demo starts: a missing browser skips at once (fails in CI)."""
    reason = None
    if not os.path.exists(CHROMIUM):
        reason = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    elif importlib.util.find_spec("playwright") is None:
        reason = "Playwright is not installed (pip install playwright)"
    if reason and os.environ.get("REQUIRE_SERVICES"):
        pytest.fail(f"REQUIRE_SERVICES is set but {reason}")
    if reason:
        pytest.skip(reason)
    return CHROMIUM


@dataclass
class Site:
    url: str
    sandbox: str
    ready_in: float  # seconds from `python -m config.demo` to "Press Ctrl-C"
    var_dir: Path  # the demo's state: its emails are files under emails/

    def emailed_link(self, to: str, path_part: str, timeout: float = 30) -> str:
        """The first link containing `path_part` in an email the demo wrote to `to`."""
        import re

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in sorted((self.var_dir / "emails").glob("*.log")):
                text = message.read_text(errors="replace")
                for block in text.split("-" * 79):
                    if f"To: {to}" in block:
                        found = re.search(rf"http://\S*{re.escape(path_part)}\S*", block)
                        if found:
                            return found.group(0)
            time.sleep(0.2)
        raise AssertionError(f"no email to {to} with a link to {path_part}")


@pytest.fixture(scope="module")
def artifacts(request):
    """test-artifacts/journey/<module>/, emptied when that module starts.

    One folder per module, not one emptied per session: under xdist each worker
    runs session fixtures itself, and one worker's clean-up deleted the logs and
    screenshots another worker's journey was writing.
    """
    folder = ARTIFACTS / request.module.__name__.rsplit(".", 1)[-1]
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture(scope="module")
def demo(chromium, artifacts, tmp_path_factory, request):
    """`python -m config.demo` on free ports, stopped with Ctrl-C (SIGINT) afterwards.

    If it stops by itself meanwhile (a child died), that fails the test with the
    launcher's own explanation, rather than leaving only "connection refused".
    """
    var_dir = tmp_path_factory.mktemp("journey") / "var"
    env = {**os.environ, "VAR_DIR": str(var_dir)}
    env.update(DEMO_PORT=str(free_port()), SANDBOX_PORT=str(free_port()))
    # Hermetic, whatever CI exports: SQLite and the embedded broker under VAR_DIR.
    env.update(REDIS_URL="", CELERY_BROKER_URL="")
    env.pop("DATABASE_URL", None)
    # A log of its own per module (in the module's own folder): the launcher
    # appends, and a banner left by an earlier module's demo must not pass for this one's.
    launcher = Demo(env, artifacts / "demo.out")
    try:
        # A wait, not a speed check: a busy CI machine migrates and seeds slowly.
        started = time.monotonic()
        launcher.wait_for_output("Press Ctrl-C to stop everything.", timeout=240)
        yield Site(
            url=f"http://127.0.0.1:{env['DEMO_PORT']}",
            sandbox=f"http://127.0.0.1:{env['SANDBOX_PORT']}",
            ready_in=time.monotonic() - started,
            var_dir=var_dir,
        )
    finally:
        stopped_by_itself = launcher.process.poll() is not None
        if not stopped_by_itself:
            launcher.process.send_signal(signal.SIGINT)
        try:
            launcher.wait(timeout=30)
        except subprocess.TimeoutExpired:
            launcher.kill()
        # The processes' own logs, beside the screenshots, for a failed CI run.
        if (var_dir / "log").is_dir():
            shutil.copytree(var_dir / "log", artifacts / "log", dirs_exist_ok=True)
    if stopped_by_itself:
        # What the launcher printed after its banner: which child died, and its last lines.
        tail = launcher.output().split("Press Ctrl-C to stop everything.", 1)[-1].strip()
        pytest.fail(f"the demo stopped by itself during the journey:\n{tail}")


@pytest.fixture(scope="module")
def browser(demo, playwright_session):
    browser = playwright_session.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@dataclass
class Journey:
    """Numbered screenshots (NN-step.png) and the time each step took."""

    browser: object
    folder: Path
    shots: int = 0
    timings: list[tuple[str, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    contexts: list = field(default_factory=list)
    pages: list = field(default_factory=list)

    def person(self):
        """A fresh browser context (one person's cookies) and its page."""
        context = self.browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        self.pages.append(page)
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: {exc}"))
        return page

    def shot(self, page, step: str) -> Path:
        self.shots += 1
        path = self.folder / f"{self.shots:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    @contextmanager
    def step(self, name: str):
        started = time.monotonic()
        try:
            yield
        finally:
            self.timings.append((name, time.monotonic() - started))

    def report(self) -> str:
        lines = [f"{seconds:6.1f} s  {name}" for name, seconds in self.timings]
        lines.append(f"{sum(s for _, s in self.timings[1:]):6.1f} s  the journey's steps")
        return "\n".join(lines)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.journey_failed = report.failed
    return report


@pytest.fixture
def journey(demo, browser, artifacts, request):
    journey = Journey(browser, artifacts)
    journey.timings.append(("`python -m config.demo` ready (before the test)", demo.ready_in))
    yield journey
    if getattr(request.node, "journey_failed", False):
        for number, page in enumerate(journey.pages, 1):  # where each person was left
            page.screenshot(path=str(artifacts / f"failed-{number}.png"), full_page=True)
    for context in journey.contexts:
        context.close()
    report = journey.report()
    (artifacts / "timings.txt").write_text(report + "\n")
    print(report)
    assert not journey.errors, f"JavaScript errors on the pages: {journey.errors}"
