"""Run a command in a pseudo-terminal of a given width, as a user's terminal would be."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import termios
from collections.abc import Sequence

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def in_terminal(args: Sequence[str], columns: int, timeout: float = 60) -> tuple[int, str]:
    """Exit code and screen text (colours removed) of ``args`` run in a ``columns``-wide tty."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.Popen(list(args), stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the other end closed: the process is done writing
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    code = proc.wait(timeout)
    text = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    return code, ANSI.sub("", text)
