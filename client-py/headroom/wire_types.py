"""Generated from protocol/schema.json by protocol/generate.py; do not edit.

The wire types of ``protocol/src/message.rs`` with their fields in wire order, and a
``write_x(w, value)`` / ``read_x(r)`` pair per type. ``headroom.wire`` re-exports the types and
holds the writer ``w`` and the strict reader ``r`` these call."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional, Union

if TYPE_CHECKING:
    from .wire import _Reader, _Writer

__all__ = [
    "PROTOCOL_VERSION", "MAX_FRAME", "Hello", "ProviderFormat", "MemoryScope", "MemoryOptions",
    "CompressOptions", "CompressRequest", "RetrieveRequest", "MemoryAddRequest",
    "MemorySearchRequest", "MemoryListRequest", "MemoryForgetRequest", "SavingsRequest", "Ping",
    "Stats", "Metrics", "Info", "Op", "Request", "HelloReply", "CompressorStats", "CompressReply",
    "RetrieveReply", "StatsReply", "ErrorCode", "ErrorReply", "LatencyBucket", "MetricsReply",
    "MemoryFact", "MemoryAddReply", "MemoryFactsReply", "MemoryForgetReply", "InfoReply",
    "LedgerSlice", "LedgerPeriod", "RecentRequest", "SavingsReply", "Pong", "ReplyBody", "Reply"
]

#: The protocol version this client speaks; ``Hello`` carries it.
PROTOCOL_VERSION = 4

#: The daemon's default limit on a frame body. Larger requests are not sent: the call fails open.
MAX_FRAME = 64 * 1024 * 1024


@dataclass(slots=True)
class Hello:
    """The handshake a client sends first."""

    #: The client's ``PROTOCOL_VERSION``.
    protocol_version: int
    #: Free text naming the client (e.g. ``headroom-py/0.1.0``), for logs.
    client: str


class ProviderFormat(enum.IntEnum):
    """The provider message shapes the daemon understands.

    The value is the wire index."""

    #: Detect from the content.
    Auto = 0
    #: OpenAI Chat Completions ``messages``.
    OpenAiChat = 1
    #: OpenAI Responses ``input`` items.
    OpenAiResponses = 2
    #: Anthropic Messages ``messages`` (and its content blocks).
    Anthropic = 3


@dataclass(slots=True, frozen=True)
class MemoryScope:
    """Where a fact belongs. Scopes nest user → agent (or project) → session: a session sees its
    own facts, its agent's and its user's, and nothing of any other scope."""

    #: Required, never empty.
    user: str
    agent: Optional[str] = None
    session: Optional[str] = None


@dataclass(slots=True)
class MemoryOptions:
    """Memory on the request path of ``Compress``."""

    scope: MemoryScope
    #: Most tokens of facts to add; 0 means the daemon's default (256).
    budget_tokens: int = 0
    #: Also offer the model ``memory_save`` and ``memory_search`` tools.
    tools: bool = False


@dataclass(slots=True)
class CompressOptions:
    """Per-request choices. The zero value (``Default``) is what most callers want."""

    #: Model name; picks the tokenizer (o200k for current models, cl100k for older ones).
    model: Optional[str] = None
    #: Message shape; ``Auto`` detects it from the content.
    format: ProviderFormat = ProviderFormat.Auto
    #: Overrides the query (by default the latest user message).
    query: Optional[str] = None
    #: How many trailing messages to leave untouched beyond the latest user message.
    protect_recent: int = 0
    #: How many leading messages the caller has frozen (passed through byte for byte).
    frozen: int = 0
    #: Wanted size of compressed blocks as a share of the original (0 < r ≤ 1); ``None`` lets each
    #: compressor choose.
    #: An ``f32`` on the wire: values not exactly representable come back rounded.
    target_ratio: Optional[float] = None
    #: Also compress long user-pasted content (never the latest user message).
    compress_user_messages: bool = False
    #: Add remembered facts of this scope to the latest user message, and optionally offer the
    #: model the memory tools.
    memory: Optional[MemoryOptions] = None
    #: Who is asking (``litellm``, ``langchain``, ``openai-sdk``, ``vercel``, or a name the user sets),
    #: for the savings ledger's per-client figures; ``None`` counts the request under the name
    #: the connection's ``Hello`` gave.
    client: Optional[str] = None


@dataclass(slots=True)
class CompressRequest:
    """Provider messages to compress, as the JSON bytes the application would send."""

    #: UTF-8 JSON: a messages array, or a whole request body (an object with ``messages`` or
    #: ``input``). The reply keeps the same shape.
    messages: bytes
    options: CompressOptions = field(default_factory=CompressOptions)


@dataclass(slots=True)
class RetrieveRequest:
    """Asks for the original content behind a marker's key."""

    #: The 24 hex characters after ``hash=`` in a marker.
    key: str
    #: When set, only the lines matching it are returned.
    query: Optional[str] = None


