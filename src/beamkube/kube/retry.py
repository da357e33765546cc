"""Retry policy: capped exponential backoff with jitter, honouring `Retry-After`.

Role: pure (no I/O; the client sleeps). Used for 409 races, 429, 5xx and dropped connections. Tests swap
`DEFAULT` (or pass a policy) to keep backoffs in milliseconds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` tries in total; delay before try n+1 is min(cap, base·2ⁿ) ± jitter (fraction)."""

    attempts: int = 6
    base: float = 0.25
    cap: float = 8.0
    jitter: float = 0.2

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed try number `attempt` (1-based)."""
        backoff: float = min(self.cap, self.base * 2.0 ** (attempt - 1))
        if retry_after is not None:
            # The server knows its load better than our curve, but never wait longer than the cap.
            backoff = min(self.cap, max(backoff, retry_after))
        spread = backoff * self.jitter
        return max(0.0, backoff + random.uniform(-spread, spread))


DEFAULT = RetryPolicy()
