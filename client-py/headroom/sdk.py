"""``with_headroom``: the OpenAI or Anthropic SDK client given, with its requests compressed.

The SDKs' own paths to the model are many — ``create``, ``parse``, the ``.stream()`` helpers,
``.with_raw_response`` and ``.with_streaming_response``, ``beta`` — and several of them never call
``create``. They all meet in the SDK's HTTP client, so that is where Headroom sits: the wrapped
client is a copy of the SDK client (``client.copy(http_client=...)``) whose HTTP client passes
each request through ``Transport``. For the APIs it knows (``headroom.openai.ROUTES``,
``headroom.anthropic.ROUTES``) the transport compresses the request body through the daemon and
runs the retrieve loop (``headroom.loop``): a reply that calls only Headroom's tools
(``headroom_retrieve``; ``memory_save`` / ``memory_search`` with ``memory=``) is answered through
the daemon and the model is called again, so the application never sees those calls. In a
stream, text passes through as it arrives and only a round's tool calls and ending are held
until the round is over (``StreamRun``; the per-API readers are ``ChatStream``,
``ResponsesStream`` and ``MessagesStream``). Every other request passes through untouched.

What a call returns has the usage of every provider call it made and ``headroom`` (``savings``).
"""

from __future__ import annotations

import collections
import importlib
import json
import threading
from typing import Any, Generator, NamedTuple, Optional

from .anthropic import is_anthropic
from .anthropic import ROUTES as ANTHROPIC_ROUTES
from .client import HeadroomClient, logger
from .loop import Loop, Route, drive, savings_of, sum_usage
from .openai import ROUTES as OPENAI_ROUTES
from .openai import UNSUPPORTED as OPENAI_UNSUPPORTED
from .openai import is_openai


def with_headroom(sdk_client: Any, *, headroom_client: Optional[HeadroomClient] = None, max_retrieve_rounds: int = 3,
                  **options) -> Any:
    """A copy of ``sdk_client`` (an OpenAI, AsyncOpenAI, AzureOpenAI, Anthropic or
    AsyncAnthropic client) whose requests are compressed and whose replies' calls of
    Headroom's tools are answered, streaming or not, on every path of the SDK. ``options``
    are ``headroom.compress`` options, ``memory=`` included: a ``MemoryScope`` or dict whose
    remembered facts join the latest user message and whose ``memory_save`` /
    ``memory_search`` calls the wrapper answers (``memory_tools=False`` offers no tools).
    ``headroom_client`` is a ``HeadroomClient`` (default: the process-wide one);
    ``max_retrieve_rounds`` bounds how often one call answers Headroom's tools. The copy is
    the SDK's own class (``isinstance`` holds; ``with_options`` keeps Headroom); the client
    given is not modified. Wrapping is cheap: wrap once per conversation to give each its
    session. Fails open."""
    if is_openai(sdk_client):
        routes, unsupported = OPENAI_ROUTES, OPENAI_UNSUPPORTED
    elif is_anthropic(sdk_client):
        routes, unsupported = ANTHROPIC_ROUTES, {}
    else:
        raise TypeError(f"with_headroom: {type(sdk_client).__name__} is not an OpenAI or Anthropic client")
    http = getattr(sdk_client, "_client", None)
    module = _httpx_of(http)
    if module is None or not callable(getattr(sdk_client, "copy", None)):
        raise TypeError(f"with_headroom: {type(sdk_client).__name__} has no httpx client to wrap")
    transport = Transport(http, module, Loop(headroom_client, max_retrieve_rounds, options), routes, unsupported)
    client_class = module.AsyncClient if transport.asynchronous else module.Client
    wrapped = sdk_client.copy(http_client=client_class(transport=transport, trust_env=False))
    # Rewritten requests are prepared again: AnthropicBedrock signs each body there.
    transport.prepare = wrapped._prepare_request
    return wrapped


def savings(obj: Any) -> Optional[dict]:
    """Headroom's savings on one call made through ``with_headroom``: ``{"tokens_before",
    "tokens_after", "tokens_saved", "retrieve_rounds"}`` (tokens of the application's
    conversation before and after compression; how many retrieve rounds were answered
    unseen), or ``None`` when Headroom did not compress it. ``obj`` is what the call
    returned (which also has it as ``obj.headroom``), a stream's last chunk or event, or
    what a stream helper assembles (``get_final_completion()``, ``get_final_message()``,
    ``get_final_response()``), looked up by its id once the stream has ended."""
    found = getattr(obj, "headroom", None)
    if isinstance(found, dict):
        return dict(found)
    for holder in (obj, getattr(obj, "response", None), getattr(obj, "message", None)):
        key = getattr(holder, "id", None)
        with _LOCK:
            found = _SAVINGS.get(key) if isinstance(key, str) else None
        if found is not None:
            return dict(found)
    return None


