"""The console's pages over HTTP on a real exporter: the job list, each tab, older runs,
filters, paging, escaping, the rejects download and the page's security headers."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest

from runner import cli
from runner.core import catalog, events, presence, views
from runner.core.clock import utcnow
from runner.core.rejects_csv import source_layout, write_rejects
from runner.core.states import Level, Status
from runner.core.storage.db import Database
from runner.core.storage.models import Job
from tests.console.conftest import (
    BY_STATUS,
    NOOP,
    OPERATOR,
    SCRIPT,
    Answer,
    Site,
    serve,
)
from tests.jobs.conftest import drop_user_tables

# The buttons each status of the latest run shows (SPEC §1's lifecycle).
BUTTONS = {
    Status.EDITING: {"cancel"},
    Status.RUNNING: {"pause", "cancel"},
    Status.PAUSING: {"cancel"},
    Status.PAUSED: {"resume", "cancel"},
    Status.CANCELING: set(),
    Status.CANCELED: {"start"},
    Status.FINISHED: {"start"},
    Status.FINISHED_WITH_ERRORS: {"start"},
    Status.SERVER_STOPPED: {"resume", "cancel"},
}
PAGES = (
    "/jobs",
    "/jobs/ok",
    "/jobs/ok?run=1",
    "/jobs/ok/journal",
    "/jobs/too-many/rejects",
    "/jobs/ok/runs",
    "/jobs/never",
    "/jobs/never/journal",
    "/jobs/never/rejects",
    "/jobs/busy",
)


def rows(answer: Answer, kind: str) -> list[str]:
    """The ``data-KIND`` values of the table rows, in page order."""
    return re.findall(rf'<tr class="[^"]*" data-{kind}="([^"]*)"', answer.text)


def buttons(answer: Answer) -> set[str]:
    return set(re.findall(r'id="control-(\w+)"', answer.text))


def test_root_redirects_to_the_job_list(site: Site) -> None:
    answer = site.browser().get("/")
    assert (answer.status, answer.headers["Location"]) == (302, "/jobs")


def test_job_list_shows_every_job_with_icon_and_label(site: Site) -> None:
    answer = site.browser().get("/jobs")
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert answer.headers["Cache-Control"] == "no-store"
    names = rows(answer, "job")
    assert names == sorted(j.name for j in site.config.jobs)
    for status, name in BY_STATUS.items():
        row = answer.text.split(f'data-job="{name}"')[1].split("</tr>")[0]
        assert f'class="status status-{status.value}"' in row
        assert f">{status.icon}</span>" in row and f">{status.label}</span>" in row
    assert 'href="/metrics" id="nav-metrics"' in answer.text
    assert 'id="user"' in answer.text and f">{OPERATOR}<" in answer.text
    too_many = answer.text.split('data-job="too-many"')[1].split("</tr>")[0]
    assert '<td data-label="Rejects" class="num over">5<span class="limit"> / 3</span>' in too_many


def test_job_list_counts_each_status_and_filters_by_it(site: Site) -> None:
    browser = site.browser()
    counts = browser.get("/jobs").inner("status-counts")
    assert 'aria-current="true"' in counts
    for status in Status:
        answer = browser.get(f"/jobs?status={status.value}")
        expected = [n for n in rows(browser.get("/jobs"), "job") if _status_of(site, n) == status]
        assert rows(answer, "job") == expected
        link = re.search(rf'<a class="count count-{status.value}[^"]*"[^>]*>', answer.text)
        assert link and 'aria-current="true"' in link.group(0)
        n = re.search(rf'data-status="{status.value}"[^>]*>.*?<b class="count-n">(\d+)</b>', counts)
        assert n and int(n.group(1)) == len(expected)


def _status_of(site: Site, name: str) -> Status:
    with site.db.read() as session:
        job = catalog.job_by_name(session, name)
        assert job is not None
        return Status(job.status)


def test_job_list_searches_names_and_refuses_unknown_statuses(site: Site) -> None:
    browser = site.browser()
    assert rows(browser.get("/jobs?q=too"), "job") == ["too-many"]
    assert rows(browser.get("/jobs?q=ing"), "job") == ["resting", "slowing", "stopping", "waiting"]
    assert rows(browser.get("/jobs?q=%25"), "job") == []  # a LIKE wildcard is a character
    assert 'value="too"' in browser.get("/jobs?q=too").text  # the box keeps the search
    bad = browser.get("/jobs?status=lost")
    assert bad.status == 400 and "unknown status" in bad.element("error-message")


def test_job_list_pages_keep_the_filters(tmp_path: Path) -> None:
    extra = [{"name": f"bulk-{n:03d}", "kind": "python", "callable": NOOP} for n in range(120)]
    url = f"sqlite:///{tmp_path / 'jobmon.db'}"
    for site in serve(tmp_path, url, extra_jobs=extra):
        browser = site.browser()
        first = browser.get("/jobs?q=bulk")
        assert rows(first, "job") == [f"bulk-{n:03d}" for n in range(50)]
        assert "1\u201350 of 120 jobs" in first.text and "Page 1 of 3" in first.text
        assert 'rel="next" href="/jobs?q=bulk&amp;page=2"' in first.text
        third = browser.get("/jobs?q=bulk&status=editing&page=3")
        assert rows(third, "job") == [f"bulk-{n:03d}" for n in range(100, 120)]
        assert 'rel="prev" href="/jobs?q=bulk&amp;status=editing&amp;page=2"' in third.text
        assert 'rel="next"' not in third.text
        assert rows(browser.get("/jobs?q=bulk&page=99"), "job") == rows(third, "job")


@pytest.mark.parametrize(("status", "name"), BY_STATUS.items(), ids=[s.value for s in BY_STATUS])
def test_general_tab_shows_the_run_and_the_buttons_its_status_allows(
    site: Site, status: Status, name: str
) -> None:
    answer = site.browser().get(f"/jobs/{name}")
    assert answer.status == 200
    assert f'class="status status-{status.value}"' in answer.inner("run-status")
    assert answer.element("run-status") == f"{status.icon} {status.label}"
    assert buttons(answer) == BUTTONS[status]
    assert 'id="tab-general" href="/jobs/' + name + '" aria-current="page"' in answer.text


def test_general_tab_of_a_job_that_never_ran(site: Site) -> None:
    answer = site.browser().get("/jobs/never")
    assert buttons(answer) == {"start"}
    assert "never run" in answer.element("run-line")
    assert "after ok finishes" in answer.element("next-run")


def test_general_tab_shows_the_definition_escaped_and_secrets_masked(site: Site) -> None:
    browser = site.browser()
    page = browser.get("/jobs/ok")
    assert "<script>alert" not in page.text and "&lt;script&gt;alert" in page.text
    assert SCRIPT in page.element("job-description")
    assert "at most" not in page.element("job-limits")
    secret = browser.get("/jobs/secretive").text
    assert "hunter2" not in secret and "s3cret" not in secret
    assert "postgresql://u:***@db/x" in html.unescape(secret)
    people = browser.get("/jobs/import-people")
    assert "People from the &lt;b&gt;CRM&lt;/b&gt;" in people.text
    assert "people.csv (latin-1" in people.element("job-source")
    assert people.element("job-columns") == "2"


def test_general_tab_shows_progress_while_a_run_is_active(site: Site) -> None:
    busy = site.browser().get("/jobs/busy")
    assert '<progress max="1000" value="400"' in busy.text
    assert "40% of the source read" in busy.element("run-progress-text")
    assert "run-progress" not in site.browser().get("/jobs/ok").text


def test_an_older_run_on_every_tab(site: Site) -> None:
    browser = site.browser()
    general = browser.get("/jobs/ok?run=1")
    assert "Run 1" in general.element("run-title")
    assert 'id="latest-run" href="/jobs/ok"' in general.text
    for tab in ("journal", "rejects", "runs"):
        assert f'id="tab-{tab}" href="/jobs/ok/{tab}?run=1"' in general.text
        assert browser.get(f"/jobs/ok/{tab}?run=1").status == 200
    latest = browser.get("/jobs/ok")
    assert "Run 2" in latest.element("run-title") and "latest-run" not in latest.text
    runs = browser.get("/jobs/ok/runs?run=1")
    assert re.search(r'class="run selected" data-run="1" aria-current="true"', runs.text)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/jobs/nope", "no job named 'nope'"),
        ("/jobs/ok?run=9", "job 'ok' has no run 9"),
        ("/jobs/ok/journal?run=x", "job 'ok' has no run 'x'"),
        ("/jobs/ok/history", "no tab 'history'"),
        ("/jobs/never/rejects.csv", "job 'never' has not run yet"),
    ],
)
def test_missing_pages_are_404_and_say_what_is_missing(site: Site, path: str, message: str) -> None:
    answer = site.browser().get(path)
    assert answer.status == 404
    assert message in answer.element("error-message")


def test_journal_tab_filters_by_level(site: Site) -> None:
    browser = site.browser()
    everything = browser.get("/jobs/too-many/journal")
    levels = re.findall(r'class="journal-line level-(\w+)"', everything.text)
    assert "error" in levels and "info" in levels
    errors = browser.get("/jobs/too-many/journal?level=error")
    assert set(re.findall(r'class="journal-line level-(\w+)"', errors.text)) == {"error"}
    assert 'data-level="error" aria-current="true"' in errors.text
    assert "more than max_rejects" in errors.text


def test_rejects_tab_shows_records_as_text(site: Site) -> None:
    browser = site.browser()
    answer = browser.get("/jobs/import-people/rejects")
    assert rows(answer, "line") == ["3"]
    assert "<script>alert(1)" not in answer.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;,Bjørn" in answer.text
    link = 'id="rejects-download" href="/jobs/import-people/rejects.csv?run=1"'
    assert link in answer.text
    many = browser.get("/jobs/too-many/rejects")
    assert rows(many, "line") == ["4", "8", "12", "16", "20"]
    assert 'id="tab-rejects"' in many.text and '<span class="tab-count">5</span>' in many.text
    assert "No rejects in run 2" in browser.get("/jobs/ok/rejects").text


def test_rejects_csv_is_what_the_cli_writes(
    site: Site, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    answer = site.browser().get("/jobs/import-people/rejects.csv")
    assert answer.status == 200 and answer.headers["Content-Type"] == "text/csv"
    disposition = answer.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="import-people-run-1-rejects.csv"')
    with site.db.read() as session:
        job = session.query(Job).filter_by(name="import-people").one()
        run = views.find_run(session, job, 1)
        assert run is not None
        expected = io.BytesIO()
        write_rejects(expected, source_layout(run.checkpoint), views.rejects(session, run))
    assert answer.raw == expected.getvalue()
    assert b'"<script>alert(1)</script>",Bj\xf8rn,3,id,type,' in answer.raw  # latin-1 bytes
    capsysbinary.readouterr()
    config = site.config_path
    assert cli.main(["--config", str(config), "rejects", "import-people", "--format", "csv"]) == 0
    assert capsysbinary.readouterr().out == answer.raw


def test_runs_tab_lists_runs_newest_first_with_links(site: Site) -> None:
    answer = site.browser().get("/jobs/ok/runs")
    assert rows(answer, "run") == ["2", "1"]
    for tab in ("journal", "rejects"):
        assert f'href="/jobs/ok/{tab}?run=1"' in answer.text
    assert 'href="/jobs/ok?run=1">run 1</a>' in answer.text
    assert "No run yet" in site.browser().get("/jobs/never/runs").text


def test_every_page_is_safe_by_construction(site: Site) -> None:
    browser = site.browser()
    for path in PAGES:
        answer = browser.get(path)
        assert answer.status == 200, path
        csp = answer.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "'unsafe-inline'" not in csp
        assert answer.headers["X-Frame-Options"] == "DENY"
        scripts = re.findall(r"<script\b[^>]*>", answer.text)
        assert scripts == ['<script src="/static/console.js" defer>'], path
        assert not re.search(r"<style|\sstyle=|\son[a-z]+=", answer.text), path
        assert not re.search(r"(src|href)=\"(https?:)?//", answer.text), path


def test_static_assets_ship_inside_the_package(site: Site) -> None:
    browser = site.browser()
    js = browser.get("/static/console.js")
    assert js.status == 200 and "javascript" in js.headers["Content-Type"]
    assert "data-refresh" in js.text and "visibilitychange" in js.text
    css = browser.get("/static/console.css")
    assert css.status == 200 and css.headers["Content-Type"] == "text/css; charset=utf-8"
    assert "prefers-color-scheme: dark" in css.text
    assert browser.get("/static/../pages.py").status == 404


def test_live_regions_are_marked_for_refresh(site: Site) -> None:
    browser = site.browser()
    marked = {
        "/jobs": ("status-counts", "job-list", "runner-notice"),
        "/jobs/busy": ("job-head", "controls", "run", "transitions"),
        "/jobs/ok/journal": ("journal",),
        "/jobs/ok/rejects": ("rejects",),
        "/jobs/ok/runs": ("runs",),
    }
    for path, ids in marked.items():
        answer = browser.get(path)
        assert f'data-refresh-url="{path}"' in answer.text
        for id_ in ids:
            assert re.search(rf'id="{id_}"[^>]* data-refresh\b', answer.text), (path, id_)


def test_every_page_on_every_database(db_url: str, tmp_path: Path) -> None:
    db = Database(db_url)
    drop_user_tables(db)  # the import's target table, left by an earlier test
    db.dispose()
    for site in serve(tmp_path, db_url):
        browser = site.browser()
        for path in (*PAGES, "/jobs/import-people/rejects.csv", "/jobs?status=running"):
            assert browser.get(path).status == 200, path


def test_journal_shows_its_newest_page_and_new_lines(fresh_site: Site) -> None:
    browser = fresh_site.browser()
    with fresh_site.db.write() as session:
        job = catalog.job_by_name(session, "busy")
        assert job is not None and job.latest_run_id is not None
        for n in range(150):
            level = Level.WARNING if n % 50 == 0 else Level.INFO
            events.journal(session, job.latest_run_id, job.id, level, f"line {n}", utcnow())
    tail = browser.get("/jobs/busy/journal")
    assert "Page 2 of 2" in tail.text and "line 149" in tail.text and "line 0<" not in tail.text
    assert 'rel="first" href="/jobs/busy/journal?page=1"' in tail.text
    first = browser.get("/jobs/busy/journal?page=1")
    assert "line 0<" in first.text and "line 149" not in first.text
    warnings = browser.get("/jobs/busy/journal?level=warning")
    assert re.findall(r"line (\d+)<", warnings.text) == ["0", "50", "100"]
    with fresh_site.db.write() as session:
        events.journal(session, job.latest_run_id, job.id, Level.INFO, "fresh line", utcnow())
    assert "fresh line" in browser.get("/jobs/busy/journal").text


def test_job_list_says_when_no_runner_is_up(fresh_site: Site) -> None:
    browser = fresh_site.browser()
    assert 'id="no-runner"' not in browser.get("/jobs").text
    presence.depart(fresh_site.db, "seeder")
    answer = browser.get("/jobs")
    assert "No runner is up" in answer.element("no-runner")
    assert "no runner up" in answer.text
    assert "no runner up" in browser.get("/jobs/secretive").element("next-run")
