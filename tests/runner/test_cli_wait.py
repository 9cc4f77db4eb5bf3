"""``jobmon start --wait`` as a user types it, against a real runner, and the runner's one log
line per run end."""

from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner.core.clock import utcnow
from runner.core.presence import runners_up
from runner.core.states import Status
from runner.core.storage.db import Database
from runner.core.storage.migrate import upgrade
from tests.e2e.procs import (
    JOBMON,
    Proc,
    counting_job,
    jobmon,
    wait_status,
    wait_until,
    write_config,
)
from tests.runner.terminal import in_terminal

pytestmark = pytest.mark.slow

SECRET = "w4rehousePW"
ENDED = re.compile(r"run ended: job=(\S+) run=(\d+) status=(\S+) duration=\S+s (.*)")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """Waiting runs on the embedded default and on a server database."""
    return str(request.param)


def quick(name: str, **params: Any) -> dict[str, Any]:
    """A counting job of 30 records, 10 per checkpoint, with no delay."""
    job = counting_job(name, delay=0)
    job["params"] |= {"total": 30, "step": 10, **params}
    return job


def ended_lines(runner: Proc) -> list[tuple[str, ...]]:
    """The runner's ``run ended`` lines: job, run number, status and the rest."""
    return [m.groups() for m in ENDED.finditer(runner.output())]


def up(db: Database) -> None:
    """Wait until a runner has said it is up (else ``start`` says that none is)."""

    def seen() -> int:
        with db.read() as session:
            return runners_up(session, utcnow(), 30)

    wait_until(seen, what="a runner up")


@pytest.fixture
def config(tmp_path: Path, db_url: str, db: Database, procs: list[Proc]) -> Path:
    """Jobs that finish, exceed their rejects and crash, with a runner up for them."""
    jobs = [
        quick("ok"),
        quick("too-many", reject_every=4) | {"max_rejects": 3},
        {"name": "crash", "kind": "python", "callable": "runner.examples:crash"},
        counting_job("slow", total=400, delay=0.1),
    ]
    path = write_config(tmp_path / "c.yaml", db_url, jobs)
    procs.append(Proc(path))
    up(db)
    return path


def test_start_wait_finished_exits_0_with_the_status_and_counts(
    config: Path, procs: list[Proc]
) -> None:
    started = jobmon(config, "start", "ok", "--wait", "--timeout", "60")
    assert started.returncode == 0, started.stdout + started.stderr
    assert started.stdout.splitlines() == [
        "ok: run 1 created",
        "ok: run 1 ✔ Finished",
        started.stdout.splitlines()[2],
    ]
    assert re.fullmatch(r"  30 records, 0 rejects in \S+ s", started.stdout.splitlines()[2])
    assert "\x1b" not in started.stdout  # piped: the end only, no progress frames


def test_start_wait_too_many_rejects_exits_1_with_the_count_against_the_limit(
    config: Path, procs: list[Proc]
) -> None:
    started = jobmon(config, "start", "too-many", "--wait", "--timeout", "60")
    assert started.returncode == 1, started.stdout + started.stderr
    head, counts = started.stdout.splitlines()[1:3]
    assert head.startswith(
        "too-many: run 1 ✖ Finished with errors — 5 records rejected, more than max_rejects 3"
    )
    assert counts.startswith("  20 records, 5 rejects (limit 3) in ")


def test_start_wait_error_exits_1_with_the_error(config: Path, procs: list[Proc]) -> None:
    started = jobmon(config, "start", "crash", "--wait", "--timeout", "60")
    assert started.returncode == 1, started.stdout + started.stderr
    assert "crash: run 1 ✖ Finished with errors — RuntimeError: something broke" in started.stdout


def test_runner_logs_one_line_per_run_end(config: Path, procs: list[Proc]) -> None:
    for job in ("ok", "too-many", "crash", "ok"):
        jobmon(config, "start", job, "--wait", "--timeout", "60")
    too_many = "5 records rejected, more than max_rejects 3; what was committed before stays"
    assert ended_lines(procs[0]) == [
        ("ok", "1", "finished", "records=30 rejects=0"),
        (
            "too-many",
            "1",
            "finished_with_errors",
            f'records=20 rejects=5 reason="{too_many} committed"',
        ),
        (
            "crash",
            "1",
            "finished_with_errors",
            'records=0 rejects=0 reason="RuntimeError: something broke"',
        ),
        ("ok", "2", "finished", "records=30 rejects=0"),
    ]


def test_start_wait_ends_at_a_pause_with_exit_1_and_says_how_to_resume(
    config: Path, db: Database, procs: list[Proc]
) -> None:
    args = [JOBMON, "--config", str(config), "start", "slow", "--wait"]
    waiting = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_status(db, "slow", Status.RUNNING)
    assert jobmon(config, "pause", "slow").stdout == "slow: run 1 is ⏸ Pausing\n"
    out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 1, out + err
    assert "slow: run 1 ⏸ Paused — stopped at a checkpoint" in out
    assert "paused: `jobmon resume slow` continues it from its last checkpoint" in out
    assert ("slow", "1", "paused") == ended_lines(procs[0])[0][:3]
    assert jobmon(config, "cancel", "slow").stdout == "slow: run 1 is ⊘ Canceled\n"