#: Savings by reply id, for what the SDKs' stream helpers assemble (they drop unknown fields).
_SAVINGS: collections.OrderedDict = collections.OrderedDict()
_LOCK = threading.Lock()
_REMEMBERED = 1024
_WARNED: set = set()


def _remember(key: Any, saved: Optional[dict]) -> None:
    if not isinstance(key, str) or saved is None:
        return
    with _LOCK:
        _SAVINGS[key] = saved
        _SAVINGS.move_to_end(key)
        while len(_SAVINGS) > _REMEMBERED:
            _SAVINGS.popitem(last=False)


def _warn_once(key: str, message: str) -> None:
    if key not in _WARNED:
        _WARNED.add(key)
        logger.warning(message)


def _httpx_of(http: Any) -> Any:
    """The module (``httpx``, or ``httpx2`` for the Anthropic SDK) of the SDK's HTTP client."""
    for cls in type(http).__mro__:
        root = cls.__module__.split(".")[0]
        if cls.__name__ in ("Client", "AsyncClient") and root in ("httpx", "httpx2"):
            return importlib.import_module(root)
    return None


class _Reply(dict):
    """A reply parsed from JSON, with the HTTP response it came in (``http``)."""

    http: Any = None


class _Raw:
    """A reply that is not a JSON object (an error, another body): passed on as it is. The
    loop finds no tool calls in it."""

    __slots__ = ("http",)

    def __init__(self, http: Any):
        self.http = http


class _Next(NamedTuple):
    """A request, from a stream's steps, for the next line of ``lines`` (``None`` at the end)."""

    lines: Any


class _Out(NamedTuple):
    """Bytes a stream's steps pass on to the application."""

    data: bytes


_DROPPED_HEADERS = ("content-length", "content-encoding", "transfer-encoding")


