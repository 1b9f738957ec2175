"""The circuit breaker: a hung daemon costs one timeout, not one per call. A real daemon is
stopped with SIGSTOP; the breaker's clock is the test's, so nothing depends on how fast the
machine is, and connection attempts are counted rather than timed."""

import asyncio
import hashlib
import logging
import os
import pathlib
import signal
import tempfile

import pytest

import headroom
import headroom.client
from conftest import TOOL_LOG, Daemon, tool_conversation

KEY = hashlib.sha256(TOOL_LOG.encode()).hexdigest()[:24]


class Clock:
    """A clock that moves only when the test says so."""

    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_interval_starts_at_one_second_doubles_to_the_cap_and_resets():
    clock = Clock()
    breaker = headroom.Breaker(clock=clock)
    ticket = breaker.allow()
    assert ticket is not None and breaker.remaining() == 0
    assert breaker.timed_out(ticket) == 1.0
    intervals = []
    for _ in range(8):
        assert breaker.allow() is None, "skipped until the interval is over"
        clock.now += intervals[-1] if intervals else 1.0
        probe = breaker.allow()
        assert probe is not None, "one probe once it is over"
        assert breaker.allow() is None, "the others keep skipping while it probes"
        intervals.append(breaker.timed_out(probe))
    assert intervals == [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
    breaker.reset()
    assert breaker.allow() is not None and breaker.remaining() == 0


def test_calls_that_time_out_together_open_the_breaker_once():
    breaker = headroom.Breaker(clock=Clock())
    tickets = [breaker.allow() for _ in range(3)]
    assert breaker.timed_out(tickets[0]) == 1.0
    assert breaker.timed_out(tickets[1]) is None and breaker.timed_out(tickets[2]) is None
    assert breaker.remaining() == 1.0


def count_connections(monkeypatch) -> list:
    """Records every connection the client opens, sync and async."""
    opened = []

    class Counted(headroom.client._Conn):
        def __init__(self, path, *args):
            opened.append(path)
            super().__init__(path, *args)

    class CountedAsync(headroom.client._AsyncConn):
        def __init__(self, path, *args):
            opened.append(path)
            super().__init__(path, *args)

    monkeypatch.setattr(headroom.client, "_Conn", Counted)
    monkeypatch.setattr(headroom.client, "_AsyncConn", CountedAsync)
    return opened


@pytest.fixture
def own_daemon():
    """A daemon of this test's own, to stop with SIGSTOP; always continued and ended."""
    with tempfile.TemporaryDirectory(prefix="headroom-py-") as d:
        server = Daemon(pathlib.Path(d))
        server.start()
        try:
            yield server
        finally:
            os.kill(server.proc.pid, signal.SIGCONT)
            server.proc.terminate()
            server.proc.wait(timeout=30)


def test_a_hung_daemon_costs_one_timeout_then_calls_skip_it_until_a_probe_gets_an_answer(own_daemon, monkeypatch,
                                                                                       caplog):
    clock = Clock()
    client = headroom.HeadroomClient(socket=own_daemon.socket, timeout=1.0, breaker=headroom.Breaker(clock=clock))
    messages = tool_conversation()
    # Compressed once with the default timeout, re-emitted from the replay store afterwards.
    assert headroom.HeadroomClient(socket=own_daemon.socket).compress(messages).ccr_keys == [KEY]
    opened = count_connections(monkeypatch)
    caplog.set_level(logging.DEBUG, logger="headroom")

    os.kill(own_daemon.proc.pid, signal.SIGSTOP)
    results = [client.compress(messages) for _ in range(5)]
    results.append(asyncio.run(client.aio.compress(messages)))
    assert all(r.messages is messages for r in results), "every call fails open"
    assert results[0].error == "headroomd did not answer within 1 s; calls skip it for the next 1 s"
    assert all(r.error.startswith("skipping headroomd") for r in results[1:]), [r.error for r in results]
    assert len(opened) == 1, "only the first call tried the daemon"
    warnings = [r for r in caplog.records if r.name == "headroom" and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "calls skip it" in warnings[0].getMessage()
    with pytest.raises(headroom.HeadroomError, match="skipping"):
        client.retrieve(KEY)
    assert "not available" in client.answer_retrieve({"hash": KEY})

    clock.now += 1.0
    probe = client.compress(messages)
    assert probe.messages is messages and "next 2 s" in probe.error, "the probe timed out: the interval doubles"
    assert len(opened) == 2
    clock.now += 1.0
    assert client.compress(messages).error.startswith("skipping headroomd")

    os.kill(own_daemon.proc.pid, signal.SIGCONT)
    assert client.compress(messages).error.startswith("skipping headroomd"), "the breaker, not the daemon, skips"
    assert len(opened) == 2
    clock.now += 1.0
    assert client.compress(messages).ccr_keys == [KEY], "compression resumes after the interval"
    assert asyncio.run(client.aio.compress(messages)).ccr_keys == [KEY], "and the breaker is closed again"
    assert client.retrieve(KEY).content == TOOL_LOG
    assert len(opened) == 4


def test_a_daemon_that_is_down_is_not_skipped(tmp_path):
    # A refused connection costs nothing: the next call after the daemon starts must compress.
    client = headroom.HeadroomClient(socket=str(tmp_path / "none.sock"))
    for _ in range(3):
        assert "skipping" not in client.compress(tool_conversation()).error
    assert client.breaker.remaining() == 0
