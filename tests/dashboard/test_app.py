"""The dashboard's server, over HTTP: what its API says against the store,
its errors, its safety rules, and its stops. The server is the real command
line (`automorph dashboard`) in a process of its own over a real SQLite store;
tests/dashboard/test_browser.py drives the pages in Chromium."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from automorph.algorithms import pareto_mask
from automorph.storage import open_storage
from tests.dashboard.support import ROOT, SCRIPT, Server, free_port, make_store
from tests.storage.conftest import fresh_postgres_url, postgres_server  # noqa: F401

pytest.importorskip("starlette", reason="the dashboard extra is not installed")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return make_store(tmp_path_factory.mktemp("dash") / "studies.db")


@pytest.fixture(scope="module")
def server(store: str) -> Any:
    running = Server(store)
    yield running
    code, _, err = running.stop()
    assert code == 0, f"the dashboard did not stop cleanly on SIGTERM ({code}): {err}"


def test_studies_match_the_store(server: Server, store: str) -> None:
    listed = {s["name"]: s for s in server.json("/api/studies")["studies"]}
    opened = open_storage(store)
    assert set(listed) == {"tune-min", "two-objectives", "nb201-cells"}
    trials = opened.get_trials("tune-min")
    for state in ("completed", "skipped", "failed"):
        want = sum(t.status == state for t in trials)
        assert listed["tune-min"]["states"][state] == want, state
    assert (
        listed["tune-min"]["states"]["failed"] > 0 and listed["tune-min"]["states"]["skipped"] > 0
    )
    done = [t for t in trials if t.status == "completed"]
    best = min(done, key=lambda t: t.reward)  # type: ignore[arg-type, return-value]
    assert listed["tune-min"]["best"] == {"trial": best.id, "value": best.reward}
    assert listed["tune-min"]["directions"] == ["minimize"]
    front = listed["two-objectives"]["best"]["front"]
    rewards = [t.reward for t in opened.get_trials("two-objectives") if t.status == "completed"]
    import numpy as np

    signed = np.array(rewards) * np.array([1.0, -1.0])
    assert front == int(pareto_mask(signed).sum())


def test_study_columns_and_updates(server: Server, store: str) -> None:
    first = server.json("/api/study?name=tune-min")
    columns = first["columns"]
    trials = open_storage(store).get_trials("tune-min")
    assert columns["id"] == [t.id for t in trials]
    states = [columns["states"][k] for k in columns["state"]]
    assert states == [t.status for t in trials]
    values = columns["value"][0]
    for t, v in zip(trials, values, strict=True):
        assert v == (float(f"{t.reward:.7g}") if t.status == "completed" else None)
    stopped = [t.id for t in trials if "stopped_early" in t.metadata]
    assert stopped, "MedianStopping stopped no trial in the test study"
    assert [i for i, s in zip(columns["id"], columns["stopped"], strict=True) if s] == stopped
    again = server.json(f"/api/study?name=tune-min&read={columns['read']}")
    assert again["columns"]["id"] == [], "nothing changed, yet rows came back"
    low, high = first["study"]["y_range"][0]
    assert low <= min(v for v in values if v is not None) <= high


def test_the_table_sorts_filters_and_pages_on_the_server(server: Server, store: str) -> None:
    trials = open_storage(store).get_trials("tune-min")
    done = sorted((t for t in trials if t.status == "completed"), key=lambda t: (t.reward, t.id))
    page = server.json("/api/table?name=tune-min&sort=value&states=completed&limit=5&offset=5")
    assert page["total"] == len(done)
    assert [r["id"] for r in page["rows"]] == [t.id for t in done[5:10]]
    desc = server.json("/api/table?name=tune-min&sort=id&desc=1&limit=3")
    assert [r["id"] for r in desc["rows"]] == [t.id for t in trials[::-1][:3]]
    by_choice = server.json(
        "/api/table?name=tune-min&param=optimizer&value=" + _q(SCRIPT) + "&limit=500"
    )
    want = [t.id for t in trials if t.dna.get("optimizer") == 2]
    assert [r["id"] for r in by_choice["rows"]] == want and want
    assert all(r["params"][0] == SCRIPT for r in by_choice["rows"])


def test_plots_data(server: Server, store: str) -> None:
    curves = server.json("/api/curves?name=tune-min")
    with_steps = [t for t in open_storage(store).get_trials("tune-min") if t.measurements]
    assert curves["trials"] == len(with_steps)
    shown = {c["id"]: c for c in curves["curves"]}
    for t in with_steps:
        assert shown[t.id]["values"] == [m["reward"] for m in t.measurements]
    params = server.json("/api/params?name=tune-min")
    assert [d["id"] for d in params["decisions"]] == ["optimizer", "lr", "layers"]
    assert params["decisions"][0]["labels"][2] == SCRIPT
    imp = server.json("/api/importance?name=tune-min")
    assert imp.get("error") or set(imp["decisions"]) == {"optimizer", "lr", "layers"}
    pareto = server.json("/api/pareto?name=two-objectives")
    assert pareto["front_size"] == sum(pareto["front"]) and pareto["front_size"] > 0
    hv = [h[1] for h in pareto["hypervolume"]]
    assert hv == sorted(hv), "the hypervolume of the front so far never falls"
    assert "error" in server.json("/api/pareto?name=tune-min")


def test_trial_page_escapes_what_the_store_holds(server: Server, store: str) -> None:
    trial = next(
        t for t in open_storage(store).get_trials("tune-min") if t.metadata.get("note") == SCRIPT
    )
    status, html, headers = server.get(f"/trial?name=tune-min&id={trial.id}")
    assert status == 200
    assert SCRIPT not in html, "a stored <script> reached the page unescaped"
    assert "&lt;script&gt;" in html
    assert html.count("<script") == 1, "a page carries only its own script"
    assert "script-src 'self'" in headers["content-security-policy"]
    status, html, _ = server.get("/trial?name=nb201-cells&id=1")
    assert status == 200 and "NAS-Bench-201 cell" in html and "<svg" in html


def test_bad_requests_say_what_is_wrong(server: Server) -> None:
    status, body, _ = server.get("/api/study?name=no-such-study")
    assert status == 404 and "no-such-study" in json.loads(body)["error"]
    status, body, _ = server.get("/study?name=no-such-study")
    assert status == 404 and "no-such-study" in body and "<h1>404</h1>" in body
    status, body, _ = server.get("/api/table?name=tune-min&limit=100000")
    assert status == 400 and "limit" in json.loads(body)["error"]
    status, body, _ = server.get("/api/table?name=tune-min&sort=password")
    assert status == 400 and "password" in json.loads(body)["error"]
    status, body, _ = server.get("/api/table?name=tune-min&offset=x")
    assert status == 400 and "offset" in json.loads(body)["error"]
    status, body, _ = server.get("/api/study")
    assert status == 400 and "name" in json.loads(body)["error"]
    status, body, _ = server.get("/trial?name=tune-min&id=999")
    assert status == 404


def test_no_endpoint_reads_a_path_the_client_names(server: Server) -> None:
    for path in (
        "/static/../_app.py",
        "/static/%2e%2e/_app.py",
        "/static/..%2f_app.py",
        "/static/../../../../etc/passwd",
    ):
        status, body, _ = server.get(path)
        assert status == 404 and "create_app" not in body and "root:" not in body, path


def test_read_only_unless_told(server: Server, store: str) -> None:
    status, body = server.post("/api/enqueue", {"name": "tune-min", "id": "1"})
    assert status == 403 and "--allow-writes" in body["error"]
    status, body = server.post("/api/delete", {"name": "tune-min", "confirm": "tune-min"})
    assert status == 403
    status, body = server.post("/api/note", {"name": "tune-min", "text": "x"})
    assert status == 403
    assert "tune-min" in [s.name for s in open_storage(store).list_studies()]
    assert "notes" not in open_storage(store).get_study("tune-min").metadata


def test_writes_with_the_flag(tmp_path: Path) -> None:
    url = make_store(tmp_path / "w.db", trials=8)
    server = Server(url, "--allow-writes")
    try:
        status, body = server.post("/api/enqueue", {"name": "tune-min", "id": "2"})
        assert status == 200 and body["from"] == 2
        store = open_storage(url)
        added = store.get_trial("tune-min", body["trial"])
        assert (added.status, added.dna) == ("pending", store.get_trial("tune-min", 2).dna)
        status, body = server.post("/api/note", {"name": "tune-min", "text": SCRIPT})
        assert status == 200
        status, body = server.post("/api/note", {"name": "tune-min", "trial": "3", "text": "t3"})
        assert status == 200 and body["notes"] == {"study": SCRIPT, "trials": {"3": "t3"}}
        assert store.get_study("tune-min").metadata["notes"]["study"] == SCRIPT
        assert store.get_study("tune-min").directions == ["minimize"]
        status, html, _ = server.get("/study?name=tune-min")
        assert SCRIPT not in html and "&lt;script&gt;" in html
        assert "t3" in server.get("/trial?name=tune-min&id=3")[1]
        status, body = server.post("/api/note", {"name": "tune-min", "trial": "3", "text": ""})
        assert body["notes"]["trials"] == {}, "an empty note removes the trial's note"
        status, body = server.post("/api/note", {"name": "tune-min", "text": "x" * 10_001})
        assert status == 400 and "10000" in body["error"]
        status, body = server.post("/api/note", {"name": "tune-min", "trial": "99", "text": "x"})
        assert status == 404 and "99" in body["error"]
        status, body = server.post("/api/delete", {"name": "nb201-cells", "confirm": "nope"})
        assert status == 400 and "confirm" in body["error"]
        status, body = server.post("/api/delete", {"name": "nb201-cells", "confirm": "nb201-cells"})
        assert status == 200
        assert "nb201-cells" not in [s.name for s in store.list_studies()]
        assert server.get("/api/study?name=nb201-cells")[0] == 404
    finally:
        assert server.stop()[0] == 0


def test_over_postgresql(fresh_postgres_url: str) -> None:  # noqa: F811 - a fixture
    make_store(Path("unused"), trials=12, url=fresh_postgres_url)
    server = Server(fresh_postgres_url)
    try:
        store = open_storage(fresh_postgres_url)
        listed = {s["name"]: s for s in server.json("/api/studies")["studies"]}
        for name in ("tune-min", "two-objectives", "nb201-cells"):
            trials = store.get_trials(name)
            assert listed[name]["trials"] == len(trials)
            assert listed[name]["states"]["completed"] == sum(
                t.status == "completed" for t in trials
            )
        columns = server.json("/api/study?name=tune-min")["columns"]
        assert columns["id"] == [t.id for t in store.get_trials("tune-min")]
        status, html, _ = server.get("/trial?name=nb201-cells&id=1")
        assert status == 200 and "NAS-Bench-201 cell" in html
    finally:
        assert server.stop()[0] == 0


def test_sigint_stops_it_and_the_store_is_intact(tmp_path: Path) -> None:
    url = make_store(tmp_path / "s.db", trials=6)
    before = open_storage(url).get_trials("tune-min")
    server = Server(url)
    server.json("/api/study?name=tune-min")
    server.process.send_signal(signal.SIGINT)
    code, out, _ = server.stop()
    assert code == 0, f"exit status {code} after Ctrl-C"
    assert f"http://127.0.0.1:{server.port}/" in out and "read-only" in out
    assert open_storage(url).get_trials("tune-min") == before
    check = sqlite3.connect(tmp_path / "s.db").execute("PRAGMA integrity_check").fetchone()
    assert check == ("ok",)


def test_command_line_errors(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "automorph.cli", *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )

    missing = run("--storage", str(tmp_path / "none.db"), "dashboard", "--port", "1")
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    bad_port = run("--storage", str(tmp_path / "none.db"), "dashboard", "--port", "70000")
    assert bad_port.returncode == 2 and "65535" in bad_port.stderr
    url = make_store(tmp_path / "p.db", trials=3)
    taken = Server(url)
    try:
        again = run("--storage", url, "dashboard", "--port", str(taken.port))
        assert again.returncode != 0 and "address already in use" in again.stderr.lower()
    finally:
        taken.stop()
    assert free_port() > 0


def test_follows_a_study_that_grows(tmp_path: Path) -> None:
    url = make_store(tmp_path / "g.db", trials=5)
    server = Server(url)
    try:
        first = server.json("/api/study?name=tune-min")
        read = first["columns"]["read"]
        worker = subprocess.Popen(
            [sys.executable, "-c", GROW, url],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert worker.wait(timeout=120) == 0, worker.communicate()[1]
        time.sleep(0.6)  # past the server's refresh interval
        later = server.json(f"/api/study?name=tune-min&read={read}")
        assert later["study"]["trials"] == 15
        assert list(later["columns"]["id"]) == list(range(6, 16))
    finally:
        server.stop()


GROW = """
import sys
import automorph as am
from automorph import algorithms
from tests.dashboard.support import space, train
am.tune(train, space(), algorithms.Random(seed=1), 15, name="tune-min", storage=sys.argv[1],
        minimize=True, catch=ValueError)
"""


def _q(text: str) -> str:
    import urllib.parse

    return urllib.parse.quote(text)
