"""Talking to ``headroomd``: the operations, a connection per thread (sync) or per event loop
(asyncio), the handshake, reconnects, timeouts, and the fail-open rule of docs/architecture.md §6.

Each operation is written once, in ``_Operations``, on redis-py's model: a method builds the
request and returns ``self._execute(op, parse, recover)``. ``HeadroomClient._execute`` sends it
on this thread's connection and returns the parsed reply; ``AsyncHeadroomClient._execute`` is a
coroutine that sends it on this event loop's connection and parses the reply. A client's asyncio
side is ``client.aio``: the same methods, awaited, sharing the client's socket, timeout, breaker
and warnings. Only the transports are written twice, because their I/O differs: ``_Conn``, a
blocking socket per thread, and ``_AsyncConn``, an asyncio protocol per event loop.

``compress`` never raises because of Headroom: when the daemon is absent, slow, not this
user's (``trust``) or answers with an error, it logs one warning through the ``headroom`` logger
and returns the caller's messages unchanged. After a timeout, calls skip the daemon for a while
(``breaker``), so a hung daemon costs one timeout, not one per call. ``retrieve``, ``stats`` and
the memory operations raise ``HeadroomError`` instead, because their callers have nothing to
fall back on; ``answer_tool`` turns such failures into text for the model.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import socket
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from . import tools, trust, wire
from .breaker import Breaker
from .memory import Memory, ScopeLike, scope_of, tool_failure, tool_request, tool_text
from .wire import CompressOptions, ErrorCode, MemoryOptions, ProviderFormat

__version__ = "0.1.0"

logger = logging.getLogger("headroom")

#: Seconds a call may take, connecting included, before it fails open.
DEFAULT_TIMEOUT = 2.0


def default_socket_path() -> str:
    """``$HEADROOM_SOCKET``, else ``$XDG_RUNTIME_DIR/headroom/headroomd.sock``, else
    ``/tmp/headroom-$UID/headroomd.sock`` — the daemon's own rule (empty variables count as
    unset)."""
    explicit = os.environ.get("HEADROOM_SOCKET")
    if explicit:
        return explicit
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return os.path.join(runtime, "headroom", "headroomd.sock")
    return f"/tmp/headroom-{os.getuid()}/headroomd.sock"


class HeadroomError(Exception):
    """The daemon could not be used for a call: unreachable, too slow, or it answered with an
    error. ``code`` is the daemon's ``ErrorCode`` when it answered, else ``None``."""

    def __init__(self, message: str, code: Optional[ErrorCode] = None):
        super().__init__(message)
        self.code = code


@dataclass
class CompressResult:
    """What ``compress`` returns.

    ``messages`` has the shape that was passed in (a list, or a whole request body dict). When
    nothing was compressed, or the call failed open, it is the caller's own object, unchanged:
    copy it before mutating. ``retrieve_tool`` is the ``headroom_retrieve`` tool definition in
    the request's provider format whenever ``messages`` contains a marker; with a bare list the
    caller must offer it to the model, a request body already has it in ``tools``. ``error`` says
    why the call failed open, ``None`` when the daemon answered. ``memories`` counts the
    remembered facts added to the latest user message; ``memory_tools`` holds the ``memory_save``
    and ``memory_search`` definitions when they were asked for (offered like ``retrieve_tool``;
    answer their calls with ``HeadroomClient.answer_tool``). ``left_as_is`` lists the blocks of
    2,000 tokens or more that were sent unchanged, one ``CompressorStats`` per reason (in ``name``).
    """

    messages: Any
    tokens_before: int = 0
    tokens_after: int = 0
    ccr_keys: list = field(default_factory=list)
    retrieve_tool: Optional[dict] = None
    compressors: list = field(default_factory=list)
    format: Optional[ProviderFormat] = None
    error: Optional[str] = None
    memories: int = 0
    memory_tools: Optional[list] = None
    left_as_is: list = field(default_factory=list)

    @property
    def tokens_saved(self) -> int:
        """Tokens the compression removed."""
        return self.tokens_before - self.tokens_after


