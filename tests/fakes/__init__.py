"""Local stand-ins for the providers' HTTP APIs, for the real SDKs to talk to."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # many senders connect at once; 5 would refuse them


class LocalServer:
    """An HTTP server on a free loopback port, serving from a daemon thread."""

    server: ThreadingHTTPServer
    url: str

    def _serve(self, handler: type[BaseHTTPRequestHandler], port: int = 0) -> None:
        self.server = _Server(("127.0.0.1", port), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        # stop() waits up to one poll interval; the 0.5 s default made every test slow.
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
