"""The exporter's HTTP server: ``/metrics``, a landing page, ``/-/healthy`` and ``/-/ready``.

Standard library HTTP (one thread per connection) with TLS, basic auth, security headers
and a rate limit from the exporter-toolkit web config. The TLS handshake happens in the
connection's own thread, so a slow client cannot hold up the others. Every path, probes
included, is behind basic auth when users are configured, as in the toolkit.

``/-/healthy`` answers 200 while the process serves HTTP. ``/-/ready`` answers 200 while the
exporter answers scrapes and 503 once it is stopping; it does not depend on the database:
with the database down, scrapes still answer (``jobmon_database_up 0``) and restarting the
exporter would not help, so the database is watched through that metric instead.
"""

from __future__ import annotations

import gzip
import logging
import socket
import ssl
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from string import Template
from typing import Any
from urllib.parse import urlsplit

from prometheus_client.exposition import choose_encoder
from prometheus_client.openmetrics import exposition as openmetrics

from exporter import webconfig
from exporter.auth import BasicAuth, RateLimiter
from exporter.deflate import LEVEL, gzip_pieces, plain_pieces
from exporter.families import FamiliesCollector
from exporter.render import Format
from exporter.scrape import Scraper
from exporter.tls import peer_sans
from exporter.webconfig import WebSettings
from runner import __version__
from runner.core.config import Config
from runner.core.storage.db import Database

log = logging.getLogger("jobmon.exporter")
DEFAULT_SCRAPE_TIMEOUT = 10.0  # Prometheus's default, when the header is missing
BUDGET_SHARE = 0.7  # of the scrape timeout, for the database read; the rest renders
IDLE_TIMEOUT = 60.0  # seconds a connection may stay silent (scrapers reuse connections)
HANDSHAKE_TIMEOUT = 10.0


@dataclass
class _Site:
    """Everything a request handler needs."""

    scraper: Scraper
    settings: WebSettings
    auth: BasicAuth
    limiter: RateLimiter
    metrics_path: str
    landing: bytes
    ready: bool = False


def parse_listen_address(address: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6; an empty host listens on every interface)."""
    host, colon, port = address.strip().rpartition(":")
    if not colon or not port.isdigit() or int(port) > 65535:
        raise ValueError(f'exporter.listen_address: "{address}" is not HOST:PORT')
    return host.removeprefix("[").removesuffix("]"), int(port)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], site: _Site) -> None:
        family = socket.getaddrinfo(
            address[0] or None, address[1], type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0][0]
        self.address_family = family
        self.site = site
        self.handlers: set[_Handler] = set()
        self.handlers_lock = threading.Lock()
        super().__init__(address, _Handler)

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
        # Failed handshakes (no or wrong client certificate), resets, timeouts: one line.
        error = sys.exc_info()[1]
        log.debug("connection from %s ended: %s", client_address, error)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "jobmon-exporter"
    timeout = IDLE_TIMEOUT
    server: _Server

    def setup(self) -> None:
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
        with self.server.handlers_lock:
            self.server.handlers.discard(self)
        try:
            super().finish()
        finally:
            if isinstance(self.request, ssl.SSLSocket):
                self.request.close()  # socketserver closes only the socket it accepted

    def do_GET(self) -> None:
        self._dispatch(send_body=True)

    def do_HEAD(self) -> None:
        self._dispatch(send_body=False)

    def do_POST(self) -> None:
        self.close_connection = True  # the request body is not read
        self._send(405, b"Method Not Allowed\n", {"Allow": "GET, HEAD"})

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_POST

    def version_string(self) -> str:
        return self.server_version  # no Python version in responses

    def log_message(self, format: str, *args: Any) -> None:
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
        encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
        budget = scrape_budget(self.headers.get("X-Prometheus-Scrape-Timeout-Seconds"))
        try:
            exposition = self.server.site.scraper.scrape(budget, exposition_format(encoder))
        except Exception:
            log.exception("scrape failed")
            return self._send(500, b"Internal Server Error\n", body=send_body)
        gzipped = accepts_gzip(self.headers.get("Accept-Encoding", ""))
        if exposition.pieces is not None:
            pieces = exposition.pieces
            content = gzip_pieces(pieces) if gzipped else plain_pieces(pieces)
        else:
            text = encoder(FamiliesCollector(exposition.families or []))
            content = gzip.compress(text, LEVEL, mtime=0) if gzipped else text
        headers = {"Content-Type": content_type, "Vary": "Accept, Accept-Encoding"}
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


def exposition_format(encoder: Any) -> Format | None:
    """The format ``choose_encoder`` picked; None when its name escaping is not the default."""
    escaping = getattr(encoder, "keywords", {}).get("escaping", openmetrics.UNDERSCORES)
    if escaping not in (openmetrics.UNDERSCORES, openmetrics.ALLOWUTF8):
        return None  # jobmon's names are plain: only dots/values escapings change them
    function = getattr(encoder, "func", encoder)
    return Format.OPENMETRICS if function is openmetrics.generate_latest else Format.TEXT


def scrape_budget(header: str | None) -> float:
    """Seconds the database read may take, from Prometheus's scrape timeout header."""
    try:
        timeout = float(header) if header else DEFAULT_SCRAPE_TIMEOUT
    except ValueError:
        timeout = DEFAULT_SCRAPE_TIMEOUT
    if not 0 < timeout < float("inf"):
        timeout = DEFAULT_SCRAPE_TIMEOUT
    return max(0.05, min(timeout, 300.0) * BUDGET_SHARE)