_FORMATS = {
    "auto": ProviderFormat.Auto,
    "openai_chat": ProviderFormat.OpenAiChat,
    "openai_responses": ProviderFormat.OpenAiResponses,
    "anthropic": ProviderFormat.Anthropic,
}


def compress_options(model: Optional[str] = None, **options) -> CompressOptions:
    """``CompressOptions`` from keyword arguments; ``format`` may be a ``ProviderFormat`` or one
    of ``auto``, ``openai_chat``, ``openai_responses``, ``anthropic``. ``memory`` (a
    ``MemoryScope`` or a dict) adds that scope's remembered facts to the latest user message, at
    most ``memory_budget_tokens`` of them (0: the daemon's default, 256), and ``memory_tools``
    asks for the memory tool definitions; ``app`` names who is asking (``litellm``, your app's
    name) in the daemon's savings ledger. An unknown option is a programming error and raises
    ``TypeError``."""
    fmt = options.pop("format", ProviderFormat.Auto) or ProviderFormat.Auto
    if isinstance(fmt, str):
        fmt = _FORMATS[fmt.lower()]
    memory = options.pop("memory", None)
    if "app" in options:
        options["client"] = options.pop("app")
    memory_tools = options.pop("memory_tools", False)
    budget = options.pop("memory_budget_tokens", 0)
    if memory is None and (memory_tools or budget):
        raise TypeError("headroom.compress: memory_tools and memory_budget_tokens need memory=")
    if memory is not None:
        options["memory"] = MemoryOptions(scope_of(memory), budget or 0, bool(memory_tools))
    try:
        return CompressOptions(model=model, format=ProviderFormat(fmt), **options)
    except TypeError as e:
        raise TypeError(f"headroom.compress: {e}") from None


