"""The Headroom wire protocol, by hand: frames and the bincode 2 ``standard()`` body.

``protocol/README.md`` is the reference; every class here mirrors a Rust type of
``protocol/src/message.rs`` with its fields in wire order. This module knows nothing about LLMs:
provider messages are opaque JSON bytes to it.

A frame is a 4-byte big-endian body length, then the body. Inside the body every integer is a
little-endian varint (``< 251`` one byte; ``fb`` + u16, ``fc`` + u32, ``fd`` + u64), an enum is a
varint variant index followed by its payload, a string or byte string is a varint length then the
bytes, an option is ``00`` or ``01`` + value, and a struct is its fields one after another.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass, field
from typing import Optional, Union

#: The protocol version this client speaks; ``Hello`` carries it.
PROTOCOL_VERSION = 1

#: The daemon's default limit on a frame body. Larger requests are not sent: the call fails open.
MAX_FRAME = 64 * 1024 * 1024

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_F32 = struct.Struct("<f")
_LEN = struct.Struct(">I")


class WireError(ValueError):
    """Bytes that do not decode as the expected value: a peer speaking something else."""


class ProviderFormat(enum.IntEnum):
    """Shape of the provider messages. The value is the wire index."""

    Auto = 0
    OpenAiChat = 1
    OpenAiResponses = 2
    Anthropic = 3


class ErrorCode(enum.IntEnum):
    """Stable error codes of ``ErrorReply``. The value is the wire index; ``.name`` is the
    documented spelling (``bad_frame`` ...)."""

    bad_frame = 0
    too_large = 1
    unsupported_version = 2
    bad_request = 3
    not_found = 4
    expired = 5
    internal = 6


# --- Requests ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Hello:
    protocol_version: int
    client: str


@dataclass(slots=True)
class Ping:
    pass


@dataclass(slots=True)
class CompressOptions:
    """Per-request choices; all defaults encode as seven zero bytes."""

    model: Optional[str] = None
    format: ProviderFormat = ProviderFormat.Auto
    query: Optional[str] = None
    protect_recent: int = 0
    frozen: int = 0
    target_ratio: Optional[float] = None
    compress_user_messages: bool = False


@dataclass(slots=True)
class CompressRequest:
    messages: bytes
    options: CompressOptions = field(default_factory=CompressOptions)


@dataclass(slots=True)
class RetrieveRequest:
    key: str
    query: Optional[str] = None


@dataclass(slots=True)
class Stats:
    pass


@dataclass(slots=True)
class Metrics:
    """Appended to protocol 1 without a version bump; older daemons answer ``bad_request``."""


Op = Union[Hello, Ping, CompressRequest, RetrieveRequest, Stats, Metrics]
_OP_INDEX = {Hello: 0, Ping: 1, CompressRequest: 2, RetrieveRequest: 3, Stats: 4, Metrics: 5}


@dataclass(slots=True)
class Request:
    id: int
    op: Op


# --- Replies ----------------------------------------------------------------------------------


@dataclass(slots=True)
class HelloReply:
    protocol_version: int
    server: str


@dataclass(slots=True)
class Pong:
    pass


@dataclass(slots=True)
class CompressorStats:
    name: str
    blocks: int
    tokens_before: int
    tokens_after: int


@dataclass(slots=True)
class CompressReply:
    messages: bytes
    tokens_before: int
    tokens_after: int
    ccr_keys: list
    compressors: list
    retrieve_tool: Optional[bytes]
    format: ProviderFormat


@dataclass(slots=True)
class RetrieveReply:
    key: str
    content: str
    whole: bool


@dataclass(slots=True)
class StatsReply:
    protocol_version: int
    uptime_ms: int
    connections: int
    requests: int
    compress_requests: int
    tokens_before: int
    tokens_after: int
    ccr_entries: int
    replay_entries: int


@dataclass(slots=True)
class ErrorReply:
    code: ErrorCode
    message: str


@dataclass(slots=True)
class MetricsReply:
    compressors: list
    ccr_hits: int
    ccr_misses: int
    ccr_expired: int
    latency_p50_us: int
    latency_p99_us: int
    all_time_compress_requests: int
    all_time_tokens_before: int
    all_time_tokens_after: int
    all_time_latency_p50_us: int
    all_time_latency_p99_us: int


ReplyBody = Union[HelloReply, Pong, CompressReply, RetrieveReply, StatsReply, ErrorReply, MetricsReply]
_BODY_INDEX = {HelloReply: 0, Pong: 1, CompressReply: 2, RetrieveReply: 3, StatsReply: 4, ErrorReply: 5,
               MetricsReply: 6}


@dataclass(slots=True)
class Reply:
    id: int
    body: ReplyBody


# --- Encoding ---------------------------------------------------------------------------------


def _varint(out: bytearray, n: int) -> None:
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


def _bytes(out: bytearray, b: bytes) -> None:
    _varint(out, len(b))
    out += b


def _string(out: bytearray, s: str) -> None:
    _bytes(out, s.encode("utf-8"))


def _opt_string(out: bytearray, s: Optional[str]) -> None:
    if s is None:
        out.append(0)
    else:
        out.append(1)
        _string(out, s)


def encode_request(request: Request) -> bytes:
    """The body (no length prefix) of ``request``."""
    out = bytearray()
    _varint(out, request.id)
    op = request.op
    _varint(out, _OP_INDEX[type(op)])
    if isinstance(op, CompressRequest):
        _bytes(out, op.messages)
        o = op.options
        _opt_string(out, o.model)
        _varint(out, int(o.format))
        _opt_string(out, o.query)
        _varint(out, o.protect_recent)
        _varint(out, o.frozen)
        if o.target_ratio is None:
            out.append(0)
        else:
            out.append(1)
            out += _F32.pack(o.target_ratio)
        out.append(1 if o.compress_user_messages else 0)
    elif isinstance(op, RetrieveRequest):
        _string(out, op.key)
        _opt_string(out, op.query)
    elif isinstance(op, Hello):
        _varint(out, op.protocol_version)
        _string(out, op.client)
    return bytes(out)


def encode_reply(reply: Reply) -> bytes:
    """The body (no length prefix) of ``reply``. The daemon's side; here for the test vectors."""
    out = bytearray()
    _varint(out, reply.id)
    body = reply.body
    _varint(out, _BODY_INDEX[type(body)])
    if isinstance(body, CompressReply):
        _bytes(out, body.messages)
        _varint(out, body.tokens_before)
        _varint(out, body.tokens_after)
        _varint(out, len(body.ccr_keys))
        for key in body.ccr_keys:
            _string(out, key)
        _compressors(out, body.compressors)
        if body.retrieve_tool is None:
            out.append(0)
        else:
            out.append(1)
            _bytes(out, body.retrieve_tool)
        _varint(out, int(body.format))
    elif isinstance(body, HelloReply):
        _varint(out, body.protocol_version)
        _string(out, body.server)
    elif isinstance(body, RetrieveReply):
        _string(out, body.key)
        _string(out, body.content)
        out.append(1 if body.whole else 0)
    elif isinstance(body, StatsReply):
        for name in StatsReply.__slots__:
            _varint(out, getattr(body, name))
    elif isinstance(body, ErrorReply):
        _varint(out, int(body.code))
        _string(out, body.message)
    elif isinstance(body, MetricsReply):
        _compressors(out, body.compressors)
        for name in MetricsReply.__slots__[1:]:
            _varint(out, getattr(body, name))
    return bytes(out)