@dataclass(slots=True)
class MemoryAddRequest:
    """A fact to remember."""

    scope: MemoryScope
    text: str
    #: Where the fact came from (a conversation or agent id, a message), free text.
    source: Optional[str] = None
    #: What the fact is about (e.g. ``deploy target``). A new fact with the key of a current fact in
    #: the same scope supersedes it. Derived from the text when absent (see the README).
    key: Optional[str] = None
    #: When the fact became true, ms since the Unix epoch; now when absent.
    valid_from_ms: Optional[int] = None


@dataclass(slots=True)
class MemorySearchRequest:
    """A search over the facts a scope sees."""

    scope: MemoryScope
    query: str
    #: Search what was true at this time (ms since the epoch) instead of now.
    as_of_ms: Optional[int] = None
    #: Most facts to return; 0 means 10.
    limit: int = 0
    #: Most tokens of fact text to return; 0 means no bound.
    budget_tokens: int = 0


@dataclass(slots=True)
class MemoryListRequest:
    """Lists facts, newest first."""

    scope: MemoryScope
    #: What was true at this time instead of now; ignored with ``include_superseded``.
    as_of_ms: Optional[int] = None
    #: Also facts whose validity has ended.
    include_superseded: bool = False
    #: Every fact in this scope and the scopes under it, instead of what the scope sees.
    include_narrower: bool = False


@dataclass(slots=True)
class MemoryForgetRequest:
    """Deletes facts for good (no history is kept of them)."""

    scope: MemoryScope
    #: One fact, which must lie in ``scope`` or under it; ``None`` forgets every fact there.
    id: Optional[str] = None


@dataclass(slots=True)
class SavingsRequest:
    """Asks for the ledger's periods that end after ``since_ms`` (ms since the epoch; 0 for all)."""

    since_ms: int = 0


@dataclass(slots=True)
class Ping:
    """Liveness check; answered with ``ReplyBody::Pong``."""


@dataclass(slots=True)
class Stats:
    """Counters of the running daemon."""


@dataclass(slots=True)
class Metrics:
    """Per-compressor totals, CCR hits and misses, latency percentiles, all-time totals."""


@dataclass(slots=True)
class Info:
    """What the running daemon serves besides the socket (where its HTTP front listens)."""


#: The operation a request asks for. The variant index is the operation code on the wire.
Op = Union[
    # 0 Hello: Must be the first request on a connection: agrees on the protocol version.
    Hello,
    # 1 Ping: Liveness check; answered with ``ReplyBody::Pong``.
    Ping,
    # 2 Compress: Compress provider messages.
    CompressRequest,
    # 3 Retrieve: Fetch the original behind a compression marker.
    RetrieveRequest,
    # 4 Stats: Counters of the running daemon.
    Stats,
    # 5 Metrics: Per-compressor totals, CCR hits and misses, latency percentiles, all-time totals.
    Metrics,
    # 6 MemoryAdd: Remember a fact in a memory scope.
    MemoryAddRequest,
    # 7 MemorySearch: The facts of a scope most relevant to a query.
    MemorySearchRequest,
    # 8 MemoryList: The facts a scope sees, or everything under it.
    MemoryListRequest,
    # 9 MemoryForget: Delete one fact, or every fact in a scope and the scopes under it.
    MemoryForgetRequest,
    # 10 Info: What the running daemon serves besides the socket (where its HTTP front listens).
    Info,
    # 11 Savings: The savings ledger since a time, and the latest requests.
    SavingsRequest,
]


@dataclass(slots=True)
class Request:
    """A client's request. The daemon echoes ``id`` in the ``Reply``, so one connection can carry many
    requests at once and match replies that arrive out of order."""

    id: int
    op: Op


@dataclass(slots=True)
class HelloReply:
    """The daemon's side of the handshake."""

    protocol_version: int
    #: Daemon name and version, e.g. ``headroomd/0.1.0``.
    server: str


@dataclass(slots=True)
class CompressorStats:
    """What one compressor did in one request."""

    name: str
    blocks: int = 0
    tokens_before: int = 0
    tokens_after: int = 0


