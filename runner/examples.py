"""Example ``kind: python`` jobs, used by config.example.yaml and the tests."""

from __future__ import annotations

import time

from runner.executor.context import JobContext, JobFailed


def count(ctx: JobContext) -> None:
    """Count to ``params.total`` in steps of ``params.step``, checkpointing after each step.

    ``params.delay`` seconds between steps makes it slow enough to pause, cancel or kill;
    ``params.reject_every`` rejects every n-th number; ``params.fail_at`` raises there.
    """
    total = int(ctx.params.get("total", 100))
    step = int(ctx.params.get("step", 10))
    delay = float(ctx.params.get("delay", 0))
    reject_every = int(ctx.params.get("reject_every", 0))
    fail_at = ctx.params.get("fail_at")
    position = int((ctx.state or {}).get("position", 0))
    ctx.journal("info", f"counting from {position} to {total}")
    while position < total:
        end = min(total, position + step)
        for n in range(position + 1, end + 1):
            if fail_at is not None and n == int(fail_at):
                raise JobFailed(f"failed at {n} as asked")
            if reject_every and n % reject_every == 0:
                ctx.reject(n, str(n), "n", "other", f"{n} is a multiple of {reject_every}")
        ctx.progress(end - position)
        position = end
        if delay:
            time.sleep(delay)
        ctx.checkpoint({"position": position})
    ctx.journal("info", f"counted to {total}")


def noop(ctx: JobContext) -> None:
    """Do nothing, successfully."""


def crash(ctx: JobContext) -> None:
    """Raise an unexpected error."""
    raise RuntimeError("something broke")
