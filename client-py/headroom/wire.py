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

import datetime
import enum
import struct
from dataclasses import dataclass, field
from typing import Optional, Union

#: The protocol version this client speaks; ``Hello`` carries it.
PROTOCOL_VERSION = 2

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
    busy = 7


# --- Requests ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Hello:
    protocol_version: int
    client: str


@dataclass(slots=True)
class Ping:
    pass


@dataclass(slots=True, frozen=True)
class MemoryScope:
    """Where a fact belongs: a ``user`` (required, never empty), optionally one of their
    ``agent``s (or projects), optionally a ``session`` (one conversation). A scope sees its own
    facts and those of the scopes above it, never a sibling's."""

    user: str
    agent: Optional[str] = None
    session: Optional[str] = None


@dataclass(slots=True)
class MemoryOptions:
    """Memory on the request path of ``Compress``: facts of ``scope`` go into the latest user
    message (at most ``budget_tokens``, 0 for the daemon's default), and with ``tools`` the reply
    carries the ``memory_save`` and ``memory_search`` tool definitions."""

    scope: MemoryScope
    budget_tokens: int = 0
    tools: bool = False


@dataclass(slots=True)
class CompressOptions:
    """Per-request choices; all defaults encode as eight zero bytes."""

    model: Optional[str] = None
    format: ProviderFormat = ProviderFormat.Auto
    query: Optional[str] = None
    protect_recent: int = 0
    frozen: int = 0
    target_ratio: Optional[float] = None
    compress_user_messages: bool = False
    memory: Optional[MemoryOptions] = None


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


@dataclass(slots=True)
class MemoryAddRequest:
    """Remember ``text`` in ``scope``. ``key`` says what the fact is about (derived from the text
    when absent); ``valid_from_ms`` is when it became true (now when absent)."""

    scope: MemoryScope
    text: str
    source: Optional[str] = None
    key: Optional[str] = None
    valid_from_ms: Optional[int] = None


@dataclass(slots=True)
class MemorySearchRequest:
    """The facts ``scope`` sees that best match ``query``, as of ``as_of_ms`` (now when absent);
    ``limit`` 0 means 10, ``budget_tokens`` 0 means no bound."""

    scope: MemoryScope
    query: str
    as_of_ms: Optional[int] = None
    limit: int = 0
    budget_tokens: int = 0


@dataclass(slots=True)
class MemoryListRequest:
    """The facts ``scope`` sees, newest first; or with ``include_narrower`` every fact in it and
    the scopes under it."""

    scope: MemoryScope
    as_of_ms: Optional[int] = None
    include_superseded: bool = False
    include_narrower: bool = False


@dataclass(slots=True)
class MemoryForgetRequest:
    """Deletes fact ``id`` (which must lie in ``scope`` or under it), or every fact there."""

    scope: MemoryScope
    id: Optional[str] = None


Op = Union[Hello, Ping, CompressRequest, RetrieveRequest, Stats, Metrics, MemoryAddRequest, MemorySearchRequest,
           MemoryListRequest, MemoryForgetRequest]
_OP_INDEX = {Hello: 0, Ping: 1, CompressRequest: 2, RetrieveRequest: 3, Stats: 4, Metrics: 5, MemoryAddRequest: 6,
             MemorySearchRequest: 7, MemoryListRequest: 8, MemoryForgetRequest: 9}


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
    memories: int = 0
    memory_tools: Optional[bytes] = None


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


def _datetime(ms: Optional[int]) -> Optional[datetime.datetime]:
    return None if ms is None else datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)


@dataclass(slots=True)
class MemoryFact:
    """One remembered fact. Times are ms since the Unix epoch (``created``, ``valid_from`` and
    ``valid_to`` give them as UTC datetimes); ``valid_to_ms`` is ``None`` while the fact is
    current, and ``superseded_by`` names the fact that replaced it. ``score`` is the relevance to
    a search query (0 in lists)."""

    id: str
    scope: MemoryScope
    text: str
    source: Optional[str]
    key: Optional[str]
    created_ms: int
    valid_from_ms: int
    valid_to_ms: Optional[int]
    superseded_by: Optional[str]
    score: float

    @property
    def created(self) -> datetime.datetime:
        """When the fact was stored (UTC)."""
        return _datetime(self.created_ms)

    @property
    def valid_from(self) -> datetime.datetime:
        """When the fact became true (UTC)."""
        return _datetime(self.valid_from_ms)

    @property
    def valid_to(self) -> Optional[datetime.datetime]:
        """When the fact stopped being true (UTC), ``None`` while it is current."""
        return _datetime(self.valid_to_ms)


@dataclass(slots=True)
class MemoryAddReply:
    """The stored ``fact`` (or, with ``duplicate``, the current fact it repeats: nothing new was
    stored), and the ids of the facts it ``superseded``."""

    fact: MemoryFact
    duplicate: bool
    superseded: list


@dataclass(slots=True)
class MemoryFactsReply:
    """Facts, most relevant (search) or newest (list) first."""

    facts: list


@dataclass(slots=True)
class MemoryForgetReply:
    """How many facts were deleted."""

    removed: int