@dataclass(slots=True)
class CompressReply:
    """The result of a compression."""

    #: The new JSON, in the shape that was sent; untouched bytes are identical.
    messages: bytes
    #: Tokens of the content blocks considered, before and after. ``tokens_after`` is exact; the
    #: original's count is exact up to what the never-larger decision needed and extrapolated
    #: from the bytes beyond that.
    tokens_before: int = 0
    tokens_after: int = 0
    #: Keys of every marker in ``messages``, in order of first appearance.
    ccr_keys: list[str] = field(default_factory=list)
    #: One entry per compressor that changed at least one block.
    compressors: list[CompressorStats] = field(default_factory=list)
    #: The ``headroom_retrieve`` tool definition (JSON, in the request's provider format) when
    #: ``messages`` contains a marker.
    retrieve_tool: Optional[bytes] = None
    #: The provider format the daemon used (never ``Auto``).
    format: ProviderFormat = ProviderFormat.Auto
    #: How many remembered facts were added to the latest user message.
    memories: int = 0
    #: The ``memory_save`` and ``memory_search`` tool definitions (a JSON array, in the request's
    #: provider format) when memory tools were asked for.
    memory_tools: Optional[bytes] = None
    #: This reply changes messages an earlier reply sent differently (compaction of superseded
    #: outputs): the provider's cache is written again from there.
    rewrote_earlier: bool = False
    #: Tokens of the tool definitions Headroom added (``retrieve_tool`` and ``memory_tools``); the
    #: retrieve tool's are part of ``tokens_after``.
    added_tokens: int = 0
    #: Blocks of ``LARGE_BLOCK_TOKENS`` or more sent unchanged, one entry per reason (the
    #: reason in ``name``, e.g. ``no compressor fits``): why nothing was saved on them.
    left_as_is: list[CompressorStats] = field(default_factory=list)


@dataclass(slots=True)
class RetrieveReply:
    """The original content (or the lines of it matching the query)."""

    key: str
    #: The exact original when ``whole``, else the matching lines, each prefixed ``L<n>: ``.
    content: str
    whole: bool = False


@dataclass(slots=True)
class StatsReply:
    """Counters since the daemon started, plus store sizes."""

    protocol_version: int = 0
    uptime_ms: int = 0
    connections: int = 0
    requests: int = 0
    compress_requests: int = 0
    tokens_before: int = 0
    tokens_after: int = 0
    ccr_entries: int = 0
    replay_entries: int = 0


class ErrorCode(enum.IntEnum):
    """Stable error codes; the variant index is the code on the wire.

    The value is the wire index. ``.name`` is the serde spelling."""

    #: The frame or its body could not be decoded.
    bad_frame = 0
    #: The frame is longer than the daemon's limit; it was skipped.
    too_large = 1
    #: ``Hello`` named another protocol version.
    unsupported_version = 2
    #: Well-formed but unacceptable: unknown operation, invalid JSON messages, no ``Hello`` first.
    bad_request = 3
    #: No original is stored under that key.
    not_found = 4
    #: The original expired; the model should re-run the tool. Terminal, do not retry.
    expired = 5
    #: The daemon failed; the request may be retried.
    internal = 6
    #: Too much large work is already waiting; the request was not run. Send the messages
    #: uncompressed (or retry later).
    busy = 7


@dataclass(slots=True)
class ErrorReply:
    """A failed request. ``message`` is for people; ``code`` is for programs."""

    code: ErrorCode
    message: str


@dataclass(slots=True)
class LatencyBucket:
    """One bucket of a cumulative latency histogram."""

    le_us: int = 0
    count: int = 0


@dataclass(slots=True)
class MetricsReply:
    """What ``headroom stats`` shows beyond ``StatsReply``. "Since start" counts this daemon process;
    "all time" survives restarts (kept in the state directory)."""

    #: Per compressor since start, by name.
    compressors: list[CompressorStats] = field(default_factory=list)
    #: Retrieves that found their original, found nothing, or found it expired.
    ccr_hits: int = 0
    ccr_misses: int = 0
    ccr_expired: int = 0
    #: Compress latency inside the daemon since start, in microseconds.
    latency_p50_us: int = 0
    latency_p99_us: int = 0
    #: Compress requests and tokens over the daemon's whole history.
    all_time_compress_requests: int = 0
    all_time_tokens_before: int = 0
    all_time_tokens_after: int = 0
    all_time_latency_p50_us: int = 0
    all_time_latency_p99_us: int = 0
    #: Compress latency since start as a cumulative histogram (compressions that took at most
    #: ``le_us`` each), and the sum of all latencies, for Prometheus.
    latency_buckets: list[LatencyBucket] = field(default_factory=list)
    latency_sum_us: int = 0
    #: Large blocks sent unchanged since start, by reason (as in ``CompressReply::left_as_is``).
    left_as_is: list[CompressorStats] = field(default_factory=list)


