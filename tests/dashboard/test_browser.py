"""The dashboard's pages in Debian's headless Chromium (through chromedriver):
each page shows what the store holds, the study page follows a study that
another process is running without reloading, and values from the store are
text, never markup. Each test saves a screenshot of its page into
$AUTOMORPH_SCREENSHOTS (or the test's temporary folder)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from automorph.algorithms import pareto_mask
from automorph.storage import open_storage
from tests.dashboard.support import ROOT, SCRIPT, Server, chrome, make_store

pytest.importorskip("starlette", reason="the dashboard extra is not installed")
pytest.importorskip("selenium", reason="selenium (a dev dependency) is not installed")

from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return make_store(tmp_path_factory.mktemp("browser") / "studies.db")


@pytest.fixture(scope="module")
def server(store: str) -> Iterator[Server]:
    running = Server(store)
    yield running
    assert running.stop()[0] == 0


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    driver = chrome()
    yield driver
    driver.quit()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("AUTOMORPH_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def wait(what: str, check: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.time() + timeout
    while True:
        try:
            value = check()
        except Exception:  # noqa: BLE001 - an element not there yet
            value = None
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.1)


def text(browser: Any, css: str) -> str:
    return str(browser.find_element(By.CSS_SELECTOR, css).text)


def no_alert(browser: Any) -> None:
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert  # noqa: B018 - reading it is the check


def open_study(browser: Any, server: Server, name: str) -> None:
    browser.get(f"{server.base}/study?name={urllib.parse.quote(name)}")
    wait(
        f"the plots of {name}", lambda: browser.execute_script("return document.body.dataset.plots")
    )


def test_studies_page(browser: Any, server: Server, store: str, shots: Path) -> None:
    browser.get(server.base + "/")
    wait("the studies", lambda: browser.find_elements(By.CSS_SELECTOR, "#studies tbody tr"))
    opened = open_storage(store)
    rows = {
        r.get_attribute("data-study"): r
        for r in browser.find_elements(By.CSS_SELECTOR, "#studies tbody tr")
    }
    assert set(rows) == {"tune-min", "two-objectives", "nb201-cells"}
    for name, row in rows.items():
        trials = opened.get_trials(name)
        for state in ("completed", "skipped", "failed"):
            cell = row.find_element(By.CSS_SELECTOR, f"td[data-state={state}]")
            assert cell.text == str(sum(t.status == state for t in trials)), (name, state)
    best = min(
        (t for t in opened.get_trials("tune-min") if t.status == "completed"),
        key=lambda t: t.reward,
    )  # type: ignore[arg-type,return-value]
    assert rows["tune-min"].find_element(By.CSS_SELECTOR, "td.best").text == f"{best.reward:.6g}"
    browser.save_screenshot(str(shots / "studies.png"))


def test_study_page(browser: Any, server: Server, store: str, shots: Path) -> None:
    open_study(browser, server, "tune-min")
    trials = open_storage(store).get_trials("tune-min")
    for state in ("pending", "running", "completed", "skipped", "failed"):
        assert text(browser, f"#count-{state}") == str(sum(t.status == state for t in trials))
    assert text(browser, "#trial-count") == str(len(trials))
    done = [t for t in trials if t.status == "completed"]
    points = browser.find_element(By.ID, "history").get_attribute("data-points")
    assert points == str(len(done))
    best = min(done, key=lambda t: (t.reward, t.id))  # type: ignore[arg-type,return-value]
    assert f"trial {best.id}" in text(browser, "#best")
    # The table: newest first, then sorted by value on the server, then paged.
    ids = [
        r.get_attribute("data-trial")
        for r in browser.find_elements(By.CSS_SELECTOR, "#trials tbody tr")
    ]
    assert ids == [str(t.id) for t in trials[::-1]]
    browser.find_element(By.CSS_SELECTOR, "#trials th[data-sort=value]").click()
    wait("the table sorted by value", lambda: "▲" in text(browser, "#trials th[data-sort=value]"))
    first = browser.find_element(By.CSS_SELECTOR, "#trials tbody tr")
    assert first.get_attribute("data-trial") == str(best.id)
    Select(browser.find_element(By.ID, "page-size")).select_by_visible_text("25")
    wait("a page of 25", lambda: text(browser, "#page-info") == f"1\u201325 of {len(trials)}")
    browser.find_element(By.ID, "next").click()
    wait(
        "the second page",
        lambda: text(browser, "#page-info") == f"26\u2013{len(trials)} of {len(trials)}",
    )
    Select(browser.find_element(By.ID, "state-filter")).select_by_visible_text("failed")
    failed = [t.id for t in trials if t.status == "failed"]
    wait(
        "the failed trials",
        lambda: text(browser, "#page-info") == f"1\u2013{len(failed)} of {len(failed)}",
    )
    # A click on a decision's cell shows only the trials with that value (filtered on the server).
    Select(browser.find_element(By.ID, "state-filter")).select_by_visible_text("any")
    cell = next(
        c
        for c in browser.find_elements(By.CSS_SELECTOR, "#trials tbody td.filterable")
        if c.text == SCRIPT
    )
    cell.click()
    same = [t.id for t in trials if t.dna.get("optimizer") == 2]
    wait("the filtered trials", lambda: text(browser, "#page-info").endswith(f"of {len(same)}"))
    assert SCRIPT in text(browser, "#table-filter")
    browser.find_element(By.ID, "clear-filter").click()
    wait("every trial again", lambda: text(browser, "#page-info").endswith(f"of {len(trials)}"))
    # Plots: curves with early-stopped trials marked, parallel coordinates, importance.
    assert "early-stopped" in text(browser, "#curves-note")
    assert browser.find_elements(By.CSS_SELECTOR, "#parcoords .parcoords")
    assert browser.find_elements(By.CSS_SELECTOR, "#timeline .barlayer")
    no_alert(browser)
    assert browser.execute_script("return document.querySelectorAll('script').length") == 2
    browser.save_screenshot(str(shots / "study.png"))


def test_pareto_front(browser: Any, server: Server, store: str, shots: Path) -> None:
    open_study(browser, server, "two-objectives")
    wait("the Pareto note", lambda: "on the front" in text(browser, "#pareto-note"))
    rewards = [
        t.reward
        for t in open_storage(store).get_trials("two-objectives")
        if t.status == "completed"
    ]
    front = int(pareto_mask(np.array(rewards) * np.array([1.0, -1.0])).sum())
    assert text(browser, "#pareto-note") == f"{front} trials on the front"
    assert text(browser, "#best") == f"Pareto front of {front}"
    browser.save_screenshot(str(shots / "study-two-objectives.png"))


def test_stored_markup_is_text(browser: Any, server: Server, store: str, shots: Path) -> None:
    trial = next(
        t
        for t in open_storage(store).get_trials("tune-min")
        if t.dna.get("optimizer") == 2 and t.metadata
    )
    browser.get(f"{server.base}/trial?name=tune-min&id={trial.id}")
    assert SCRIPT in text(browser, "#metadata")
    assert SCRIPT in text(browser, "#dna")
    no_alert(browser)
    assert browser.execute_script("return document.querySelectorAll('script').length") == 1
    assert str(trial.id) in text(browser, "h1")
    rows = browser.find_elements(By.CSS_SELECTOR, "#measurements tbody tr")
    assert len(rows) == len(trial.measurements)
    browser.save_screenshot(str(shots / "trial.png"))
    # In the study page's table and plots too.
    open_study(browser, server, "tune-min")
    cells = browser.find_elements(By.CSS_SELECTOR, "#trials tbody td")
    assert any(c.text == SCRIPT for c in cells)
    no_alert(browser)


def test_trial_page_draws_the_cell(browser: Any, server: Server, store: str, shots: Path) -> None:
    best = min(open_storage(store).get_trials("nb201-cells"), key=lambda t: -t.reward)  # type: ignore[operator]
    browser.get(f"{server.base}/trial?name=nb201-cells&id={best.id}")
    caption = text(browser, "figure.view-graph figcaption")
    assert caption == "NAS-Bench-201 cell"
    assert len(browser.find_elements(By.CSS_SELECTOR, "figure.view-graph svg circle")) == 4
    browser.save_screenshot(str(shots / "trial-nb201.png"))
    other = next(t for t in open_storage(store).get_trials("nb201-cells") if t.id != best.id)
    browser.get(f"{server.base}/trial?name=nb201-cells&id={other.id}")
    assert browser.find_elements(By.CSS_SELECTOR, "#diff tbody tr"), (
        "no difference from the best cell"
    )


def test_notes_enqueue_and_delete_from_the_pages(browser: Any, tmp_path: Path) -> None:
    url = make_store(tmp_path / "notes.db", trials=5)
    server = Server(url, "--allow-writes")
    try:
        browser.get(f"{server.base}/trial?name=tune-min&id=2")
        box = browser.find_element(By.CSS_SELECTOR, "form.note-form textarea")
        box.clear()
        box.send_keys("a first look <b>here</b>")
        browser.find_element(By.CSS_SELECTOR, "form.note-form button").click()
        wait(
            "the note saved", lambda: text(browser, "form.note-form [data-role=status]") == "saved"
        )
        assert text(browser, "#note-text") == "a first look <b>here</b>"
        notes = open_storage(url).get_study("tune-min").metadata["notes"]
        assert notes["trials"] == {"2": "a first look <b>here</b>"}
        browser.get(f"{server.base}/trial?name=tune-min&id=2")
        assert text(browser, "#note-text") == "a first look <b>here</b>"
        no_alert(browser)
        # Enqueue this trial's DNA, then delete a study (typing its name to confirm).
        browser.find_element(By.ID, "enqueue").click()
        wait("the queued trial", lambda: "queued as trial 6" in text(browser, "#enqueue-status"))
        store = open_storage(url)
        assert store.get_trial("tune-min", 6).dna == store.get_trial("tune-min", 2).dna
        browser.get(f"{server.base}/study?name=nb201-cells")
        browser.find_element(By.ID, "delete-study").click()
        prompt = browser.switch_to.alert
        prompt.send_keys("nb201-cells")
        prompt.accept()
        wait(
            "the studies page", lambda: browser.find_elements(By.CSS_SELECTOR, "#studies tbody tr")
        )
        assert "nb201-cells" not in [s.name for s in store.list_studies()]
    finally:
        assert server.stop()[0] == 0


def test_the_first_paint_needs_no_plotly(browser: Any, server: Server, store: str) -> None:
    # The history is drawn on a canvas of the page's own before Plotly compiles;
    # with Plotly's bundle blocked the page still shows the facts, the history and the table.
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*plotly.min.js"]})
    try:
        browser.get(f"{server.base}/study?name=tune-min")
        wait(
            "the first paint",
            lambda: browser.execute_script(
                "return performance.getEntriesByName('automorph:first-paint').length"
            ),
        )
        done = [t for t in open_storage(store).get_trials("tune-min") if t.status == "completed"]
        assert browser.find_elements(By.CSS_SELECTOR, "#history canvas.sketch")
        assert browser.find_element(By.ID, "history").get_attribute("data-points") == str(len(done))
        wait("the table", lambda: browser.find_elements(By.CSS_SELECTOR, "#trials tbody tr"))
        wait("the error", lambda: "plotly" in text(browser, "#live"))
    finally:
        browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    open_study(browser, server, "tune-min")
    assert not browser.find_elements(By.CSS_SELECTOR, "#history canvas.sketch")


def test_follows_a_running_study(browser: Any, tmp_path: Path, shots: Path) -> None:
    url = make_store(tmp_path / "live.db", trials=5)
    server = Server(url)
    try:
        open_study(browser, server, "tune-min")
        assert text(browser, "#trial-count") == "5"
        browser.execute_script("window.sameLoad = 'yes'")
        worker = subprocess.Popen(
            [sys.executable, "-c", SLOW_WORKER, url], cwd=ROOT, stderr=subprocess.PIPE, text=True
        )
        try:
            wait(
                "the page to show 15 trials",
                lambda: text(browser, "#trial-count") == "15",
                timeout=120,
            )
        finally:
            assert worker.wait(timeout=120) == 0, worker.communicate()[1]
        assert browser.execute_script("return window.sameLoad") == "yes", "the page was reloaded"
        wait(
            "trial 15 in the table",
            lambda: browser.find_elements(By.CSS_SELECTOR, "#trials tbody tr[data-trial='15']"),
        )
        done = sum(t.status == "completed" for t in open_storage(url).get_trials("tune-min"))
        # The worker has ended; within a poll or two the history holds every completed trial.
        wait(
            "every completed trial in the history",
            lambda: (
                browser.find_element(By.ID, "history").get_attribute("data-points") == str(done)
            ),
        )
        browser.save_screenshot(str(shots / "study-live.png"))
    finally:
        assert server.stop()[0] == 0


# Ten more trials, each taking a moment, so the page sees them arrive.
SLOW_WORKER = """
import sys, time
import automorph as am
from automorph import algorithms
from tests.dashboard.support import space, train
def slow(cfg, feedback):
    time.sleep(0.3)
    train(cfg, feedback)
am.tune(slow, space(), algorithms.Random(seed=1), 15, name="tune-min", storage=sys.argv[1],
        minimize=True, catch=ValueError)
"""
