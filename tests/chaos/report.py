"""One row per scenario, and the table `make chaos` prints and writes."""

from __future__ import annotations

import os
import platform
import time
from dataclasses import asdict, dataclass, field


@dataclass
class Row:
    scenario: str
    operations: str
    expected: int
    observed: int  # operations the sandbox accepted
    stranded: int  # asked for, and not done at Stripe and recorded here by the deadline
    duplicated: int  # done twice (a capture, a refund, a refund row)
    recovery_s: float | None  # fault cleared → last operation accepted by the sandbox
    settled_s: float | None  # fault cleared → the shop's rows agree, no event waiting
    http_errors: int  # answers people must get (2xx/3xx) that were 5xx or none
    seconds: float  # the whole scenario, set-up included
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # broken invariants, in words

    def failures(self, recovery_limit: float) -> list[str]:
        """Why this row fails the suite (empty: it passes)."""
        failed = list(self.problems)
        if self.stranded:
            failed.append(f"{self.stranded} operation(s) stranded")
        if self.duplicated:
            failed.append(f"{self.duplicated} operation(s) duplicated")
        if self.http_errors:
            failed.append(f"{self.http_errors} request(s) answered 5xx or not at all")
        if self.recovery_s is not None and self.recovery_s > recovery_limit:
            failed.append(f"recovery {self.recovery_s:.1f} s > {recovery_limit:.0f} s")
        return failed

    def as_dict(self) -> dict:
        return asdict(self)


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def table(rows: list[Row]) -> str:
    lines = [
        "| Scenario | Operations | Expected | Observed | Stranded | Duplicated "
        "| Recovery s | Settled s | HTTP 5xx |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row.scenario} | {row.operations} | {row.expected} | {row.observed} "
            f"| {row.stranded} | {row.duplicated} | {_seconds(row.recovery_s)} "
            f"| {_seconds(row.settled_s)} | {row.http_errors} |"
        )
    return "\n".join(lines)


def details(rows: list[Row], recovery_limit: float) -> str:
    """Notes and failures under the table, one line each."""
    lines = []
    for row in rows:
        for note in row.notes:
            lines.append(f"- {row.scenario}: {note}")
        for failure in row.failures(recovery_limit):
            lines.append(f"- **{row.scenario}: FAILED** {failure}")
    return "\n".join(lines)


def document(rows: list[Row], *, profile: str, recovery_limit: float, elapsed: float) -> str:
    return "\n".join(
        [
            "# Fault suite (`make chaos`)",
            "",
            f"{time.strftime('%Y-%m-%d %H:%M')}, profile `{profile}`, {os.cpu_count()} cores "
            f"({platform.machine()}, Python {platform.python_version()}), "
            f"{elapsed:.0f} s in all. Recovery limit {recovery_limit:.0f} s "
            "(CHAOS_RECOVERY_SECONDS).",
            "",
            table(rows),
            "",
            details(rows, recovery_limit),
            "",
        ]
    )