@dataclass(slots=True)
class MemoryFact:
    """One remembered fact."""

    #: 16 lowercase hex digits.
    id: str
    scope: MemoryScope
    text: str
    source: Optional[str] = None
    #: What the fact is about, given or derived; facts sharing it supersede each other.
    key: Optional[str] = None
    created_ms: int = 0
    valid_from_ms: int = 0
    #: When the fact stopped being true; ``None`` while it is current.
    valid_to_ms: Optional[int] = None
    #: The fact that replaced it.
    superseded_by: Optional[str] = None
    #: Relevance to the search query (0 in lists).
    #: An ``f32`` on the wire: values not exactly representable come back rounded.
    score: float = 0.0


@dataclass(slots=True)
class MemoryAddReply:
    """The result of ``MemoryAdd``."""

    #: The stored fact, or the existing one it duplicates.
    fact: MemoryFact
    #: The text was near-identical to a current fact of the scope; nothing new was stored.
    duplicate: bool = False
    #: Ids of the facts whose validity this one ended.
    superseded: list[str] = field(default_factory=list)


@dataclass(slots=True)
class MemoryFactsReply:
    """Facts, most relevant (search) or newest (list) first."""

    facts: list[MemoryFact] = field(default_factory=list)


@dataclass(slots=True)
class MemoryForgetReply:
    """The result of ``MemoryForget``."""

    removed: int = 0


@dataclass(slots=True)
class InfoReply:
    """What the running daemon serves, for tools that must find it as it is rather than as the
    configuration says (``headroom wrap`` after ``headroomd --http --http-port N``)."""

    #: Daemon name and version, e.g. ``headroomd/0.1.0``.
    server: str
    #: Where the HTTP front listens (``127.0.0.1:8787``), or ``None`` when it is off.
    http_address: Optional[str] = None


@dataclass(slots=True)
class LedgerSlice:
    """A period's requests of one model or one client."""

    name: str
    requests: int = 0
    tokens_before: int = 0
    tokens_after: int = 0


@dataclass(slots=True)
class LedgerPeriod:
    """One period of the savings ledger."""

    #: When the period starts, ms since the epoch, and how long it is (an hour or a day).
    start_ms: int = 0
    span_ms: int = 0
    #: Compress requests and their tokens before and after (``tokens_after`` includes Headroom's
    #: additions: markers and the retrieve tool's definition).
    requests: int = 0
    tokens_before: int = 0
    tokens_after: int = 0
    #: Tokens of the tool definitions Headroom added.
    added_tokens: int = 0
    #: ``headroom_retrieve`` calls answered, and the tokens of what they brought back.
    retrieves: int = 0
    retrieved_tokens: int = 0
    #: Remembered facts put into requests.
    memories: int = 0
    #: Requests in which Headroom changed earlier messages (compaction): each costs a cache write.
    rewrites: int = 0
    #: The same figures per compressor, per model and per client.
    compressors: list[CompressorStats] = field(default_factory=list)
    models: list[LedgerSlice] = field(default_factory=list)
    clients: list[LedgerSlice] = field(default_factory=list)


@dataclass(slots=True)
class RecentRequest:
    """One recent compression, for the dashboard's list."""

    at_ms: int
    model: str
    client: str
    tokens_before: int = 0
    tokens_after: int = 0
    #: The compressors that changed a block.
    compressors: list[str] = field(default_factory=list)
    #: Microseconds the engine took.
    latency_us: int = 0


@dataclass(slots=True)
class SavingsReply:
    """What Headroom saved, period by period, and the latest requests."""

    #: Hours (days once older than a year), oldest first.
    periods: list[LedgerPeriod] = field(default_factory=list)
    #: The latest compressions since the daemon started, newest first.
    recent: list[RecentRequest] = field(default_factory=list)


@dataclass(slots=True)
class Pong:
    """``ReplyBody::Pong``, which carries nothing."""


#: What a reply carries; the variant index is the reply code on the wire.
ReplyBody = Union[
    # 0 Hello
    HelloReply,
    # 1 Pong
    Pong,
    # 2 Compressed
    CompressReply,
    # 3 Retrieved
    RetrieveReply,
    # 4 Stats
    StatsReply,
    # 5 Error
    ErrorReply,
    # 6 Metrics
    MetricsReply,
    # 7 MemoryAdded
    MemoryAddReply,
    # 8 MemoryFacts
    MemoryFactsReply,
    # 9 MemoryForgotten
    MemoryForgetReply,
    # 10 Info
    InfoReply,
    # 11 Savings
    SavingsReply,
]


@dataclass(slots=True)
class Reply:
    """The daemon's answer to one ``Request``."""

    #: The request's id; 0 when the request was too damaged to read one.
    id: int
    body: ReplyBody


# --- Codecs ----------------------------------------------------------------------------------------


def write_hello(w: _Writer, v: Hello) -> None:
    w.u32(v.protocol_version)
    w.string(v.client)


def read_hello(r: _Reader) -> Hello:
    return Hello(protocol_version=r.u32(), client=r.string())