def _compressors(out: bytearray, compressors: list) -> None:
    _varint(out, len(compressors))
    for c in compressors:
        _string(out, c.name)
        _varint(out, c.blocks)
        _varint(out, c.tokens_before)
        _varint(out, c.tokens_after)


def frame(body: bytes) -> bytes:
    """``body`` with its 4-byte big-endian length prefix."""
    return _LEN.pack(len(body)) + body


def frame_length(prefix: bytes) -> int:
    """The body length announced by a 4-byte frame prefix."""
    return _LEN.unpack(prefix)[0]


# --- Decoding ---------------------------------------------------------------------------------


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

    def bool(self) -> bool:
        b = self.u8()
        if b > 1:
            raise WireError(f"invalid bool byte {b:#x}")
        return b == 1

    def some(self) -> bool:
        tag = self.u8()
        if tag > 1:
            raise WireError(f"invalid option tag {tag:#x}")
        return tag == 1

    def bytes(self) -> bytes:
        return self.take(self.varint())

    def string(self) -> str:
        raw = self.take(self.varint())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise WireError(f"invalid UTF-8 in a string: {e}") from None

    def opt_string(self) -> Optional[str]:
        return self.string() if self.some() else None

    def f32(self) -> float:
        return _F32.unpack(self.take(4))[0]

    def enum(self, kind, what: str):
        index = self.u32()
        try:
            return kind(index)
        except ValueError:
            raise WireError(f"unknown {what} index {index}") from None

    def compressors(self) -> list:
        return [CompressorStats(self.string(), self.u32(), self.varint(), self.varint()) for _ in range(self.varint())]

    def end(self) -> None:
        if self.pos != len(self.buf):
            raise WireError(f"{len(self.buf) - self.pos} bytes left over after the value")


