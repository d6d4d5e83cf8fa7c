"""Superset as its users reach it, for the BI tests: the REST API (a JWT from
/api/v1/security/login) and the web pages (a logged-in session cookie) in headless Chromium,
driven over the DevTools protocol."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests
from websockets.sync.client import connect

from dagster_project.serve.bi import ADMIN

TIMEOUT_S = 120
START_TIMEOUT_S = 600
CHART_READER_PAUSE_S = 0.05  # between two charts: a user clicking through, not a load test
KPI = Path(sys.executable).with_name("kpi")
# what bi/superset_config.py logs when a connect met a publication's rename and retried
OPEN_RACE_RETRIED = "a DuckDB connect met a publication's rename: retried once"


@dataclass
class Served:
    """``kpi bi`` serving a data directory: the server's address, the admin's password, what
    ``kpi bi --provision-only`` printed, the process and its log."""

    base: str
    password: str
    data_dir: Path
    provisioned: str
    process: subprocess.Popen
    log: Path

    def api(self) -> Api:
        return Api(self.base, ADMIN, self.password)

    def kill(self) -> None:
        """SIGKILL ``kpi bi`` and all it started: the server runs in a session of its own
        (the supervisor's), out of reach of a kill of ``kpi bi``'s process group."""
        if self.process.poll() is None:
            family = psutil.Process(self.process.pid).children(recursive=True)
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            for process in family:
                with contextlib.suppress(psutil.NoSuchProcess):
                    process.kill()


def serve(data_dir: Path, work: Path) -> Served:
    """Superset for ``data_dir`` as a user starts it: ``kpi bi --provision-only`` on an empty
    home (it prints the generated password), then ``kpi bi``, which provisions again, in
    place, and serves on a free loopback port until SIGTERM; returns once /health answers."""
    work.mkdir(parents=True, exist_ok=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "KPI_BI_PASSWORD"}
    env |= {"KPI_DATA_DIR": str(data_dir), "KPI_BI_PORT": str(port)}
    provisioned = subprocess.run(
        [str(KPI), "bi", "--provision-only"],
        env=env,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
    )
    assert provisioned.returncode == 0, provisioned.stdout + provisioned.stderr
    password = provisioned.stdout.rsplit("): ", 1)[-1].strip()
    log = work / "kpi-bi.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(KPI), "bi"], env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    served = Served(
        f"http://127.0.0.1:{port}", password, data_dir, provisioned.stdout, process, log
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            served.kill()
            raise AssertionError(f"Superset did not start:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(f"{served.base}/health", timeout=5).status_code == 200:
                return served
        except requests.RequestException:  # not listening yet, or still loading the app
            pass
        time.sleep(1)


@dataclass
class ChartReading:
    answers: int = 0
    loops: int = 0  # complete passes over every chart
    errors: list[str] = field(default_factory=list)
    # each chart's last answer (chart id: the rows of its one query), for checking numbers
    data: dict[int, list[dict]] = field(default_factory=dict)


class ChartReader(threading.Thread):
    """A dashboard's user, in a loop until stopped: every chart's data from the chart data
    API, each answer counted and kept, each failure kept (never raised)."""

    def __init__(self, served: Served, pause_s: float = CHART_READER_PAUSE_S):
        super().__init__(name="chart-reader", daemon=True)
        self.served = served
        self.pause_s = pause_s
        self.reading = ChartReading()
        self._stopping = threading.Event()

    def run(self) -> None:
        try:
            api = self.served.api()
            ids = [chart["id"] for chart in api.listing("chart")]
        except Exception as error:  # the test reads it
            self.reading.errors.append(f"{type(error).__name__}: {error}")
            return
        while not self._stopping.is_set():
            for chart_id in ids:
                if self._stopping.is_set():
                    return
                try:
                    response = api.get(f"/api/v1/chart/{chart_id}/data/")
                    results = response.json()["result"] if response.status_code == 200 else []
                    failed = len(results) != 1 or any(r.get("error") for r in results)
                except Exception as error:
                    self.reading.errors.append(f"chart {chart_id}: {type(error).__name__}: {error}")
                    continue
                if failed:
                    self.reading.errors.append(f"chart {chart_id}: {response.text[:300]}")
                else:
                    self.reading.data[chart_id] = results[0]["data"]
                    self.reading.answers += 1
                time.sleep(self.pause_s)
            self.reading.loops += 1

    def stop(self) -> ChartReading:
        self._stopping.set()
        self.join(TIMEOUT_S * 2)
        return self.reading


class Api:
    """Superset's REST API as the admin."""

    def __init__(self, base: str, user: str, password: str):
        self.base = base
        self.session = requests.Session()
        login = self.session.post(
            f"{base}/api/v1/security/login",
            json={"username": user, "password": password, "provider": "db", "refresh": False},
            timeout=TIMEOUT_S,
        )
        login.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        csrf = self.session.get(f"{base}/api/v1/security/csrf_token/", timeout=TIMEOUT_S)
        csrf.raise_for_status()
        self.session.headers["X-CSRFToken"] = csrf.json()["result"]
        self.session.headers["Referer"] = base

    def get(self, path: str) -> requests.Response:
        return self.session.get(f"{self.base}{path}", timeout=TIMEOUT_S)

    def post(self, path: str, body: dict) -> requests.Response:
        return self.session.post(f"{self.base}{path}", json=body, timeout=TIMEOUT_S)

    def put(self, path: str, body: dict) -> requests.Response:
        return self.session.put(f"{self.base}{path}", json=body, timeout=TIMEOUT_S)

    def listing(self, kind: str) -> list[dict]:
        response = self.get(f"/api/v1/{kind}/?q=(page_size:100)")
        response.raise_for_status()
        return response.json()["result"]


def login_cookies(base: str, user: str, password: str) -> dict[str, str]:
    """The cookies of a browser session logged in through the login form."""
    session = requests.Session()
    form = session.get(f"{base}/login/", timeout=TIMEOUT_S).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    assert token, "the login page has no CSRF token"
    done = session.post(
        f"{base}/login/",
        data={"username": user, "password": password, "csrf_token": token.group(1)},
        allow_redirects=False,
        timeout=TIMEOUT_S,
    )
    assert done.status_code == 302 and "/login" not in done.headers.get("location", "")
    return dict(session.cookies)


# What a dashboard page shows, read from its DOM: chart holders, charts still loading, charts
# drawn (an ECharts canvas or a table), "No results" and error alerts.
_PAGE_STATE = """(() => {
  const holders = document.querySelectorAll('.dashboard-component-chart-holder');
  const drawn = [...holders].filter(h => h.querySelector('canvas, table')).length;
  const loading = document.querySelectorAll('.dashboard-component-chart-holder .loading').length;
  return JSON.stringify({
    title: document.title,
    charts: holders.length,
    drawn: drawn,
    loading: loading,
    no_results: (document.body.innerText.match(/No results/g) || []).length,
    errors: document.querySelectorAll('.ant-alert-error, [data-test="error-message"]').length,
    // charts showing that a dashboard filter narrowed them, and the filters' chosen values
    filtered: document.querySelectorAll('[data-test="applied-filter-count"]').length,
    chosen: [...document.querySelectorAll('.ant-select-selection-item')].map(e => e.textContent),
  });
})()"""


@dataclass
class PageState:
    title: str
    charts: int
    drawn: int
    loading: int
    no_results: int
    errors: int
    filtered: int = 0
    chosen: list[str] = field(default_factory=list)


class Browser:
    """One headless Chromium page over the DevTools protocol."""

    def __init__(self, websocket):
        self._ws = websocket
        self._ids = itertools.count(1)

    def call(self, method: str, **params) -> dict:
        number = next(self._ids)
        self._ws.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv(timeout=TIMEOUT_S))
            if message.get("id") == number:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def open_dashboard(
        self, url: str, expected_charts: int, chosen: tuple[str, ...] = ()
    ) -> PageState:
        """Navigate, then wait until every chart holder drew and the filters show the values
        ``chosen`` in the address, or the timeout: the last state."""
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + TIMEOUT_S
        state = PageState("", 0, 0, 0, 0, 0)
        while time.monotonic() < deadline:
            value = self.call("Runtime.evaluate", expression=_PAGE_STATE, returnByValue=True)
            if "value" in value.get("result", {}):  # else the page is between documents
                state = PageState(**json.loads(value["result"]["value"]))
                settled = state.charts >= expected_charts and not state.loading
                settled = settled and state.chosen == list(chosen)
                if settled and state.drawn + state.no_results + state.errors >= state.charts:
                    break
            time.sleep(0.5)
        return state

    def screenshot(self) -> bytes:
        return base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])

    def fonts_drawing(self, text: str) -> dict[str, int]:
        """The fonts Chromium drew the element whose own text is ``text`` with: glyphs per
        family. A character that no installed font has is counted all the same, under a
        fallback font that drew it as a box (measured: Liberation Sans for 客单价 before a CJK
        font was installed)."""
        self.call("DOM.enable")
        self.call("CSS.enable")
        self.call("DOM.getDocument")  # DOM.requestNode needs the document
        found = self.call(
            "Runtime.evaluate",
            expression="[...document.querySelectorAll('body *')].find(e => [...e.childNodes]"
            f".some(n => n.nodeType === 3 && n.textContent.trim() === {json.dumps(text)}))",
        )["result"]
        assert "objectId" in found, f"no element shows {text!r}"
        node = self.call("DOM.requestNode", objectId=found["objectId"])["nodeId"]
        fonts = self.call("CSS.getPlatformFontsForNode", nodeId=node)["fonts"]
        return {font["familyName"]: font["glyphCount"] for font in fonts}


@contextmanager
def chromium(cookies: dict[str, str], url: str, size=(1400, 1800)):
    """A headless Chromium page holding ``cookies`` for ``url``."""
    profile = Path(tempfile.mkdtemp(prefix="chromium-"))
    process = subprocess.Popen(
        [
            "chromium", "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", f"--user-data-dir={profile}", "--remote-debugging-port=0",
            f"--window-size={size[0]},{size[1]}", "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            assert time.monotonic() < deadline, "Chromium did not open its DevTools port"
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        pages = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=30).json()
        address = next(p["webSocketDebuggerUrl"] for p in pages if p["type"] == "page")
        with connect(address, max_size=100_000_000) as websocket:
            browser = Browser(websocket)
            for name, value in cookies.items():
                browser.call("Network.setCookie", name=name, value=value, url=url)
            browser.call("Page.enable")
            yield browser
    finally:  # Chromium's own children (zygote, renderers) too
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)
