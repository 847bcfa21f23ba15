import logging.config
import os
from typing import Any

from celery import Celery, signals
from kombu import Exchange, Queue

from core import logs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# The queues the Procfile's worker consumes; slow model calls never hold back sends.
QUEUES = ("default", "llm", "delivery", "webhooks")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each queue gets its own exchange and routing key, so a task routed to one queue is
# never copied into the others.
app.conf.task_queues = [Queue(name, Exchange(name), routing_key=name) for name in QUEUES]
app.autodiscover_tasks()

# A web request's id follows it into the tasks it causes (core.logs). weak=False: the
# receivers are module functions, kept alive anyway; strong references say so.
signals.before_task_publish.connect(logs.on_before_task_publish, weak=False)
signals.task_prerun.connect(logs.on_task_prerun, weak=False)
signals.task_postrun.connect(logs.on_task_postrun, weak=False)


@signals.setup_logging.connect(weak=False)
def _logging_from_django_settings(**kwargs: Any) -> None:
    """Worker and beat log through settings.LOGGING (JSON or plain, with request ids)
    like the web process, instead of Celery replacing the root logger's handlers with
    its own format. The level is LOG_LEVEL's, not the command line's --loglevel."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
