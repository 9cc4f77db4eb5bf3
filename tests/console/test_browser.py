"""The console in a real browser: Debian's chromium, headless, driven by Playwright, against a
real exporter on 127.0.0.1 and a free port with a seeded database (``tests/console/conftest``).

What only a browser shows: the visible text of each status, every tab rendered, the control
buttons moving runs, a refusal naming the status, markup in data shown as text with no dialog,
a form posted from another origin refused, basic auth and read-only users, the rejects download
byte for byte, the job list refreshing itself, phone width and dark mode.

Locally a missing chromium skips these tests; in CI (``CI=true``) it fails them.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Browser, Dialog, Error, Page, expect, sync_playwright

from runner import cli
from runner.core import catalog, control, views
from runner.core.clock import utcnow
from runner.core.rejects_csv import source_layout, write_rejects
from runner.core.states import Status
from runner.core.storage.models import Job
from tests.console.conftest import BY_STATUS, OPERATOR, PASSWORDS, READER, SCRIPT, Site
from tests.console.test_pages_control import latest
from tests.runner.support import force_status

pytestmark = pytest.mark.slow

# Long enough for a refresh (every 5 s) and a slow machine; Playwright polls until then.
WAIT_MS = 20_000
OpenPage = Callable[..., Page]
expect.set_options(timeout=WAIT_MS)


CHROMIUM = "/usr/bin/chromium"  # Debian's (scripts/setup --test); Playwright's cannot be fetched


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One headless chromium for the module (skipped locally, failed in CI, when missing)."""
    if not os.access(CHROMIUM, os.X_OK):
        message = f"{CHROMIUM} not found (scripts/setup --test installs Debian's chromium)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        try:
            # --no-sandbox: chromium refuses to start its sandbox as root (containers, CI).
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        except Error as exc:
            pytest.fail(f"{CHROMIUM} did not start: {exc}")
        yield browser
        browser.close()


# Every dialog (alert, confirm, prompt) any page opened during the current test.
dialogs: list[str] = []


def _dismiss(seen: list[str], dialog: Dialog) -> None:
    seen.append(f"{dialog.type}: {dialog.message}")
    dialog.dismiss()


@pytest.fixture
def open_page(chromium: Browser) -> Iterator[OpenPage]:
    """``open_page(site, user=OPERATOR, **context_options)``: a page in a fresh browser context
    signed in as ``user`` (None: no credentials), its dialogs dismissed and recorded in
    ``dialogs``; every context is closed when the test ends."""
    contexts = []
    dialogs.clear()

    def open_(site: Site, user: str | None = OPERATOR, **options: Any) -> Page:
        if user is not None:
            options["http_credentials"] = {"username": user, "password": PASSWORDS[user]}
        context = chromium.new_context(base_url=site.server.url, **options)
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: _dismiss(dialogs, dialog))
        return page

    yield open_
    for context in contexts:
        context.close()


def badge_text(status: Status) -> str:
    return f"{status.icon} {status.label}"


def test_job_list_shows_each_status_with_icon_and_label(site: Site, open_page: OpenPage) -> None:
    page = open_page(site)
    page.goto("/jobs")
    for status, name in BY_STATUS.items():
        row = page.locator(f'tr[data-job="{name}"]')
        expect(row).to_be_visible()
        cell = row.locator('td[data-label="Status"]')
        expect(cell).to_have_text(badge_text(status))
        text = row.inner_text()
        assert status.icon in text and status.label in text, (name, text)
    # Every status has a filter with its icon, label and count.
    for status in Status:
        expect(page.locator(f"a.count-{status.value} .status")).to_have_text(badge_text(status))


def test_every_tab_renders(site: Site, open_page: OpenPage) -> None:
    page = open_page(site)
    page.goto("/jobs")
    page.locator('tr[data-job="too-many"] a.job-link').click()
    expect(page).to_have_url(f"{site.server.url}/jobs/too-many")
    expect(page.locator("#job-name")).to_have_text("too-many")
    status = badge_text(Status.FINISHED_WITH_ERRORS)
    expect(page.locator("#run-status")).to_have_text(status)
    expect(page.locator("#tab-general")).to_have_attribute("aria-current", "page")
    expect(page.locator("#transitions tr.transition")).not_to_have_count(0)

    page.locator("#tab-journal").click()
    expect(page.locator("#tab-journal")).to_have_attribute("aria-current", "page")
    expect(page.locator("#journal-table tr.level-error")).to_contain_text(["more than max_rejects"])
    page.locator('#level-filter a[data-level="error"]').click()
    expect(page.locator("#journal-table tr.journal-line:not(.level-error)")).to_have_count(0)

    page.locator("#tab-rejects").click()
    expect(page.locator("#tab-rejects")).to_have_attribute("aria-current", "page")
    lines = page.locator("#rejects-table tr.reject td.num")
    expect(lines).to_have_text(["4", "8", "12", "16", "20"])
    expect(page.locator("#rejects-download")).to_be_visible()

    page.locator("#tab-runs").click()
    expect(page.locator("#tab-runs")).to_have_attribute("aria-current", "page")
    runs = page.locator("#runs-table tr.run")
    expect(runs).to_have_count(1)
    expect(runs.locator('td[data-label="Status"]')).to_have_text(status)
    runs.locator("a", has_text="run 1").click()
    expect(page.locator("#run-title")).to_have_text("Run 1")


