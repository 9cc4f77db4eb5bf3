"""Start, Pause, Resume and Cancel from the console's pages: who may act, cross-site refusal,
refusals that name the status, and transitions stored as caused by the console's user."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from runner.core import catalog
from runner.core.states import Status
from runner.core.storage.models import Run, Transition
from tests.console.conftest import OPERATOR, READER, Site, serve


def latest(site: Site, name: str) -> tuple[Status, str]:
    """The job's latest run status and the cause of its last transition."""
    with site.db.read() as session:
        job = catalog.job_by_name(session, name)
        assert job is not None and job.latest_run_id is not None
        run = session.get(Run, job.latest_run_id)
        assert run is not None
        query = select(Transition.cause).where(Transition.run_id == run.id)
        cause = session.scalars(query.order_by(Transition.id.desc()).limit(1)).one()
        return Status(run.status), cause


def token(site: Site, user: str | None = OPERATOR) -> str:
    return site.browser(user).get("/jobs/ok").csrf()


@pytest.mark.parametrize(
    ("name", "verb", "after"),
    [
        ("busy", "pause", Status.PAUSING),
        ("resting", "resume", Status.RUNNING),
        ("crashed", "cancel", Status.CANCELED),
        ("ok", "start", Status.EDITING),
    ],
)
def test_a_control_form_moves_the_run_as_the_user(
    fresh_site: Site, name: str, verb: str, after: Status
) -> None:
    browser = fresh_site.browser()
    answer = browser.post(f"/jobs/{name}/{verb}", {"csrf": token(fresh_site)})
    assert (answer.status, answer.headers["Location"]) == (303, f"/jobs/{name}")
    assert latest(fresh_site, name) == (after, f"user:{OPERATOR}")
    page = browser.get(f"/jobs/{name}")
    assert f"user:{OPERATOR}" in page.element("transitions")


def test_a_refused_request_names_the_status_with_409(fresh_site: Site) -> None:
    browser = fresh_site.browser()
    answer = browser.post("/jobs/stopping/pause", {"csrf": token(fresh_site)})
    assert answer.status == 409
    refusal = answer.element("refusal")
    assert "cannot pause job 'stopping'" in refusal and "canceling (Canceling)" in refusal
    assert 'data-refresh-url="/jobs/stopping"' in answer.text  # refreshes read the tab
    assert latest(fresh_site, "stopping")[0] is Status.CANCELING


def test_an_unknown_job_is_404(fresh_site: Site) -> None:
    answer = fresh_site.browser().post("/jobs/nope/start", {"csrf": token(fresh_site)})
    assert answer.status == 404 and "nope" in answer.element("error-message")


@pytest.mark.parametrize(
    ("fields", "headers"),
    [
        ({}, {}),
        ({"csrf": "0" * 64}, {}),
        ({"csrf": "TOKEN"}, {"Origin": "https://evil.example"}),
    ],
    ids=["no-token", "wrong-token", "other-origin"],
)
def test_cross_site_requests_are_refused(
    fresh_site: Site, fields: dict[str, str], headers: dict[str, str]
) -> None:
    fields = {k: token(fresh_site) if v == "TOKEN" else v for k, v in fields.items()}
    answer = fresh_site.browser().post("/jobs/busy/pause", fields, **headers)
    assert answer.status == 403
    assert "did not come from this console" in answer.element("error-message")
    assert latest(fresh_site, "busy") == (Status.RUNNING, "runner")


def test_the_same_origin_is_accepted(fresh_site: Site) -> None:
    browser = fresh_site.browser()
    fields = {"csrf": token(fresh_site)}
    assert browser.post("/jobs/busy/pause", fields, Origin=browser.origin).status == 303


def test_a_token_is_bound_to_its_user(fresh_site: Site) -> None:
    answer = fresh_site.browser(READER).post("/jobs/busy/pause", {"csrf": token(fresh_site)})
    assert answer.status == 403
    assert latest(fresh_site, "busy")[0] is Status.RUNNING


def test_a_user_who_is_not_an_operator_reads_only(fresh_site: Site) -> None:
    reader = fresh_site.browser(READER)
    page = reader.get("/jobs/busy")
    assert "bob is not in exporter.console.operators" in page.element("read-only-notice")
    assert 'id="read-only"' in page.text
    assert "control-" not in page.text and 'name="csrf"' not in page.text
    console = fresh_site.server._console
    assert console is not None
    answer = reader.post("/jobs/busy/pause", {"csrf": console.guard.token(READER)})
    assert answer.status == 403
    assert "not in exporter.console.operators" in answer.element("error-message")
    assert latest(fresh_site, "busy")[0] is Status.RUNNING


def test_without_auth_on_loopback_anyone_acts_as_web(open_site: Site) -> None:
    browser = open_site.browser(None)
    page = browser.get("/jobs/busy")
    assert 'id="user"' not in page.text and 'id="read-only"' not in page.text
    answer = browser.post("/jobs/busy/cancel", {"csrf": page.csrf()})
    assert answer.status == 303
    assert latest(open_site, "busy") == (Status.CANCELING, "user:web")


@pytest.fixture
def public_site(tmp_path: Path) -> Iterator[Site]:
    """Without basic auth, listening on every address: nobody can be told apart."""
    yield from serve(
        tmp_path, f"sqlite:///{tmp_path / 'jobmon.db'}", auth=False, listen="0.0.0.0:0"
    )


def test_without_auth_off_loopback_the_console_is_read_only(public_site: Site) -> None:
    page = public_site.browser(None).get("/jobs/busy")
    assert "only on a loopback address" in page.element("read-only-notice")
    assert "control-" not in page.text
    jobs = public_site.browser(None).get("/jobs")
    assert 'id="read-only" title="read-only: without basic auth' in jobs.text
