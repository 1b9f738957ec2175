"""Fixtures: the real release ``headroomd`` on a temporary socket and state directory, a known
set of compress requests sent to it through the Python client, ``headroom dashboard`` on that
daemon, and a headless chromium. Everything started here is stopped by its pid."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import headroom
from cdp import Browser

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / "tests" / "fixtures" / "logs"
MODEL = "gpt-4o"
CLIENT = "test-app"
URL_LINE = re.compile(r"^http://127\.0\.0\.1:(\d+)/\?token=([0-9a-f]{32})$")


def binary(name: str) -> Path:
    """`$HEADROOM_BIN_DIR/name`, else the release build `setup.sh` makes."""
    directory = Path(os.environ["HEADROOM_BIN_DIR"]) if os.environ.get("HEADROOM_BIN_DIR") else ROOT / "target" / "release"
    path = directory / name
    assert path.exists(), f"{path} is missing: run `cargo build --release --bins`"
    return path


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to a process this suite started, SIGKILL after 10 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def request_body(log: str) -> dict:
    """An OpenAI chat request whose tool output is the whole of ``log``."""
    return {"model": MODEL, "messages": [
        {"role": "system", "content": "You are an operations assistant."},
        {"role": "user", "content": "Why did the job fail? Show the ERROR lines."},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_log", "type": "function", "function": {"name": "read_log", "arguments": '{"path": "job.log"}'}}]},
        {"role": "tool", "tool_call_id": "call_log", "content": (LOGS / log).read_text()},
    ]}


@dataclass
class Daemon:
    socket: str
    env: dict
    process: subprocess.Popen
    sent: int = 0
    retrieved: int = 0

    def compress(self, log: str) -> headroom.CompressResult:
        """One compress request through the Python client, as ``test-app`` with ``gpt-4o``;
        asserts the daemon answered and removed tokens."""
        client = headroom.HeadroomClient(socket=self.socket, timeout=30)
        try:
            result = client.compress(request_body(log), model=MODEL, app=CLIENT)
        finally:
            client.close()
        assert result.error is None, result.error
        assert result.tokens_after < result.tokens_before, (log, result.tokens_before, result.tokens_after)
        self.sent += 1
        return result

    def retrieve(self, key: str) -> None:
        """Reads back the ERROR lines behind a marker, as a model's headroom_retrieve call would."""
        client = headroom.HeadroomClient(socket=self.socket, timeout=30)
        try:
            assert "ERROR" in client.retrieve(key, "ERROR").content
        finally:
            client.close()
        self.retrieved += 1

    def savings(self, since: str) -> dict:
        """What `headroom savings --json --since SINCE` prints for this daemon."""
        out = subprocess.run([str(binary("headroom")), "savings", "--json", "--since", since],
                             env=self.env, capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    def wait_for_requests(self, count: int, seconds: float = 10) -> dict:
        """`savings --since all` once the ledger counts ``count`` requests."""
        deadline = time.monotonic() + seconds
        while True:
            figures = self.savings("all")
            if figures["totals"]["requests"] == count or time.monotonic() > deadline:
                assert figures["totals"]["requests"] == count, figures["totals"]
                return figures
            time.sleep(0.1)


@pytest.fixture(scope="session")
def daemon():
    """headroomd with three big logs compressed through it (as `test-app`, `gpt-4o`) and one
    marker read back."""
    home = tempfile.TemporaryDirectory(prefix="headroom-dashboard-")
    sock = os.path.join(home.name, "run", "headroomd.sock")
    env = {**os.environ, "HEADROOM_SOCKET": sock, "HEADROOM_CONFIG": os.path.join(home.name, "none.toml")}
    log = open(os.path.join(home.name, "headroomd.log"), "wb")
    process = subprocess.Popen([str(binary("headroomd")), "--socket", sock, "--state-dir", os.path.join(home.name, "state")],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            client = headroom.HeadroomClient(socket=sock, timeout=0.5)
            try:
                client.ping()
                break
            except headroom.HeadroomError as e:
                assert process.poll() is None, f"headroomd exited: {Path(log.name).read_text()}"
                error = e
                time.sleep(0.02)
            finally:
                client.close()
        else:
            raise RuntimeError(f"headroomd did not answer a ping within 300 tries: {error}")
        d = Daemon(sock, env, process)
        results = [d.compress(name) for name in ("Hadoop_2k.log", "HDFS_2k.log", "OpenSSH_2k.log")]
        d.retrieve(results[0].ccr_keys[0])
        yield d
    finally:
        stop(process)
        log.close()
        home.cleanup()


@dataclass
class Dashboard:
    port: int
    token: str
    process: subprocess.Popen

    def url(self, path: str = "/", token: str | None = None, **query) -> str:
        """``path`` on this dashboard with ``token`` (this one's by default) and ``query``."""
        params = {"token": self.token if token is None else token, **query}
        q = "&".join(f"{k}={v}" for k, v in params.items() if v != "")
        return f"http://127.0.0.1:{self.port}{path}" + (f"?{q}" if q else "")


def start_dashboard(env: dict, *args: str) -> Dashboard:
    """`headroom dashboard --no-open ARGS`, once it printed its URL line (within 15 s)."""
    stderr = tempfile.TemporaryFile()
    process = subprocess.Popen([str(binary("headroom")), "dashboard", "--no-open", *args], env=env,
                               stdout=subprocess.PIPE, stderr=stderr, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
    try:
        line = lines.get(timeout=15).strip()
    except queue.Empty:
        line = None
    match = URL_LINE.match(line or "")
    if not match:
        stop(process)
        stderr.seek(0)
        raise AssertionError(f"`headroom dashboard` printed {line!r} (None: nothing within 15 s), not "
                             f"http://127.0.0.1:PORT/?token=<32 hex>; exit {process.returncode}, "
                             f"stderr: {stderr.read().decode(errors='replace')[-2000:]}")
    return Dashboard(int(match[1]), match[2], process)


@pytest.fixture(scope="session")
def dashboard(daemon):
    d = start_dashboard(daemon.env, "--port", "0")
    yield d
    stop(d.process)


@pytest.fixture(scope="session")
def browser():
    b = Browser(1280, 900)
    yield b
    b.close()
