"""A local webhook receiver: records every POST (headers and exact body) and answers
with scripted responses (default 200). Used by the tests and by bench/webhooks.py."""

import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

import pytest

from tests.fakes import LocalServer


@dataclass
class Answer:
    status: int = 200
    headers: dict = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class Receiver(LocalServer):
    def __init__(self, port: int = 0, delay: float = 0.0) -> None:
        self.requests: list[Received] = []
        self.default = Answer(delay=delay)
        self._script: deque[Answer] = deque()
        self._lock = threading.Lock()
        self.on_request = None  # optional callable(Received), e.g. for the benchmark
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle on, the second waits
            # for the client's delayed ACK (40 ms a request).
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                received = Received(
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length),
                    at=time.time(),
                )
                with receiver._lock:
                    receiver.requests.append(received)
                    answer = receiver._script.popleft() if receiver._script else receiver.default
                if receiver.on_request is not None:
                    receiver.on_request(received)
                if answer.delay:
                    time.sleep(answer.delay)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, *args: object) -> None:
                pass

        self._serve(Handler, port)
        self.port = self.server.server_address[1]
        self.url = f"{self.url}/hooks"

    def script(self, *answers: Answer) -> None:
        with self._lock:
            self._script.extend(answers)


@pytest.fixture(name="webhook_receiver")
def webhook_receiver_fixture() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()