@pytest.mark.parametrize(
    ("name", "button", "after"),
    [("busy", "pause", Status.PAUSING), ("resting", "resume", Status.RUNNING)],
)
def test_pause_and_resume_buttons_move_the_run_as_the_user(
    fresh_site: Site, open_page: OpenPage, name: str, button: str, after: Status
) -> None:
    page = open_page(fresh_site)
    page.goto(f"/jobs/{name}")
    page.locator(f"#control-{button}").click()
    expect(page).to_have_url(f"{fresh_site.server.url}/jobs/{name}")
    expect(page.locator("#run-status")).to_have_text(badge_text(after))
    expect(page.locator("#transitions tr.transition").last).to_contain_text(f"user:{OPERATOR}")
    assert latest(fresh_site, name) == (after, f"user:{OPERATOR}")


def test_without_auth_on_loopback_the_page_acts_as_web(
    open_site: Site, open_page: OpenPage
) -> None:
    page = open_page(open_site, None)
    page.goto("/jobs/busy")
    page.locator("#control-pause").click()
    expect(page.locator("#run-status")).to_have_text(badge_text(Status.PAUSING))
    assert latest(open_site, "busy") == (Status.PAUSING, "user:web")


def test_a_refused_click_names_the_status(fresh_site: Site, open_page: OpenPage) -> None:
    page = open_page(fresh_site)
    # No refresh: the stale Pause button stays on the page, as before a user's late click.
    page.route("**/static/console.js", lambda route: route.abort())
    page.goto("/jobs/busy")
    expect(page.locator("#control-pause")).to_be_visible()
    with fresh_site.db.read() as session:
        job = catalog.job_by_name(session, "busy")
        assert job is not None and job.latest_run_id is not None
        run_id = job.latest_run_id
    force_status(fresh_site.db, run_id, Status.FINISHED)  # the run finished meanwhile
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.locator("#control-pause").click()
    assert answer.value.status == 409
    refusal = page.locator("#refusal")
    expect(refusal).to_contain_text("cannot pause job 'busy'")
    expect(refusal).to_contain_text("finished (Finished)")
    expect(page.locator("#run-status")).to_have_text(badge_text(Status.FINISHED))
    expect(page.locator("#control-start")).to_be_visible()
    assert latest(fresh_site, "busy")[0] is Status.FINISHED


def test_markup_in_data_shows_as_text_and_runs_nothing(site: Site, open_page: OpenPage) -> None:
    page = open_page(site)
    page.goto("/jobs/ok")
    expect(page.locator("#job-description")).to_have_text(SCRIPT)
    page.goto("/jobs/import-people")
    expect(page.locator("#job-description")).to_have_text("People from the <b>CRM</b>")
    expect(page.locator("#job-description b")).to_have_count(0)
    page.goto("/jobs/import-people/rejects")
    record = page.locator('#rejects-table tr.reject[data-line="3"] .record-text')
    expect(record).to_have_text("<script>alert(1)</script>,Bjørn")
    for path in ("/jobs", "/jobs/ok", "/jobs/import-people/rejects", "/jobs/ok/journal"):
        page.goto(path)
        expect(page.locator("script")).to_have_count(1)  # console.js, nothing else
    assert dialogs == []


class _Attacker(BaseHTTPRequestHandler):
    """Serves one page that posts a form to the console as soon as it loads."""

    page = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.page)))
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def attacker() -> Iterator[Callable[[str], str]]:
    """``attacker(html)``: the URL of a page with ``html``, served from another origin
    (127.0.0.1 and another port)."""

    class Served(_Attacker):
        page = b""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Served)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def serve(html: str) -> str:
        Served.page = html.encode()
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield serve
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.mark.parametrize("stolen", [False, True], ids=["no-token", "stolen-token"])
def test_a_form_posted_from_another_origin_is_refused(
    fresh_site: Site, open_page: OpenPage, attacker: Callable[[str], str], stolen: bool
) -> None:
    console = fresh_site.server._console
    assert console is not None
    token = console.guard.token(OPERATOR) if stolen else ""
    action = f"{fresh_site.server.url}/jobs/busy/pause"
    url = attacker(
        f'<form method="post" action="{action}"><input name="csrf" value="{token}"></form>'
        "<script>document.forms[0].submit()</script>"
    )
    page = open_page(fresh_site)  # signed in to the console: the browser sends credentials
    with page.expect_response(action) as answer:
        page.goto(url)
    assert answer.value.status == 403
    expect(page.locator("#error-message")).to_contain_text("did not come from this console")
    assert latest(fresh_site, "busy") == (Status.RUNNING, "runner")


