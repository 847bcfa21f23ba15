"""Operability: request ids in logs and into tasks, Sentry without PHI, /metrics."""

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from celery import Celery
from celery.worker.request import Request as WorkerRequest
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from pythonjsonlogger.json import JsonFormatter

from config import metrics
from config.celery import app as celery_app
from conversations.events import event_record
from conversations.models import DeliveryStatus, Message, Role
from core import jobs, logs
from core.sentry import FILTERED, scrub_event
from tests.factories import ConversationFactory, MessageFactory
from webhooks.models import WebhookAttempt, WebhookDelivery
from webhooks.services import webhook_endpoint_create

ROOT = Path(settings.BASE_DIR)
logger = logging.getLogger("tests.observability")

# --- A view and a task that log, for the request id's round trip ----------------------

TASK = "tests.observability.note_request_id"
seen_by_task: list[str | None] = []


def note_request_id() -> None:
    logger.info("task ran")
    seen_by_task.append(logs.request_id.get())


celery_app.task(name=TASK)(note_request_id)


def logging_view(request: HttpRequest) -> JsonResponse:
    logger.info("view ran")
    if "enqueue" in request.GET:
        jobs.enqueue(TASK, [])
        logger.info("view ran after its task")
    return JsonResponse({"seen": logs.request_id.get()})


urlpatterns = [path("logged", logging_view)]


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []
        self.addFilter(logs.RequestIdFilter())  # as the console handler has it

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def captured() -> Iterator[Captured]:
    """The records of this module's logger. On the logger itself, not the root: an
    eager task makes Celery set Django up again, which replaces the root's handlers."""
    handler = Captured()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    seen_by_task.clear()
    yield handler
    logger.removeHandler(handler)


def test_a_request_without_an_id_gets_a_new_one_in_the_response(client):
    response = client.get("/healthz")

    rid = response.headers["X-Request-ID"]
    assert len(rid) == 32
    assert rid != client.get("/healthz").headers["X-Request-ID"]


def test_a_sane_incoming_request_id_is_kept_and_returned(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a.42:req_9")

    assert response.headers["X-Request-ID"] == "lb-7f3a.42:req_9"


@pytest.mark.parametrize(
    "incoming",
    ["x" * 65, "has space", 'quote"d', "line\nbreak", "-leading-dash", "", "é"],
)
def test_an_insane_incoming_request_id_is_replaced(client, incoming):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=incoming)

    rid = response.headers["X-Request-ID"]
    assert rid != incoming
    assert len(rid) == 32


@pytest.mark.urls("tests.test_observability")
def test_a_requests_log_records_carry_its_id(client, captured):
    response = client.get("/logged", HTTP_X_REQUEST_ID="req-123")

    assert response.headers["X-Request-ID"] == "req-123"
    assert response.json() == {"seen": "req-123"}
    [record] = [r for r in captured.records if r.getMessage() == "view ran"]
    assert record.request_id == "req-123"
    # Outside the request the id is gone again.
    assert logs.request_id.get() is None


def test_records_outside_a_request_have_a_dash(captured):
    logger.info("no request")

    assert captured.records[-1].request_id == "-"


def test_the_console_handler_adds_the_request_id_to_every_record():
    [handler] = [h for h in logging.getLogger().handlers if h.name == "console"]
    assert any(isinstance(f, logs.RequestIdFilter) for f in handler.filters)
    stream = io.StringIO()
    old = handler.setStream(stream)
    token = logs.request_id.set("console-id")
    try:
        logging.getLogger("tests.observability").warning("through the real handler")
    finally:
        logs.request_id.reset(token)
        handler.setStream(old)

    assert "[console-id]" in stream.getvalue() or '"console-id"' in stream.getvalue()


@pytest.mark.urls("tests.test_observability")
def test_the_request_id_reaches_a_task_run_eagerly_and_stays_after_it(
    client, captured, celery_eager
):
    response = client.get("/logged?enqueue=1", HTTP_X_REQUEST_ID="req-eager")

    assert response.status_code == 200
    assert seen_by_task == ["req-eager"]
    by_message = {r.getMessage(): r.request_id for r in captured.records}
    assert by_message["task ran"] == "req-eager"
    assert by_message["view ran after its task"] == "req-eager"


def test_the_request_id_travels_in_the_task_message_to_the_worker(captured):
    """Published by name through a real (in-memory) broker, then run as a worker runs a
    message: the id goes in the message's headers and comes out in the task's logs."""
    app = Celery("observability-test", broker="memory://", set_as_current=False)
    app.conf.task_default_queue = "observability-test"
    app.task(name=TASK)(note_request_id)

    token = logs.request_id.set("req-worker")
    try:
        app.send_task(TASK, args=[])
    finally:
        logs.request_id.reset(token)
    assert logs.request_id.get() is None

    with app.connection_for_read() as connection:
        queue = connection.SimpleQueue("observability-test")
        message = queue.get(timeout=5)
        assert message.headers[logs.TASK_HEADER] == "req-worker"
        WorkerRequest(message, app=app, task=app.tasks[TASK]).execute()
        queue.close()

    assert seen_by_task == ["req-worker"]
    assert [r.request_id for r in captured.records if r.getMessage() == "task ran"] == [
        "req-worker"
    ]
    # The worker thread is clean for its next task.
    assert logs.request_id.get() is None


