"""Long polls cannot starve the web process: past the caps a poll answers at once, and
health checks always get a thread."""

import threading
import time

import pytest
import requests

from tests.factories import ApiKeyFactory

pytestmark = pytest.mark.django_db(transaction=True)


def poll(live_server, api_key, wait: int) -> float:
    started = time.monotonic()
    response = requests.get(
        f"{live_server.url}/v1/events?wait={wait}",
        headers={"Authorization": f"Bearer {api_key.raw_key}"},
        timeout=wait + 10,
    )
    assert response.status_code == 200
    return time.monotonic() - started


def test_past_the_caps_a_poll_answers_at_once_and_healthz_never_waits(live_server, settings):
    settings.EVENTS_LONG_POLLS_PER_PROCESS = 3
    settings.EVENTS_LONG_POLLS_PER_KEY = 2
    alice, bob = ApiKeyFactory(), ApiKeyFactory()
    waiting = [
        threading.Thread(target=poll, args=(live_server, key, 3)) for key in (alice, alice, bob)
    ]
    for thread in waiting:
        thread.start()
    time.sleep(0.5)  # the three hold their slots now

    per_key = poll(live_server, alice, 3)  # alice's third
    per_process = poll(live_server, ApiKeyFactory(), 3)  # a fourth in the process
    health = requests.get(f"{live_server.url}/healthz", timeout=5)
    for thread in waiting:
        thread.join()

    assert per_key < 1.5
    assert per_process < 1.5
    assert health.status_code == 200
    assert health.elapsed.total_seconds() < 1.0


def test_within_the_caps_a_poll_waits(live_server, settings):
    settings.EVENTS_LONG_POLLS_PER_PROCESS = 3
    settings.EVENTS_LONG_POLLS_PER_KEY = 2

    assert poll(live_server, ApiKeyFactory(), 1) >= 0.9
