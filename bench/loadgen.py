"""Load generators: wrk (C, not Python-bound) when installed, else threads of http.client.

Both report requests/s and p50/p99 latency; webhook bodies are pre-signed, each
with its own event id, so the server sees what Stripe sends (never a replay).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

WRK_SCRIPT = Path(__file__).resolve().parent / "wrk" / "report.lua"


@dataclass
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    tool: str
    exhausted: int = 0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_path() -> str | None:
    """wrk if installed, unless BENCH_LOADGEN=python asks for the Python generator."""
    if os.environ.get("BENCH_LOADGEN") == "python":
        return None
    return shutil.which("wrk")


def tool_name() -> str:
    if wrk_path():
        version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
        return (version.split("[")[0].strip() or "wrk") + ", 1 thread"
    return "python http.client threads, one per connection (GIL-bound; wrk is not used)"


# --- Signed webhook bodies -------------------------------------------------------------


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def signed_bodies(
    count: int, *, secret: str, prefix: str, event_type: str, obj: dict
) -> list[tuple[str, bytes]]:
    """`count` events as Stripe sends them: unique ids, signed now (300 s tolerance)."""
    now = int(time.time())
    template = {
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": now,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
        "data": {"object": obj},
    }
    out = []
    for n in range(count):
        payload = json.dumps({"id": f"evt_{prefix}_{n:07d}", **template}).encode()
        out.append((sign(payload, secret, now), payload))
    return out


def bodies_file(bodies: Sequence[tuple[str, bytes]]) -> Path:
    with tempfile.NamedTemporaryFile("wb", suffix=".bodies", delete=False) as handle:
        for signature, payload in bodies:
            handle.write(signature.encode() + b"\t" + payload + b"\n")
    return Path(handle.name)


# --- wrk ---------------------------------------------------------------------------------

_FIGURES = re.compile(r"BENCH (.*)")


def wrk(
    base: str,
    path: str,
    *,
    connections: int,
    seconds: float,
    bodies: Sequence[tuple[str, bytes]] | None = None,
    cycle: bool = False,
) -> Load:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s"]
    argv += ["-s", str(WRK_SCRIPT), base + path]
    file = None
    if bodies is not None:
        file = bodies_file(bodies)
        argv += ["--", str(file), "1", path] + (["cycle"] if cycle else [])
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    finally:
        if file is not None:
            file.unlink()
    match = _FIGURES.search(out.stdout)
    if match is None:
        raise RuntimeError(f"wrk printed no figures:\n{out.stdout}\n{out.stderr}")
    f = {k: float(v) for k, v in (item.split("=") for item in match.group(1).split())}
    errors = f["status_errors"] + f["connect"] + f["read"] + f["write"] + f["timeout"]
    return Load(
        requests=int(f["requests"] - f["exhausted"]),
        seconds=f["duration_us"] / 1e6,
        p50_ms=f["p50_us"] / 1000,
        p99_ms=f["p99_us"] / 1000,
        errors=int(errors),
        tool="wrk",
        exhausted=int(f["exhausted"]),
    )


# --- Python threads ------------------------------------------------------------------------


def python_load(
    base: str,
    path: str,
    *,
    connections: int,
    seconds: float,
    bodies: Sequence[tuple[str, bytes]] | None = None,
    cycle: bool = False,
) -> Load:
    """Keep-alive http.client connections, one per thread; each body sent once unless
    `cycle`. Stops after `seconds` or when the bodies run out. GIL-bound: its own ceiling
    shows in the bare-view figures."""
    host, port = base.removeprefix("http://").split(":")
    lock = threading.Lock()
    cursor = [0]
    latencies: list[float] = []
    errors = [0]
    stop_at = time.perf_counter() + seconds

    def next_body() -> tuple[str, bytes] | None:
        with lock:
            n = cursor[0]
            cursor[0] += 1
        if bodies is None:
            return ("", b"")
        if n >= len(bodies):
            if not cycle:
                return None
            n %= len(bodies)
        return bodies[n]

    def run() -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        local: list[float] = []
        bad = 0
        while time.perf_counter() < stop_at:
            item = next_body()
            if item is None:
                break
            signature, payload = item
            started = time.perf_counter()
            try:
                if bodies is None:
                    conn.request("GET", path)
                else:
                    headers = {"Content-Type": "application/json", "Stripe-Signature": signature}
                    conn.request("POST", path, body=payload, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status >= 400:
                    bad += 1
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                continue
            local.append(time.perf_counter() - started)
        conn.close()
        with lock:
            latencies.extend(local)
            errors[0] += bad

    threads = [threading.Thread(target=run) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return Load(
        requests=len(latencies),
        seconds=elapsed,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        errors=errors[0],
        tool="python",
    )


def load(base: str, path: str, **kwargs) -> Load:
    """wrk when installed, else the Python generator."""
    return (wrk if wrk_path() else python_load)(base, path, **kwargs)


def percentile(values: Iterable[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def median_load(runs: list[Load]) -> Load:
    """The run with the median rate (its own latencies, not a mix of runs)."""
    ordered = sorted(runs, key=lambda r: r.rps)
    return ordered[len(ordered) // 2]


def mean(values: Iterable[float]) -> float:
    values = list(values)
    return statistics.fmean(values) if values else 0.0
