"""Campaign fixtures: an active outbound SMS flow on a fast sender, and helpers that
play the workers' part (tasks run inline after commit, the send sweep on demand)."""

import pytest
from django.utils import timezone

from channels.models import Sender
from conversations import delivery, scheduling
from tests.factories import MessageFlowFactory

URL = "/v1/api/campaigns"


@pytest.fixture
def sender(workspace):
    # Fast, so pacing never sleeps long in the tests (they send one after another).
    return Sender.objects.create(
        workspace=workspace, channel="SMS", address="+14155550100", max_per_second=1000
    )


@pytest.fixture
def flow(workspace, sender):
    return MessageFlowFactory(
        workspace=workspace,
        sender=sender,
        is_active=True,
        direction="outbound",
        initiation_message="Hi {{customer.name|there}}, see you {{dynamic.when|soon}}.",
    )


@pytest.fixture
def workers(celery_eager, django_capture_on_commit_callbacks):
    """Runs what the workers would: `workers(call)` runs call with every task it
    enqueues executed after commit; `workers.send()` is the send sweep and its tasks."""

    class Workers:
        def __call__(self, call, *args, **kwargs):
            with django_capture_on_commit_callbacks(execute=True):
                return call(*args, **kwargs)

        def send(self) -> dict:
            outcomes = {}
            while ids := scheduling.dispatch_due():
                outcomes.update(self(delivery.deliver_batch, ids))
            return outcomes

        def tick(self) -> int:
            from campaigns.services import campaigns_tick

            return self(campaigns_tick)

    return Workers()


def recipients(*numbers: str, when: str = "Monday") -> list[dict]:
    return [
        {
            "to": number,
            "metadata": {"customerDetails": {"name": f"N{i}"}},
            "dynamic": {"when": when},
        }
        for i, number in enumerate(numbers)
    ]


def create(api_client, flow, rows: list, **fields):
    body = {"name": "Spring", "flowId": str(flow.pk), "autopilot": True, "recipients": rows}
    return api_client.post(URL, {**body, **fields}, format="json")


def now():
    return timezone.now()
