"""What the dashboard tests share: a store of real studies, the dashboard
served by the real command line in a process of its own, and Chromium.

`make_store(path)` runs real searches into a SQLite file: a minimized study
with learning curves, early stopping, skipped and failed trials and a
`<script>` in its values; a two-objective study; a NAS-Bench-201 study whose
trials keep their cells. `Server` starts `automorph dashboard` on a free port
and stops it with SIGTERM (checking that it exits cleanly). `chrome()` opens
Debian's headless Chromium through chromedriver.
"""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import automorph as am
from automorph import algorithms
from automorph.early_stopping import MedianStopping

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = "<script>alert('stored')</script>"
DASHBOARD = [sys.executable, "-m", "automorph.cli"]
CHROMIUM = os.environ.get("AUTOMORPH_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("AUTOMORPH_CHROMEDRIVER", "/usr/bin/chromedriver")


def space() -> Any:
    return am.Dict(
        optimizer=am.oneof(["adam", "sgd", SCRIPT]),
        lr=am.floatv(1e-4, 1e-1, scale="log"),
        layers=am.intv(1, 6),
    )


def loss(cfg: Any) -> float:
    return (math.log10(cfg["lr"]) + 2.5) ** 2 + 0.1 * abs(cfg["layers"] - 3)


def train(cfg: Any, feedback: Any) -> None:
    """Three steps of a learning curve; a few trials skip or fail."""
    if feedback.id % 11 == 0:
        raise ValueError("diverged")
    if feedback.id % 13 == 0:
        feedback.skip("out of memory")
        return
    feedback.set_metadata("note", SCRIPT)
    for step in range(1, 4):
        feedback.add_measurement(loss(cfg) + 1.0 / step, step=step)
        if feedback.should_stop_early():
            break
    feedback.done()


def make_store(path: Path, trials: int = 40, url: str | None = None) -> str:
    """Three real studies in a SQLite store at `path` (or in the store at
    `url`, a PostgreSQL database, say); returns the store's URL."""
    url = url or f"sqlite:///{path}"
    am.tune(
        train,
        space(),
        algorithms.Random(seed=1),
        trials,
        name="tune-min",
        storage=url,
        minimize=True,
        catch=ValueError,
        early_stopping=MedianStopping(warmup_steps=1),
    )
    am.tune(
        lambda c: (-loss(c), c["layers"] / 6.0),
        space(),
        algorithms.nsga2(seed=2),
        30,
        name="two-objectives",
        storage=url,
        direction=["maximize", "minimize"],
    )
    from automorph.benchmarks import nb201_space

    am.tune(
        lambda cell: float(len(str(cell)) % 7),
        nb201_space(),
        algorithms.Random(seed=3),
        6,
        name="nb201-cells",
        storage=url,
    )
    return url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`automorph dashboard --storage URL --port N` in a process of its own."""

    def __init__(self, url: str, *extra: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [*DASHBOARD, "--storage", url, "dashboard", "--port", str(self.port), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(self.base + "/", timeout=2).read()
                return
            except (urllib.error.URLError, ConnectionError):
                if self.process.poll() is not None or time.time() > deadline:
                    out, err = self.process.communicate(timeout=10)
                    raise RuntimeError(f"the dashboard did not start:\n{out}\n{err}") from None
                time.sleep(0.2)

    def get(self, path: str) -> tuple[int, str, dict[str, str]]:
        try:
            with urllib.request.urlopen(self.base + path, timeout=60) as r:
                return r.status, r.read().decode(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(), dict(e.headers)

    def json(self, path: str) -> Any:
        status, body, _ = self.get(path)
        assert status == 200, f"GET {path}: {status} {body}"
        return json.loads(body)

    def post(self, path: str, form: dict[str, str]) -> tuple[int, Any]:
        data = urllib.parse.urlencode(form).encode()
        try:
            with urllib.request.urlopen(self.base + path, data=data, timeout=60) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def stop(self) -> tuple[int, str, str]:
        """SIGTERM, as a service manager stops it; returns (exit code, out, err)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        out, err = self.process.communicate(timeout=30)
        return self.process.returncode, out, err


def chrome(width: int = 1300, height: int = 1800) -> Any:
    """Debian's Chromium, headless, driven by chromedriver (Selenium)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    for binary in (CHROMIUM, CHROMEDRIVER):
        if not Path(binary).exists():
            raise RuntimeError(
                f"{binary} is missing: the dashboard tests drive Debian's Chromium "
                "(apt-get install chromium chromium-driver; .ci/run installs them)"
            )
    options = Options()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--enable-unsafe-swiftshader",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
