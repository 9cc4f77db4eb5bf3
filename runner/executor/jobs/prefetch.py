"""Produce the next item in a thread while the caller works on the current one.

An import reads and validates chunk n+1 while chunk n is written: the database then works
while Python converts (drivers release the GIL while they wait on the server or step
SQLite). At most one item waits in the queue, so memory holds about three chunks.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Generic, TypeVar, cast

T = TypeVar("T")
_POLL = 0.1


class Prefetch(Generic[T]):
    """Calls ``produce`` in a thread until ``is_last`` says an item was the last one."""

    def __init__(self, produce: Callable[[], T], is_last: Callable[[T], bool]) -> None:
        self._produce, self._is_last = produce, is_last
        self._queue: queue.Queue[tuple[bool, T | BaseException]] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="prefetch", daemon=True)

    def __enter__(self) -> Prefetch[T]:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __iter__(self) -> Iterator[T]:
        while True:
            ok, item = self._queue.get()
            if not ok:
                assert isinstance(item, BaseException)
                raise item
            value = cast(T, item)  # an item, since ok says it is not the producer's error
            yield value
            if self._is_last(value):
                return

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                item = self._produce()
                if not self._put((True, item)) or self._is_last(item):
                    return
        except BaseException as exc:
            self._put((False, exc))

    def _put(self, entry: tuple[bool, T | BaseException]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def close(self) -> None:
        """Stop producing and wait for the thread (it finishes the item in hand)."""
        self._stop.set()
        while self._thread.is_alive():
            try:
                self._queue.get_nowait()
            except queue.Empty:
                pass
            self._thread.join(_POLL)