def _jsonable(value: Any) -> Any:
    """Provider SDK objects (pydantic models) that applications put in their message lists."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json", exclude_none=True)
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode_messages(messages: Any) -> bytes:
    """Messages as the daemon reads them: compact UTF-8 JSON."""
    return json.dumps(messages, separators=(",", ":"), ensure_ascii=False, default=_jsonable).encode("utf-8")


class _Conn:
    """One blocking connection, greeted, used by one thread; one request in flight at a time."""

    def __init__(self, path: str, deadline: float, name: str):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.buf = bytearray()
        self.next_id = 1
        self.pid = os.getpid()
        try:
            trust.check_directory(path)
            self.sock.settimeout(max(deadline - time.monotonic(), 0.001))
            self.sock.connect(path)
            trust.check_peer(self.sock, path)
            body = self.call(wire.Hello(wire.PROTOCOL_VERSION, name), deadline)
        except BaseException:
            self.sock.close()
            raise
        if isinstance(body, wire.ErrorReply):
            self.sock.close()
            raise HeadroomError(f"headroomd refused the handshake: {body.message}", body.code)
        if not isinstance(body, wire.HelloReply):
            self.sock.close()
            raise HeadroomError(f"unexpected answer to Hello: {type(body).__name__}")

    def call(self, op: wire.Op, deadline: float) -> wire.ReplyBody:
        rid = self.next_id
        self.next_id += 1
        self.sock.settimeout(max(deadline - time.monotonic(), 0.001))
        self.sock.sendall(wire.frame(wire.encode_request(wire.Request(rid, op))))
        while True:
            self._fill(4, deadline)
            n = wire.frame_length(self.buf[:4])
            self._fill(4 + n, deadline)
            body = bytes(self.buf[4 : 4 + n])
            del self.buf[: 4 + n]
            reply = wire.decode_reply(body)
            if reply.id == rid:
                return reply.body
            if reply.id == 0:
                raise ConnectionError(f"headroomd sent an unattributed reply: {reply.body}")
            # A late reply to an earlier request: skip it.

    def _fill(self, n: int, deadline: float) -> None:
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("headroomd did not answer in time")
            self.sock.settimeout(left)
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise ConnectionError("headroomd closed the connection")
            self.buf += chunk

    def close(self) -> None:
        self.sock.close()


class _AsyncConn(asyncio.Protocol):
    """One asyncio connection per event loop; requests from many tasks are pipelined over it and
    matched to their replies by id. A protocol rather than streams: each reply costs one
    ``data_received`` and one future, nothing more."""

    def __init__(self, path: str, name: str, timeout: float, on_close):
        self.path = path
        self.name = name
        self.timeout = timeout
        self.on_close = on_close
        self.pending: dict = {}
        self.next_id = 1
        self.buf = bytearray()
        self.transport: Optional[asyncio.Transport] = None
        self.closed = False
        self.ready = asyncio.ensure_future(self._open())

    async def _open(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            trust.check_directory(self.path)
            transport, _ = await loop.create_unix_connection(lambda: self, self.path)
            trust.check_peer(transport.get_extra_info("socket"), self.path)
            body = await self.call(wire.Hello(wire.PROTOCOL_VERSION, self.name), loop.time() + self.timeout)
        except BaseException as e:
            self.close(e if isinstance(e, Exception) else None)
            raise
        if not isinstance(body, wire.HelloReply):
            self.close()
            code = body.code if isinstance(body, wire.ErrorReply) else None
            raise HeadroomError(f"headroomd refused the handshake: {body}", code)

    def call(self, op: wire.Op, deadline: float) -> asyncio.Future:
        """A future for the reply to ``op``; it fails with ``TimeoutError`` at ``deadline``
        (loop time) and with ``ConnectionError`` if the connection breaks first."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        if self.closed:
            future.set_exception(ConnectionError("the connection to headroomd is closed"))
            return future
        rid = self.next_id
        self.next_id += 1
        self.pending[rid] = future
        self.transport.write(wire.frame(wire.encode_request(wire.Request(rid, op))))
        timer = loop.call_at(deadline, self._expire, rid)
        future.add_done_callback(lambda _: self._settled(rid, timer))
        return future

    def _expire(self, rid: int) -> None:
        future = self.pending.pop(rid, None)
        if future is not None and not future.done():
            future.set_exception(TimeoutError("headroomd did not answer in time"))

    def _settled(self, rid: int, timer) -> None:
        self.pending.pop(rid, None)
        timer.cancel()

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        while len(buf) >= 4:
            n = wire.frame_length(buf[:4])
            if len(buf) < 4 + n:
                return
            body = bytes(buf[4 : 4 + n])
            del buf[: 4 + n]
            try:
                reply = wire.decode_reply(body)
            except wire.WireError as e:
                self.close(ConnectionError(f"headroomd sent an undecodable reply: {e}"))
                return
            if reply.id == 0:
                self.close(ConnectionError(f"headroomd sent an unattributed reply: {reply.body}"))
                return
            future = self.pending.pop(reply.id, None)
            if future is not None and not future.done():
                future.set_result(reply.body)

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self.close(ConnectionError(f"the connection to headroomd broke: {exc or 'closed by the daemon'}"))

    def close(self, error: Optional[BaseException] = None) -> None:
        if self.closed:
            return
        self.closed = True
        self.on_close(self)
        pending, self.pending = self.pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(error or ConnectionError("the connection to headroomd is closed"))
        if self.transport is not None:
            self.transport.close()


_RETRYABLE = (ConnectionError, BrokenPipeError, EOFError)

#: What a call raises when the daemon cannot be used: unreachable, too slow, not this user's, a
#: reply this protocol does not define, or the breaker skipping it.
_FAILURES = (OSError, asyncio.TimeoutError, wire.WireError, HeadroomError)


