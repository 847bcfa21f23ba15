"""Outbound SMS through a provider backend (Twilio, or the console in development).

No ORM here: callers pass plain values. Errors are classified by what the caller may do
next: retry, look the message up first, or give up.
"""

import functools
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from urllib3.exceptions import MaxRetryError, NewConnectionError

from channels.errors import PermanentError, TransientError, TransportError, UnknownOutcomeError

logger = logging.getLogger(__name__)

# One value for connect and read: the SDK rejects a (connect, read) tuple.
DEFAULT_TIMEOUT_SECONDS = 10.0
OPTED_OUT_CODE = "21610"
TOO_MANY_REQUESTS_CODE = "20429"


def is_opted_out(error: PermanentError) -> bool:
    """Twilio refused because the recipient sent STOP (error 21610)."""
    return error.code == OPTED_OUT_CODE


@dataclass(frozen=True)
class OutboundSms:
    to: str
    body: str
    from_number: str = ""
    messaging_service_sid: str = ""
    status_callback: str = ""
    validity_period: int | None = None
    # The text is protected health information (a HIPAA flow): never written to a log.
    private: bool = False


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str
    status: str


class SmsBackend(Protocol):
    name: str

    def send(self, sms: OutboundSms) -> SendResult: ...

    def owns(self, *, number: str = "", messaging_service_sid: str = "") -> bool: ...

    def find_sent(
        self, sms: OutboundSms, *, sent_after: datetime, exclude: frozenset[str] = frozenset()
    ) -> str | None: ...


