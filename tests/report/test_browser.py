"""The report in a real headless Chromium (Debian's ``chromium``, driven by Playwright).

Run with ``pytest -m browser``. Needs ``apt-get install -y chromium`` and the
``playwright`` Python package; no browser is ever downloaded.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from synthetic_runs import PRICE, UNPRICED, outcomes, sample, task_samples, write_run

from evals.metrics import CostBasis
from evals.report import ReportPaths, build_report

pytestmark = pytest.mark.browser

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")  # Debian, Ubuntu, Google's
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# source: OWASP XSS filter evasion cheat sheet classics, plus a line separator for the JSON block.
PAYLOAD = (
    '</script><script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'
    '</textarea><svg onload="window.__xss = 3"></svg>\u2028<!-- & done'
)
EVIL_MODEL = 'evil<img src=x onerror="window.__xss = 4">'


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> ReportPaths:
    """Models good, cheap and EVIL_MODEL on task-a (60 items: two viewer pages) and task-b."""
    rows: list[dict[str, Any]] = []
    rows += task_samples(
        "good", "task-a", outcomes(60, 45, ["truncated", "no_answer"]), tokens=300, seconds=3
    )
    rows += task_samples("cheap", "task-a", outcomes(60, 30), tokens=50, seconds=0.5)
    rows += task_samples(EVIL_MODEL, "task-a", outcomes(60, 20), tokens=100, seconds=1)
    for model, n_correct in (("good", 9), ("cheap", 6), (EVIL_MODEL, 5)):
        rows += task_samples(model, "task-b", outcomes(10, n_correct))
    rows[0] = sample("good", "task-a", "task-a-000", output=f"<think>{PAYLOAD}</think>Final: {PAYLOAD}",
                     prompt=f"Question with {PAYLOAD}", extracted=PAYLOAD, gold=PAYLOAD)  # fmt: skip
    costs: dict[str, CostBasis] = {"good": PRICE, "cheap": PRICE, EVIL_MODEL: UNPRICED}
    run = write_run(tmp_path_factory.mktemp("runs") / "browser-run", rows, costs=costs)
    return build_report([run], tmp_path_factory.mktemp("report") / "site")


def find_chromium() -> Path | None:
    """The first Chromium on PATH, under any of its usual names."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found is not None:
            return Path(found)
    return None


