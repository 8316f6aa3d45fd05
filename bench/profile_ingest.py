"""Where the web server's time goes under webhook load: py-spy on the gunicorn workers.

    .venv/bin/python -m bench.profile_ingest [--seconds 8] [--top 45] [--raw FILE]

Starts the bench stack (as `make bench` does), keeps 32 connections of signed events
on `/payments/webhooks/stripe/`, and samples every gunicorn worker with py-spy
(`--gil`: only samples that hold the GIL, i.e. Python's own CPU time). Prints the
functions with the largest inclusive and self shares. py-spy is in
requirements-dev.txt.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from . import ingest, loadgen, stack
from .run import SECRET, payment_intent


def _frame(text: str) -> str:
    # "function (path/to/file.py:123)" -> "function (file.py)"
    name, _, where = text.partition(" (")
    return f"{name} ({where.split(':')[0].rsplit('/', 1)[-1]})" if where else text


def summarise(raw: Path, top: int) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack_text, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [_frame(f) for f in stack_text.split(";") if not f.startswith("process ")]
        # Leave out gunicorn's frames above the WSGI call: they are in every sample.
        wsgi = next((i for i, f in enumerate(frames) if f.startswith("WSGIHandler.")), None)
        frames = frames[wsgi:] if wsgi is not None else ["(gunicorn, outside a request)"]
        for frame in set(frames):
            inclusive[frame] += samples
        if frames:
            own[frames[-1]] += samples
    lines = [f"{total} samples (GIL held)", "", "inclusive:"]
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in inclusive.most_common(top)]
    lines += ["", "self:"]
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in own.most_common(top // 2)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--raw", type=Path, help="also keep py-spy's raw (collapsed) output")
    args = parser.parse_args(argv)
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        print("py-spy is not installed: pip install -r requirements-dev.txt", file=sys.stderr)
        return 1
    st = stack.Stack()
    raw = args.raw or Path(tempfile.mkstemp(suffix=".pyspy")[1])
    try:
        sandbox_port, web_port = stack.free_port(), stack.free_port()
        env = stack.child_env(STRIPE_API_BASE=f"http://{stack.HOST}:{sandbox_port}")
        stack.database_recreate()
        stack.redis_clear()
        st.run("migrate", [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env)
        st.sandbox(sandbox_port)
        web = st.web(web_port, env)
        base = f"http://{stack.HOST}:{web_port}"
        intent = payment_intent(f"http://{stack.HOST}:{sandbox_port}")

        def bodies(count: int, prefix: str) -> list[tuple[str, bytes]]:
            return loadgen.signed_bodies(count, secret=SECRET, prefix=prefix, obj=intent,
                                         event_type="payment_intent.succeeded")  # fmt: skip

        loadgen.load(base, ingest.WEBHOOK, connections=8, seconds=2, bodies=bodies(4000, "warm"))
        seconds = args.seconds + 4
        load = threading.Thread(
            target=loadgen.load,
            args=(base, ingest.WEBHOOK),
            kwargs={"connections": 32, "seconds": seconds,
                    "bodies": bodies(ingest.BODIES_PER_SECOND * seconds, "profile")},
        )  # fmt: skip
        load.start()
        time.sleep(2)
        subprocess.run(
            [spy, "record", "--pid", str(web.pid), "--subprocesses", "--gil", "--nonblocking",
             "--rate", "200", "--duration", str(args.seconds), "--format", "raw",
             "--output", str(raw)],
            check=True, capture_output=True,
        )  # fmt: skip
        load.join()
    finally:
        st.stop_all()
    print(summarise(raw, args.top))
    if args.raw is None:
        raw.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