def _expect(body: wire.ReplyBody, kind):
    """``body`` when it is a ``kind``; else ``HeadroomError`` (with the daemon's code for an error reply)."""
    if isinstance(body, wire.ErrorReply):
        raise HeadroomError(f"headroomd: {body.code.name}: {body.message}", body.code)
    if not isinstance(body, kind):
        raise HeadroomError(f"unexpected reply from headroomd: {type(body).__name__}")
    return body


class _Operations:
    """Every operation of a client, written once for the blocking and the asyncio side.

    A subclass gives ``_execute(op, parse, recover=None)``: send ``op`` and return
    ``parse(reply body)``; when the daemon cannot be used or ``parse`` raises ``HeadroomError``,
    return ``recover(error)``, or without ``recover`` raise the error as a ``HeadroomError``. It
    also gives ``_ready(value)``, a result that needs no request, returned as its other results
    are, and ``_home()``, the ``HeadroomClient`` whose settings and state the calls use.
    """

    @functools.cached_property
    def memory(self) -> Memory:
        """Remembered facts through this client: ``add``, ``search``, ``list``, ``forget``."""
        return Memory(lambda: self)

    def ping(self) -> None:
        """One empty round trip. Raises ``HeadroomError``."""
        return self._ask(wire.Ping(), wire.Pong, lambda _: None)

    def compress(self, messages: Any, model: Optional[str] = None, **options) -> CompressResult:
        """Compresses ``messages`` (a messages list, or a whole request body dict). Fails open:
        never raises because of the daemon. See ``CompressResult``. On the asyncio side,
        concurrent calls on one loop share a pipelined connection."""
        home = self._home()
        request = home._compress_request(messages, model, options)
        if isinstance(request, CompressResult):
            return self._ready(request)
        return self._execute(request[0], lambda body: home._result(messages, request, body),
                             lambda e: home._failed_open(messages, str(e) or type(e).__name__, outage=True))

    def retrieve(self, key: str, query: Optional[str] = None) -> wire.RetrieveReply:
        """The original behind a marker's key, or its lines matching ``query``.

        Raises ``HeadroomError`` with ``code`` ``not_found``, ``expired`` (terminal: tell the
        model to re-run the tool) or ``bad_request``, or without a code when the daemon is
        unreachable."""
        return self._ask(wire.RetrieveRequest(key, query or None), wire.RetrieveReply)

    def stats(self) -> wire.StatsReply:
        """The daemon's counters. Raises ``HeadroomError``."""
        return self._ask(wire.Stats(), wire.StatsReply)

    def metrics(self) -> wire.MetricsReply:
        """Per-compressor totals, retrieval hits and latency percentiles. Raises ``HeadroomError``
        (``bad_request`` from a daemon older than the ``Metrics`` operation)."""
        return self._ask(wire.Metrics(), wire.MetricsReply)

    def answer_retrieve(self, arguments: Any) -> str:
        """The text that answers one ``headroom_retrieve`` call (``arguments``: the call's JSON
        string or dict, ``{"hash": ..., "query": ...}``). Never raises: a failure becomes a
        sentence telling the model the content is not available."""
        args = tools.arguments_of(arguments)
        key = str(args.get("hash", ""))

        def failed(error: Exception) -> str:
            error = self._unreachable(error)
            logger.warning("headroom: retrieve hash=%s failed: %s", key, error)
            return tools.answer_text(key, error=error)

        return self._execute(wire.RetrieveRequest(key, args.get("query") or None),
                             lambda body: tools.answer_text(key, _expect(body, wire.RetrieveReply)), failed)

    def answer_tool(self, name: str, arguments: Any, memory: ScopeLike = None) -> str:
        """The text that answers one call of Headroom's tools: ``headroom_retrieve``, or
        ``memory_save`` / ``memory_search`` made in the ``memory`` scope (docs/memory.md gives the
        texts; a save goes to the scope's agent, else its user). ``arguments`` is the call's JSON
        string or dict. Never raises because of the daemon; ``ValueError`` for another tool's
        name, ``ValueError``/``TypeError`` for a memory tool without a valid scope."""
        if name == tools.RETRIEVE_TOOL_NAME:
            return self.answer_retrieve(arguments)
        request = tool_request(name, arguments, memory)
        if isinstance(request, str):
            return self._ready(request)

        def failed(error: Exception) -> str:
            error = self._unreachable(error)
            logger.warning("headroom: %s failed: %s", name, error)
            return tool_failure(name, error)

        return self._execute(request, lambda body: tool_text(_expect(body, _MEMORY_REPLIES)), failed)

    def _ask(self, op: wire.Op, kind, pick: Optional[Callable] = None) -> Any:
        """The reply to ``op``, which must be a ``kind`` (``pick(reply)`` when given), else
        ``HeadroomError``. ``Memory`` reaches the daemon through it."""
        return self._execute(op, lambda body: _expect(body, kind) if pick is None else pick(_expect(body, kind)))

    def _failed(self, error: Exception, recover: Optional[Callable]) -> Any:
        """What ``_execute`` gives for a call that failed with ``error``."""
        if recover is not None:
            return recover(error)
        raise self._unreachable(error)

    def _unreachable(self, error: Exception) -> HeadroomError:
        """``error`` as a ``HeadroomError``; a failure to talk to the daemon names its socket."""
        if isinstance(error, HeadroomError):
            return error
        why = error or type(error).__name__
        wrapped = HeadroomError(f"cannot talk to headroomd at {self._home().socket_path}: {why}")
        wrapped.__cause__ = error
        return wrapped


