"""The exporter's HTTP server: ``/metrics``, a landing page, ``/-/healthy`` and ``/-/ready``.

Requests are answered by :mod:`exporter.handler`; this module sets the server up from the
config and the web config file, and starts and stops it.

``/-/healthy`` answers 200 while the process serves HTTP. ``/-/ready`` answers 200 once the
exporter has read the database and rendered every job (its first read, done at start so the
first scrape costs no more than the next ones; it counts as done when it fails too) and its
database answers (:mod:`exporter.health`), and 503 once it is stopping.
"""

from __future__ import annotations

import logging
import threading
from importlib import resources
from string import Template

from exporter import webconfig
from exporter.auth import BasicAuth, RateLimiter
from exporter.console.app import Console
from exporter.console.security import Guard, is_loopback
from exporter.handler import BUDGET_SHARE, DEFAULT_SCRAPE_TIMEOUT, Listener, Site
from exporter.health import Readiness
from exporter.scrape import Scraper
from exporter.webconfig import WebSettings
from runner import __version__
from runner.core.config import Config
from runner.core.storage.db import Database

log = logging.getLogger("jobmon.exporter")
WARM_WAIT = 5.0  # seconds ``start`` waits for the first read; it goes on in the background


def parse_listen_address(address: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6; an empty host listens on every interface)."""
    host, colon, port = address.strip().rpartition(":")
    if not colon or not port.isdigit() or int(port) > 65535:
        raise ValueError(f'exporter.listen_address: "{address}" is not HOST:PORT')
    return host.removeprefix("[").removesuffix("]"), int(port)


def check_metrics_path(path: str) -> str:
    """``path`` if it can serve the metrics: absolute, not ``/`` and not under ``/-/``."""
    if not path.startswith("/") or path == "/" or path.startswith("/-/"):
        raise ValueError(f'exporter.metrics_path: "{path}" must be a path like /metrics')
    return path


def _landing(metrics_path: str) -> bytes:
    page = resources.files("exporter").joinpath("landing.html").read_text(encoding="utf-8")
    return Template(page).substitute(metrics_path=metrics_path, version=__version__).encode()


def _console(config: Config, settings: WebSettings, host: str, metrics_path: str) -> Console | None:
    """The web console, with a database pool of its own so pages never queue scrapes."""
    if not config.exporter.console.enabled:
        return None
    guard = Guard(
        auth_enabled=bool(settings.users),
        operators=tuple(config.exporter.console.operators),
        loopback=is_loopback(host),
    )
    db = Database(config.database.url, connect_timeout=5, pool_size=2)
    return Console(config, db, guard, metrics_path)


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
        metrics_path = check_metrics_path(config.exporter.metrics_path)
        address = listen_address or config.exporter.listen_address
        host, port = parse_listen_address(address)
        db = Database(config.database.url, connect_timeout=5, pool_size=2)
        self._console = _console(config, settings, host, metrics_path)
        self._site = Site(
            scraper=Scraper(db, __version__, config.exporter.metrics),
            settings=settings,
            auth=BasicAuth(settings.users),
            limiter=RateLimiter(settings.rate_interval, settings.rate_burst),
            metrics_path=metrics_path,
            landing=_landing(metrics_path),
            console=self._console,
            readiness=Readiness(db),
        )
        try:
            self._listener = Listener((host, port), self._site)
        except OSError as exc:
            db.dispose()
            raise OSError(exc.errno, f"cannot listen on {address}: {exc.strerror}") from None
        self.port: int = self._listener.server_address[1]
        self.host = host
        self._thread: threading.Thread | None = None
        self._stopping = False
        if settings.users and settings.tls is None:
            log.warning("basic auth without TLS: passwords cross the network in clear text")

    @property
    def url(self) -> str:
        """The base URL of the server (``https`` with TLS)."""
        scheme = "https" if self._site.settings.tls is not None else "http"
        host = f"[{self.host}]" if ":" in self.host else (self.host or "127.0.0.1")
        return f"{scheme}://{host}:{self.port}"

    def start(self) -> None:
        """Serve in a background thread; ready once the first read is rendered (waited for
        here up to :data:`WARM_WAIT` seconds)."""
        self._thread = threading.Thread(
            target=self._listener.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        )
        self._thread.start()
        warm = threading.Thread(target=self._warm, name="jobmon-first-read", daemon=True)
        warm.start()
        warm.join(WARM_WAIT)
        log.info(
            "exporter listening on %s%s (database %s)",
            self.url,
            self._site.metrics_path,
            self._site.scraper.db.safe_url,
        )

    def _warm(self) -> None:
        """Read and render every job before answering ready (scrapes meanwhile wait for it)."""
        try:
            reason = self._site.scraper.refresh(DEFAULT_SCRAPE_TIMEOUT * BUDGET_SHARE)
            if reason:
                log.debug("first database read: %s", self._site.scraper.db.redact(reason))
        finally:
            self._site.ready = not self._stopping

    def stop(self) -> None:
        """Stop serving, close the socket and the database connections."""
        self._stopping = True
        self._site.ready = False
        if self._thread is not None:
            self._listener.shutdown()
            self._thread.join()
            self._thread = None
        self._listener.server_close()
        self._listener.close_connections()
        self._site.scraper.close()
        if self._console is not None:
            self._console.db.dispose()


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