def test_chromium_is_found_on_path_under_any_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    executable = tmp_path / "chromium-browser"
    executable.write_text("#!/bin/sh\n")
    executable.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_chromium() == executable


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = find_chromium()
    if executable is None:
        pytest.fail(f"browser tests need Chromium on PATH (one of {', '.join(CHROMIUM_NAMES)})")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Page:
    """A page with every console error, page error and request it made recorded."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(path.as_uri())

    def evaluate(self, script: str) -> Any:
        return self.page.evaluate(script)

    def column(self, table: str, index: int) -> list[str]:
        return list(self.evaluate(
            f"Array.from(document.querySelectorAll('#{table} tbody tr'))"
            f".map(r => r.cells[{index}].getAttribute('data-value'))"
        ))  # fmt: skip

    def click_header(self, table: str, label: str) -> None:
        self.page.locator(f"#{table} thead button", has_text=label).first.click()


def test_index_loads_with_no_errors_and_no_network(browser: Any, report: ReportPaths) -> None:
    page = Page(browser, report.index_html)
    assert page.errors == []
    assert page.requests == [report.index_html.as_uri()]  # nothing else: no CDN, no font, no favicon
    assert page.evaluate("document.querySelectorAll('#leaderboard tbody tr').length") == 3
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / "report-index.png"), full_page=True)


def test_clicking_a_header_sorts_the_rows(browser: Any, report: ReportPaths) -> None:
    page = Page(browser, report.index_html)
    assert page.column("leaderboard", 1) == ["good", "cheap", EVIL_MODEL]  # by rank
    page.click_header("leaderboard", "$ per 1k answers")  # cheapest first; the unpriced model last
    assert page.column("leaderboard", 1) == ["cheap", "good", EVIL_MODEL]
    assert (
        page.evaluate("document.querySelector('#leaderboard th[aria-sort=ascending]').textContent")
        == "$ per 1k answers"
    )
    page.click_header("leaderboard", "$ per 1k answers")  # the other way; n/a stays last
    assert page.column("leaderboard", 1) == ["good", "cheap", EVIL_MODEL]
    page.click_header("leaderboard", "Model")
    assert page.column("leaderboard", 1) == sorted(["cheap", EVIL_MODEL, "good"])
    assert page.errors == []


def test_scatter_has_one_point_per_priced_model(browser: Any, report: ReportPaths) -> None:
    page = Page(browser, report.index_html)
    points = page.evaluate(
        "Array.from(document.querySelectorAll('#scatter circle.point')).map(c => c.dataset.model)"
    )
    assert sorted(points) == ["cheap", "good"]
    assert page.evaluate("document.querySelectorAll('#scatter circle.pareto').length") == 2
    assert EVIL_MODEL in page.evaluate("document.getElementById('not-plotted').textContent")
    assert page.evaluate("document.querySelectorAll('#task-bars rect.bar').length") == 3 * 3


def _viewer(browser: Any, report: ReportPaths, model: str, task: str) -> Page:
    data = json.loads(report.json.read_text(encoding="utf-8"))
    row = next(r for r in data["rows"] if r["model"] == model)
    page = Page(browser, report.root / row["tasks"][task]["samples_page"])
    page.page.wait_for_selector("body[data-ready='1']")
    return page


def _counts(page: Page) -> tuple[int, int]:
    return int(page.evaluate("document.body.dataset.shown")), int(
        page.evaluate("document.body.dataset.matching")
    )


def test_viewer_filters_by_status_and_disagreement_and_pages(browser: Any, report: ReportPaths) -> None:
    page = _viewer(browser, report, "good", "task-a")
    assert _counts(page) == (50, 60)  # 50 a page
    page.page.click("#next")
    assert _counts(page) == (10, 60)
    for status in ("correct", "incorrect", "no_answer"):
        page.page.uncheck(f"#status-filter input[value={status}]")
    assert _counts(page) == (1, 1)
    assert page.evaluate("document.querySelector('#samples li').dataset.status") == "truncated"
    page.page.check("#status-filter input[value=correct]")
    assert _counts(page) == (46, 46)
    page.page.select_option("#agreement", "disagree")
    # good is right on items 0-44; cheap on 0-29; evil on 0-19: they disagree on items 20-44 (all
    # correct for good) and agree on 45-59 (all wrong); with correct + truncated shown: 25.
    assert _counts(page) == (25, 25)
    page.page.select_option("#agreement", "agree")
    assert _counts(page) == (21, 21)  # items 0-19 correct for all, plus the truncated item 45
    page.page.fill("#search", "task-a-007")
    assert _counts(page) == (1, 1)
    assert page.errors == []


def test_xss_payload_shows_as_text_and_never_runs(browser: Any, report: ReportPaths) -> None:
    page = _viewer(browser, report, "good", "task-a")
    first = page.page.locator("#samples li").first
    first.locator("details").nth(0).locator("summary").click()  # prompt
    first.locator("details").nth(1).locator("summary").click()  # reasoning
    assert page.evaluate("window.__xss") is None
    assert (
        page.evaluate("document.querySelectorAll('#samples img, #samples svg, #samples script').length") == 0
    )
    texts = first.locator("pre").all_text_contents()
    assert texts == [f"Question with {PAYLOAD}", PAYLOAD, f"Final: {PAYLOAD}"]
    assert first.locator("code.extracted").text_content() == PAYLOAD
    assert first.locator("pre.output").is_visible()
    assert page.errors == []  # a blocked injection would log a CSP violation here
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / "report-viewer.png"))


def test_hostile_model_name_is_text_on_every_page(browser: Any, report: ReportPaths) -> None:
    for path in (report.index_html, *report.sample_pages):
        page = Page(browser, path)
        assert page.evaluate("window.__xss") is None, path
        assert page.errors == [], path
        assert EVIL_MODEL in page.evaluate("document.body.innerText"), path
        page.page.close()


def _default_suite_like(root: Path) -> ReportPaths:
    """The shape of `make demo`'s report: greedy vs 4 samples per item on two tasks, low scores."""
    rows: list[dict[str, Any]] = []
    for task, n_right in (("arith-easy", 7), ("arith-medium", 1)):
        rows += task_samples("smollm2-135m-greedy", task, outcomes(40, n_right), seconds=0.7)
        for idx in range(4):
            statuses = outcomes(40, n_right if idx == 0 else n_right // 2, ["truncated", "no_answer"])
            rows += [sample("smollm2-135m-sampled-x4", task, f"{task}-{i:03d}", status, idx=idx, seconds=0.6)
                     for i, status in enumerate(statuses)]  # fmt: skip
    return build_report([write_run(root / "run", rows)], root / "site")


def test_tables_fit_at_1400_px_and_bars_are_scaled(browser: Any, tmp_path: Path) -> None:
    """source: issue 10, the per-task table overflowed at 1400 px; the bars ran to 0-100%."""
    paths = _default_suite_like(tmp_path)
    page = Page(browser, paths.index_html)
    for table in ("leaderboard", "per-task"):
        overflow = page.evaluate(
            f"(() => {{ const t = document.getElementById('{table}'); "
            "return t.getBoundingClientRect().right - document.documentElement.clientWidth; })()"
        )
        assert overflow <= 0, f"#{table} overflows the 1400 px window by {overflow:.0f} px"
    headers = page.evaluate("Array.from(document.querySelectorAll('#per-task th')).map(h => h.textContent)")
    assert "Delta vs smollm2-135m-greedy" in headers and "pass@4" in headers
    ticks = page.evaluate(
        "Array.from(document.querySelectorAll('#task-bars text[text-anchor=end]')).map(t => t.textContent)"
    )
    assert 0 < float(ticks[-1]) < 50  # every value is under 30%: the axis is not 0-100
    assert page.errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / "report-index-1400.png"), full_page=True)