def write_memory_scope(w: _Writer, v: MemoryScope) -> None:
    w.string(v.user)
    w.option(v.agent, w.string)
    w.option(v.session, w.string)


def read_memory_scope(r: _Reader) -> MemoryScope:
    return MemoryScope(user=r.string(), agent=r.option(r.string), session=r.option(r.string))


def write_memory_options(w: _Writer, v: MemoryOptions) -> None:
    write_memory_scope(w, v.scope)
    w.u32(v.budget_tokens)
    w.bool(v.tools)


def read_memory_options(r: _Reader) -> MemoryOptions:
    return MemoryOptions(scope=read_memory_scope(r), budget_tokens=r.u32(), tools=r.bool())


def write_compress_options(w: _Writer, v: CompressOptions) -> None:
    w.option(v.model, w.string)
    w.enum(v.format)
    w.option(v.query, w.string)
    w.u32(v.protect_recent)
    w.u32(v.frozen)
    w.option(v.target_ratio, w.f32)
    w.bool(v.compress_user_messages)
    w.option(v.memory, lambda x: write_memory_options(w, x))
    w.option(v.client, w.string)


def read_compress_options(r: _Reader) -> CompressOptions:
    return CompressOptions(
        model=r.option(r.string),
        format=r.enum(ProviderFormat),
        query=r.option(r.string),
        protect_recent=r.u32(),
        frozen=r.u32(),
        target_ratio=r.option(r.f32),
        compress_user_messages=r.bool(),
        memory=r.option(lambda: read_memory_options(r)),
        client=r.option(r.string),
    )


def write_compress_request(w: _Writer, v: CompressRequest) -> None:
    w.bytes(v.messages)
    write_compress_options(w, v.options)


def read_compress_request(r: _Reader) -> CompressRequest:
    return CompressRequest(messages=r.bytes(), options=read_compress_options(r))


def write_retrieve_request(w: _Writer, v: RetrieveRequest) -> None:
    w.string(v.key)
    w.option(v.query, w.string)


def read_retrieve_request(r: _Reader) -> RetrieveRequest:
    return RetrieveRequest(key=r.string(), query=r.option(r.string))


def write_memory_add_request(w: _Writer, v: MemoryAddRequest) -> None:
    write_memory_scope(w, v.scope)
    w.string(v.text)
    w.option(v.source, w.string)
    w.option(v.key, w.string)
    w.option(v.valid_from_ms, w.u64)


def read_memory_add_request(r: _Reader) -> MemoryAddRequest:
    return MemoryAddRequest(
        scope=read_memory_scope(r),
        text=r.string(),
        source=r.option(r.string),
        key=r.option(r.string),
        valid_from_ms=r.option(r.u64),
    )


def write_memory_search_request(w: _Writer, v: MemorySearchRequest) -> None:
    write_memory_scope(w, v.scope)
    w.string(v.query)
    w.option(v.as_of_ms, w.u64)
    w.u32(v.limit)
    w.u32(v.budget_tokens)


def read_memory_search_request(r: _Reader) -> MemorySearchRequest:
    return MemorySearchRequest(
        scope=read_memory_scope(r),
        query=r.string(),
        as_of_ms=r.option(r.u64),
        limit=r.u32(),
        budget_tokens=r.u32(),
    )


def write_memory_list_request(w: _Writer, v: MemoryListRequest) -> None:
    write_memory_scope(w, v.scope)
    w.option(v.as_of_ms, w.u64)
    w.bool(v.include_superseded)
    w.bool(v.include_narrower)


def read_memory_list_request(r: _Reader) -> MemoryListRequest:
    return MemoryListRequest(
        scope=read_memory_scope(r),
        as_of_ms=r.option(r.u64),
        include_superseded=r.bool(),
        include_narrower=r.bool(),
    )


def write_memory_forget_request(w: _Writer, v: MemoryForgetRequest) -> None:
    write_memory_scope(w, v.scope)
    w.option(v.id, w.string)


def read_memory_forget_request(r: _Reader) -> MemoryForgetRequest:
    return MemoryForgetRequest(scope=read_memory_scope(r), id=r.option(r.string))


def write_savings_request(w: _Writer, v: SavingsRequest) -> None:
    w.u64(v.since_ms)


def read_savings_request(r: _Reader) -> SavingsRequest:
    return SavingsRequest(since_ms=r.u64())


