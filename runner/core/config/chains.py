"""Checks of ``after:``: each names another configured job, and no chain comes back on itself.

A job runs after at most one job, so following ``after:`` from any job either ends at a job
that runs after nothing or enters a cycle; a cycle is reported once, at its first job in the
file, naming every job on it.
"""

from __future__ import annotations

from collections.abc import Sequence

from runner.core.config.jobs import JobBase


def after_problems(jobs: Sequence[JobBase]) -> list[str]:
    """``jobs[i].after: ...`` lines for unknown jobs, a job after itself, and cycles."""
    index: dict[str, int] = {}
    for i, job in enumerate(jobs):
        index.setdefault(job.name, i)
    problems: list[str] = []
    for i, job in enumerate(jobs):
        if job.after is None:
            continue
        if job.after == job.name:
            problems.append(f"jobs[{i}].after: a job cannot run after itself")
        elif job.after not in index:
            problems.append(f'jobs[{i}].after: no job named "{job.after}"')
    reported: set[str] = set()
    for i, job in enumerate(jobs):
        cycle = _cycle_from(job.name, jobs, index)
        if len(cycle) > 1 and not reported & set(cycle):
            reported.update(cycle)
            path = " -> ".join([*cycle, cycle[0]])
            problems.append(f"jobs[{i}].after: cycle {path} (each runs after the next)")
    return problems


def _cycle_from(name: str, jobs: Sequence[JobBase], index: dict[str, int]) -> list[str]:
    """The jobs of the cycle that ``name`` is on, starting with it; [] if it is on none."""
    chain = [name]
    while (after := jobs[index[chain[-1]]].after) is not None and after in index:
        if after == name:
            return chain
        if after in chain:
            return []  # a cycle further up the chain, not through ``name``
        chain.append(after)
    return []