def test_sample_card_shows_the_question(browser: Any, tmp_path: Path) -> None:
    """source: issue 10, the question hid inside a collapsed "Prompt" with the chat template."""
    chat = (
        "<|im_start|>system\nBe helpful.<|im_end|>\n<|im_start|>user\nTom has 3 apples. How many?<|im_end|>\n"
    )
    rows = [sample("m", "task-a", "task-a-000", prompt=chat + "<|im_start|>assistant\n")]
    paths = build_report([write_run(tmp_path / "run", rows)], tmp_path / "site")
    page = Page(browser, paths.sample_pages[0])
    page.page.wait_for_selector("body[data-ready='1']")
    card = page.page.locator("#samples li").first
    assert card.locator(".question").text_content() == "Tom has 3 apples. How many?"
    assert card.locator(".question").is_visible()
    assert page.errors == []


def test_big_page_shows_first_rows_then_loads_the_rest_from_file(
    browser: Any, reasoning_report: ReportPaths
) -> None:
    [path] = reasoning_report.sample_pages
    assert len(list(path.parent.glob("*.data/*.js"))) > 5
    page = Page(browser, path)
    page.page.wait_for_selector("body[data-ready='1']")
    assert int(page.evaluate("document.body.dataset.shown")) >= 1
    page.page.wait_for_selector("body[data-complete='1']")
    assert _counts(page) == (50, 90)
    page.page.uncheck("#status-filter input[value=correct]")
    assert _counts(page) == (30, 30)  # the filter covers rows of every data file
    page.page.check("#status-filter input[value=correct]")
    page.page.fill("#search", "task-a-087")  # a row of the last data file
    assert _counts(page) == (1, 1)
    card = page.page.locator("#samples li").first
    trace = card.locator("details").nth(1)
    assert trace.get_attribute("open") is None and trace.locator("pre").text_content() == ""  # folded
    trace.locator("summary").click()
    for _ in range(100):  # the toggle event that fills it is dispatched after the click returns
        if trace.locator("pre").text_content():
            break
        time.sleep(0.02)
    assert trace.locator("pre").text_content() == chr(97 + 87 % 26) * 120_000
    assert all(url.startswith(reasoning_report.root.as_uri()) for url in page.requests)
    assert page.errors == []  # no CSP violation, no failed load


def test_big_page_loads_its_data_files_only_after_its_load_event(
    browser: Any, reasoning_report: ReportPaths
) -> None:
    """source: issue 16 part 3, data files added before the load event held it (and the first
    paint measured with it) until all of them had loaded: 1.4 s for a 60k-sample run's page."""
    [path] = reasoning_report.sample_pages
    events: list[str] = []  # in the order Chromium reports them
    tab = browser.new_page()
    tab.on("load", lambda _: events.append("load"))
    tab.on("request", lambda r: events.append(r.url))
    tab.goto(path.as_uri())
    tab.wait_for_selector("body[data-complete='1']")
    data_files = [e for e in events if ".data/" in e]
    assert len(data_files) == len(list(path.parent.glob("*.data/*.js")))
    assert events.index("load") < events.index(data_files[0])
    tab.close()