def test_start_wait_timeout_exits_1_and_the_run_goes_on(
    config: Path, db: Database, procs: list[Proc]
) -> None:
    started = jobmon(config, "start", "slow", "--wait", "--timeout", "0.5")
    assert started.returncode == 1
    assert "slow: run 1 is still " in started.stderr
    assert "it goes on (`jobmon journal slow --follow`)" in started.stderr
    assert jobmon(config, "cancel", "slow").returncode == 0


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_start_wait_progress_bar_fits_80_columns_and_shows_an_import_s_share(
    tmp_path: Path, db_url: str, procs: list[Proc]
) -> None:
    data = tmp_path / "people.csv"
    data.write_text("id,name\n" + "".join(f"{n},person {n}\n" for n in range(1, 5001)))
    job = {
        "name": "import-people",
        "kind": "import",
        "source": {"path": str(data)},
        "target": {"table": "people", "create": True},
        "chunk_rows": 500,
        "columns": [{"name": "id", "type": "integer"}, {"name": "name", "type": "text"}],
    }
    config = write_config(tmp_path / "c.yaml", db_url, [job])
    procs.append(Proc(config))
    args = [JOBMON, "--config", str(config), "start", "import-people", "--wait"]
    code, screen = in_terminal(args, columns=80)
    assert code == 0, screen
    frames = [f for f in re.split(r"[\r\n]", screen) if f.strip()]
    assert max(len(f) for f in frames) <= 80
    # The last frame is drawn from the finished run, whose checkpoint knows the file's size.
    assert any("100% 5,000 records" in f for f in frames), frames
    assert frames[-2:] == ["import-people: run 1 ✔ Finished", frames[-1]]
    assert frames[-1].startswith("  5,000 records, 0 rejects in ")


def test_run_end_line_and_start_wait_mask_configured_secrets(
    tmp_path: Path, db_url: str, procs: list[Proc], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "leaky.py").write_text(
        "def fail(ctx):\n"
        "    raise RuntimeError('cannot reach ' + ctx.config.databases['warehouse'].url)\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # the runner imports the job from there
    job = {"name": "leaky", "kind": "python", "callable": "leaky:fail"}
    config = write_config(tmp_path / "c.yaml", db_url, [job])
    raw = yaml.safe_load(config.read_text())
    raw["databases"] = {"warehouse": {"url": f"postgresql://etl:{SECRET}@warehouse.invalid/dw"}}
    config.write_text(yaml.safe_dump(raw))
    procs.append(Proc(config))
    started = jobmon(config, "start", "leaky", "--wait", "--timeout", "60")
    assert started.returncode == 1, started.stdout + started.stderr
    assert "cannot reach postgresql://etl:***@warehouse.invalid/dw" in started.stdout
    (line,) = [m.group(0) for m in ENDED.finditer(procs[0].output())]
    assert 'reason="RuntimeError: cannot reach postgresql://etl:***@warehouse' in line
    assert SECRET not in started.stdout + started.stderr + procs[0].output()


def test_run_stopped_at_shutdown_without_a_checkpoint_is_logged_once(
    tmp_path: Path, db_url: str, db: Database, procs: list[Proc], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sleepy.py").write_text("import time\n\ndef nap(ctx):\n    time.sleep(120)\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    job = {"name": "sleepy", "kind": "python", "callable": "sleepy:nap"}
    config = write_config(tmp_path / "c.yaml", db_url, [job], shutdown_grace_seconds=0.2)
    runner = Proc(config)
    procs.append(runner)
    assert jobmon(config, "start", "sleepy").returncode == 0
    wait_status(db, "sleepy", Status.RUNNING)
    runner.signal(signal.SIGTERM)
    assert runner.wait() == 0
    reason = "runner shut down before the run reached a checkpoint"
    assert ended_lines(runner) == [
        ("sleepy", "1", "server_stopped", f'records=0 rejects=0 reason="{reason}"')
    ]


def test_one_record_and_one_reject_read_as_such(tmp_path: Path, procs: list[Proc]) -> None:
    """Counts are words: ``1 record, 1 reject``, never ``1 records``, here and in the journal."""
    db_url = f"sqlite:///{tmp_path / 'one.db'}"
    jobs = [quick("one", total=1, step=1, reject_every=1) | {"max_rejects": 5}]
    path = write_config(tmp_path / "one.yaml", db_url, jobs)
    db = Database(db_url)
    upgrade(db)
    procs.append(Proc(path))
    try:
        up(db)
    finally:
        db.dispose()
    waited = jobmon(path, "start", "one", "--wait")
    assert waited.returncode == 0, waited.stdout + waited.stderr
    assert "1 record, 1 reject (limit 5)" in waited.stdout, waited.stdout
    rejects = jobmon(path, "rejects", "one")
    assert "1 reject" in rejects.stdout and "1 rejects" not in rejects.stdout, rejects.stdout
    for shown in (waited.stdout, rejects.stdout, jobmon(path, "show", "one").stdout):
        assert "1 records" not in shown and "1 rejects" not in shown