def write_op(w: _Writer, v: Op) -> None:
    if isinstance(v, Hello):
        w.u32(0)
        write_hello(w, v)
    elif isinstance(v, Ping):
        w.u32(1)
    elif isinstance(v, CompressRequest):
        w.u32(2)
        write_compress_request(w, v)
    elif isinstance(v, RetrieveRequest):
        w.u32(3)
        write_retrieve_request(w, v)
    elif isinstance(v, Stats):
        w.u32(4)
    elif isinstance(v, Metrics):
        w.u32(5)
    elif isinstance(v, MemoryAddRequest):
        w.u32(6)
        write_memory_add_request(w, v)
    elif isinstance(v, MemorySearchRequest):
        w.u32(7)
        write_memory_search_request(w, v)
    elif isinstance(v, MemoryListRequest):
        w.u32(8)
        write_memory_list_request(w, v)
    elif isinstance(v, MemoryForgetRequest):
        w.u32(9)
        write_memory_forget_request(w, v)
    elif isinstance(v, Info):
        w.u32(10)
    elif isinstance(v, SavingsRequest):
        w.u32(11)
        write_savings_request(w, v)
    else:
        raise TypeError(f"Op has no variant of type {type(v).__name__}")


def read_op(r: _Reader) -> Op:
    index = r.variant("Op", 12)
    if index == 0:
        return read_hello(r)
    if index == 1:
        return Ping()
    if index == 2:
        return read_compress_request(r)
    if index == 3:
        return read_retrieve_request(r)
    if index == 4:
        return Stats()
    if index == 5:
        return Metrics()
    if index == 6:
        return read_memory_add_request(r)
    if index == 7:
        return read_memory_search_request(r)
    if index == 8:
        return read_memory_list_request(r)
    if index == 9:
        return read_memory_forget_request(r)
    if index == 10:
        return Info()
    return read_savings_request(r)


def write_request(w: _Writer, v: Request) -> None:
    w.u64(v.id)
    write_op(w, v.op)


def read_request(r: _Reader) -> Request:
    return Request(id=r.u64(), op=read_op(r))


def write_hello_reply(w: _Writer, v: HelloReply) -> None:
    w.u32(v.protocol_version)
    w.string(v.server)


def read_hello_reply(r: _Reader) -> HelloReply:
    return HelloReply(protocol_version=r.u32(), server=r.string())


def write_compressor_stats(w: _Writer, v: CompressorStats) -> None:
    w.string(v.name)
    w.u32(v.blocks)
    w.u64(v.tokens_before)
    w.u64(v.tokens_after)


def read_compressor_stats(r: _Reader) -> CompressorStats:
    return CompressorStats(
        name=r.string(),
        blocks=r.u32(),
        tokens_before=r.u64(),
        tokens_after=r.u64(),
    )


def write_compress_reply(w: _Writer, v: CompressReply) -> None:
    w.bytes(v.messages)
    w.u64(v.tokens_before)
    w.u64(v.tokens_after)
    w.vec(v.ccr_keys, w.string)
    w.vec(v.compressors, lambda x: write_compressor_stats(w, x))
    w.option(v.retrieve_tool, w.bytes)
    w.enum(v.format)
    w.u32(v.memories)
    w.option(v.memory_tools, w.bytes)
    w.bool(v.rewrote_earlier)
    w.u64(v.added_tokens)
    w.vec(v.left_as_is, lambda x: write_compressor_stats(w, x))


def read_compress_reply(r: _Reader) -> CompressReply:
    return CompressReply(
        messages=r.bytes(),
        tokens_before=r.u64(),
        tokens_after=r.u64(),
        ccr_keys=r.vec(r.string),
        compressors=r.vec(lambda: read_compressor_stats(r)),
        retrieve_tool=r.option(r.bytes),
        format=r.enum(ProviderFormat),
        memories=r.u32(),
        memory_tools=r.option(r.bytes),
        rewrote_earlier=r.bool(),
        added_tokens=r.u64(),
        left_as_is=r.vec(lambda: read_compressor_stats(r)),
    )


def write_retrieve_reply(w: _Writer, v: RetrieveReply) -> None:
    w.string(v.key)
    w.string(v.content)
    w.bool(v.whole)


def read_retrieve_reply(r: _Reader) -> RetrieveReply:
    return RetrieveReply(key=r.string(), content=r.string(), whole=r.bool())


def write_stats_reply(w: _Writer, v: StatsReply) -> None:
    w.u32(v.protocol_version)
    w.u64(v.uptime_ms)
    w.u64(v.connections)
    w.u64(v.requests)
    w.u64(v.compress_requests)
    w.u64(v.tokens_before)
    w.u64(v.tokens_after)
    w.u64(v.ccr_entries)
    w.u64(v.replay_entries)


def read_stats_reply(r: _Reader) -> StatsReply:
    return StatsReply(
        protocol_version=r.u32(),
        uptime_ms=r.u64(),
        connections=r.u64(),
        requests=r.u64(),
        compress_requests=r.u64(),
        tokens_before=r.u64(),
        tokens_after=r.u64(),
        ccr_entries=r.u64(),
        replay_entries=r.u64(),
    )


