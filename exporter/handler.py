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
from urllib.parse import urlsplit

from exporter.auth import BasicAuth, RateLimiter
from exporter.deflate import gzip_pieces, plain_pieces
from exporter.negotiate import accepts_gzip, negotiate
from exporter.scrape import Scraper
from exporter.tls import peer_sans
from exporter.webconfig import WebSettings

log = logging.getLogger("jobmon.exporter")
DEFAULT_SCRAPE_TIMEOUT = 10.0  # Prometheus's default, when the header is missing
BUDGET_SHARE = 0.7  # of the scrape timeout, for the database read; the rest renders
IDLE_TIMEOUT = 60.0  # seconds a connection may stay silent (scrapers reuse connections)
HANDSHAKE_TIMEOUT = 10.0


@dataclass
class Site:
    """Everything a request handler needs."""

    scraper: Scraper
    settings: WebSettings
    auth: BasicAuth
    limiter: RateLimiter
    metrics_path: str
    landing: bytes
    ready: bool = False


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
        """Refuse any method but GET and HEAD."""
        self.close_connection = True  # the request body is not read
        self._send(405, b"Method Not Allowed\n", {"Allow": "GET, HEAD"})

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_POST

    def version_string(self) -> str:
        """The ``Server`` header."""
        return self.server_version  # no Python version in responses

    def log_message(self, format: str, *args: Any) -> None:
        """Log requests at debug level."""
        log.debug("%s %s", self.address_string(), format % args)

    def _dispatch(self, send_body: bool) -> None:
        site = self.server.site
        if not site.limiter.allow():
            return self._send(429, b"Too Many Requests\n", body=send_body)
        if site.auth.enabled and not site.auth.check(self.headers.get("Authorization")):
            extra = {"WWW-Authenticate": "Basic"}
            return self._send(401, b"Unauthorized\n", extra, body=send_body)
        path = urlsplit(self.path).path
        if path == site.metrics_path:
            return self._metrics(send_body)
        pages = {
            "/": (200, site.landing, "text/html; charset=utf-8"),
            "/-/healthy": (200, b"Healthy\n", None),
            "/-/ready": (200, b"Ready\n", None) if site.ready else (503, b"Not ready\n", None),
        }
        status, content, kind = pages.get(path, (404, b"Not Found\n", None))
        self._send(status, content, {"Content-Type": kind} if kind else None, body=send_body)

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
