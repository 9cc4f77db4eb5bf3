"""The reading process: chunks over a pipe, and a clear error when it cannot read."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from runner.core.config import ImportJob
from runner.executor.jobs.convertproc import ChildFailed, Plan, ProcessChunks

JOB = ImportJob.model_validate(
    {
        "name": "imp",
        "kind": "import",
        "source": {"path": "x.csv", "header": False},
        "target": {"table": "t"},
        "columns": [{"name": "id", "type": "integer"}],
        "chunk_rows": 2,
    }
).model_dump(by_alias=True)


def test_child_sends_chunks_with_offsets_rows_and_rejects(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("1\n2\nx\n4\n5\n")
    with ProcessChunks(Plan(JOB, str(path), 0, 0, [0], 1, "tuple", rows=2)) as chunks:
        got = [(b.line, b.offset, b.eof, c.rows, [r.line for r in c.rejects]) for b, c in chunks]
    assert got == [
        (2, 4, False, [("1",), ("2",)], []),
        (4, 8, False, [("4",)], [3]),
        (5, 10, True, [("5",)], []),
    ]


def test_child_sends_neither_records_nor_bytes_but_where_each_chunk_ends(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b'1\n"2\n"\n\xff\n4\n5\n')
    with ProcessChunks(Plan(JOB, str(path), 0, 0, [0], 1, "copy", rows=2)) as chunks:
        got = [
            (b.records, c.records, b.data, b.offset, [f.data for f in b.failures])
            for b, c in chunks
        ]
    # What the runner reads back if it must quote a record: the bytes up to each offset.
    # A record that fails to decode is sent with its bytes.
    assert got == [([], [], b"", 7, []), ([], [], b"", 13, [b"\xff\n"]), ([], [], b"", 13, [])]


def test_child_that_cannot_read_fails_clearly(tmp_path: Path) -> None:
    missing = str(tmp_path / "gone.csv")
    with (
        ProcessChunks(Plan(JOB, missing, 0, 0, [0], 1, "copy", rows=2)) as chunks,
        pytest.raises(ChildFailed, match="FileNotFoundError"),
    ):
        list(chunks)


def test_child_is_ended_when_closed_early(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("".join(f"{i}\n" for i in range(100_000)))
    chunks = ProcessChunks(Plan(JOB, str(path), 0, 0, [0], 1, "copy", rows=2))
    first = next(iter(chunks))
    assert first[1].rows == ["0\n", "1\n"]
    chunks.close()
    assert chunks.returncode is not None


def test_child_started_first_reads_from_where_its_plan_says(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("1\n2\n3\n4\n5\n")
    with ProcessChunks() as chunks:
        deadline = time.monotonic() + 60
        while not chunks.ready():
            assert time.monotonic() < deadline, "the child did not start"
            time.sleep(0.01)
        chunks.send(Plan(JOB, str(path), 4, 2, [0], 1, "tuple", rows=2))  # after "1\n2\n", line 2
        got = [(b.lines, c.rows) for b, c in chunks]
    assert got == [([3, 4], [("3",), ("4",)]), ([5], [("5",)])]
