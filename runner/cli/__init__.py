"""The ``jobmon`` command line (SPEC §4): it stands on the core, the executor and the exporter."""

from runner.cli.app import main

__all__ = ["main"]