class HeadroomClient(_Operations):
    """A client of ``headroomd``; ``client.aio`` is the same client for asyncio.

    ``socket``: the socket path (default: ``default_socket_path()``, read at each connect, so
    ``HEADROOM_SOCKET`` set later still applies). ``timeout``: seconds one call may take,
    connecting and the handshake included. Blocking calls use one connection per thread, async
    calls one per event loop; a broken connection is replaced on the next call, and a call that
    finds its reused connection dead is retried once on a fresh one. ``breaker``: after a
    timeout, calls skip the daemon for a growing interval (default ``Breaker()``: 1 s doubling to
    60 s).
    """

    def __init__(self, socket: Optional[str] = None, timeout: float = DEFAULT_TIMEOUT,
                 name: str = f"headroom-py/{__version__}", breaker: Optional[Breaker] = None):
        self.socket = socket
        self.timeout = timeout
        self.name = name
        self.breaker = breaker or Breaker()
        self._local = threading.local()
        self._loops: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _AsyncConn]" = weakref.WeakKeyDictionary()
        self._failing = False

    @property
    def socket_path(self) -> str:
        """The socket this client connects to."""
        return self.socket or default_socket_path()

    @functools.cached_property
    def aio(self) -> "AsyncHeadroomClient":
        """This client for asyncio: the same operations, awaited."""
        return AsyncHeadroomClient(lambda: self)

    def call(self, op: wire.Op) -> wire.ReplyBody:
        """Sends one operation and returns the reply body (an ``ErrorReply`` included).

        Raises ``TimeoutError``, ``OSError`` (no daemon, broken connection, a socket that is not
        this user's) or ``wire.WireError`` (a reply this protocol does not define); the
        connection is dropped on any of them. Raises ``HeadroomError`` at once while the breaker
        skips the daemon.
        """
        with self._breaker_ticket():
            return self._send(op)

    def _send(self, op: wire.Op) -> wire.ReplyBody:
        deadline = time.monotonic() + self.timeout
        conn = getattr(self._local, "conn", None)
        if conn is not None and conn.pid != os.getpid():
            conn = None  # inherited across fork: the parent owns that socket
        reused = conn is not None
        for _ in range(2):
            if conn is None:
                conn = _Conn(self.socket_path, deadline, self.name)
                self._local.conn = conn
            try:
                return conn.call(op, deadline)
            except BaseException as e:
                conn.close()
                self._local.conn = conn = None
                if not (reused and isinstance(e, _RETRYABLE)):
                    raise
                reused = False
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Closes this thread's connection (others close when their thread's client is dropped)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _execute(self, op: wire.Op, parse: Callable, recover: Optional[Callable] = None) -> Any:
        try:
            return parse(self.call(op))
        except _FAILURES as e:
            return self._failed(e, recover)

    def _ready(self, value: Any) -> Any:
        return value

    def _home(self) -> "HeadroomClient":
        return self

    # --- what both sides share ----------------------------------------------------------------

    @contextlib.contextmanager
    def _breaker_ticket(self):
        """Around one call: ``HeadroomError`` at once while the breaker skips the daemon; a
        timeout opens it (raised as a ``TimeoutError`` saying for how long), any other outcome
        closes it."""
        ticket = self.breaker.allow()
        if ticket is None:
            raise HeadroomError(f"skipping headroomd at {self.socket_path} for {self.breaker.remaining():.1f} s more: "
                                "it did not answer in time")
        try:
            yield
        except (TimeoutError, asyncio.TimeoutError) as e:
            interval = self.breaker.timed_out(ticket)
            why = f"headroomd did not answer within {self.timeout:g} s"
            raise TimeoutError(why if interval is None else f"{why}; calls skip it for the next {interval:g} s") from e
        except Exception:
            self.breaker.reset()
            raise
        self.breaker.reset()

    def _compress_request(self, messages: Any, model: Optional[str], options: dict):
        """``(CompressRequest, shield's saved answers)``, or the failed-open result."""
        opts = compress_options(model, **options)
        sent, saved = tools.shield(messages)
        try:
            raw = encode_messages(sent)
        except (TypeError, ValueError) as e:
            return self._failed_open(messages, f"the messages are not JSON: {e}", outage=False)
        if len(raw) > wire.MAX_FRAME:
            return self._failed_open(messages, f"the messages are {len(raw)} bytes, over the frame limit", outage=False)
        return wire.CompressRequest(raw, opts), saved

    def _result(self, messages: Any, request: tuple, body: wire.ReplyBody) -> CompressResult:
        raw, saved = request[0].messages, request[1]
        if isinstance(body, wire.ErrorReply):
            return self._failed_open(messages, f"headroomd: {body.code.name}: {body.message}", outage=False)
        if not isinstance(body, wire.CompressReply):
            return self._failed_open(messages, f"unexpected reply {type(body).__name__}", outage=True)
        self._failing = False
        try:
            out = messages if body.messages == raw else json.loads(body.messages)
            tool = _tool(body.retrieve_tool) if body.retrieve_tool is not None else None
            memory_tools = _tool(body.memory_tools) if body.memory_tools is not None else None
        except ValueError as e:
            return self._failed_open(messages, f"headroomd returned invalid JSON: {e}", outage=False)
        if out is not messages:
            try:
                out = tools.restore(out, saved) if _same_shape(messages, out) else None
            except (LookupError, TypeError):  # the place of a shielded answer is gone
                out = None
            if out is None:
                return self._failed_open(messages, "headroomd returned messages of another shape than those sent",
                                         outage=False)
        return CompressResult(out, body.tokens_before, body.tokens_after, list(body.ccr_keys), tool,
                              list(body.compressors), body.format, memories=body.memories,
                              memory_tools=memory_tools, left_as_is=list(body.left_as_is))

    def _failed_open(self, messages: Any, why: str, outage: bool) -> CompressResult:
        # An outage (no daemon, timeouts) warns once until a call succeeds again; a failure
        # specific to one request warns every time.
        if outage and self._failing:
            logger.debug("headroom: compression skipped: %s", why)
        else:
            logger.warning("headroom: compression skipped, sending the messages uncompressed: %s", why)
        self._failing = self._failing or outage
        return CompressResult(messages, error=why)