def test_task_signals_set_and_clear_the_id_in_a_worker_thread():
    class Task:
        request = type("Context", (), {"request_id": "from-headers"})()

    headers: dict = {}
    logs.on_before_task_publish(headers=headers)
    assert headers == {}  # nothing to copy outside a request

    logs.on_task_prerun(task_id="t1", task=Task())
    assert logs.request_id.get() == "from-headers"
    logs.on_before_task_publish(headers=headers)  # a task enqueueing another
    assert headers == {"request_id": "from-headers"}

    logs.on_task_postrun(task_id="t1")
    assert logs.request_id.get() is None


def test_a_forged_request_id_in_task_headers_is_not_used():
    class Task:
        request = type("Context", (), {"request_id": "bad id\nwith a newline"})()

    logs.on_task_prerun(task_id="t2", task=Task())
    try:
        assert logs.request_id.get() is None
    finally:
        logs.on_task_postrun(task_id="t2")


def test_json_log_lines_are_json_with_the_request_id():
    config = dict(settings.LOGGING["formatters"]["json"])
    formatter = JsonFormatter(**{k: v for k, v in config.items() if k != "()"})
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(formatter)
    handler.addFilter(logs.RequestIdFilter())
    record = logging.LogRecord("svc", logging.INFO, __file__, 1, "sent %s", ("m-1",), None)

    token = logs.request_id.set("req-json")
    try:
        handler.handle(record)
    finally:
        logs.request_id.reset(token)

    line = json.loads(handler.stream.getvalue())
    assert line["request_id"] == "req-json"
    assert line["message"] == "sent m-1"
    assert {"time", "level", "logger"} <= set(line)


def _run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    environment.update(env)
    return subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def test_production_logs_json_and_debug_logs_plain_by_default():
    code = "import django, logging; django.setup(); logging.getLogger('svc').warning('started')"
    production = _run_python(
        code,
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="false",
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="api.example.com",
    )
    debug = _run_python(code, DJANGO_SETTINGS_MODULE="config.settings", DEBUG="true")

    line = json.loads(production.stderr.strip().splitlines()[-1])
    assert line["message"] == "started"
    assert line["request_id"] == "-"
    assert debug.stderr.strip().splitlines()[-1].endswith("WARNING svc [-] started")


# --- Sentry ---------------------------------------------------------------------------

PHI = "my diagnosis is private"


def test_before_send_removes_bodies_query_strings_and_message_content():
    event = {
        "message": "Task failed",
        "request": {
            "url": f"https://api.example.com/v1/messages?q={PHI}",
            "method": "POST",
            "data": {"text": PHI},
            "query_string": f"q={PHI}",
            "cookies": {"sessionid": "secret"},
            "headers": {"Authorization": "Bearer key", "User-Agent": "curl"},
        },
        "extra": {
            "celery-job": {"args": ["m-1"], "kwargs": {"text": PHI}},
            "nested": [{"metadata": {"note": PHI}}, {"Body": PHI}],
        },
        "contexts": {"message": {"content": PHI, "id": "m-1"}},
        "breadcrumbs": {"values": [{"category": "sms", "data": {"body": PHI}}]},
        "exception": {
            "values": [{"stacktrace": {"frames": [{"function": "f", "vars": {"text": PHI}}]}}]
        },
    }

    scrubbed = scrub_event(event, {})

    dumped = json.dumps(scrubbed)
    assert PHI not in dumped
    assert "secret" not in dumped
    assert "Bearer key" not in dumped
    assert scrubbed["request"]["url"] == "https://api.example.com/v1/messages"
    assert "data" not in scrubbed["request"]
    assert "query_string" not in scrubbed["request"]
    assert scrubbed["extra"]["celery-job"]["kwargs"]["text"] == FILTERED
    assert scrubbed["extra"]["celery-job"]["args"] == ["m-1"]  # ids stay
    assert scrubbed["contexts"]["message"]["id"] == "m-1"
    assert scrubbed["request"]["headers"]["User-Agent"] == "curl"


def test_sentry_is_not_initialised_without_a_dsn():
    import sentry_sdk

    assert not settings.SENTRY_DSN
    assert not sentry_sdk.get_client().is_active()

    code = "import django, sentry_sdk; django.setup(); print(sentry_sdk.get_client().is_active())"
    result = _run_python(code, DJANGO_SETTINGS_MODULE="config.settings", SENTRY_DSN="")
    assert result.stdout.strip() == "False"


