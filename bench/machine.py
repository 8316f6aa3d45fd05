"""What the figures were measured on: hardware, versions, date, load."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from importlib.metadata import version
from pathlib import Path

import psycopg
import redis

from . import loadgen, stack


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def describe() -> dict[str, str]:
    with psycopg.connect(stack.PG_ADMIN_URL) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
        sync = conn.execute("SHOW synchronous_commit").fetchone()[0]
    redis_version = redis.Redis.from_url(stack.REDIS_URL).info("server")["redis_version"]
    try:
        virt = subprocess.run(
            ["systemd-detect-virt"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        virt = ""
    return {
        "Date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": f"{_cpu_model()}, {os.cpu_count()} cores" + (f" ({virt})" if virt else ""),
        "RAM": f"{_ram_gib():.1f} GiB",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "PostgreSQL": f"{pg} (synchronous_commit={sync})",
        "Redis": redis_version,
        "Django / gunicorn / Celery / psycopg": " / ".join(
            version(name) for name in ("django", "gunicorn", "celery", "psycopg")
        ),
        "Load generator": loadgen.tool_name(),
    }


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"
