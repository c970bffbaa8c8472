"""The devnet's HTTP server: JSON-RPC over HTTP/1.1 with keep-alive, the body limits, the block timer.

Before any body is parsed, the server refuses one over the config's body limit (413) or nested
deeper than `max_json_depth` (400), with a JSON-RPC error object (`service.jsonlimits`). `serve`
runs a devnet in the calling thread until SIGINT or SIGTERM (`mlrollup devnet`); `DevnetServer`
runs one in a background thread (tests, `mlrollup up`'s in-process uses).
"""

from __future__ import annotations

import errno
import logging
import signal
import socketserver
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import Any

from l1_contracts.devnet.accounts import DevAccount, dev_accounts
from l1_contracts.devnet.config import DevnetConfig
from l1_contracts.devnet.rpc import Devnet
from l1_contracts.devnet.timer import BlockTimer
from l1_contracts.devnet.wire import INVALID_REQUEST, PARSE_ERROR, dump, error_response
from l1_contracts.errors import DevnetError, PortInUseError
from service.errors import BodyRefused, BodyTooLarge
from service.jsonlimits import check_json_body

log = logging.getLogger(__name__)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: web3's HTTPProvider reuses its connection
    server: _DevnetHTTPServer

    def do_POST(self) -> None:
        length_header = self.headers.get("Content-Length")
        if length_header is None or not length_header.isdigit():
            self._reply(
                411, dump(error_response(None, INVALID_REQUEST, "a Content-Length header is required"))
            )
            return
        config = self.server.devnet.config
        length = int(length_header)
        try:
            if length > config.body_limit:  # refused unread: the connection cannot carry another request
                self.close_connection = True
                raise BodyTooLarge(f"the request body exceeds {config.body_limit} bytes", config.body_limit)
            body = self.rfile.read(length)
            check_json_body(body, max_bytes=config.body_limit, max_depth=config.max_json_depth)
        except BodyRefused as exc:
            code = INVALID_REQUEST if isinstance(exc, BodyTooLarge) else PARSE_ERROR
            data = {"reason": exc.code, "limit": exc.limit}
            self._reply(exc.status, dump(error_response(None, code, exc.message, data)))
            return
        answer = self.server.devnet.handle(body)
        self._reply(200 if answer else 204, answer)

    def do_GET(self) -> None:
        self._reply(405, dump({"error": "POST JSON-RPC 2.0 requests to this URL"}), allow="POST")

    def _reply(self, status: int, body: bytes, allow: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if allow is not None:
            self.send_header("Allow", allow)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class _DevnetHTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a connection left open by a client does not block shutdown

    def __init__(self, address: tuple[str, int], devnet: Devnet) -> None:
        self.devnet = devnet
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            log.debug("client %s went away", client_address)  # e.g. a client that timed out
        else:
            super().handle_error(request, client_address)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can stall without DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    @property
    def url(self) -> str:
        return f"http://{self.server_name}:{self.server_port}"


def _bind(config: DevnetConfig, devnet: Devnet) -> _DevnetHTTPServer:
    try:
        return _DevnetHTTPServer((config.host, config.port), devnet)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(config.host, config.port) from exc
        raise DevnetError(
            f"cannot serve the devnet on {config.host}:{config.port}: {exc.strerror or exc}. "
            "Check the --host and --port settings."
        ) from exc


def serve(config: DevnetConfig | None = None, ready: Callable[[str], None] | None = None) -> None:
    """Serve a new devnet until SIGINT or SIGTERM (blocking). `ready(url)` is called once listening.

    Raises `PortInUseError` (or another `DevnetError`) when the address cannot be bound."""
    config = config or DevnetConfig()
    devnet = Devnet(config)
    httpd = _bind(config, devnet)
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():

        def stop(signum: int, frame: FrameType | None) -> None:
            # shutdown() waits for serve_forever() to return, which runs in this very thread.
            threading.Thread(target=httpd.shutdown, name="devnet-shutdown", daemon=True).start()

        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            previous[stop_signal] = signal.signal(stop_signal, stop)
    timer = BlockTimer(devnet.mine_idle_block, config.block_interval_s) if config.block_interval_s else None
    try:
        if timer is not None:
            timer.start()
        if ready is not None:
            ready(httpd.url)
        httpd.serve_forever(poll_interval=0.1)
    finally:
        if timer is not None:
            timer.stop()
        httpd.server_close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class DevnetServer:
    """A devnet served from a background thread, for tests and for `mlrollup up`: `with
    DevnetServer() as node: Web3(Web3.HTTPProvider(node.url))`. Without a config it takes a free port.
    `start()` raises `PortInUseError` at once when the port is taken."""

    def __init__(self, config: DevnetConfig | None = None) -> None:
        self.config = config or DevnetConfig(port=0)
        self.devnet: Devnet | None = None
        self.url = ""
        self._httpd: _DevnetHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._timer: BlockTimer | None = None

    def start(self) -> DevnetServer:
        if self._httpd is not None:
            raise DevnetError("this DevnetServer is already running")
        self.devnet = Devnet(self.config)
        self._httpd = _bind(self.config, self.devnet)
        self.url = self._httpd.url
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="devnet-http", daemon=True
        )
        self._thread.start()
        if self.config.block_interval_s:
            self._timer = BlockTimer(self.devnet.mine_idle_block, self.config.block_interval_s).start()
        return self

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._httpd, self._thread = None, None

    @property
    def accounts(self) -> list[DevAccount]:
        return self.devnet.accounts if self.devnet is not None else dev_accounts(self.config.accounts)

    def __enter__(self) -> DevnetServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
