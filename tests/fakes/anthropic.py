"""A local fake of Anthropic's Messages API, for the real SDK to talk to in tests and
benchmarks. Scripted answers can be queued; the default answer echoes the last user
message. Run standalone: `python -m tests.fakes.anthropic --port 8765 --delay 1.0`."""

import argparse
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

import pytest

from tests.fakes import LocalServer


@dataclass
class Scripted:
    status: int = 200
    body: dict | None = None
    headers: dict | None = None
    delay: float = 0.0


ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def error_body(status: int, message: str | None = None) -> dict:
    kind = ERROR_TYPES.get(status, "api_error")
    text = message or kind.replace("_", " ").capitalize()
    return {"type": "error", "error": {"type": kind, "message": text}}


def overloaded() -> Scripted:
    return Scripted(
        status=529,
        body={"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
        headers={"retry-after-ms": "10"},
    )


class FakeAnthropic(LocalServer):
    def __init__(self, port: int = 0, default_delay: float = 0.0) -> None:
        self.requests: list[dict] = []
        self.default_delay = default_delay
        self._queue: deque[Scripted] = deque()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes: with Nagle on, the client's
            # delayed ACK adds ~40 ms to every answer.
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                payload = json.loads(self.rfile.read(length) or b"{}")
                status, body, headers, delay = fake._answer(self.path, dict(self.headers), payload)
                if delay:
                    time.sleep(delay)
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out first: expected in timeout tests, not an error

        self._serve(Handler, port)

    def enqueue(
        self,
        status: int = 200,
        body: dict | None = None,
        headers: dict | None = None,
        delay: float = 0.0,
    ) -> None:
        with self._lock:
            self._queue.append(Scripted(status, body, headers, delay))

    def _answer(self, path: str, headers: dict, payload: dict) -> tuple[int, dict, dict, float]:
        with self._lock:
            self.requests.append({"path": path, "headers": headers, "json": payload})
            scripted = self._queue.popleft() if self._queue else Scripted(delay=self.default_delay)
            number = next(self._ids)
        if path != "/v1/messages":
            return (
                404,
                {"type": "error", "error": {"type": "not_found_error", "message": path}},
                {},
                0,
            )
        status, body, headers = scripted.status, scripted.body, scripted.headers
        if body is None:
            body = error_body(status) if status >= 400 else self._reply(payload, number)
        if headers is None:
            # The SDK honours retry-after-ms, so its own retries stay fast against the fake.
            retryable = status in (408, 409, 429) or status >= 500
            headers = {"retry-after-ms": "10"} if retryable else {}
        return status, body, headers, scripted.delay

    @staticmethod
    def _reply(payload: dict, number: int) -> dict:
        last_user = next(
            (
                m["content"]
                for m in reversed(payload.get("messages", []))
                if m.get("role") == "user"
            ),
            "",
        )
        if isinstance(last_user, list):
            last_user = " ".join(block.get("text", "") for block in last_user)
        text = f"Fake reply to: {last_user}"
        return {
            "id": f"msg_fake_{number}",
            "type": "message",
            "role": "assistant",
            "model": payload.get("model", "claude-fake"),
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": max(1, len(json.dumps(payload)) // 4),
                "output_tokens": max(1, len(text) // 4),
            },
        }


@pytest.fixture
def fake_anthropic(settings) -> Iterator[FakeAnthropic]:
    """The real anthropic SDK, aimed at a local fake of the Messages API."""
    from agents import llm

    server = FakeAnthropic().start()
    settings.ANTHROPIC_API_KEY = "sk-ant-test"
    settings.ANTHROPIC_BASE_URL = server.url
    llm._anthropic.cache_clear()
    yield server
    server.stop()
    llm._anthropic.cache_clear()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--delay", type=float, default=0.0)
    arguments = parser.parse_args()
    fake = FakeAnthropic(port=arguments.port, default_delay=arguments.delay)
    print(f"fake Anthropic Messages API on {fake.url}", flush=True)
    fake.server.serve_forever()
