"""``python -m exporter``: the exporter alone, with node_exporter-style flags.

Exit codes: 0 after SIGTERM/SIGINT, 2 for a config or web config error, 1 when the address
cannot be listened on.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence

from exporter.server import ExporterServer
from exporter.webconfig import WebConfigError
from runner.core.config import Config, ConfigError, load


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m exporter", description=__doc__)
    parser.add_argument("--config", default=os.environ.get("JOBMON_CONFIG"), help="config file")
    parser.add_argument("--web.listen-address", dest="listen_address", help="HOST:PORT")
    parser.add_argument("--web.config.file", dest="web_config_file", help="TLS and auth")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the exporter until SIGTERM or SIGINT."""
    args = _arguments(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        config = load(args.config) if args.config else Config()
        server = ExporterServer(
            config, listen_address=args.listen_address, web_config_file=args.web_config_file
        )
    except (ConfigError, WebConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc.strerror or exc}", file=sys.stderr)
        return 1
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server.start()
    print(f"listening on {server.url}", file=sys.stderr, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
