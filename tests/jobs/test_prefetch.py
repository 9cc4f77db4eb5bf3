"""The prefetching thread: items in order, errors passed on, stops when asked."""

from __future__ import annotations

import threading

import pytest

from runner.executor.jobs.prefetch import Prefetch


def test_prefetch_yields_every_item_in_order_until_the_last() -> None:
    items = iter(range(10))
    with Prefetch(lambda: next(items), lambda item: item == 9) as produced:
        assert list(produced) == list(range(10))


def test_prefetch_passes_on_the_producers_error() -> None:
    def produce() -> int:
        raise ValueError("broken file")

    with (
        Prefetch(produce, lambda _item: False) as produced,
        pytest.raises(ValueError, match="broken"),
    ):
        list(produced)


def test_prefetch_close_stops_a_producer_that_is_ahead() -> None:
    calls: list[int] = []

    def produce() -> int:
        calls.append(1)
        return len(calls)

    prefetch = Prefetch(produce, lambda _item: False)
    with prefetch as produced:
        assert next(iter(produced)) == 1
    assert not any(t.name == "prefetch" and t.is_alive() for t in threading.enumerate())
    assert len(calls) <= 3  # one taken, at most one queued and one in hand