class _BaseUrlHttpClient(TwilioHttpClient):
    """Sends every request to `base_url` (a fake or a proxy) instead of *.twilio.com.

    The SDK builds absolute URLs per domain (api., messaging., ...); swapping scheme and
    host here, the one place all requests pass through, covers every domain and region."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.base = urlsplit(base_url.rstrip("/"))

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        parts = urlsplit(url)
        url = urlunsplit(
            parts._replace(
                scheme=self.base.scheme,
                netloc=self.base.netloc,
                path=self.base.path + parts.path,
            )
        )
        return super().request(method, url, *args, **kwargs)


@functools.lru_cache(maxsize=8)
def _twilio_client(account_sid: str, auth_token: str, base_url: str, timeout: float) -> Client:
    # Cached so the requests session (and its keep-alive connections) is reused.
    http_client = (
        _BaseUrlHttpClient(base_url, timeout) if base_url else TwilioHttpClient(timeout=timeout)
    )
    return Client(account_sid, auth_token, http_client=http_client)


def _from_twilio(exc: TwilioRestException | TwilioServiceException) -> TransportError:
    code = str(exc.code) if exc.code is not None else None
    message = getattr(exc, "msg", "") or getattr(exc, "detail", "") or str(exc.status)
    if exc.status == 429 or code == TOO_MANY_REQUESTS_CODE:
        return TransientError(message, code=code)
    if exc.status >= 500:
        return UnknownOutcomeError(message, code=code)
    return PermanentError(message, code=code)


def _never_connected(exc: requests.RequestException) -> bool:
    """True when the request cannot have left this machine: no TCP connection (refused,
    DNS failure, connect timeout) or no TLS session, so the provider never saw it."""
    if isinstance(exc, requests.ConnectTimeout | requests.exceptions.SSLError):
        return True
    reason = exc.args[0].reason if exc.args and isinstance(exc.args[0], MaxRetryError) else None
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, NewConnectionError)


def _from_transport(exc: requests.RequestException, *, idempotent: bool) -> TransportError:
    if idempotent or _never_connected(exc):
        return TransientError(f"Twilio unreachable: {exc}")
    # Read timeouts, resets and broken responses all happen after the request was sent.
    return UnknownOutcomeError(f"No answer from Twilio: {exc}")


class TwilioBackend:
    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        base_url: str = "",
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self.client = _twilio_client(account_sid, auth_token, base_url, timeout)

    def send(self, sms: OutboundSms) -> SendResult:
        kwargs: dict[str, Any] = {"to": sms.to, "body": sms.body}
        if sms.messaging_service_sid:
            kwargs["messaging_service_sid"] = sms.messaging_service_sid
        else:
            kwargs["from_"] = sms.from_number
        if sms.status_callback:
            kwargs["status_callback"] = sms.status_callback
        if sms.validity_period is not None:
            kwargs["validity_period"] = sms.validity_period
        try:
            message = self.client.messages.create(**kwargs)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise _from_twilio(exc) from exc
        except requests.RequestException as exc:
            raise _from_transport(exc, idempotent=False) from exc
        return SendResult(provider_message_id=message.sid, status=message.status or "queued")

    def owns(self, *, number: str = "", messaging_service_sid: str = "") -> bool:
        """Whether the service's Twilio account has this phone number (Incoming Phone
        Numbers) and this Messaging Service: a workspace may only send from, and be
        routed the replies to, what the account really owns."""
        try:
            if number and not self.client.incoming_phone_numbers.list(phone_number=number, limit=1):
                return False
            if messaging_service_sid:
                self.client.messaging.v1.services(messaging_service_sid).fetch()
        except TwilioRestException as exc:
            if exc.status == 404:
                return False
            raise _from_twilio(exc) from exc
        except TwilioServiceException as exc:
            raise _from_twilio(exc) from exc
        except requests.RequestException as exc:
            raise _from_transport(exc, idempotent=True) from exc
        return True

    def find_sent(
        self, sms: OutboundSms, *, sent_after: datetime, exclude: frozenset[str] = frozenset()
    ) -> str | None:
        """The sid of a message Twilio has from `sms`'s sender to `sms.to` since
        `sent_after`, with `sms.body` when it is not empty, that is not one of `exclude`
        (sids already known to be other messages): several messages to one person
        within a minute are common."""
        # The SDK formats the datetime as-is with a "Z": it must be UTC already.
        since = sent_after.astimezone(UTC).replace(microsecond=0)  # Twilio dates: whole seconds
        filters: dict[str, Any] = {"to": sms.to}
        if not sms.messaging_service_sid:
            filters["from_"] = sms.from_number
        try:
            # No DateSent filter: a message still queued at Twilio has no date_sent and
            # would be missed, and missing it means sending twice. Twilio lists newest
            # first, so the recent ones are in the first page; cut by time and body below.
            found = self.client.messages.list(**filters, limit=100, page_size=100)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise _from_twilio(exc) from exc
        except requests.RequestException as exc:
            raise _from_transport(exc, idempotent=True) from exc
        # A still-queued message has no date_sent yet; its creation time is what counts.
        for message in found:
            when = message.date_created or message.date_sent
            if when is None or when < since or message.sid in exclude:
                continue
            if sms.body and message.body != sms.body:
                continue
            return message.sid
        return None


class ConsoleBackend:
    name = "console"

    def send(self, sms: OutboundSms) -> SendResult:
        sender = sms.messaging_service_sid or sms.from_number
        text = "[text withheld: HIPAA flow]" if sms.private else sms.body[:160]
        logger.info("SMS to %s from %s: %s", sms.to, sender, text)
        return SendResult(provider_message_id=f"console-{uuid.uuid4().hex}", status="sent")

    def owns(self, *, number: str = "", messaging_service_sid: str = "") -> bool:
        return True  # no account: nothing to own, nothing to take from anyone

    def find_sent(
        self, sms: OutboundSms, *, sent_after: datetime, exclude: frozenset[str] = frozenset()
    ) -> str | None:
        return None


def get_sms_backend() -> SmsBackend:
    choice = getattr(settings, "SMS_BACKEND", "") or (
        "twilio" if settings.TWILIO_ACCOUNT_SID else "console"
    )
    if choice == "console":
        return ConsoleBackend()
    if choice != "twilio":
        raise ValueError(f"Unknown SMS_BACKEND {choice!r}: use 'twilio' or 'console'.")
    return TwilioBackend(
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_AUTH_TOKEN,
        base_url=settings.TWILIO_API_BASE_URL,
        timeout=float(getattr(settings, "TWILIO_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS)),
    )


def twilio_signature(url: str, params: dict) -> str:
    """X-Twilio-Signature as Twilio computes it, with our auth token (for simulations)."""
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(url, params)


def twilio_signature_valid(url: str, params: dict, signature: str) -> bool:
    token = settings.TWILIO_AUTH_TOKEN
    if not token:
        return False
    return RequestValidator(token).validate(url, params, signature)
