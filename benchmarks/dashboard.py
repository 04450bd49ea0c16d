"""The dashboard on a 100,000-trial study: server time and browser time, beside
optuna-dashboard on the same trials.

Both stores hold the same search: five decisions (two choices, a log-scale
float, an int, a float), five intermediate values per trial and an early stop
at step 2 for the worse half, drawn at random; automorph's is made by
`am.tune` into a SQLite file, Optuna's by `study.add_trials` into its SQLite
(RDB) storage. Both are kept in --workdir and reused (made again only if
they hold fewer trials), so a second run measures without rebuilding.

Measured:
- server: the dashboard's first read of the study (`Reader.study`, every
  trial from SQLite), encoding the study page's first response, and a page
  of the trial table sorted by value at the start, middle and end;
- browser (Debian's headless Chromium through chromedriver, a fresh profile
  each time, so Plotly is not cached): the first paint of the study page,
  from navigation to the frame that shows the facts and the history
  (automorph: the page's `automorph:first-paint` mark, the history drawn on
  the page's own canvas; `automorph:plots`, Plotly's interactive history in
  its place; both dashboards: the wall clock until a Plotly history plot
  holds its points), with the server started and
  idle; the same with the server just started (it has not read the study
  yet); a reload with a warm cache; and the trial table's next page and
  sort by value, clicked;
- optuna-dashboard (`optuna-dashboard sqlite:///...`): the wall clock from
  navigation to its history plot holding points, on the same number of
  trials, with a limit (--peer-timeout) after which it counts as not painted.

Run: python benchmarks/dashboard.py [--trials 100000] [--repeats 5]
Results: benchmarks/results/dashboard.md (by hand) from the printed JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.dashboard.support import Server, chrome, free_port  # noqa: E402

SCRIPT = "<script>alert(1)</script>"
CHOICES = {"optimizer": ["adam", "sgd", "rmsprop"], "activation": ["relu", "gelu", "tanh", SCRIPT]}


def loss(lr: float, layers: int, dropout: float) -> float:
    return (math.log10(lr) + 3) ** 2 + 0.1 * abs(layers - 4) + dropout


# --- the stores -------------------------------------------------------------------


def automorph_store(path: Path, trials: int) -> str:
    """automorph's study `big` with `trials` trials at `path` (made if short)."""
    import automorph as am
    from automorph import algorithms

    url = f"sqlite:///{path}"
    if path.exists():
        have = sqlite3.connect(path).execute("SELECT count(*) FROM automorph_trials").fetchone()[0]
        if have >= trials:
            return url
    space = am.Dict(
        optimizer=am.oneof(CHOICES["optimizer"]),
        lr=am.floatv(1e-5, 1e-1, scale="log"),
        layers=am.intv(1, 8),
        dropout=am.floatv(0.0, 0.6),
        activation=am.oneof(CHOICES["activation"]),
    )

    def train(cfg: Any, feedback: Any) -> None:
        base = loss(cfg["lr"], cfg["layers"], cfg["dropout"])
        for step in range(1, 6):
            feedback.add_measurement(base + 1.0 / step, step=step)
            if step == 2 and base > 2.0:  # a fixed rule stands in for a policy
                feedback.set_metadata("stopped_early", step)
                break
        feedback.done()

    start = time.time()
    am.tune(train, space, algorithms.Random(seed=0), trials, name="big", storage=url, minimize=True)
    print(f"automorph store: {trials} trials in {time.time() - start:.0f} s", file=sys.stderr)
    return url


def optuna_store(path: Path, trials: int) -> str:
    """Optuna's study `big` with `trials` trials at `path` (topped up if short)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = f"sqlite:///{path}"
    study = optuna.create_study(
        study_name="big", storage=url, direction="minimize", load_if_exists=True
    )
    have = len(study.get_trials(deepcopy=False))
    distributions = {
        "optimizer": optuna.distributions.CategoricalDistribution(CHOICES["optimizer"]),
        "lr": optuna.distributions.FloatDistribution(1e-5, 1e-1, log=True),
        "layers": optuna.distributions.IntDistribution(1, 8),
        "dropout": optuna.distributions.FloatDistribution(0.0, 0.6),
        "activation": optuna.distributions.CategoricalDistribution(CHOICES["activation"]),
    }
    rng = random.Random(have)
    start, batch = time.time(), []
    for _ in range(have, trials):
        params = {
            "optimizer": rng.choice(CHOICES["optimizer"]),
            "lr": 10 ** rng.uniform(-5, -1),
            "layers": rng.randint(1, 8),
            "dropout": rng.uniform(0.0, 0.6),
            "activation": rng.choice(CHOICES["activation"]),
        }
        base = loss(params["lr"], params["layers"], params["dropout"])
        steps = 2 if base > 2.0 else 5
        curve = {s: base + 1.0 / s for s in range(1, steps + 1)}
        batch.append(
            optuna.trial.create_trial(
                params=params,
                distributions=distributions,
                value=curve[steps],
                intermediate_values=curve,
            )
        )
        if len(batch) == 1000:
            study.add_trials(batch)
            batch = []
    if batch:
        study.add_trials(batch)
    if trials > have:
        made = trials - have
        print(f"optuna store: {made} trials in {time.time() - start:.0f} s", file=sys.stderr)
    return url


# --- measurements -------------------------------------------------------------------


def server_times(url: str) -> dict[str, float]:
    from automorph.dashboard._app import _dumps
    from automorph.dashboard._data import Reader, columns_since, study_view, trial_rows
    from automorph.storage import open_storage

    reader = Reader(open_storage(url))
    start = time.perf_counter()
    data = reader.study("big")
    read = time.perf_counter() - start
    start = time.perf_counter()
    body = _dumps({"study": study_view(data), "columns": columns_since(data, 0)})
    encode = time.perf_counter() - start
    pages = []
    for offset in (0, len(data.ids) // 2, len(data.ids) - 50):
        start = time.perf_counter()
        trial_rows(data, offset=offset, limit=50, sort="value")
        pages.append(time.perf_counter() - start)
    return {
        "trials": len(data.ids),
        "read_s": read,
        "encode_s": encode,
        "first_response_bytes": len(body),
        "table_page_s": max(pages),
    }


def _wait(driver: Any, script: str, timeout: float) -> float | None:
    """Seconds until `script` returns something true, or None past `timeout`."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            if driver.execute_script(script):
                return time.perf_counter() - start
        except Exception:  # noqa: BLE001 - the page is between documents
            pass
        time.sleep(0.02)
    return None


