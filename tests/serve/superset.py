"""Superset as its users reach it, for the BI tests: the REST API (a JWT from
/api/v1/security/login) and the web pages (a logged-in session cookie) in headless Chromium,
driven over the DevTools protocol."""

from __future__ import annotations

import base64
import itertools
import json
import re
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from websockets.sync.client import connect

TIMEOUT_S = 120


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

    def open_dashboard(self, url: str, expected_charts: int) -> PageState:
        """Navigate, then wait until every chart holder drew or the timeout: the last state."""
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + TIMEOUT_S
        state = PageState("", 0, 0, 0, 0, 0)
        while time.monotonic() < deadline:
            value = self.call("Runtime.evaluate", expression=_PAGE_STATE, returnByValue=True)
            if "value" in value.get("result", {}):  # else the page is between documents
                state = PageState(**json.loads(value["result"]["value"]))
                settled = state.charts >= expected_charts and not state.loading
                if settled and state.drawn + state.no_results + state.errors >= state.charts:
                    break
            time.sleep(0.5)
        return state

    def screenshot(self) -> bytes:
        return base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])


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
    finally:
        process.terminate()
        process.wait(30)