def write_error_reply(w: _Writer, v: ErrorReply) -> None:
    w.enum(v.code)
    w.string(v.message)


def read_error_reply(r: _Reader) -> ErrorReply:
    return ErrorReply(code=r.enum(ErrorCode), message=r.string())


def write_latency_bucket(w: _Writer, v: LatencyBucket) -> None:
    w.u64(v.le_us)
    w.u64(v.count)


def read_latency_bucket(r: _Reader) -> LatencyBucket:
    return LatencyBucket(le_us=r.u64(), count=r.u64())


def write_metrics_reply(w: _Writer, v: MetricsReply) -> None:
    w.vec(v.compressors, lambda x: write_compressor_stats(w, x))
    w.u64(v.ccr_hits)
    w.u64(v.ccr_misses)
    w.u64(v.ccr_expired)
    w.u64(v.latency_p50_us)
    w.u64(v.latency_p99_us)
    w.u64(v.all_time_compress_requests)
    w.u64(v.all_time_tokens_before)
    w.u64(v.all_time_tokens_after)
    w.u64(v.all_time_latency_p50_us)
    w.u64(v.all_time_latency_p99_us)
    w.vec(v.latency_buckets, lambda x: write_latency_bucket(w, x))
    w.u64(v.latency_sum_us)
    w.vec(v.left_as_is, lambda x: write_compressor_stats(w, x))


def read_metrics_reply(r: _Reader) -> MetricsReply:
    return MetricsReply(
        compressors=r.vec(lambda: read_compressor_stats(r)),
        ccr_hits=r.u64(),
        ccr_misses=r.u64(),
        ccr_expired=r.u64(),
        latency_p50_us=r.u64(),
        latency_p99_us=r.u64(),
        all_time_compress_requests=r.u64(),
        all_time_tokens_before=r.u64(),
        all_time_tokens_after=r.u64(),
        all_time_latency_p50_us=r.u64(),
        all_time_latency_p99_us=r.u64(),
        latency_buckets=r.vec(lambda: read_latency_bucket(r)),
        latency_sum_us=r.u64(),
        left_as_is=r.vec(lambda: read_compressor_stats(r)),
    )


def write_memory_fact(w: _Writer, v: MemoryFact) -> None:
    w.string(v.id)
    write_memory_scope(w, v.scope)
    w.string(v.text)
    w.option(v.source, w.string)
    w.option(v.key, w.string)
    w.u64(v.created_ms)
    w.u64(v.valid_from_ms)
    w.option(v.valid_to_ms, w.u64)
    w.option(v.superseded_by, w.string)
    w.f32(v.score)


def read_memory_fact(r: _Reader) -> MemoryFact:
    return MemoryFact(
        id=r.string(),
        scope=read_memory_scope(r),
        text=r.string(),
        source=r.option(r.string),
        key=r.option(r.string),
        created_ms=r.u64(),
        valid_from_ms=r.u64(),
        valid_to_ms=r.option(r.u64),
        superseded_by=r.option(r.string),
        score=r.f32(),
    )


def write_memory_add_reply(w: _Writer, v: MemoryAddReply) -> None:
    write_memory_fact(w, v.fact)
    w.bool(v.duplicate)
    w.vec(v.superseded, w.string)


def read_memory_add_reply(r: _Reader) -> MemoryAddReply:
    return MemoryAddReply(fact=read_memory_fact(r), duplicate=r.bool(), superseded=r.vec(r.string))


def write_memory_facts_reply(w: _Writer, v: MemoryFactsReply) -> None:
    w.vec(v.facts, lambda x: write_memory_fact(w, x))


def read_memory_facts_reply(r: _Reader) -> MemoryFactsReply:
    return MemoryFactsReply(facts=r.vec(lambda: read_memory_fact(r)))


def write_memory_forget_reply(w: _Writer, v: MemoryForgetReply) -> None:
    w.u64(v.removed)


def read_memory_forget_reply(r: _Reader) -> MemoryForgetReply:
    return MemoryForgetReply(removed=r.u64())


def write_info_reply(w: _Writer, v: InfoReply) -> None:
    w.string(v.server)
    w.option(v.http_address, w.string)


def read_info_reply(r: _Reader) -> InfoReply:
    return InfoReply(server=r.string(), http_address=r.option(r.string))


def write_ledger_slice(w: _Writer, v: LedgerSlice) -> None:
    w.string(v.name)
    w.u64(v.requests)
    w.u64(v.tokens_before)
    w.u64(v.tokens_after)


def read_ledger_slice(r: _Reader) -> LedgerSlice:
    return LedgerSlice(
        name=r.string(),
        requests=r.u64(),
        tokens_before=r.u64(),
        tokens_after=r.u64(),
    )


