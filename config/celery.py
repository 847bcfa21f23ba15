import os

from celery import Celery
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# The queues the Procfile's worker consumes; slow model calls never hold back sends.
QUEUES = ("default", "llm", "delivery", "webhooks")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each queue gets its own exchange and routing key, so a task routed to one queue is
# never copied into the others.
app.conf.task_queues = [Queue(name, Exchange(name), routing_key=name) for name in QUEUES]
app.autodiscover_tasks()
