"""A local fake of Twilio's Messages REST API, for the real twilio SDK to talk to in tests
and benchmarks. Errors, slow answers and dropped connections can be queued.
Run standalone: `python -m tests.fakes.twilio --port 8766 --account-sid AC... --auth-token x`.

Simplification: an accepted message answers "queued" but is listed as already "sent"
(date_sent set), as if Twilio had delivered it to the carrier at once."""

import argparse
import base64
import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.client import HTTPMessage
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

import pytest
from twilio.request_validator import RequestValidator

from tests.fakes import LocalServer

_MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json$")
_NUMBERS_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/IncomingPhoneNumbers\.json$")
_SERVICE_PATH = re.compile(r"^/v1/Services/(?P<sid>MG[0-9a-fA-F]{32})$")


@dataclass
class Scripted:
    status: int = 201
    body: dict | None = None
    delay: float = 0.0
    drop_connection: bool = False


def twilio_error(status: int, code: int, message: str) -> dict:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _parse_date(text: str) -> datetime:
    # The SDK sends "YYYY-MM-DDTHH:MM:SSZ"; Twilio's docs also allow plain "YYYY-MM-DD".
    if len(text) == 10:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


class FakeTwilio(LocalServer):
    def __init__(
        self,
        port: int = 0,
        account_sid: str = "",
        auth_token: str = "",
        default_delay: float = 0.0,
    ) -> None:
        self.account_sid = account_sid or "AC" + secrets.token_hex(16)
        self.auth_token = auth_token or secrets.token_hex(16)
        self.default_delay = default_delay
        self.requests: list[dict] = []
        self.messages: list[dict] = []
        # What the account owns: Incoming Phone Numbers (E.164) and Messaging Services.
        self.numbers: set[str] = set()
        self.services: set[str] = set()
        self._queue: deque[Scripted] = deque()
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes: with Nagle on, the client's
            # delayed ACK adds ~40 ms to every answer.
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                status, body, scripted = fake._answer(self.command, self.path, self.headers, raw)
                if scripted.delay:
                    time.sleep(scripted.delay)
                if scripted.drop_connection:
                    # Close without a status line: the client sees the connection reset.
                    self.close_connection = True
                    return
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    # The client gave up waiting (read timeout); nobody to answer.
                    self.close_connection = True

        self._serve(Handler, port)

    def enqueue(
        self,
        status: int = 201,
        body: dict | None = None,
        delay: float = 0.0,
        drop_connection: bool = False,
    ) -> None:
        """Script the next request's answer. A success status (< 400) still accepts and
        records the message before any delay or dropped connection."""
        with self._lock:
            self._queue.append(Scripted(status, body, delay, drop_connection))

    def sign(self, url: str, params: dict) -> str:
        """A valid X-Twilio-Signature for a webhook POST of `params` to `url`."""
        return RequestValidator(self.auth_token).compute_signature(url, params)

    def _authorized(self, header: str) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return secrets.compare_digest(header, f"Basic {expected}")

    def _answer(
        self, method: str, target: str, headers: HTTPMessage, raw: str
    ) -> tuple[int, dict, Scripted]:
        url = urlsplit(target)
        query = dict(parse_qsl(url.query))
        form = dict(parse_qsl(raw))
        with self._lock:
            self.requests.append(
                {
                    "method": method,
                    "path": url.path,
                    "query": query,
                    "form": form,
                    "headers": dict(headers.items()),
                }
            )
            scripted = self._queue.popleft() if self._queue else Scripted(delay=self.default_delay)
            if not self._authorized(headers.get("Authorization", "")):
                return 401, twilio_error(401, 20003, "Authenticate"), scripted
            owned = self._owned(url.path, query)
            if owned is not None:
                return owned[0], owned[1], scripted
            match = _MESSAGES_PATH.match(url.path)
            if not match or match["account"] != self.account_sid:
                missing = twilio_error(404, 20404, "The requested resource was not found")
                return 404, missing, scripted
            if scripted.status >= 400:
                body = scripted.body or twilio_error(scripted.status, scripted.status, "Error")
                return scripted.status, body, scripted
            if method == "GET":
                return 200, self._page(url.path, query), scripted
            return self._create(form, scripted)

    def _owned(self, path: str, query: dict) -> tuple[int, dict] | None:
        """Incoming Phone Numbers (list, filtered by PhoneNumber) and a Messaging
        Service's fetch, as Twilio answers them; None for any other path."""
        numbers = _NUMBERS_PATH.match(path)
        if numbers and numbers["account"] == self.account_sid:
            wanted = query.get("PhoneNumber")
            found = [n for n in sorted(self.numbers) if wanted in (None, n)]
            page_size = int(query.get("PageSize") or 50)
            uri = f"{path}?PageSize={page_size}&Page=0"
            return 200, {
                "incoming_phone_numbers": [
                    {
                        "account_sid": self.account_sid,
                        "phone_number": number,
                        "friendly_name": number,
                        "sid": "PN" + secrets.token_hex(16),
                        "capabilities": {"sms": True, "mms": False, "voice": True},
                    }
                    for number in found[:page_size]
                ],
                "end": max(0, min(page_size, len(found)) - 1),
                "first_page_uri": uri,
                "next_page_uri": None,
                "page": 0,
                "page_size": page_size,
                "previous_page_uri": None,
                "start": 0,
                "uri": uri,
            }
        service = _SERVICE_PATH.match(path)
        if service:
            if service["sid"] not in self.services:
                return 404, twilio_error(404, 20404, "The requested resource was not found")
            return 200, {
                "account_sid": self.account_sid,
                "sid": service["sid"],
                "friendly_name": "Messaging Service",
                "url": f"https://messaging.twilio.com{path}",
            }
        return None

    def _create(self, form: dict, scripted: Scripted) -> tuple[int, dict, Scripted]:
        if not form.get("To"):
            return 400, twilio_error(400, 21604, "A 'To' phone number is required."), scripted
        if not form.get("Body"):
            return 400, twilio_error(400, 21602, "Message body is required."), scripted
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return 400, twilio_error(400, 21603, "A 'From' phone number is required."), scripted
        now = datetime.now(UTC)
        sid = "SM" + secrets.token_hex(16)
        base = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}"
        message = {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form["Body"],
            "date_created": format_datetime(now, usegmt=True),
            "date_sent": None,
            "date_updated": format_datetime(now, usegmt=True),
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            # Through a messaging service Twilio picks the sender later.
            "from": form.get("From") or None,
            "messaging_service_sid": form.get("MessagingServiceSid") or None,
            "num_media": "0",
            "num_segments": str(max(1, -(-len(form["Body"]) // 160))),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": f"{base}/Media.json"},
            "to": form["To"],
            "uri": f"{base}.json",
        }
        listed = {**message, "status": "sent", "date_sent": message["date_created"]}
        self.messages.append(listed)
        return 201, message, scripted

    def _page(self, path: str, query: dict) -> dict:
        found = [m for m in reversed(self.messages) if self._matches(m, query)]
        page_size = int(query.get("PageSize") or 50)
        uri = f"{path}?PageSize={page_size}&Page=0"
        return {
            "messages": found[:page_size],
            "end": max(0, min(page_size, len(found)) - 1),
            "first_page_uri": uri,
            "next_page_uri": None,
            "page": 0,
            "page_size": page_size,
            "previous_page_uri": None,
            "start": 0,
            "uri": uri,
        }

    @staticmethod
    def _matches(message: dict, query: dict) -> bool:
        if "To" in query and message["to"] != query["To"]:
            return False
        if "From" in query and message["from"] != query["From"]:
            return False
        sent = parsedate_to_datetime(message["date_sent"])
        if "DateSent>" in query and sent < _parse_date(query["DateSent>"]):
            return False
        if "DateSent<" in query and sent > _parse_date(query["DateSent<"]):
            return False
        return not ("DateSent" in query and sent.date() != _parse_date(query["DateSent"]).date())


@pytest.fixture
def fake_twilio(settings) -> Iterator[FakeTwilio]:
    """The real twilio SDK, aimed at a local fake of the Messages API."""
    from channels import sms

    server = FakeTwilio().start()
    settings.TWILIO_ACCOUNT_SID = server.account_sid
    settings.TWILIO_AUTH_TOKEN = server.auth_token
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    settings.TWILIO_API_BASE_URL = server.url
    settings.SMS_BACKEND = "twilio"
    sms._twilio_client.cache_clear()
    yield server
    server.stop()
    sms._twilio_client.cache_clear()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--account-sid", default="")
    parser.add_argument("--auth-token", default="")
    parser.add_argument("--delay", type=float, default=0.0)
    arguments = parser.parse_args()
    fake = FakeTwilio(
        port=arguments.port,
        account_sid=arguments.account_sid,
        auth_token=arguments.auth_token,
        default_delay=arguments.delay,
    )
    print(f"fake Twilio REST API on {fake.url} (account {fake.account_sid})", flush=True)
    fake.server.serve_forever()