def test_sentry_is_initialised_with_a_dsn_without_pii_and_with_the_scrubber():
    code = (
        "import django, sentry_sdk; django.setup(); c = sentry_sdk.get_client(); "
        "o = c.options; "
        "print(c.is_active(), o['send_default_pii'], o['before_send'].__name__, "
        "o['environment'], o['release'], o['traces_sample_rate'], "
        "sorted(i for i in c.integrations if i in ('django', 'celery')))"
    )
    result = _run_python(
        code,
        DJANGO_SETTINGS_MODULE="config.settings",
        SENTRY_DSN="https://public@127.0.0.1:9/1",
        SENTRY_ENVIRONMENT="staging",
        SENTRY_RELEASE="abc123",
    )

    assert result.stdout.strip() == "True False scrub_event staging abc123 0.0 ['celery', 'django']"


# --- /metrics -------------------------------------------------------------------------

TOKEN = "scrape-token-1"


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client) -> dict[str, dict[tuple, float]]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def test_metrics_is_a_404_when_no_token_is_configured(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {TOKEN}", "Bearer"])
def test_metrics_is_a_401_without_the_right_token(client, metrics_token, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}

    response = client.get("/metrics", **headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def _at(message: Message, **times) -> None:
    Message.objects.filter(pk=message.pk).update(**times)


@pytest.mark.django_db
def test_metrics_count_messages_by_status_and_channel(client, metrics_token):
    sms = ConversationFactory(channel="SMS")
    email = ConversationFactory(channel="Email")
    for _ in range(2):
        MessageFactory(conversation=sms, role=Role.AGENT, status=DeliveryStatus.SENT)
    MessageFactory(conversation=sms, role=Role.AGENT, status=DeliveryStatus.FAILED)
    MessageFactory(conversation=email, role=Role.AGENT, status=DeliveryStatus.SCHEDULED)

    messages = scrape(client)["messaging_messages"]

    assert messages[(("channel", "SMS"), ("status", "sent"))] == 2
    assert messages[(("channel", "SMS"), ("status", "failed"))] == 1
    assert messages[(("channel", "Email"), ("status", "scheduled"))] == 1
    assert messages[(("channel", "Email"), ("status", "sent"))] == 0
    assert len(messages) == len(DeliveryStatus.values) * 2


@pytest.mark.django_db
def test_metrics_give_send_lateness_of_the_last_15_minutes(client, metrics_token):
    now = timezone.now()
    conversation = ConversationFactory(channel="SMS")
    for late, sent_ago in ((0.3, 60), (3.0, 120), (1.0, 20 * 60)):
        message = MessageFactory(conversation=conversation, role=Role.AGENT, status="sent")
        sent_at = now - timedelta(seconds=sent_ago)
        _at(message, sent_at=sent_at, send_at=sent_at - timedelta(seconds=late))
    MessageFactory(conversation=conversation, role=Role.USER, status="received")

    samples = scrape(client)

    buckets = {
        dict(labels)["le"]: value
        for labels, value in samples["messaging_send_lateness_seconds_bucket"].items()
    }
    assert buckets["0.1"] == 0
    assert buckets["0.5"] == 1
    assert buckets["2.0"] == 1
    assert buckets["5.0"] == 2
    assert buckets["+Inf"] == 2
    assert samples["messaging_send_lateness_seconds_count"][()] == 2
    assert samples["messaging_send_lateness_seconds_sum"][()] == pytest.approx(3.3)


@pytest.mark.django_db
def test_metrics_give_reply_latency_from_the_first_waiting_customer_message(client, metrics_token):
    now = timezone.now()

    def message(conversation, role, seconds_ago):
        m = MessageFactory(conversation=conversation, role=role)
        _at(m, created_at=now - timedelta(seconds=seconds_ago))

    first = ConversationFactory()
    message(first, Role.AGENT, 600)  # a flow's opening message: answers no one
    message(first, Role.USER, 300)  # the customer waits from here...
    message(first, Role.USER, 295)
    message(first, Role.AGENT, 280)  # ...20 s
    second = ConversationFactory()
    message(second, Role.USER, 100)
    message(second, Role.AGENT, 96)  # 4 s
    message(second, Role.AGENT, 50)  # a follow-up: answers no one
    old = ConversationFactory()
    message(old, Role.USER, 3600)
    message(old, Role.AGENT, 3000)  # outside the window

    samples = scrape(client)

    latency = samples["messaging_reply_latency_seconds"]
    assert latency[(("quantile", "0.5"),)] == pytest.approx(4)
    assert latency[(("quantile", "0.9"),)] == pytest.approx(20)
    assert samples["messaging_reply_latency_seconds_count"][()] == 2
    assert samples["messaging_reply_latency_seconds_sum"][()] == pytest.approx(24)


@pytest.mark.django_db
def test_metrics_count_webhook_failures(client, metrics_token, workspace, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    endpoint = webhook_endpoint_create(workspace=workspace, data={"url": "http://127.0.0.1:9/"})
    now = timezone.now()
    deliveries = []
    for status in ("failed", "failed", "pending", "succeeded"):
        event = event_record(workspace_id=workspace.pk, type="test.event", data={})
        deliveries.append(WebhookDelivery.objects.create(endpoint=endpoint, event=event))
        WebhookDelivery.objects.filter(pk=deliveries[-1].pk).update(status=status)
    WebhookDelivery.objects.filter(pk=deliveries[1].pk).update(updated_at=now - timedelta(hours=2))
    for code, ago in ((500, 60), (None, 120), (404, 30), (200, 10), (204, 5), (500, 7200)):
        WebhookAttempt.objects.create(
            delivery=deliveries[0], started_at=now - timedelta(seconds=ago), status_code=code
        )

    samples = scrape(client)

    failed = samples["messaging_webhook_deliveries_failed"]
    assert failed[(("window", "all"),)] == 2
    assert failed[(("window", "1h"),)] == 1
    assert samples["messaging_webhook_attempts_failed"][()] == 3


@pytest.mark.django_db
def test_metrics_report_beat_state(client, metrics_token):
    samples = scrape(client)

    assert samples["messaging_beat_ticking"][()] == 0
    assert samples["messaging_beat_entries_missing"][()] == len(settings.CELERY_BEAT_SCHEDULE)
    assert samples["messaging_beat_entries_disabled"][()] == 0


@pytest.fixture
def redis_broker(settings):
    """The Redis broker under a key prefix of its own, so the queues a test fills are
    no real queue."""
    if not settings.REDIS_URL:
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs with Redis: set REDIS_URL.")
        pytest.skip("needs Redis (set REDIS_URL)")
    prefix = f"metrics-test-{os.getpid()}:"
    settings.CELERY_BROKER_URL = settings.REDIS_URL
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        "global_keyprefix": prefix,
    }
    client = metrics._redis(settings.REDIS_URL)
    yield client, prefix
    client.delete(*client.keys(f"{prefix}*") or [f"{prefix}none"])


@pytest.mark.django_db
def test_metrics_give_queue_depths_on_redis(client, metrics_token, redis_broker):
    redis, prefix = redis_broker
    redis.rpush(f"{prefix}delivery", "a", "b", "c")
    redis.rpush(f"{prefix}delivery\x06\x163", "high")  # a priority sub-queue
    redis.rpush(f"{prefix}llm", "x")

    samples = scrape(client)

    assert samples["messaging_broker_up"][()] == 1
    depth = {
        dict(labels)["queue"]: value for labels, value in samples["messaging_queue_depth"].items()
    }
    assert depth == {"default": 0, "llm": 1, "delivery": 4, "webhooks": 0}


@pytest.mark.django_db
def test_metrics_report_a_redis_broker_that_does_not_answer(client, metrics_token, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"

    samples = scrape(client)

    assert samples["messaging_broker_up"][()] == 0
    assert "messaging_queue_depth" not in samples


@pytest.mark.django_db
def test_metrics_have_no_queue_depth_on_the_file_broker(client, metrics_token, settings):
    settings.CELERY_BROKER_URL = "filesystem://"

    samples = scrape(client)

    assert "messaging_queue_depth" not in samples
    assert "messaging_broker_up" not in samples


@pytest.mark.django_db
def test_metrics_count_this_processs_http_requests(client, metrics_token):
    client.get("/healthz")
    client.post("/healthz")
    before = scrape(client)["messaging_http_requests_total"]

    client.get("/healthz")
    client.get("/no-such-page")
    after = scrape(client)["messaging_http_requests_total"]

    get_2xx = (("method", "GET"), ("status", "2xx"))
    get_4xx = (("method", "GET"), ("status", "4xx"))
    # +1 for the health check, +1 for the scrape before (counted once it answered).
    assert after[get_2xx] - before[get_2xx] == 2
    assert after[get_4xx] - before.get(get_4xx, 0) == 1
    assert (("method", "POST"), ("status", "2xx")) in after


@pytest.mark.django_db
def test_a_scrape_costs_a_bounded_number_of_queries(
    client, metrics_token, django_assert_max_num_queries
):
    conversation = ConversationFactory(channel="SMS")
    for _ in range(20):
        MessageFactory(conversation=conversation, role=Role.USER)
        reply = MessageFactory(conversation=conversation, role=Role.AGENT, status="sent")
        _at(reply, send_at=timezone.now(), sent_at=timezone.now())

    with django_assert_max_num_queries(6):
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response.status_code == 200
