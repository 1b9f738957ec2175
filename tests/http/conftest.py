"""The real headroomd with its HTTP front on, in front of a fake provider on 127.0.0.1 that
records every request and answers from a script."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


def binary(name: str) -> Path:
    """`$HEADROOM_BIN_DIR/name`, else the release build `setup.sh` makes, else the debug one."""
    if os.environ.get("HEADROOM_BIN_DIR"):
        return Path(os.environ["HEADROOM_BIN_DIR"]) / name
    release = ROOT / "target" / "release" / name
    return release if release.exists() else ROOT / "target" / "debug" / name


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {seconds} s")


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Reply:
    """A JSON body, or server-sent events (each chunk flushed on its own)."""

    status: int = 200
    body: object = None
    events: list[str] | None = None


@dataclass
class Upstream:
    port: int = 0
    seen: list[Seen] = field(default_factory=list)
    script: list[Reply] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self, *replies: Reply) -> None:
        self.seen.clear()
        self.script[:] = list(replies)


def start_upstream() -> tuple[Upstream, ThreadingHTTPServer]:
    upstream = Upstream()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def _answer(self):
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            upstream.seen.append(Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            reply = upstream.script.pop(0) if upstream.script else Reply(200, {"ok": True})
            if reply.events is not None:
                self.send_response(reply.status)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                for event in reply.events:
                    data = event.encode()
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                    self.wfile.flush()
                    time.sleep(0.02)
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
                return
            data = json.dumps(reply.body).encode()
            self.send_response(reply.status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = _answer
        do_GET = _answer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    upstream.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return upstream, server


@dataclass
class Daemon:
    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="session")
def upstream():
    upstream, server = start_upstream()
    yield upstream
    server.shutdown()


def start_daemon(upstream: Upstream, home: str) -> Daemon:
    """A `headroomd` with its HTTP front on a free port, state under `home`, forwarding to
    `upstream`; ready when this returns."""
    port = free_port()
    env = {**os.environ, "HEADROOM_CONFIG": os.path.join(home, "none.toml")}
    process = subprocess.Popen(
        [
            str(binary("headroomd")),
            "--socket", os.path.join(home, "run", "headroomd.sock"),
            "--state-dir", os.path.join(home, "state"),
            "--http", "--http-port", str(port),
            "--openai-upstream", f"{upstream.url}/v1",
            "--anthropic-upstream", upstream.url,
            "--upstream-timeout-secs", "30",
        ],
        env=env,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/health", 30, process)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return Daemon(port, process)


def stop_daemon(daemon: Daemon) -> None:
    """SIGTERM to the daemon this test session started (by its pid), which drains and exits 0."""
    if daemon.process.poll() is None:
        daemon.process.send_signal(signal.SIGTERM)
        assert daemon.process.wait(timeout=30) == 0, "SIGTERM drains and exits 0"


@pytest.fixture(scope="session")
def daemon(upstream):
    home = tempfile.TemporaryDirectory()
    started = start_daemon(upstream, home.name)
    try:
        yield started
    finally:
        stop_daemon(started)
        home.cleanup()


def fixture_text(path: str) -> str:
    return (FIXTURES / path).read_text()
