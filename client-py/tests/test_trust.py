"""Socket squatting: the client refuses a socket whose directory or listening process is another
user's, fails open with the reason, and never sends it a byte. The tests run as root, so another
user is played by chown and by a listener started as uid 65534."""

import asyncio
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile

import pytest

import headroom
from headroom import trust
from conftest import SilentSocket, tool_conversation

OTHER = 65534

#: A listener run as another user: accepts ``argv[2]`` connections, then prints how many bytes
#: they carried.
LISTENER = """
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen()
print("ready", flush=True)
s.settimeout(60)
got = 0
for _ in range(int(sys.argv[2])):
    c, _ = s.accept()
    c.settimeout(60)
    while data := c.recv(65536):
        got += len(data)
    c.close()
print(got, flush=True)
"""

pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="plays another user with chown and setuid")


def refused(client: headroom.HeadroomClient, caplog, reason: str) -> None:
    """Both a sync and an async compress fail open with ``reason``, and it is logged."""
    caplog.set_level(logging.WARNING, logger="headroom")
    messages = tool_conversation()
    for result in (client.compress(messages), asyncio.run(client.aio.compress(messages))):
        assert result.messages is messages and result.error
        assert reason in result.error, result.error
    assert any(reason in r.getMessage() for r in caplog.records if r.name == "headroom")


def test_a_directory_of_another_user_is_refused_before_connecting(tmp_path, caplog):
    directory = tmp_path / "squatted"
    directory.mkdir(mode=0o700)
    server = SilentSocket(str(directory / "headroomd.sock"))
    try:
        os.chown(directory, OTHER, OTHER)
        refused(headroom.HeadroomClient(socket=server.path), caplog, f"its directory belongs to uid {OTHER}")
        with pytest.raises(trust.UntrustedSocket):
            trust.check_directory(server.path)
        assert server.conns == [] and bytes(server.received) == b""
    finally:
        server.close()


def test_a_directory_others_may_write_to_is_refused(tmp_path, caplog):
    directory = tmp_path / "open"
    directory.mkdir()
    server = SilentSocket(str(directory / "headroomd.sock"))
    try:
        os.chmod(directory, 0o777)
        refused(headroom.HeadroomClient(socket=server.path), caplog, "writable by other users (mode 777)")
        assert server.conns == [] and bytes(server.received) == b""
    finally:
        server.close()


def test_a_daemon_of_another_user_is_refused_before_a_byte_is_sent(tmp_path, caplog):
    # The other user's listener binds in its own directory; its socket is then moved into one of
    # ours, so only SO_PEERCRED can tell.
    theirs = tempfile.mkdtemp(prefix="headroom-other-")
    ours = tmp_path / "run"
    ours.mkdir(mode=0o700)
    os.chown(theirs, OTHER, OTHER)
    python = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
    listener = subprocess.Popen([python, "-c", LISTENER, os.path.join(theirs, "s.sock"), "3"], cwd="/",
                                user=OTHER, group=OTHER, extra_groups=[], stdout=subprocess.PIPE, text=True)
    try:
        assert listener.stdout.readline().strip() == "ready"
        path = str(ours / "headroomd.sock")
        os.rename(os.path.join(theirs, "s.sock"), path)

        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.connect(path)
            with pytest.raises(trust.UntrustedSocket, match=f"runs as uid {OTHER}"):
                trust.check_peer(probe, path)
        refused(headroom.HeadroomClient(socket=path, timeout=1), caplog,
                f"runs as uid {OTHER}, not as this user (uid 0)")
        out, _ = listener.communicate(timeout=30)
        assert out.strip() == "0", "not a byte reached the other user's listener"
    finally:
        listener.kill()
        listener.wait()
        shutil.rmtree(theirs, ignore_errors=True)


def test_our_own_daemon_passes_both_checks(daemon):
    trust.check_directory(daemon.socket)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(daemon.socket)
        trust.check_peer(s, daemon.socket)