HISTORY_DRAWN = "return document.querySelector('#history .scatterlayer .trace path.point')"
MARK = (
    "const m = performance.getEntriesByName('automorph:first-paint');"
    "return m.length ? m[0].startTime / 1000 : null"
)
PLOTS = (
    "const m = performance.getEntriesByName('automorph:plots');"
    "return m.length ? m[0].startTime / 1000 : null"
)


def _automorph_paint(base: str, driver: Any) -> dict[str, float | None]:
    start = time.perf_counter()
    driver.get(f"{base}/study?name=big")
    wall = _wait(driver, HISTORY_DRAWN, 120)
    seen = time.time()
    mark = None
    while mark is None and time.perf_counter() - start < 120:
        mark = driver.execute_script(MARK)
    loaded = driver.execute_script("return performance.timing.navigationStart") / 1000
    plots = driver.execute_script(PLOTS)
    return {"mark_s": mark, "plotly_s": plots, "wall_s": None if wall is None else seen - loaded}


def browser_times(url: str, repeats: int, shots: Path | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    server = Server(url)
    try:
        # Just started: the page waits for the server's first read of the study.
        driver = chrome()
        try:
            out["server_just_started"] = _automorph_paint(server.base, driver)
        finally:
            driver.quit()
        server.json("/api/study?name=big&read=1")
        time.sleep(3)
        fresh, warm = [], []
        for _ in range(repeats):
            driver = chrome()
            try:
                fresh.append(_automorph_paint(server.base, driver))
                time.sleep(4)  # the plots after the first paint finish
                warm.append(_automorph_paint(server.base, driver))
                time.sleep(4)
                if "table" not in out:
                    out["table"] = _table_clicks(driver)
                    if shots is not None:
                        driver.save_screenshot(str(shots / "automorph-dashboard.png"))
            finally:
                driver.quit()
            time.sleep(2)
        out["fresh_profile"] = fresh
        out["warm_cache"] = warm
        for key in ("fresh_profile", "warm_cache"):
            marks = [r["mark_s"] for r in out[key] if r["mark_s"] is not None]
            out[f"{key}_median_mark_s"] = statistics.median(marks) if marks else None
    finally:
        server.stop()
    return out


def _table_clicks(driver: Any) -> dict[str, float | None]:
    from selenium.webdriver.common.by import By

    info = "return document.getElementById('page-info').textContent"
    before = driver.execute_script(info)
    driver.find_element(By.ID, "next").click()
    changed = f"return document.getElementById('page-info').textContent !== {json.dumps(before)}"
    next_s = _wait(driver, changed, 60)
    driver.find_element(By.CSS_SELECTOR, "#trials th[data-sort=value]").click()
    sorted_up = (
        "return document.querySelector('#trials th[data-sort=value]')"
        ".textContent.includes('\u25b2')"
    )
    sort_s = _wait(driver, sorted_up, 60)
    return {"next_page_s": next_s, "sort_by_value_s": sort_s}


PEER_HISTORY_DRAWN = (
    "return document.querySelector('.js-plotly-plot .scatterlayer .trace path.point')"
)


def optuna_dashboard_times(
    url: str, repeats: int, timeout: float, shots: Path | None = None
) -> dict[str, Any]:
    port = free_port()
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "optuna-dashboard"),
            url,
            "--port",
            str(port),
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/dashboard", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        runs = []
        for _ in range(repeats):
            driver = chrome()
            try:
                driver.get(f"{base}/dashboard/studies/1")
                drawn = _wait(driver, PEER_HISTORY_DRAWN, timeout)
                seen = time.time()
                loaded = driver.execute_script("return performance.timing.navigationStart") / 1000
                runs.append(None if drawn is None else seen - loaded)
                if shots is not None:
                    driver.save_screenshot(str(shots / "optuna-dashboard.png"))
            finally:
                driver.quit()
        painted = [r for r in runs if r is not None]
        return {
            "runs_s": runs,
            "median_s": statistics.median(painted) if painted else None,
            "timeout_s": timeout,
        }
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / ".dashboard")
    parser.add_argument("--only", choices=("stores", "automorph", "optuna"), default=None)
    parser.add_argument("--peer-timeout", type=float, default=120.0)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--screenshots", type=Path, default=None, help="save the pages here")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"trials": args.trials, "machine": os.uname().nodename}
    url = None
    if args.only in (None, "stores", "automorph"):
        url = automorph_store(args.workdir / f"automorph-{args.trials}.db", args.trials)
    if args.only in (None, "stores", "optuna"):
        peer = optuna_store(args.workdir / f"optuna-{args.trials}.db", args.trials)
    if args.only == "stores":
        return 0
    if url is not None:
        results["server"] = server_times(url)
        results["browser"] = browser_times(url, args.repeats, args.screenshots)
    if args.only in (None, "optuna"):
        results["optuna_dashboard"] = optuna_dashboard_times(
            peer, args.repeats, args.peer_timeout, args.screenshots
        )
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
