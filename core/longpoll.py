"""Caps on long polls (`GET /v1/events?wait=N`), so waiting clients can never hold every
thread of a web process: each poll holds a thread for up to EVENTS_MAX_WAIT seconds.
Over a cap, a poll is answered at once with what there is (clients poll again)."""

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

_lock = threading.Lock()
_by_holder: Counter[str] = Counter()
_in_process = 0


@contextmanager
def long_poll_slot(holder: str) -> Iterator[bool]:
    """Yields whether `holder` (an API key) may wait: fewer than
    EVENTS_LONG_POLLS_PER_PROCESS polls wait in this process and fewer than
    EVENTS_LONG_POLLS_PER_KEY for this holder."""
    global _in_process
    with _lock:
        granted = (
            _in_process < settings.EVENTS_LONG_POLLS_PER_PROCESS
            and _by_holder[holder] < settings.EVENTS_LONG_POLLS_PER_KEY
        )
        if granted:
            _in_process += 1
            _by_holder[holder] += 1
    try:
        yield granted
    finally:
        if granted:
            with _lock:
                _in_process -= 1
                _by_holder[holder] -= 1
                if not _by_holder[holder]:
                    del _by_holder[holder]