ReplyBody = Union[HelloReply, Pong, CompressReply, RetrieveReply, StatsReply, ErrorReply, MetricsReply,
                  MemoryAddReply, MemoryFactsReply, MemoryForgetReply]
_BODY_INDEX = {HelloReply: 0, Pong: 1, CompressReply: 2, RetrieveReply: 3, StatsReply: 4, ErrorReply: 5,
               MetricsReply: 6, MemoryAddReply: 7, MemoryFactsReply: 8, MemoryForgetReply: 9}


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


def _opt_varint(out: bytearray, n: Optional[int]) -> None:
    if n is None:
        out.append(0)
    else:
        out.append(1)
        _varint(out, n)


def _opt_bytes(out: bytearray, b: Optional[bytes]) -> None:
    if b is None:
        out.append(0)
    else:
        out.append(1)
        _bytes(out, b)


def _scope(out: bytearray, scope: MemoryScope) -> None:
    _string(out, scope.user)
    _opt_string(out, scope.agent)
    _opt_string(out, scope.session)


def _fact(out: bytearray, fact: MemoryFact) -> None:
    _string(out, fact.id)
    _scope(out, fact.scope)
    _string(out, fact.text)
    _opt_string(out, fact.source)
    _opt_string(out, fact.key)
    _varint(out, fact.created_ms)
    _varint(out, fact.valid_from_ms)
    _opt_varint(out, fact.valid_to_ms)
    _opt_string(out, fact.superseded_by)
    out += _F32.pack(fact.score)


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
        if o.memory is None:
            out.append(0)
        else:
            out.append(1)
            _scope(out, o.memory.scope)
            _varint(out, o.memory.budget_tokens)
            out.append(1 if o.memory.tools else 0)
    elif isinstance(op, RetrieveRequest):
        _string(out, op.key)
        _opt_string(out, op.query)
    elif isinstance(op, Hello):
        _varint(out, op.protocol_version)
        _string(out, op.client)
    elif isinstance(op, MemoryAddRequest):
        _scope(out, op.scope)
        _string(out, op.text)
        _opt_string(out, op.source)
        _opt_string(out, op.key)
        _opt_varint(out, op.valid_from_ms)
    elif isinstance(op, MemorySearchRequest):
        _scope(out, op.scope)
        _string(out, op.query)
        _opt_varint(out, op.as_of_ms)
        _varint(out, op.limit)
        _varint(out, op.budget_tokens)
    elif isinstance(op, MemoryListRequest):
        _scope(out, op.scope)
        _opt_varint(out, op.as_of_ms)
        out.append(1 if op.include_superseded else 0)
        out.append(1 if op.include_narrower else 0)
    elif isinstance(op, MemoryForgetRequest):
        _scope(out, op.scope)
        _opt_string(out, op.id)
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
        _opt_bytes(out, body.retrieve_tool)
        _varint(out, int(body.format))
        _varint(out, body.memories)
        _opt_bytes(out, body.memory_tools)
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
    elif isinstance(body, MemoryAddReply):
        _fact(out, body.fact)
        out.append(1 if body.duplicate else 0)
        _varint(out, len(body.superseded))
        for fid in body.superseded:
            _string(out, fid)
    elif isinstance(body, MemoryFactsReply):
        _varint(out, len(body.facts))
        for fact in body.facts:
            _fact(out, fact)
    elif isinstance(body, MemoryForgetReply):
        _varint(out, body.removed)
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

    def opt_varint(self) -> Optional[int]:
        return self.varint() if self.some() else None

    def scope(self) -> MemoryScope:
        return MemoryScope(self.string(), self.opt_string(), self.opt_string())

    def fact(self) -> MemoryFact:
        return MemoryFact(self.string(), self.scope(), self.string(), self.opt_string(), self.opt_string(),
                          self.varint(), self.varint(), self.opt_varint(), self.opt_string(), self.f32())

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
            memory=MemoryOptions(r.scope(), r.u32(), r.bool()) if r.some() else None,
        )
        op = CompressRequest(messages, options)
    elif index == 3:
        op = RetrieveRequest(r.string(), r.opt_string())
    elif index == 4:
        op = Stats()
    elif index == 5:
        op = Metrics()
    elif index == 6:
        op = MemoryAddRequest(r.scope(), r.string(), r.opt_string(), r.opt_string(), r.opt_varint())
    elif index == 7:
        op = MemorySearchRequest(r.scope(), r.string(), r.opt_varint(), r.u32(), r.u32())
    elif index == 8:
        op = MemoryListRequest(r.scope(), r.opt_varint(), r.bool(), r.bool())
    elif index == 9:
        op = MemoryForgetRequest(r.scope(), r.opt_string())
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
        out: ReplyBody = CompressReply(messages, before, after, keys, compressors, tool, fmt, r.u32(),
                                       r.bytes() if r.some() else None)
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
    elif index == 7:
        out = MemoryAddReply(r.fact(), r.bool(), [r.string() for _ in range(r.varint())])
    elif index == 8:
        out = MemoryFactsReply([r.fact() for _ in range(r.varint())])
    elif index == 9:
        out = MemoryForgetReply(r.varint())
    else:
        raise WireError(f"unknown ReplyBody index {index}")
    r.end()
    return Reply(rid, out)
