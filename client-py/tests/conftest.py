"""Fixtures: the real release ``headroomd`` on a temporary socket and state directory for the
whole session (tests that stop it restart it), and the fake provider."""

from __future__ import annotations

import os

# LiteLLM must not fetch its model cost map from the network; set before anything imports it.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

import pathlib
import socket
import subprocess
import tempfile
import threading
import time

import pytest

import headroom
from headroom import wire
from fake_provider import FakeProvider

ROOT = pathlib.Path(__file__).resolve().parents[2]
HEADROOMD = ROOT / "target" / "release" / "headroomd"
LOGS = ROOT / "tests" / "fixtures" / "logs"

#: A real Hadoop log as the tool output; its one ERROR line is what the user asks about.
TOOL_LOG = (LOGS / "Hadoop_2k.log").read_text()
NEEDLE = "Container complete event for unknown container id container_1445144423722_0020_01_000012"
QUESTION = "Why did the job fail? Show the ERROR."


class Daemon:
    """A ``headroomd`` process on ``socket``, stoppable and restartable with the same state."""

    def __init__(self, directory: pathlib.Path):
        self.socket = str(directory / "run" / "headroomd.sock")
        self.state = str(directory / "state")
        self.log = directory / "headroomd.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        assert HEADROOMD.exists(), f"{HEADROOMD} is missing: run `cargo build --release --bins`"
        self.proc = subprocess.Popen(
            [str(HEADROOMD), "--socket", self.socket, "--state-dir", self.state],
            stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        for _ in range(200):
            # A fresh client each time: a slow first answer must not open one client's breaker.
            client = headroom.HeadroomClient(socket=self.socket, timeout=0.5)
            try:
                client.ping()
                client.close()
                return
            except headroom.HeadroomError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"headroomd exited: {self.log.read_text()}")
                time.sleep(0.02)
        self.stop()
        raise RuntimeError("headroomd did not become ready")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class SilentSocket:
    """A Unix socket that accepts connections, records every byte and every request it receives
    and answers with ``reply(request)`` (or never)."""

    def __init__(self, path, reply=None):
        self.path = path
        self.reply = reply
        self.requests = []
        self.received = bytearray()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen()
        self.conns = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn):
        buf = b""
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            self.received += data
            buf += data
            while len(buf) >= 4 and len(buf) >= 4 + wire.frame_length(buf[:4]):
                n = wire.frame_length(buf[:4])
                request = wire.decode_request(buf[4:4 + n])
                buf = buf[4 + n:]
                self.requests.append(request)
                if self.reply is not None:
                    conn.sendall(wire.frame(wire.encode_reply(self.reply(request))))

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


@pytest.fixture(scope="session")
def daemon():
    with tempfile.TemporaryDirectory(prefix="headroom-py-") as d:
        server = Daemon(pathlib.Path(d))
        old = os.environ.get("HEADROOM_SOCKET")
        os.environ["HEADROOM_SOCKET"] = server.socket
        headroom.configure()
        server.start()
        yield server
        server.stop()
        if old is None:
            os.environ.pop("HEADROOM_SOCKET", None)
        else:
            os.environ["HEADROOM_SOCKET"] = old


@pytest.fixture
def stopped_daemon(daemon):
    """The session daemon, killed for one test and started again after it."""
    daemon.stop()
    yield daemon
    daemon.start()


@pytest.fixture
def provider():
    with FakeProvider() as p:
        yield p


def tool_conversation(tool_output: str = TOOL_LOG, question: str = QUESTION) -> list:
    """An OpenAI chat agent turn whose tool output is ``tool_output``."""
    return [
        {"role": "system", "content": "You are an operations assistant."},
        {"role": "user", "content": question},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_log", "type": "function", "function": {"name": "read_log", "arguments": '{"path": "job.log"}'}}]},
        {"role": "tool", "tool_call_id": "call_log", "content": tool_output},
    ]


def anthropic_conversation(tool_output: str = TOOL_LOG, question: str = QUESTION) -> list:
    return [
        {"role": "user", "content": question},
        {"role": "assistant", "content": [
            {"type": "tool_use", "id": "toolu_log", "name": "read_log", "input": {"path": "job.log"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_log", "content": tool_output}]},
    ]


def responses_input(tool_output: str = TOOL_LOG, question: str = QUESTION) -> list:
    return [
        {"role": "user", "content": question},
        {"type": "function_call", "call_id": "call_log", "name": "read_log", "arguments": '{"path": "job.log"}'},
        {"type": "function_call_output", "call_id": "call_log", "output": tool_output},
    ]


MARKER = "headroom_retrieve hash="


def tool_texts(body: dict) -> list:
    """The tool outputs in a recorded provider request, in any of the three shapes."""
    out = []
    for m in body.get("messages") or body.get("input") or ():
        if not isinstance(m, dict):
            continue
        if m.get("role") == "tool":
            out.append(m["content"] if isinstance(m["content"], str) else str(m["content"]))
        elif m.get("type") == "function_call_output":
            out.append(m["output"] if isinstance(m["output"], str) else str(m["output"]))
        elif isinstance(m.get("content"), list):
            for b in m["content"]:
                if isinstance(b, dict) and b.get("type") == "tool_result":
                    c = b.get("content")
                    out.append(c if isinstance(c, str) else "".join(x.get("text", "") for x in c))
    return out


def tool_names(body: dict) -> list:
    return [t.get("name") or (t.get("function") or {}).get("name") for t in body.get("tools") or ()]


def assert_compressed(body: dict) -> None:
    """The first tool output that reached the provider is the compressed log: a quarter of the
    size at most, the ERROR line kept, a marker, and the retrieve tool offered."""
    text = tool_texts(body)[0]
    assert len(text) < len(TOOL_LOG) / 4, (len(text), len(TOOL_LOG))
    assert NEEDLE in text
    assert MARKER in text
    assert "headroom_retrieve" in tool_names(body)


def assert_uncompressed(body: dict) -> None:
    assert tool_texts(body)[0] == TOOL_LOG
    assert "headroom_retrieve" not in tool_names(body)
