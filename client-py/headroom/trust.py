"""Whether a socket is our own user's daemon, checked before a byte is sent to it.

Without ``XDG_RUNTIME_DIR`` the socket lives in ``/tmp/headroom-$UID``, a name any user of the
machine can take first and listen behind. So the client checks, before connecting, that the
socket's directory belongs to this user and no one else may write to it (nobody else can then
put or replace a socket in it), and, right after connecting, that the process listening runs as
this user (``SO_PEERCRED``). A failed check raises ``UntrustedSocket``, an ``OSError``, so
``compress`` fails open.
"""

from __future__ import annotations

import os
import socket
import stat
import struct


class UntrustedSocket(PermissionError):
    """The socket, its directory or the process listening on it is not this user's."""


def check_directory(path: str) -> None:
    """Raises ``UntrustedSocket`` unless the directory of the socket ``path`` belongs to this
    user and is not writable by its group or others (``OSError`` when it cannot be read)."""
    directory = os.path.dirname(os.path.abspath(path))
    st = os.stat(directory)
    if st.st_uid != os.getuid():
        raise UntrustedSocket(f"refusing {path}: its directory belongs to uid {st.st_uid}, not to this user "
                              f"(uid {os.getuid()})")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise UntrustedSocket(f"refusing {path}: its directory is writable by other users "
                              f"(mode {stat.S_IMODE(st.st_mode):o})")


#: ``struct ucred``: pid, uid, gid.
_UCRED = struct.Struct("3i")


def check_peer(sock: socket.socket, path: str) -> None:
    """Raises ``UntrustedSocket`` unless the process listening behind the connected ``sock``
    runs as this user. Platforms without ``SO_PEERCRED`` (not Linux) rely on the directory
    check alone."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return
    pid, uid, _ = _UCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, option, _UCRED.size))
    if uid != os.getuid():
        raise UntrustedSocket(f"refusing {path}: the process listening on it (pid {pid}) runs as uid {uid}, "
                              f"not as this user (uid {os.getuid()})")