class Transport:
    """The HTTP transport of a wrapped SDK client: each request to a known API path is
    compressed and looped (see the module); anything else is sent as it is through the SDK
    client's own HTTP client ``http`` (its connection pool, proxies and timeouts)."""

    def __init__(self, http: Any, module: Any, loop: Loop, routes: dict, unsupported: dict):
        self.http = http
        self.module = module
        self.loop = loop
        self.routes = routes
        self.unsupported = unsupported
        self.asynchronous = isinstance(http, module.AsyncClient)
        self.prepare = lambda request: None

    def handle_request(self, request: Any) -> Any:
        """What httpx calls to send ``request`` on a blocking client."""
        return drive(self._exchange(request))

    async def handle_async_request(self, request: Any) -> Any:
        """What httpx calls to send ``request`` on an asyncio client."""
        return await drive(self._exchange(request), True)

    def close(self) -> None:
        """Nothing to close: the HTTP client is the SDK client's, closed with it."""

    async def aclose(self) -> None:
        """As ``close``."""

    # --- one request --------------------------------------------------------------------------

    def _route(self, request: Any) -> Optional[Route]:
        if request.method != "POST":
            return None
        path = request.url.path
        for suffix, message in self.unsupported.items():
            if path.endswith(suffix):
                _warn_once(suffix, message)
        return next((route for suffix, route in self.routes.items() if path.endswith(suffix)), None)

    def _exchange(self, request: Any) -> Generator:
        """The response to ``request``, as steps for ``drive``."""
        route = self._route(request)
        body = _json_body(request) if route is not None else None
        if route is not None and route.batch and isinstance(body, dict) and isinstance(body.get("requests"), list):
            return (yield from self._batch(request, route, body))
        if not isinstance(body, dict) or not isinstance(body.get(route.api.key), list):
            return self._relay((yield self._send(request)))
        hc = self.loop.headroom(self.asynchronous)
        history = list(body[route.api.key])
        owned = route.stream is not None and body.get("n") in (None, 1)
        if not route.loop or (body.get("stream") and not owned):
            offer = route.offer and not route.loop  # a count of tokens counts the tools offered
            call, _, _ = yield from self.loop.prepare(hc, route.api, history, body, offer=offer)
            return self._relay((yield self._send((yield from self._rebuilt(request, call)))))
        if not body.get("stream"):
            replies, results = [], []
            reply = yield from self.loop.steps(lambda **call: self._post(request, call, replies), route.api,
                                               self.asynchronous, (), body, results)
            return self._whole(reply, replies, results)
        call, names, result = yield from self.loop.prepare(hc, route.api, history, body)
        response = yield self._send((yield from self._rebuilt(request, call)))
        if response.status_code != 200 or "text/event-stream" not in response.headers.get("content-type", ""):
            return self._relay(response)
        run = StreamRun(self, route, request, body, hc, history, names, result, response)
        return self.module.Response(200, headers=_kept(response.headers), stream=run.byte_stream(),
                                    extensions=response.extensions)

    def _batch(self, request: Any, route: Route, body: dict) -> Generator:
        """A batch of requests, each one's messages compressed; no tool offered (nobody
        answers a batch's tool calls)."""
        hc = self.loop.headroom(self.asynchronous)
        requests = []
        for item in body["requests"]:
            params = item.get("params") if isinstance(item, dict) else None
            if isinstance(params, dict) and isinstance(params.get(route.api.key), list):
                params, _, _ = yield from self.loop.prepare(hc, route.api, list(params[route.api.key]), params,
                                                            offer=False)
                item = {**item, "params": params}
            requests.append(item)
        return self._relay((yield self._send((yield from self._rebuilt(request, {**body, "requests": requests})))))

    def _post(self, request: Any, body: dict, replies: list) -> Any:
        """One round of a non-streaming call: a ``_Reply`` (kept in ``replies``) or a ``_Raw``."""
        async def asynchronous():
            new = await drive(self._rebuilt(request, body), True)
            return _parsed(await self.http.send(new), replies)
        if self.asynchronous:
            return asynchronous()
        return _parsed(self.http.send(drive(self._rebuilt(request, body))), replies)

    def _whole(self, reply: Any, replies: list, results: list) -> Any:
        """The response of a non-streaming call: the last reply with every round's usage and
        the savings."""
        if isinstance(reply, _Raw):
            return self._fresh(reply.http, reply.http.content)
        usage = None
        for one in replies:
            usage = sum_usage(usage, one.get("usage"))
        if usage is not None:
            reply["usage"] = usage
        saved = savings_of(results)
        if saved is not None:
            reply["headroom"] = saved
            _remember(reply.get("id"), saved)
        return self._fresh(reply.http, json.dumps(reply).encode())

    # --- HTTP ---------------------------------------------------------------------------------

    def _send(self, request: Any) -> Any:
        """The streamed response to ``request`` (a coroutine on asyncio)."""
        return self.http.send(request, stream=True)

    def _rebuilt(self, request: Any, body: dict) -> Generator:
        """``request`` with ``body``, prepared again by the SDK client (re-signed, for one)."""
        content = json.dumps(body).encode()
        headers = self.module.Headers(request.headers)
        headers["content-length"] = str(len(content))
        new = self.module.Request(request.method, request.url, headers=headers, content=content,
                                  extensions=request.extensions)
        prepared = self.prepare(new)
        if prepared is not None:
            yield prepared
        return new

    def _relay(self, response: Any) -> Any:
        """An upstream response passed on as it comes."""
        return self.module.Response(response.status_code, headers=response.headers, stream=response.stream,
                                    extensions=response.extensions)

    def _fresh(self, response: Any, content: bytes) -> Any:
        """A response with ``response``'s status and headers and ``content``."""
        return self.module.Response(response.status_code, headers=_kept(response.headers), content=content,
                                    extensions={k: v for k, v in response.extensions.items()
                                                if k in ("http_version", "reason_phrase")})

    def _close(self, response: Any) -> Any:
        return response.aclose() if self.asynchronous else response.close()

    def _read(self, response: Any) -> Any:
        return response.aread() if self.asynchronous else response.read()


def _json_body(request: Any) -> Any:
    try:
        return json.loads(request.content or b"null")
    except Exception:  # a multipart or streamed body, or not JSON: not ours to read
        return None


def _parsed(response: Any, replies: list) -> Any:
    if response.status_code == 200 and "json" in response.headers.get("content-type", ""):
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict):
            reply = _Reply(data)
            reply.http = response
            replies.append(reply)
            return reply
    return _Raw(response)