class AsyncHeadroomClient(_Operations):
    """A client's operations for asyncio: ``client.aio``, and ``headroom.aio`` for the
    process-wide client. The same methods as ``HeadroomClient`` (``compress``, ``retrieve``,
    ``stats``, ``metrics``, ``answer_retrieve``, ``answer_tool``, ``memory``), returning
    coroutines. Requests from many tasks of one event loop are pipelined over one connection.
    ``client`` gives the ``HeadroomClient`` whose socket, timeout, breaker and warnings the calls
    share, at each call."""

    def __init__(self, client: Callable[[], HeadroomClient]):
        self._client = client

    async def call(self, op: wire.Op) -> wire.ReplyBody:
        """``HeadroomClient.call`` on this event loop's connection."""
        client = self._client()
        with client._breaker_ticket():
            return await self._send(client, op)

    @staticmethod
    async def _send(client: HeadroomClient, op: wire.Op) -> wire.ReplyBody:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + client.timeout
        loops = client._loops

        def forget(closed: _AsyncConn) -> None:
            if loops.get(loop) is closed:
                del loops[loop]

        for attempt in range(2):
            conn = loops.get(loop)
            reused = attempt == 0 and conn is not None and conn.ready.done()
            if conn is None:
                conn = _AsyncConn(client.socket_path, client.name, client.timeout, forget)
                loops[loop] = conn
            if not conn.ready.done():
                await asyncio.wait_for(asyncio.shield(conn.ready), max(deadline - loop.time(), 0))
            elif conn.ready.exception() is not None:
                raise conn.ready.exception()
            try:
                return await conn.call(op, deadline)
            except _RETRYABLE as e:
                conn.close(e)
                if not reused:
                    raise
        raise AssertionError("unreachable")

    async def _execute(self, op: wire.Op, parse: Callable, recover: Optional[Callable] = None) -> Any:
        try:
            return parse(await self.call(op))
        except _FAILURES as e:
            return self._failed(e, recover)

    async def _ready(self, value: Any) -> Any:
        return value

    def _home(self) -> HeadroomClient:
        return self._client()


