"""The HTTP server: binds 127.0.0.1 on an ephemeral port, runs in a thread, can inject failures."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Literal

from .files import FileApi
from .lfs import LfsApi
from .repos import RepoApi
from .routing import Request, Response, Router
from .storage import Store

FailureMode = Literal["503", "drop"]
"""How an injected failure looks: a 503 answer, or the connection closed without an answer."""

MAX_BODY = 256 * 1024 * 1024
"""Requests larger than this are refused: the stand-in holds everything in memory."""


@dataclass(frozen=True)
class Logged:
    method: str
    path: str
    status: int | None
    """None when the connection was dropped on purpose."""


class _Faults:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.remaining = 0
        self.mode: FailureMode = "503"

    def take(self) -> FailureMode | None:
        with self.lock:
            if self.remaining <= 0:
                return None
            self.remaining -= 1
            return self.mode


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Silence stderr: requests are kept in `HubStandIn.requests` instead."""

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while (size := int(self.rfile.readline().split(b";")[0], 16)) > 0:
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("request body too large")
        return self.rfile.read(length)

    def _handle(self) -> None:
        body = self._body()
        hub = self.server.hub
        path = self.path.split("?")[0]
        fault = hub.faults.take()
        if fault == "drop":
            hub.log(Logged(self.command, path, None))
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault == "503":
            response = Response.error(503, "stand-in: injected failure")
        else:
            request = Request.parse(self.command, self.path, dict(self.headers), body, hub.url)
            response = hub.router.dispatch(request)
        hub.log(Logged(self.command, path, response.status))
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _handle  # noqa: N815


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    hub: HubStandIn


class HubStandIn:
    """A Hub on loopback for tests; `with HubStandIn() as hub:` serves at `hub.url`."""

    def __init__(self, tokens: frozenset[str] = frozenset({"standin-token"})) -> None:
        self.store = Store()
        self.tokens = set(tokens)
        self.faults = _Faults()
        self.router = Router()
        for api in (RepoApi(self.store, self.tokens), LfsApi(self.store, self.tokens)):
            api.register(self.router)
        FileApi(self.store, self.tokens).register(self.router)
        self.requests: list[Logged] = []
        self._log_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> HubStandIn:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.hub = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> HubStandIn:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def fail_next(self, count: int, mode: FailureMode = "503") -> None:
        """Make the next `count` requests fail the way `mode` says, then serve normally again."""
        with self.faults.lock:
            self.faults.remaining, self.faults.mode = count, mode

    def log(self, entry: Logged) -> None:
        with self._log_lock:
            self.requests.append(entry)