def _kept(headers: Any) -> list:
    return [(k, v) for k, v in headers.multi_items() if k.lower() not in _DROPPED_HEADERS]


# --- streams ----------------------------------------------------------------------------------


class StreamRun:
    """One streamed call's rounds, behind the response body the SDK reads.

    Each round's SSE events go through the API's reader (``route.stream``): it passes text on
    at once and holds the round's tool calls and ending. When the round is over the loop
    settles it: a round that called only Headroom's tools is answered and the model called
    again (its held events dropped, its usage kept), else the held events are released —
    Headroom's calls taken out, the usage of every round and the savings in the last event.
    """

    def __init__(self, transport: Transport, route: Route, request: Any, body: dict, hc: Any, history: list,
                 names: frozenset, result: Any, response: Any):
        self.transport = transport
        self.route = route
        self.request = request
        self.body = body
        self.hc = hc
        self.history = history
        self.names = names
        self.results = [result]
        #: The upstream response being read (closed with the body).
        self.upstream = response
        self.steps = self._rounds()

    def byte_stream(self) -> Any:
        """The response body: a byte stream of the transport's httpx module."""
        module = self.transport.module
        run = self

        class Body(module.SyncByteStream, module.AsyncByteStream):
            def __iter__(self):
                return run._iterate()

            def __aiter__(self):
                return run._aiterate()

            def close(self):
                run.steps.close()
                run.upstream.close()

            async def aclose(self):
                run.steps.close()
                await run.upstream.aclose()

        return Body()

    def _iterate(self):
        value = None
        while True:
            try:
                step = self.steps.send(value)
            except StopIteration:
                return
            value = None
            if isinstance(step, _Out):
                yield step.data
            elif isinstance(step, _Next):
                value = next(step.lines, None)
            else:
                value = step

    async def _aiterate(self):
        value = None
        while True:
            try:
                step = self.steps.send(value)
            except StopIteration:
                return
            value = None
            if isinstance(step, _Out):
                yield step.data
            elif isinstance(step, _Next):
                value = await anext(step.lines, None)
            elif step is not None:
                value = await step

    def _rounds(self) -> Generator:
        transport, loop, api = self.transport, self.transport.loop, self.route.api
        reader = self.route.stream()
        usage, removed = None, []
        for round_ in range(loop.rounds + 1):
            if round_:
                call, self.names, result = yield from loop.prepare(self.hc, api, self.history, self.body)
                self.results.append(result)
                self.upstream = yield transport._send((yield from transport._rebuilt(self.request, call)))
                if self.upstream.status_code != 200:
                    text = (yield transport._read(self.upstream)).decode("utf-8", "replace")
                    yield _event("error", {"type": "error", "error": {
                        "type": "api_error", "message": f"{self.upstream.status_code} {text[:2000]}"}})
                    return
                reader.next_round()
            lines = self.upstream.aiter_lines() if transport.asynchronous else self.upstream.iter_lines()
            while (event := (yield from _read_event(lines))) is not None:
                for out in reader.take(*event):
                    yield _event(*out)
            yield transport._close(self.upstream)
            reply = reader.reply()
            usage = sum_usage(usage, reply.get("usage"))
            answers, removed = yield from loop.settle(self.hc, api, reply, self.names, round_ == loop.rounds)
            if answers is None:
                break
            self.history = self.history + api.followup(reply, answers)
        saved = savings_of(self.results)
        _remember(reader.id, saved)
        for out in reader.release({cid for cid, _, _ in removed}, usage, saved):
            yield _event(*out)


def _read_event(lines: Any) -> Generator:
    """The next SSE event of ``lines`` as ``(event name or None, data)``, the data parsed from
    JSON when it is JSON; ``None`` at the end."""
    name, data = None, []
    while True:
        line = yield _Next(lines)
        if line is None or line == "":
            if data:
                text = "\n".join(data)
                try:
                    return name, json.loads(text)
                except ValueError:
                    return name, text
            if line is None:
                return None
            name = None
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)


def _event(name: Optional[str], data: Any) -> _Out:
    head = f"event: {name}\n" if name else ""
    text = data if isinstance(data, str) else json.dumps(data)
    return _Out(f"{head}data: {text}\n\n".encode())


__all__ = ["StreamRun", "Transport", "savings", "with_headroom"]
