"""Wall clock with a test offset, so expiry and availability can be fast-forwarded."""

from __future__ import annotations

import time


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def now(self) -> int:
        """Unix seconds, as Stripe's ``created`` fields."""
        return int(self.time())

    def advance(self, seconds: float) -> None:
        self.offset += seconds