def decode_request(body: bytes) -> Request:
    """Decodes a request body (no length prefix). Raises ``WireError``."""
    r = _Reader(body)
    rid = r.varint()
    index = r.u32()
    if index == 0:
        op: Op = Hello(r.u32(), r.string())
    elif index == 1:
        op = Ping()
    elif index == 2:
        messages = r.bytes()
        options = CompressOptions(
            model=r.opt_string(),
            format=r.enum(ProviderFormat, "ProviderFormat"),
            query=r.opt_string(),
            protect_recent=r.u32(),
            frozen=r.u32(),
            target_ratio=r.f32() if r.some() else None,
            compress_user_messages=r.bool(),
        )
        op = CompressRequest(messages, options)
    elif index == 3:
        op = RetrieveRequest(r.string(), r.opt_string())
    elif index == 4:
        op = Stats()
    elif index == 5:
        op = Metrics()
    else:
        raise WireError(f"unknown Op index {index}")
    r.end()
    return Request(rid, op)


def decode_reply(body: bytes) -> Reply:
    """Decodes a reply body (no length prefix). Raises ``WireError`` on anything this protocol
    version does not define, which a client treats as a broken connection."""
    r = _Reader(body)
    rid = r.varint()
    index = r.u32()
    if index == 2:
        messages = r.bytes()
        before, after = r.varint(), r.varint()
        keys = [r.string() for _ in range(r.varint())]
        compressors = r.compressors()
        tool = r.bytes() if r.some() else None
        fmt = r.enum(ProviderFormat, "ProviderFormat")
        out: ReplyBody = CompressReply(messages, before, after, keys, compressors, tool, fmt)
    elif index == 0:
        out = HelloReply(r.u32(), r.string())
    elif index == 1:
        out = Pong()
    elif index == 3:
        out = RetrieveReply(r.string(), r.string(), r.bool())
    elif index == 4:
        out = StatsReply(r.u32(), *(r.varint() for _ in range(8)))
    elif index == 5:
        out = ErrorReply(r.enum(ErrorCode, "ErrorCode"), r.string())
    elif index == 6:
        out = MetricsReply(r.compressors(), *(r.varint() for _ in range(10)))
    else:
        raise WireError(f"unknown ReplyBody index {index}")
    r.end()
    return Reply(rid, out)
