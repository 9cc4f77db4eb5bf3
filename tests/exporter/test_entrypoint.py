"""``jobmon exporter`` as a process: flags, exit codes, database down, no password shown."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.exporter.expo import value
from tests.promtools import free_port, wait_until

pytestmark = pytest.mark.slow
PASSWORD = "s3cretpw"
JOBMON = str(Path(sys.executable).with_name("jobmon"))


def exporter(config: str, *args: str, command: str = "exporter") -> subprocess.Popen[str]:
    command_line = [JOBMON, "--config", config, "--log-level", "debug", command, *args]
    return subprocess.Popen(command_line, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def write_config(tmp_path: Path, url: str) -> str:
    path = tmp_path / "jobmon.yaml"
    path.write_text(yaml.safe_dump({"database": {"url": url}}), encoding="utf-8")
    return str(path)


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read()).decode()


def test_database_down_answers_and_never_shows_the_password(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"postgresql://jobmon:{PASSWORD}@127.0.0.1:1/jobmon")
    port = free_port()
    process = exporter(config, "--web.listen-address", f"127.0.0.1:{port}")
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        first = wait_until(lambda: get(url), 20, "the exporter to answer")
        second = get(url)
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert value(first, "jobmon_database_up") == 0
    assert (
        value(second, "jobmon_scrape_errors_total")
        == value(first, "jobmon_scrape_errors_total") + 1
    )
    assert "cannot read database postgresql+psycopg://jobmon:***@127.0.0.1:1/jobmon" in err
    assert PASSWORD not in first + second + out + err


@pytest.mark.parametrize("command", ["exporter", "run"])
def test_bad_web_config_exits_2_naming_the_key(tmp_path: Path, command: str) -> None:
    web = tmp_path / "web.yml"
    web.write_text("tls_server_config:\n  cert_file: /nonexistent/server.crt\n  key_file: x\n")
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'j.db'}")
    process = exporter(config, "--web.config.file", str(web), command=command)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert f"{web}: tls_server_config.cert_file: cannot read /nonexistent/server.crt" in err


def test_address_in_use_exits_1(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'j.db'}")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = exporter(config, "--web.listen-address", f"127.0.0.1:{port}")
        _, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in err


def test_bad_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "jobmon.yaml"
    path.write_text("exporter:\n  listen_adress: 127.0.0.1:0\n", encoding="utf-8")
    process = exporter(str(path))
    _, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "exporter.listen_adress: unknown key" in err
