"""Hostile files keep memory flat: one 200 MB line is a reject, not 800 MiB of memory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow
LINE_BYTES = 200 * 2**20
PEAK_LIMIT_MIB = 150
# Runs one import in a fresh interpreter and prints its peak RSS, and its reading process's.
CHILD = """
import json, resource, sys
from runner.core.config import load
from runner.core.storage.db import Database
from runner.core.storage.migrate import upgrade
from runner.executor.worker import run_once
config = load(sys.argv[1])
db = Database(config.database.url)
upgrade(db)
status = run_once(config, db, "hostile")
# This process's own peak (VmHWM: ru_maxrss would count the forked test process it was
# before exec), and its reading process's (forked from this one after its imports).
own = next(int(line.split()[1]) for line in open("/proc/self/status")
           if line.startswith("VmHWM:"))
peak = max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"status": status.value, "peak_kib": peak}))
"""


def _hostile_csv(path: Path) -> None:
    with path.open("wb") as out:
        out.write(b"id,name\n1,before\n2,")
        block = b"x" * 2**20
        for _ in range(LINE_BYTES // len(block)):
            out.write(block)
        out.write(b"\n3,after\n")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_a_200_mb_line_is_a_parse_reject_and_memory_stays_flat(tmp_path: Path, db_url: str) -> None:
    csv = tmp_path / "hostile.csv"
    _hostile_csv(csv)
    columns = [{"name": "id", "type": "integer"}, {"name": "name", "type": "text"}]
    job = {"name": "hostile", "kind": "import", "source": {"path": str(csv)},
           "target": {"table": "hostile_rows", "create": True}, "columns": columns}  # fmt: skip
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"database": {"url": db_url}, "jobs": [job],
                                      "runner": {"data_dirs": [str(tmp_path)]}}))  # fmt: skip
    done = subprocess.run([sys.executable, "-c", CHILD, str(config)], capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    peak_mib = result["peak_kib"] / 1024
    print(f"peak RSS importing one {LINE_BYTES // 2**20} MB line: {peak_mib:.0f} MiB")
    assert result["status"] == "finished"
    assert peak_mib < PEAK_LIMIT_MIB
    from runner.core.storage.db import Database

    db = Database(db_url)
    try:
        with db.engine.begin() as conn:
            rows = conn.exec_driver_sql("SELECT id FROM hostile_rows ORDER BY id").scalars()
            assert list(rows) == [1, 3]
            rejects = conn.exec_driver_sql("SELECT line, reason, message FROM rejects").all()
            conn.exec_driver_sql("DROP TABLE hostile_rows")
    finally:
        db.dispose()
    ((line, reason, message),) = rejects
    assert (line, reason) == (3, "parse") and "longer than max_record_bytes" in message
