"""HTTP requests: the pages, basic auth, the rate limit and the ``/metrics`` response.

Standard library HTTP (one thread per connection) with TLS, basic auth, security headers
and a rate limit from the exporter-toolkit web config. The TLS handshake happens in the
connection's own thread, so a slow client cannot hold up the others. Every path, probes
included, is behind basic auth when users are configured, as in the toolkit.
"""

from __future__ import annotations

import logging
import socket
import ssl
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from exporter.auth import BasicAuth, RateLimiter, credentials
from exporter.console.app import Console
from exporter.console.http import Request
from exporter.deflate import gzip_pieces, plain_pieces
from exporter.health import Readiness, Verdict
from exporter.negotiate import accepts_gzip, negotiate
from exporter.scrape import Scraper, trim_heap
from exporter.tls import peer_sans
from exporter.webconfig import WebSettings

log = logging.getLogger("jobmon.exporter")
DEFAULT_SCRAPE_TIMEOUT = 10.0  # Prometheus's default, when the header is missing
BUDGET_SHARE = 0.7  # of the scrape timeout, for the database read; the rest renders
IDLE_TIMEOUT = 60.0  # seconds a connection may stay silent (scrapers reuse connections)
HANDSHAKE_TIMEOUT = 10.0
MAX_BODY = 64 * 1024  # a console form or API call is a few bytes


@dataclass
class Site:
    """Everything a request handler needs."""

    scraper: Scraper
    settings: WebSettings
    auth: BasicAuth
    limiter: RateLimiter
    metrics_path: str
    landing: bytes
    console: Console | None = None
    ready: bool = False  # serving; /-/ready also asks the database (exporter.health)
    readiness: Readiness | None = None


def _readiness(site: Site) -> Verdict:
    """Serving and, when the site has one, its database's verdict."""
    if not site.ready:
        return Verdict(False, "the exporter is starting or stopping")
    return site.readiness.check() if site.readiness is not None else Verdict(True, "ready")


def scrape_budget(header: str | None) -> float:
    """Seconds the database read may take, from Prometheus's scrape timeout header."""
    try:
        timeout = float(header) if header else DEFAULT_SCRAPE_TIMEOUT
    except ValueError:
        timeout = DEFAULT_SCRAPE_TIMEOUT
    if not 0 < timeout < float("inf"):
        timeout = DEFAULT_SCRAPE_TIMEOUT
    return max(0.05, min(timeout, 300.0) * BUDGET_SHARE)


