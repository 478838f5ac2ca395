"""prefetch: items arrive in order, errors arrive after the items before them, and an
abandoned consumer does not leave a producer thread blocked."""

import threading
import time

import pytest

from videofeedback.pipeline import prefetch


def test_items_in_order():
    assert list(prefetch(range(1000), depth=3)) == list(range(1000))


def test_error_after_earlier_items():
    def produce():
        yield 1
        yield 2
        raise ValueError("broken at 3")

    seen = []
    with pytest.raises(ValueError, match="broken at 3"):
        for item in prefetch(produce()):
            seen.append(item)
    assert seen == [1, 2]


def test_abandoned_consumer_releases_the_producer():
    before = threading.active_count()
    iterator = prefetch(iter(range(10_000)), depth=2)
    assert next(iterator) == 0
    iterator.close()
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threading.active_count() == before
