"""The Headroom wire protocol: frames and the bincode 2 ``standard()`` body.

``protocol/README.md`` is the reference. The message classes and their codecs are generated
from the Rust types (``wire_types.py``, written by ``protocol/generate.py``) and re-exported
here; this module holds what they are built on: the writer and the strict reader of the
primitives, framing, and the ``encode_*``/``decode_*`` entry points. It knows nothing about
LLMs: provider messages are opaque JSON bytes to it.

A frame is a 4-byte big-endian body length, then the body. Inside the body every integer is a
little-endian varint (``< 251`` one byte; ``fb`` + u16, ``fc`` + u32, ``fd`` + u64), an enum is a
varint variant index followed by its payload, a string or byte string is a varint length then the
bytes, an option is ``00`` or ``01`` + value, and a struct is its fields one after another.
"""

from __future__ import annotations

import datetime
import struct
from typing import Callable, Optional, TypeVar

from .wire_types import *  # noqa: F401,F403  (the message classes, enums and constants)
from .wire_types import MemoryFact, Reply, Request, read_reply, read_request, write_reply, write_request

_T = TypeVar("_T")

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_F32 = struct.Struct("<f")
_LEN = struct.Struct(">I")


class WireError(ValueError):
    """Bytes that do not decode as the expected value: a peer speaking something else."""


# --- Not wire: MemoryFact's times as UTC datetimes --------------------------------------------


def _datetime(ms: Optional[int]) -> Optional[datetime.datetime]:
    return None if ms is None else datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)


MemoryFact.created = property(lambda f: _datetime(f.created_ms), doc="When the fact was stored (UTC).")
MemoryFact.valid_from = property(lambda f: _datetime(f.valid_from_ms), doc="When the fact became true (UTC).")
MemoryFact.valid_to = property(lambda f: _datetime(f.valid_to_ms),
                               doc="When the fact stopped being true (UTC), ``None`` while it is current.")


# --- Entry points -----------------------------------------------------------------------------


def encode_request(request: Request) -> bytes:
    """The body (no length prefix) of ``request``."""
    w = _Writer()
    write_request(w, request)
    return bytes(w.out)


def encode_reply(reply: Reply) -> bytes:
    """The body (no length prefix) of ``reply``. The daemon's side; here for the test vectors."""
    w = _Writer()
    write_reply(w, reply)
    return bytes(w.out)


def decode_request(body: bytes) -> Request:
    """Decodes a request body (no length prefix). Raises ``WireError``."""
    r = _Reader(body)
    request = read_request(r)
    r.end()
    return request


def decode_reply(body: bytes) -> Reply:
    """Decodes a reply body (no length prefix). Raises ``WireError`` on anything this protocol
    version does not define, which a client treats as a broken connection."""
    r = _Reader(body)
    reply = read_reply(r)
    r.end()
    return reply


def frame(body: bytes) -> bytes:
    """``body`` with its 4-byte big-endian length prefix."""
    return _LEN.pack(len(body)) + body


def frame_length(prefix: bytes) -> int:
    """The body length announced by a 4-byte frame prefix."""
    return _LEN.unpack(prefix)[0]


# --- Primitives: what the generated write_*/read_* functions call -----------------------------


class _Writer:
    """Appends encoded values to one body."""

    __slots__ = ("out",)

    def __init__(self) -> None:
        self.out = bytearray()

    def u8(self, n: int) -> None:
        self.out.append(n)

    def u64(self, n: int) -> None:
        out = self.out
        if n < 251:
            out.append(n)
        elif n < 1 << 16:
            out.append(0xFB)
            out += _U16.pack(n)
        elif n < 1 << 32:
            out.append(0xFC)
            out += _U32.pack(n)
        else:
            out.append(0xFD)
            out += _U64.pack(n)

    u32 = u64  # the same varint; only the reader tells the widths apart

    def bool(self, b: bool) -> None:
        self.out.append(1 if b else 0)

    def f32(self, x: float) -> None:
        self.out += _F32.pack(x)

    def bytes(self, b: bytes) -> None:
        self.u64(len(b))
        self.out += b

    def string(self, s: str) -> None:
        self.bytes(s.encode("utf-8"))

    def enum(self, value: int) -> None:
        """A variant without payload (an ``IntEnum`` member): its index."""
        self.u32(int(value))

    def option(self, value: Optional[_T], write: Callable[[_T], None]) -> None:
        if value is None:
            self.out.append(0)
        else:
            self.out.append(1)
            write(value)

    def vec(self, items: list, write: Callable) -> None:
        self.u64(len(items))
        for item in items:
            write(item)


class _Reader:
    """Strict reader over one body: every read checks bounds, and the body must be consumed."""

    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes):
        self.buf = bytes(buf)
        self.pos = 0

    def take(self, n: int) -> bytes:
        start = self.pos
        end = start + n
        if end > len(self.buf):
            raise WireError(f"truncated body: wanted {n} bytes at offset {start}")
        self.pos = end
        return self.buf[start:end]

    def u8(self) -> int:
        pos = self.pos
        if pos >= len(self.buf):
            raise WireError(f"truncated body: wanted 1 byte at offset {pos}")
        self.pos = pos + 1
        return self.buf[pos]

    def varint(self, bits: int = 64) -> int:
        tag = self.u8()
        if tag < 251:
            return tag
        if tag == 0xFB:
            return _U16.unpack(self.take(2))[0]
        if tag == 0xFC:
            return _U32.unpack(self.take(4))[0]
        if tag == 0xFD and bits == 64:
            return _U64.unpack(self.take(8))[0]
        raise WireError(f"varint tag {tag:#x} is not valid for a u{bits}")

    def u32(self) -> int:
        return self.varint(32)

    def u64(self) -> int:
        return self.varint(64)

    def bool(self) -> bool:
        b = self.u8()
        if b > 1:
            raise WireError(f"invalid bool byte {b:#x}")
        return b == 1

    def f32(self) -> float:
        return _F32.unpack(self.take(4))[0]

    def bytes(self) -> bytes:
        return self.take(self.varint())

    def string(self) -> str:
        raw = self.take(self.varint())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise WireError(f"invalid UTF-8 in a string: {e}") from None

    def option(self, read: Callable[[], _T]) -> Optional[_T]:
        tag = self.u8()
        if tag > 1:
            raise WireError(f"invalid option tag {tag:#x}")
        return read() if tag == 1 else None

    def vec(self, read: Callable[[], _T]) -> list[_T]:
        return [read() for _ in range(self.varint())]

    def variant(self, what: str, count: int) -> int:
        """The index of a variant of ``what``, which has ``count`` of them."""
        index = self.u32()
        if index >= count:
            raise WireError(f"unknown {what} index {index}")
        return index

    def enum(self, kind):
        """A member of the ``IntEnum`` ``kind``, by its index."""
        index = self.u32()
        try:
            return kind(index)
        except ValueError:
            raise WireError(f"unknown {kind.__name__} index {index}") from None

    def end(self) -> None:
        if self.pos != len(self.buf):
            raise WireError(f"{len(self.buf) - self.pos} bytes left over after the value")
