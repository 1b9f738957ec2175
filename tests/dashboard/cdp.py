"""Headless Debian chromium driven over the DevTools protocol, on one websocket (``websockets``'
sync client), with one page attached in flat session mode."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from websockets.sync.client import connect

CHROMIUM = "/usr/bin/chromium"


class CdpError(RuntimeError):
    pass


class Browser:
    """A fresh chromium (own profile, own process group) with one page of ``width`` × ``height``
    CSS pixels. ``events`` holds every event the page sent, in order."""

    def __init__(self, width: int = 1280, height: int = 900):
        assert os.path.exists(CHROMIUM), f"{CHROMIUM} is missing: apt-get install chromium (setup.sh does)"
        self.width, self.height = width, height
        self.profile = tempfile.mkdtemp(prefix="headroom-chromium-")
        self.log = open(Path(self.profile) / "chromium.log", "wb")
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-default-apps", "--password-store=basic", "--use-mock-keychain",
             "--remote-debugging-port=0", f"--user-data-dir={self.profile}",
             f"--window-size={width},{height}", "about:blank"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.events: list[dict] = []
        self._next = 0
        self.session: str | None = None
        self.ws = None
        try:
            self.ws = connect(self._browser_url(), max_size=64 << 20, open_timeout=10)
            target = self.call("Target.createTarget", url="about:blank")["targetId"]
            self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            for domain in ("Page", "Runtime", "Log"):
                self.page(f"{domain}.enable")
            self.page("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        except BaseException:
            self.close()
            raise

    def _browser_url(self) -> str:
        """The browser's websocket, from the DevToolsActivePort file chromium writes at start."""
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CdpError(f"chromium exited with {self.proc.returncode}: {self.chromium_log()}")
            lines = port_file.read_text().split() if port_file.exists() else []
            if len(lines) == 2:
                return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            time.sleep(0.05)
        raise CdpError(f"chromium wrote no DevToolsActivePort within 30 s: {self.chromium_log()}")

    def chromium_log(self) -> str:
        return (Path(self.profile) / "chromium.log").read_text(errors="replace")[-4000:]

    def call(self, method: str, session: str | None = None, timeout: float = 30, **params) -> dict:
        """Sends one command and returns its result; events that arrive meanwhile are kept."""
        self._next += 1
        message = {"id": self._next, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CdpError(f"{method}: no answer within {timeout} s")
            reply = json.loads(self.ws.recv(timeout=left))
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise CdpError(f"{method}: {reply['error']}")
                return reply["result"]
            if "method" in reply and reply.get("sessionId") == self.session:
                self.events.append(reply)

    def page(self, method: str, **params) -> dict:
        """A command to the page's session."""
        return self.call(method, session=self.session, **params)

    def navigate(self, url: str) -> None:
        """Loads ``url`` and waits for its load event."""
        self.page("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete'")

    def evaluate(self, expression: str):
        """The JSON value of a JavaScript expression in the page (promises awaited)."""
        result = self.page("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise CdpError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, seconds: float = 15):
        """Polls ``expression`` until it is truthy; returns its value."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.05)
        raise TimeoutError(f"{expression!r} still false after {seconds} s")

    def problems(self) -> list[str]:
        """Uncaught exceptions, console errors and warnings, and error or warning log entries
        (a failed load, a CSP violation) that the page produced so far."""
        out = []
        for e in self.events:
            p = e.get("params", {})
            if e["method"] == "Runtime.exceptionThrown":
                out.append(f"exception: {p['exceptionDetails']}")
            elif e["method"] == "Runtime.consoleAPICalled" and p["type"] in ("error", "warning", "assert"):
                out.append(f"console.{p['type']}: {[a.get('value', a.get('description')) for a in p['args']]}")
            elif e["method"] == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
                out.append(f"log {p['entry']['level']}: {p['entry']['text']} {p['entry'].get('url', '')}")
        return out

    def screenshot(self) -> bytes:
        return base64.b64decode(self.page("Page.captureScreenshot", format="png")["data"])

    def close(self) -> None:
        """Stops the chromium this object started (its process group) and removes its profile."""
        try:
            if self.ws is not None:
                self.ws.close()
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGTERM)
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            try:  # helpers (renderers, the zygote) left in the group this object made
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.log.close()
            shutil.rmtree(self.profile, ignore_errors=True)