def test_without_credentials_the_console_answers_401(site: Site, open_page: OpenPage) -> None:
    page = open_page(site, None)
    # With no credentials to offer, chromium ends the navigation at the 401 challenge.
    with page.expect_response(f"{site.server.url}/jobs") as answer:
        with pytest.raises(Error, match="ERR_INVALID_AUTH_CREDENTIALS"):
            page.goto("/jobs")
    assert answer.value.status == 401
    assert answer.value.headers["www-authenticate"] == 'Basic realm="jobmon"'
    wrong = open_page(site, None, http_credentials={"username": OPERATOR, "password": "nope"})
    refused = wrong.goto("/jobs/busy")
    assert refused is not None and refused.status == 401
    expect(wrong.locator("body")).not_to_contain_text("busy")
    expect(wrong.locator("#job-name, tr[data-job]")).to_have_count(0)


def test_a_user_who_is_not_an_operator_reads_and_is_refused_403(
    fresh_site: Site, open_page: OpenPage
) -> None:
    page = open_page(fresh_site, READER)
    page.goto("/jobs/busy")
    expect(page.locator("#user")).to_have_text(READER)
    expect(page.locator("#read-only")).to_be_visible()
    expect(page.locator("#read-only-notice")).to_contain_text("not in exporter.console.operators")
    expect(page.locator("#controls button")).to_have_count(0)
    # A Pause form with bob's own valid token, posted from the console's own page.
    console = fresh_site.server._console
    assert console is not None
    token = console.guard.token(READER)
    script = """token => {
        const form = document.createElement("form");
        form.method = "post";
        form.action = "/jobs/busy/pause";
        const field = document.createElement("input");
        field.name = "csrf";
        field.value = token;
        form.append(field);
        document.body.append(form);
        form.submit();
    }"""
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.evaluate(script, token)
    assert answer.value.status == 403
    expect(page.locator("#error-message")).to_contain_text("bob is not in")
    assert latest(fresh_site, "busy") == (Status.RUNNING, "runner")


def test_rejects_download_is_the_clis_csv(
    site: Site, open_page: OpenPage, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    page = open_page(site)
    page.goto("/jobs/import-people/rejects")
    with page.expect_download() as waiting:
        page.locator("#rejects-download").click()
    download = waiting.value
    assert download.failure() is None
    assert download.suggested_filename == "import-people-run-1-rejects.csv"
    got = download.path().read_bytes()
    with site.db.read() as session:
        job = session.query(Job).filter_by(name="import-people").one()
        run = views.find_run(session, job, 1)
        assert run is not None
        expected = io.BytesIO()
        write_rejects(expected, source_layout(run.checkpoint), views.rejects(session, run))
    assert got == expected.getvalue()
    assert b'"<script>alert(1)</script>",Bj\xf8rn' in got  # the source's latin-1 bytes
    capsysbinary.readouterr()
    argv = ["--config", str(site.config_path), "rejects", "import-people", "--format", "csv"]
    assert cli.main(argv) == 0
    assert capsysbinary.readouterr().out == got


def test_the_job_list_refreshes_itself(fresh_site: Site, open_page: OpenPage) -> None:
    page = open_page(fresh_site)
    page.goto("/jobs")
    status = page.locator('tr[data-job="waiting"] td[data-label="Status"]')
    expect(status).to_have_text(badge_text(Status.EDITING))
    page.evaluate("() => { window.loadedOnce = true; }")  # gone if the page were reloaded
    control.cancel(fresh_site.db, "waiting", utcnow())
    expect(status).to_have_text(badge_text(Status.CANCELED), timeout=WAIT_MS)
    expect(page.locator("a.count-canceled .count-n")).to_have_text("2")
    assert page.evaluate("() => window.loadedOnce") is True
    expect(page.locator("#refresh-state")).to_contain_text("updated")


PHONE_PAGES = (
    "/jobs",
    "/jobs/import-people",
    "/jobs/busy",
    "/jobs/too-many/journal",
    "/jobs/import-people/rejects",
    "/jobs/ok/runs",
)


@pytest.mark.parametrize("path", PHONE_PAGES)
def test_phone_width_has_no_horizontal_scroll(site: Site, open_page: OpenPage, path: str) -> None:
    page = open_page(site, viewport={"width": 390, "height": 844}, is_mobile=True)
    page.goto(path)
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.body.scrollWidth,"
        " document.documentElement.clientWidth]"
    )
    assert max(widths[:2]) <= widths[2] == 390, (path, widths)


def test_dark_mode_changes_the_background(site: Site, open_page: OpenPage) -> None:
    colours = {}
    for scheme in ("light", "dark"):
        page = open_page(site, color_scheme=scheme)
        page.goto("/jobs")
        colours[scheme] = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    light, dark = (_lightness(colours[scheme]) for scheme in ("light", "dark"))
    assert light > 200 > 60 > dark, colours


def _lightness(rgb: str) -> float:
    """The mean channel of a computed ``rgb(r, g, b)`` colour, 0 (black) to 255 (white)."""
    channels = [float(part) for part in rgb.removeprefix("rgb(").rstrip(")").split(",")[:3]]
    return sum(channels) / 3