class Listener(ThreadingHTTPServer):
    """The listening socket: a thread per connection, and the open connections to end."""

    daemon_threads = True
    allow_reuse_address = True
    # socketserver's backlog of 5 overflows when a dashboard, Prometheus and a few operators
    # connect at once: the kernel then answers with SYN cookies and resets connections.
    request_queue_size = socket.SOMAXCONN

    def __init__(self, address: tuple[str, int], site: Site) -> None:
        family = socket.getaddrinfo(
            address[0] or None, address[1], type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0][0]
        self.address_family = family
        self.site = site
        self.handlers: set[Handler] = set()
        self.handlers_lock = threading.Lock()
        super().__init__(address, Handler)

    def close_connections(self) -> None:
        """End every open connection (keep-alive ones would otherwise outlive a stop)."""
        with self.handlers_lock:
            handlers = list(self.handlers)
        for handler in handlers:
            try:
                handler.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log a connection that ended in an error, at debug level."""
        # Failed handshakes (no or wrong client certificate), resets, timeouts: one line.
        error = sys.exc_info()[1]
        log.debug("connection from %s ended: %s", client_address, error)


class Handler(BaseHTTPRequestHandler):
    """One connection's requests."""

    protocol_version = "HTTP/1.1"
    server_version = "jobmon-exporter"
    timeout = IDLE_TIMEOUT
    server: Listener

    def setup(self) -> None:
        """Complete the TLS handshake (client SANs checked) and register the connection."""
        settings = self.server.site.settings
        if settings.tls is not None:
            self.request.settimeout(HANDSHAKE_TIMEOUT)
            wrapped = settings.tls.wrap_socket(self.request, server_side=True)
            allowed = set(settings.allowed_sans)
            if allowed and not peer_sans(wrapped.getpeercert()) & allowed:
                wrapped.close()
                raise ssl.SSLError("client certificate has none of client_allowed_sans")
            self.request = wrapped
        super().setup()
        with self.server.handlers_lock:
            self.server.handlers.add(self)

    def finish(self) -> None:
        """Unregister the connection and close it."""
        with self.server.handlers_lock:
            self.server.handlers.discard(self)
        try:
            super().finish()
        finally:
            if isinstance(self.request, ssl.SSLSocket):
                self.request.close()  # socketserver closes only the socket it accepted

    def do_GET(self) -> None:
        """Answer a GET."""
        self._dispatch(send_body=True)

    def do_HEAD(self) -> None:
        """Answer a HEAD: a GET's headers, no body."""
        self._dispatch(send_body=False)

    def do_POST(self) -> None:
        """A console form or API call; anything else is refused."""
        length = self.headers.get("Content-Length", "0")
        console = self.server.site.console
        if console is None or not length.isdigit() or int(length) > MAX_BODY:
            return self.do_PUT()
        self._dispatch(send_body=True, body=self.rfile.read(int(length)))

    def do_PUT(self) -> None:
        """Refuse any method but GET, HEAD and the console's POST."""
        self.close_connection = True  # the request body is not read
        self._send(405, b"Method Not Allowed\n", {"Allow": "GET, HEAD"})

    do_DELETE = do_PATCH = do_OPTIONS = do_PUT

    def version_string(self) -> str:
        """The ``Server`` header."""
        return self.server_version  # no Python version in responses

    def log_message(self, format: str, *args: Any) -> None:
        """Log requests at debug level."""
        log.debug("%s %s", self.address_string(), format % args)

    def _dispatch(self, send_body: bool, body: bytes | None = None) -> None:
        site = self.server.site
        if not site.limiter.allow():
            return self._send(429, b"Too Many Requests\n", body=send_body)
        header = self.headers.get("Authorization")
        if site.auth.enabled and not site.auth.check(header):
            extra = {"WWW-Authenticate": 'Basic realm="jobmon"'}
            return self._send(401, b"Unauthorized\n", extra, body=send_body)
        url = urlsplit(self.path)
        if url.path == site.metrics_path and body is None:
            return self._metrics(send_body)
        if site.console is not None:
            answer = site.console.handle(self._request(url.path, url.query, header, body))
            if answer is not None:
                return self._send(answer.status, answer.body, answer.headers, body=send_body)
        if body is not None:
            return self.do_PUT()
        path = url.path
        if path == "/-/ready":
            ready = _readiness(site)
            text = b"Ready\n" if ready.ready else f"Not ready: {ready.reason}\n".encode()
            return self._send(200 if ready.ready else 503, text, body=send_body)
        pages = {
            "/": (200, site.landing, "text/html; charset=utf-8"),
            "/-/healthy": (200, b"Healthy\n", None),
        }
        status, content, kind = pages.get(path, (404, b"Not Found\n", None))
        self._send(status, content, {"Content-Type": kind} if kind else None, body=send_body)

    def _request(self, path: str, query: str, auth: str | None, body: bytes | None) -> Request:
        found = credentials(auth) if self.server.site.auth.enabled else None
        return Request(
            method="POST" if body is not None else "GET",
            path=path,
            query=parse_qs(query),
            headers=dict(self.headers.items()),
            body=body or b"",
            user=found[0].decode("utf-8", "replace") if found else None,
        )

    def _metrics(self, send_body: bool) -> None:
        asked = negotiate(self.headers.get("Accept"))
        budget = scrape_budget(self.headers.get("X-Prometheus-Scrape-Timeout-Seconds"))
        try:
            exposition = self.server.site.scraper.scrape(budget, asked.format, asked.escaping)
        except Exception:
            log.exception("scrape failed")
            return self._send(500, b"Internal Server Error\n", body=send_body)
        gzipped = accepts_gzip(self.headers.get("Accept-Encoding"))
        pieces = exposition.pieces
        content = gzip_pieces(pieces) if gzipped else plain_pieces(pieces)
        headers = {"Content-Type": asked.content_type, "Vary": "Accept, Accept-Encoding"}
        if gzipped:
            headers["Content-Encoding"] = "gzip"
        self._send(200, content, headers, body=send_body)
        del content, exposition, pieces
        trim_heap()  # once the answer is sent: the next scrape does not wait for it

    def _send(
        self,
        status: int,
        content: bytes,
        headers: dict[str, str] | None = None,
        body: bool = True,
    ) -> None:
        self.send_response(status)
        all_headers = {"Content-Type": "text/plain; charset=utf-8", **(headers or {})}
        all_headers.update(self.server.site.settings.headers)
        all_headers["Content-Length"] = str(len(content))
        for name, value in all_headers.items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(content)
