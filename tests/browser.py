"""Open a page in headless Chromium (Debian's `chromium`) over the DevTools protocol, as a reader
would: collect console errors and uncaught exceptions, check every image decoded, and save a
full-page screenshot."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import websocket

#: Chromium in a container: no sandbox (no user namespaces), no GPU.
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--hide-scrollbars", "--remote-debugging-port=0", "--remote-allow-origins=*", "--window-size=1280,900"]


def chromium() -> str | None:
    return next((path for name in ("chromium", "chromium-browser", "google-chrome")
                 if (path := shutil.which(name))), None)


@dataclass
class PageView:
    console_errors: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)  # src (data: URIs cut short), complete, natural size
    title: str = ""


class _Session:
    def __init__(self, url: str):
        self.ws = websocket.create_connection(url, timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events:
                if event.get("method") == method:
                    return event
            self.events.append(json.loads(self.ws.recv()))
        raise TimeoutError(f"no {method} within {timeout} s")


def view(html: Path, screenshot: Path) -> PageView:
    """Load ``html`` and return what a reader's browser reported; writes ``screenshot`` (PNG)."""
    binary = chromium()
    if binary is None:
        raise FileNotFoundError("chromium is not installed (make setup installs Debian's chromium)")
    # Chromium's helper processes may still be writing the profile as it is removed.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        proc = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, start_new_session=True)
        try:
            browser_url = None
            for line in proc.stderr:
                if m := re.search(r"DevTools listening on (ws://\S+)", line):
                    browser_url = m[1]
                    break
            if browser_url is None:
                raise RuntimeError(f"chromium exited ({proc.wait()}) without opening the DevTools port")
            port = re.search(r":(\d+)/", browser_url)[1]
            browser = _Session(browser_url)
            target = browser.call("Target.createTarget", url="about:blank")["targetId"]
            page = _Session(f"ws://127.0.0.1:{port}/devtools/page/{target}")
            for domain in ("Page", "Runtime", "Log"):
                page.call(f"{domain}.enable")
            page.call("Page.navigate", url=html.resolve().as_uri())
            page.wait_for("Page.loadEventFired")
            result = PageView()
            result.title = page.call("Runtime.evaluate", expression="document.title", returnByValue=True)["result"]["value"]
            result.images = page.call("Runtime.evaluate", returnByValue=True, expression=(
                "[...document.images].map(i => ({src: i.src.startsWith('data:') ? i.src.slice(0, 40) : i.src, "
                "complete: i.complete, "
                "naturalWidth: i.naturalWidth, naturalHeight: i.naturalHeight}))"))["result"]["value"]
            metrics = page.call("Page.getLayoutMetrics")["cssContentSize"]
            shot = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                             clip={"x": 0, "y": 0, "width": 1280, "height": min(metrics["height"], 16000), "scale": 0.5})
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            for event in page.events:
                method, params = event.get("method"), event.get("params", {})
                if method == "Runtime.exceptionThrown":
                    result.console_errors.append(params["exceptionDetails"].get("text", "exception"))
                elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                    result.console_errors.append(" ".join(str(a.get("value", a.get("description")))
                                                          for a in params.get("args", [])))
                elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                    result.console_errors.append(params["entry"]["text"])
            return result
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the browser and its helper processes
            proc.wait()
