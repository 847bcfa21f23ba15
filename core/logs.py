"""Request ids: one id per web request, carried into the Celery tasks it causes, on every
log line of both.

The id lives in a contextvar. RequestIdMiddleware sets it for a request (the caller's
`X-Request-ID` when it is a sane short token, else a new one) and answers it in the
`X-Request-ID` header; RequestIdFilter puts it on every log record the console handler
writes. Tasks are published by name (core.jobs), so the id travels through Celery's
signals rather than a task base class: `before_task_publish` copies it into the task
message's headers, `task_prerun` sets it in the worker thread from the task request's
headers and `task_postrun` restores what was there before (config.celery connects them).

JSON lines come from python-json-logger: a formatter for the standard library's logging,
so every existing `logging.getLogger(__name__)` call and Django's and Celery's own loggers
are formatted alike with no change. django-structlog would replace the loggers' API and
add its own request-logging middleware; we need neither.

Message text never goes into a log record (HIPAA): log ids, never bodies.
"""

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import Any

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
# The key the id travels under in a Celery task message's headers.
TASK_HEADER = "request_id"
# A caller's id is kept only when it is a short token: anything else (long, spaces,
# quotes, control characters) could forge or break log lines, so a new id replaces it.
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# task id -> the token that undoes task_prerun's set, for task_postrun.
_task_tokens: dict[str, Token] = {}


def new_request_id() -> str:
    return uuid.uuid4().hex


def sane_request_id(value: str | None) -> str | None:
    """`value` when it is a short token fit for logs and headers, else None."""
    if value and _SANE.fullmatch(value):
        return value
    return None


class RequestIdMiddleware:
    """First in MIDDLEWARE, so every response (a 413, an error page) carries the id and
    every log line of the request has it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = sane_request_id(request.headers.get(HEADER)) or new_request_id()
        request.request_id = rid
        token = request_id.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response[HEADER] = rid
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record ("-" outside a request or a task it caused);
    on the handler, so records propagated from every logger get it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        return True


# --- Celery signal receivers (connected in config.celery) ------------------------------


def on_before_task_publish(headers: dict | None = None, **kwargs: Any) -> None:
    """Copies the current request id into the task message's headers (protocol 2: they
    become attributes of the task's request in the worker)."""
    rid = request_id.get()
    if rid and headers is not None and TASK_HEADER not in headers:
        headers[TASK_HEADER] = rid


def on_task_prerun(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    """Sets the id from the task's headers for the task's run. A task run eagerly inside
    a request (no message, no headers) keeps the request's id."""
    rid = None
    if task is not None:
        rid = sane_request_id(getattr(task.request, TASK_HEADER, None))
    if task_id:
        _task_tokens[task_id] = request_id.set(rid or request_id.get())


def on_task_postrun(task_id: str | None = None, **kwargs: Any) -> None:
    """Restores the id the thread had before the task (None in a worker thread), so the
    next task a worker thread runs starts without it."""
    token = _task_tokens.pop(task_id, None) if task_id else None
    if token is None:
        return
    try:
        request_id.reset(token)
    except ValueError:  # set in another context (not expected with the threads pool)
        request_id.set(None)
