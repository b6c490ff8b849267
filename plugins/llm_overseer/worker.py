"""The background worker: runs model calls off the bot's thread.

``submit`` never blocks: it returns ``False`` when the same job key is already queued or
running, or when the queue is full. Higher priority (tier 3 before tier 2 before tier 1) runs
first. The thread is a daemon, so a model that hangs cannot keep the process alive; ``stop``
waits at most its timeout.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)

Job = Callable[[], None]


class Worker:
    """One background thread consuming a bounded priority queue of jobs."""

    def __init__(self, name: str = "llm-overseer", maxsize: int = 16) -> None:
        self._queue: queue.PriorityQueue[tuple[int, int, str, Job]] = queue.PriorityQueue(
            maxsize=maxsize
        )
        self._keys: set[str] = set()
        self._keys_lock = threading.Lock()
        self._counter = itertools.count()
        self.stop_event = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, key: str, priority: int, job: Job) -> bool:
        """Queue ``job`` (lower ``priority`` value runs first); never blocks."""
        if self.stop_event.is_set():
            return False
        with self._keys_lock:
            if key in self._keys:
                return False
            try:
                self._queue.put_nowait((priority, next(self._counter), key, job))
            except queue.Full:
                return False
            self._keys.add(key)
        return True

    def pending(self, key: str) -> bool:
        """True while a job with ``key`` is queued or running."""
        with self._keys_lock:
            return key in self._keys

    def _run(self) -> None:
        while not self.stop_event.is_set():
            try:
                _prio, _n, key, job = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                job()
            except Exception:
                logger.exception("llm_overseer: background job %s failed", key)
            finally:
                with self._keys_lock:
                    self._keys.discard(key)

    def idle(self) -> bool:
        """True when nothing is queued or running."""
        with self._keys_lock:
            return not self._keys

    def stop(self, timeout: float = 2.0) -> bool:
        """Ask the thread to stop and wait up to ``timeout`` seconds; True once it ended."""
        self.stop_event.set()
        self._thread.join(timeout)
        return not self._thread.is_alive()
