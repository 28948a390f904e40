"""Which render jobs may run now: each language's own slots, and a cap for the whole machine.

Without a machine-wide cap, every language runs its own slots at once (8 languages x 2 = 16 jobs
on a 2-core box): each job then gets an eighth of a core, and valid programs run into their
wall-time limits (a false ``timeout``). Without an order across languages, a pool whose threads
wait on one language's slots starves the others: a run rendered its languages one after another,
and each language's slowest program started last.

So a job waits here, holding no thread, until its language has a free slot and fewer than
``limit`` jobs run in all; then ``start`` is called. Among the jobs that could start, the one with
the longest wall-time limit goes first: a language whose programs may take 30 s should not begin
its possibly-endless program last, when nothing is left to overlap it with (longest-processing-
time-first, with the limit as the worst case). Between languages with the same limit, the one with
fewer jobs running goes first, so that they advance side by side rather than one after another
(each one's slowest program may be its last); then submission order. A job that becomes a long
runner gives its place back (``done``) like one that ended.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(order=True)
class _Ticket:
    priority: tuple[float, int]
    start: Callable[[], None] = field(compare=False)
    cancel: Callable[[], None] = field(compare=False)


class Admission:
    """Per-language slots plus a machine-wide cap; waiting jobs hold no thread."""

    def __init__(self, limit: int):
        if limit < 1:
            raise ValueError(f"the pool must run at least one job at once (got max_running={limit})")
        self.limit = limit
        self._lock = threading.Lock()
        self._queues: dict[str, list[_Ticket]] = {}
        self._caps: dict[str, int] = {}
        self._busy: dict[str, int] = {}
        self._running = 0
        self._seq = itertools.count()
        self._closed = False

    def request(
        self,
        language: str,
        cap: int,
        wall_s: float,
        start: Callable[[], None],
        cancel: Callable[[], None],
    ) -> None:
        """Queue a job of ``language`` (at most ``cap`` of them at once); ``start()`` when admitted.

        ``start`` runs in the thread that frees the place (or in this one), outside the lock: it
        must only hand the job on (submit it to an executor, set an event). ``cancel`` is called
        instead if the pool closes first.
        """
        with self._lock:
            if self._closed:
                ready, cancelled = [], [cancel]
            else:
                self._caps[language] = max(1, cap)
                self._busy.setdefault(language, 0)
                ticket = _Ticket((-wall_s, next(self._seq)), start, cancel)
                heapq.heappush(self._queues.setdefault(language, []), ticket)
                ready, cancelled = self._admit(), []
        for call in (*ready, *cancelled):
            call()

    def done(self, language: str) -> None:
        """A job of ``language`` ended or became a long runner: its place goes to the next job."""
        with self._lock:
            self._busy[language] -= 1
            self._running -= 1
            ready = self._admit()
        for start in ready:
            start()

    def close(self) -> None:
        """Cancel every job still waiting (the pool is closing)."""
        with self._lock:
            self._closed = True
            waiting = [t for queue in self._queues.values() for t in queue]
            self._queues.clear()
        for ticket in waiting:
            ticket.cancel()

    def pending(self, language: str) -> int:
        """Jobs of ``language`` waiting for their turn or running now (long runners not counted)."""
        with self._lock:
            return len(self._queues.get(language, ())) + self._busy.get(language, 0)

    @property
    def running(self) -> int:
        with self._lock:
            return self._running

    def _admit(self) -> list[Callable[[], None]]:
        ready: list[Callable[[], None]] = []
        while self._running < self.limit:
            best: tuple[float, int, int] | None = None
            best_language = ""
            for language, queue in self._queues.items():
                if queue and self._busy[language] < self._caps[language]:
                    (limit, seq), busy = queue[0].priority, self._busy[language]
                    if best is None or (limit, busy, seq) < best:
                        best, best_language = (limit, busy, seq), language
            if best is None:
                break
            ready.append(heapq.heappop(self._queues[best_language]).start)
            self._busy[best_language] += 1
            self._running += 1
        return ready