def write_ledger_period(w: _Writer, v: LedgerPeriod) -> None:
    w.u64(v.start_ms)
    w.u64(v.span_ms)
    w.u64(v.requests)
    w.u64(v.tokens_before)
    w.u64(v.tokens_after)
    w.u64(v.added_tokens)
    w.u64(v.retrieves)
    w.u64(v.retrieved_tokens)
    w.u32(v.memories)
    w.u64(v.rewrites)
    w.vec(v.compressors, lambda x: write_compressor_stats(w, x))
    w.vec(v.models, lambda x: write_ledger_slice(w, x))
    w.vec(v.clients, lambda x: write_ledger_slice(w, x))


def read_ledger_period(r: _Reader) -> LedgerPeriod:
    return LedgerPeriod(
        start_ms=r.u64(),
        span_ms=r.u64(),
        requests=r.u64(),
        tokens_before=r.u64(),
        tokens_after=r.u64(),
        added_tokens=r.u64(),
        retrieves=r.u64(),
        retrieved_tokens=r.u64(),
        memories=r.u32(),
        rewrites=r.u64(),
        compressors=r.vec(lambda: read_compressor_stats(r)),
        models=r.vec(lambda: read_ledger_slice(r)),
        clients=r.vec(lambda: read_ledger_slice(r)),
    )


def write_recent_request(w: _Writer, v: RecentRequest) -> None:
    w.u64(v.at_ms)
    w.string(v.model)
    w.string(v.client)
    w.u64(v.tokens_before)
    w.u64(v.tokens_after)
    w.vec(v.compressors, w.string)
    w.u64(v.latency_us)


def read_recent_request(r: _Reader) -> RecentRequest:
    return RecentRequest(
        at_ms=r.u64(),
        model=r.string(),
        client=r.string(),
        tokens_before=r.u64(),
        tokens_after=r.u64(),
        compressors=r.vec(r.string),
        latency_us=r.u64(),
    )


def write_savings_reply(w: _Writer, v: SavingsReply) -> None:
    w.vec(v.periods, lambda x: write_ledger_period(w, x))
    w.vec(v.recent, lambda x: write_recent_request(w, x))


def read_savings_reply(r: _Reader) -> SavingsReply:
    return SavingsReply(
        periods=r.vec(lambda: read_ledger_period(r)),
        recent=r.vec(lambda: read_recent_request(r)),
    )


def write_reply_body(w: _Writer, v: ReplyBody) -> None:
    if isinstance(v, HelloReply):
        w.u32(0)
        write_hello_reply(w, v)
    elif isinstance(v, Pong):
        w.u32(1)
    elif isinstance(v, CompressReply):
        w.u32(2)
        write_compress_reply(w, v)
    elif isinstance(v, RetrieveReply):
        w.u32(3)
        write_retrieve_reply(w, v)
    elif isinstance(v, StatsReply):
        w.u32(4)
        write_stats_reply(w, v)
    elif isinstance(v, ErrorReply):
        w.u32(5)
        write_error_reply(w, v)
    elif isinstance(v, MetricsReply):
        w.u32(6)
        write_metrics_reply(w, v)
    elif isinstance(v, MemoryAddReply):
        w.u32(7)
        write_memory_add_reply(w, v)
    elif isinstance(v, MemoryFactsReply):
        w.u32(8)
        write_memory_facts_reply(w, v)
    elif isinstance(v, MemoryForgetReply):
        w.u32(9)
        write_memory_forget_reply(w, v)
    elif isinstance(v, InfoReply):
        w.u32(10)
        write_info_reply(w, v)
    elif isinstance(v, SavingsReply):
        w.u32(11)
        write_savings_reply(w, v)
    else:
        raise TypeError(f"ReplyBody has no variant of type {type(v).__name__}")


def read_reply_body(r: _Reader) -> ReplyBody:
    index = r.variant("ReplyBody", 12)
    if index == 0:
        return read_hello_reply(r)
    if index == 1:
        return Pong()
    if index == 2:
        return read_compress_reply(r)
    if index == 3:
        return read_retrieve_reply(r)
    if index == 4:
        return read_stats_reply(r)
    if index == 5:
        return read_error_reply(r)
    if index == 6:
        return read_metrics_reply(r)
    if index == 7:
        return read_memory_add_reply(r)
    if index == 8:
        return read_memory_facts_reply(r)
    if index == 9:
        return read_memory_forget_reply(r)
    if index == 10:
        return read_info_reply(r)
    return read_savings_reply(r)


def write_reply(w: _Writer, v: Reply) -> None:
    w.u64(v.id)
    write_reply_body(w, v.body)


def read_reply(r: _Reader) -> Reply:
    return Reply(id=r.u64(), body=read_reply_body(r))
