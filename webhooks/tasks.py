"""Celery tasks of outbound webhooks: thin, take ids, safe to run twice (the service
claims a delivery with a conditional UPDATE). All run on the `webhooks` queue, so a slow
or dead endpoint holds back neither message sending nor replies."""

from celery import shared_task

from webhooks import services


@shared_task(name="webhooks.fan_out")
def webhooks_fan_out_task(event_id: int) -> int:
    """The event's deliveries, and their first attempts in the same task."""
    pending = services.webhooks_fan_out(event_id=event_id, enqueue=False)
    return services.webhooks_deliver_now(delivery_ids=pending)


@shared_task(name="webhooks.deliver")
def webhook_deliver_task(delivery_id: str) -> str | None:
    return services.webhook_deliver(delivery_id=delivery_id)


@shared_task(name="webhooks.sweep")
def webhooks_sweep_task() -> int:
    return services.webhooks_sweep()