def accepts_gzip(header: str) -> bool:
    """Whether an ``Accept-Encoding`` header accepts gzip (``q=0`` refuses it)."""
    for item in header.split(","):
        name, *params = (p.strip() for p in item.split(";"))
        if name.lower() not in ("gzip", "*"):
            continue
        quality = next((p[2:] for p in params if p.lower().startswith("q=")), "1")
        try:
            return float(quality) > 0
        except ValueError:
            return False
    return False


def _landing(metrics_path: str) -> bytes:
    page = resources.files("exporter").joinpath("landing.html").read_text(encoding="utf-8")
    return Template(page).substitute(metrics_path=metrics_path, version=__version__).encode()


class ExporterServer:
    """The exporter, bound to its address at construction; ``start`` serves in threads."""

    def __init__(
        self,
        config: Config,
        *,
        listen_address: str | None = None,
        web_config_file: str | None = None,
    ) -> None:
        path = web_config_file if web_config_file is not None else config.exporter.web_config_file
        settings = webconfig.load(path) if path else WebSettings()
        metrics_path = config.exporter.metrics_path
        if (
            not metrics_path.startswith("/")
            or metrics_path == "/"
            or metrics_path.startswith("/-/")
        ):
            raise ValueError(
                f'exporter.metrics_path: "{metrics_path}" must be a path like /metrics'
            )
        address = listen_address or config.exporter.listen_address
        host, port = parse_listen_address(address)
        db = Database(config.database.url, connect_timeout=5, pool_size=2)
        self._site = _Site(
            scraper=Scraper(db, __version__),
            settings=settings,
            auth=BasicAuth(settings.users),
            limiter=RateLimiter(settings.rate_interval, settings.rate_burst),
            metrics_path=metrics_path,
            landing=_landing(metrics_path),
        )
        try:
            self._httpd = _Server((host, port), self._site)
        except OSError as exc:
            db.dispose()
            raise OSError(exc.errno, f"cannot listen on {address}: {exc.strerror}") from None
        self.port: int = self._httpd.server_address[1]
        self.host = host
        self._thread: threading.Thread | None = None
        if settings.users and settings.tls is None:
            log.warning("basic auth without TLS: passwords cross the network in clear text")

    @property
    def url(self) -> str:
        """The base URL of the server (``https`` with TLS)."""
        scheme = "https" if self._site.settings.tls is not None else "http"
        host = f"[{self.host}]" if ":" in self.host else (self.host or "127.0.0.1")
        return f"{scheme}://{host}:{self.port}"

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        )
        self._thread.start()
        self._site.ready = True
        log.info(
            "exporter listening on %s%s (database %s)",
            self.url,
            self._site.metrics_path,
            self._site.scraper.db.safe_url,
        )

    def stop(self) -> None:
        """Stop serving, close the socket and the database connections."""
        self._site.ready = False
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()
        self._httpd.close_connections()
        self._site.scraper.close()


def run_exporter(
    config: Config,
    *,
    stop: threading.Event,
    listen_address: str | None = None,
    web_config_file: str | None = None,
) -> None:
    """Serve until ``stop`` is set."""
    server = ExporterServer(config, listen_address=listen_address, web_config_file=web_config_file)
    server.start()
    try:
        stop.wait()
    finally:
        server.stop()
