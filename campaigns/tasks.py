"""Celery tasks: leaves. Each takes ids, calls one service and is safe to run twice.
Nothing imports this module: services enqueue by task name (core.jobs)."""

from celery import shared_task

from campaigns import services


@shared_task(name="campaigns.prepare")
def prepare(campaign_id: str) -> bool:
    return services.campaign_prepare(campaign_id=campaign_id)


@shared_task(name="campaigns.start")
def start(campaign_id: str) -> bool:
    return services.campaign_start(campaign_id=campaign_id)


@shared_task(name="campaigns.create_batch", acks_late=True)
def create_batch(campaign_id: str, first: int, last: int) -> int:
    return services.campaign_create_batch(campaign_id=campaign_id, first=first, last=last)


@shared_task(name="campaigns.cancel_messages")
def cancel_messages(campaign_id: str) -> int:
    return services.campaign_cancel_messages(campaign_id=campaign_id)


@shared_task(name="campaigns.tick")
def tick() -> int:
    return services.campaigns_tick()
