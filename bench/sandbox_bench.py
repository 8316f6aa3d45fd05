"""Throughput of the offline Stripe sandbox (latency off).

Starts ``python -m stripe_sandbox`` on a free loopback port in its own process,
then drives two calls concurrently from keep-alive ``http.client`` connections:
``POST /v1/customers`` and ``GET /v1/payment_intents/{id}``. Prints requests per
second and p50/p99 latency per call and overall. Bounded: at most
``--requests`` calls or ``--seconds`` seconds, loopback only.

    .venv/bin/python bench/sandbox_bench.py [--threads 8] [--seconds 10]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk_test_bench_000000000000"
HEADERS = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/x-www-form-urlencoded"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_sandbox(port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "stripe_sandbox", "--port", str(port), "--latency-ms", "0"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if "listening" not in line:
        process.kill()
        raise SystemExit(f"sandbox did not start: {line}")
    return process


def call(conn: http.client.HTTPConnection, method: str, path: str, body: str | None = None) -> dict:
    conn.request(method, path, body=body, headers=HEADERS)
    response = conn.getresponse()
    payload = response.read()
    if response.status != 200:
        raise RuntimeError(f"{method} {path}: {response.status} {payload[:200]!r}")
    return json.loads(payload)


def worker(
    port: int,
    intent_id: str,
    stop_at: float,
    budget: list[int],
    lock: threading.Lock,
    timings: dict[str, list[float]],
    index: int,
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    local: dict[str, list[float]] = {"create_customer": [], "retrieve_payment_intent": []}
    n = index
    while time.perf_counter() < stop_at:
        with lock:
            if budget[0] <= 0:
                break
            budget[0] -= 1
        n += 1
        started = time.perf_counter()
        if n % 2:
            call(conn, "POST", "/v1/customers", f"email=bench{n}%40example.com&metadata[n]={n}")
            local["create_customer"].append(time.perf_counter() - started)
        else:
            call(conn, "GET", f"/v1/payment_intents/{intent_id}")
            local["retrieve_payment_intent"].append(time.perf_counter() - started)
    conn.close()
    with lock:
        for name, values in local.items():
            timings[name].extend(values)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(name: str, values: list[float], elapsed: float) -> None:
    print(
        f"{name:26s} {len(values):7d} req  {len(values) / elapsed:8.0f} req/s  "
        f"p50 {percentile(values, 0.50) * 1000:6.2f} ms  "
        f"p99 {percentile(values, 0.99) * 1000:6.2f} ms  "
        f"mean {statistics.fmean(values) * 1000:6.2f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--requests", type=int, default=60_000)
    parser.add_argument("--warmup", type=int, default=300)
    args = parser.parse_args()
    port = free_port()
    process = start_sandbox(port)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        intent = call(
            conn,
            "POST",
            "/v1/payment_intents",
            "amount=2500&currency=usd&capture_method=manual"
            "&payment_method=pm_card_visa&confirm=true",
        )
        for i in range(args.warmup):
            call(conn, "GET", f"/v1/payment_intents/{intent['id']}")
            call(conn, "POST", "/v1/customers", f"email=warm{i}%40example.com")
        conn.close()
        timings: dict[str, list[float]] = {"create_customer": [], "retrieve_payment_intent": []}
        lock = threading.Lock()
        budget = [args.requests]
        started = time.perf_counter()
        stop_at = started + args.seconds
        threads = [
            threading.Thread(
                target=worker, args=(port, intent["id"], stop_at, budget, lock, timings, i)
            )
            for i in range(args.threads)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=10)
    print(
        f"stripe_sandbox benchmark: {args.threads} keep-alive client threads, "
        f"{elapsed:.1f} s, latency off, {os.cpu_count()} CPUs"
    )
    for name, values in timings.items():
        report(name, values, elapsed)
    report("total", [v for values in timings.values() for v in values], elapsed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