def _same_shape(sent: Any, got: Any) -> bool:
    """Whether ``got``, the daemon's parsed messages, has the shape of ``sent``, as the protocol
    promises: a list, or an object holding the list under the same key, with as many messages,
    each an object, those sent as objects with the same ``role`` and ``type``."""
    if isinstance(sent, list):
        items, out = sent, got
    elif isinstance(sent, dict) and isinstance(got, dict):
        key = "messages" if isinstance(sent.get("messages"), list) else "input"
        items, out = sent.get(key), got.get(key)
    else:
        return False
    if not isinstance(items, list) or not isinstance(out, list) or len(items) != len(out):
        return False
    return all(isinstance(o, dict) and (not isinstance(i, dict) or
                                        (i.get("role"), i.get("type")) == (o.get("role"), o.get("type")))
               for i, o in zip(items, out))


#: The replies a memory tool call may get.
_MEMORY_REPLIES = (wire.MemoryAddReply, wire.MemoryFactsReply)


@functools.lru_cache(maxsize=16)
def _tool(raw: bytes) -> Any:
    """A parsed tool definition (or list of them); there are few, one per provider format, so
    each is parsed once. Shared between results: add it to a tools list, do not modify it."""
    return json.loads(raw)



_default: Optional[HeadroomClient] = None
_default_lock = threading.Lock()


def default_client() -> HeadroomClient:
    """The process-wide client behind ``headroom.compress`` and friends."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = HeadroomClient()
    return _default


def configure(socket: Optional[str] = None, timeout: Optional[float] = None) -> HeadroomClient:
    """Replaces the process-wide client (e.g. another socket or timeout) and returns it."""
    global _default
    with _default_lock:
        old = _default
        _default = HeadroomClient(socket=socket, timeout=DEFAULT_TIMEOUT if timeout is None else timeout)
    if old is not None:
        old.close()
    return _default
