"""The circuit breaker that keeps a hung daemon from costing every call its timeout.

After a call times out, calls skip the daemon (and fail open at once) for an interval: 1 s,
doubling after each further timeout up to 60 s. When the interval is over, the next call is the
probe and tries the daemon again while the others keep skipping; any outcome other than a
timeout (an answer, an error reply, a refused connection — none of them costs the timeout)
closes the breaker.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional


class Breaker:
    """Whether a call may try the daemon now. ``first`` and ``cap`` bound the interval (seconds);
    ``clock`` gives the time in seconds (``time.monotonic``; tests pass their own). Thread-safe."""

    def __init__(self, first: float = 1.0, cap: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.first = first
        self.cap = cap
        self.clock = clock
        self._lock = threading.Lock()
        self._interval = 0.0  # 0 while closed
        self._until = 0.0
        self._epoch = 0

    def allow(self) -> Optional[int]:
        """A ticket for a call that may try the daemon (pass it to ``timed_out``), or ``None``
        when the call must skip it. Once an interval is over, one call gets a ticket and the
        interval starts again for the others while it probes."""
        with self._lock:
            if self._interval == 0:
                return self._epoch
            now = self.clock()
            if now < self._until:
                return None
            self._until = now + self._interval
            return self._epoch

    def remaining(self) -> float:
        """Seconds until the next call may probe the daemon; 0 while closed."""
        with self._lock:
            return max(self._until - self.clock(), 0.0) if self._interval else 0.0

    def timed_out(self, ticket: int) -> Optional[float]:
        """Records that the call holding ``ticket`` timed out and returns the interval the
        daemon is now skipped for; ``None`` when another call already recorded this outage (a
        ticket from before the breaker last opened or closed)."""
        with self._lock:
            if ticket != self._epoch:
                return None
            self._epoch += 1
            self._interval = min(self._interval * 2, self.cap) if self._interval else self.first
            self._until = self.clock() + self._interval
            return self._interval

    def reset(self) -> None:
        """Closes the breaker: the daemon answered, or failed without making the call wait."""
        with self._lock:
            if self._interval:
                self._epoch += 1
                self._interval = 0.0
