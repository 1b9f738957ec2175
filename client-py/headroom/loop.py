"""The loop that answers Headroom's own tools inside one provider call, for the SDK wrappers
(``headroom.sdk`` with ``headroom.openai`` and ``headroom.anthropic``) and
``headroom.litellm.completion``.

``Loop`` compresses the conversation, calls the model, and while the reply calls only
Headroom's tools (``headroom_retrieve``; ``memory_save`` and ``memory_search`` with a memory
scope) answers them through the daemon and calls the model again. ``Api`` says how one
provider API holds its messages and tool calls; ``sum_usage`` and ``savings_of`` give the
numbers of a call that took several rounds.

The loop is written once for blocking and asyncio calls: it is a generator that yields each
client or model call it makes and is sent the result back (``drive``). With a blocking client
and SDK method every yielded value is already the result; on asyncio it is a coroutine, which
``drive`` awaits.
"""

from __future__ import annotations

from typing import Any, Callable, Generator, NamedTuple, Optional

from . import tools
from .client import HeadroomClient, default_client
from .memory import loop_options
from .wire import ProviderFormat


def drive(steps: Generator, asynchronous: bool = False) -> Any:
    """What the generator ``steps`` returns, each value it yields sent back to it: as it is, or
    awaited when ``asynchronous`` (``drive`` then returns a coroutine)."""
    return _drive_async(steps) if asynchronous else _drive(steps)


def _drive(steps: Generator) -> Any:
    value = None
    while True:
        try:
            value = steps.send(value)
        except StopIteration as done:
            return done.value


async def _drive_async(steps: Generator) -> Any:
    value = None
    while True:
        try:
            pending = steps.send(value)
        except StopIteration as done:
            return done.value
        value = await pending


def dump(item: Any) -> Any:
    """An SDK object or a reply's dict as a dict for the next request, ``None`` fields left out
    (a provider refuses some of them back)."""
    if hasattr(item, "model_dump"):
        return item.model_dump(exclude_none=True)
    return {k: v for k, v in item.items() if v is not None} if isinstance(item, dict) else item


def put(obj: Any, key: str, value: Any) -> None:
    """``obj[key] = value`` for dicts (a reply parsed from JSON), ``obj.key = value`` for SDK
    objects."""
    if isinstance(obj, dict):
        obj[key] = value
    else:
        setattr(obj, key, value)


def split(items: list, names: frozenset, name_of: Callable, everything: bool = False) -> tuple:
    """``(Headroom's calls, the other items)`` when ``items`` mixes calls of ``names`` with
    calls of other tools (or, with ``everything``, holds calls of ``names`` at all), else
    ``([], items)``."""
    ours = [i for i in items if name_of(i) in names]
    theirs = [i for i in items if name_of(i) is not None and name_of(i) not in names]
    if not ours or not (theirs or everything):
        return [], items
    return ours, [i for i in items if name_of(i) not in names]


def item_calls(attr: str, find: Callable) -> Callable:
    """``Api.calls`` for an API whose reply lists its items under ``attr`` (``find``: the
    ``tools`` function that reads them)."""
    def calls(response: Any, names: frozenset) -> list:
        items = tools.get(response, attr)
        if not isinstance(items, list):
            return []
        found, only = find(items, names)
        return found if only else []
    return calls


def item_strip(attr: str, kind: str, id_field: str, args_field: str, stop: Optional[tuple] = None) -> Callable:
    """``Api.strip`` for an API whose reply lists its items under ``attr``, tool calls being
    items of type ``kind`` with an id, a name and arguments. ``stop``: ``(field, value when it
    called tools, value otherwise)``, set to the latter once no call is left."""
    def strip(response: Any, names: frozenset, everything: bool = False) -> list:
        items = tools.get(response, attr)
        if not isinstance(items, list):
            return []
        removed, kept = split(items, names, lambda i: tools.get(i, "name") if tools.get(i, "type") == kind else None,
                              everything)
        if removed:
            put(response, attr, kept)
            if stop and tools.get(response, stop[0]) == stop[1] and not any(tools.get(i, "type") == kind for i in kept):
                put(response, stop[0], stop[2])
        return [(tools.get(i, id_field), tools.get(i, "name"), tools.arguments_of(tools.get(i, args_field)))
                for i in removed]
    return strip


def sum_usage(total: Any, usage: Any) -> Any:
    """Two token usages (dicts as the providers send them) added up: numbers are summed,
    nested dicts added the same way, anything else is ``usage``'s. Either may be ``None``."""
    if not isinstance(total, dict) or not isinstance(usage, dict):
        return usage if total is None else total
    out = dict(total)
    for key, value in usage.items():
        mine = out.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and \
                isinstance(mine, (int, float)) and not isinstance(mine, bool):
            out[key] = mine + value
        elif isinstance(value, dict) and isinstance(mine, dict):
            out[key] = sum_usage(mine, value)
        elif value is not None or key not in out:
            out[key] = value
    return out


def savings_of(results: list) -> Optional[dict]:
    """What one call saved, from the ``CompressResult`` of each of its rounds (the first is the
    application's conversation, each later one a retrieve round): ``{"tokens_before",
    "tokens_after", "tokens_saved", "retrieve_rounds"}``, or ``None`` when the first failed
    open (or is ``None``)."""
    if not results or results[0] is None or results[0].error is not None:
        return None
    first = results[0]
    return {"tokens_before": first.tokens_before, "tokens_after": first.tokens_after,
            "tokens_saved": first.tokens_saved, "retrieve_rounds": len(results) - 1}


class Api(NamedTuple):
    """One provider API as the loop meets it (``headroom.openai.CHAT``, ``RESPONSES``,
    ``headroom.anthropic.ANTHROPIC``). Its functions read SDK objects and replies parsed from
    JSON alike."""

    #: The keyword argument (body field) holding the messages.
    key: str
    format: ProviderFormat
    #: ``(response, names) -> [(call id, tool name, arguments)]``: the reply's calls of Headroom's
    #: tools ``names``, when they are its only tool calls.
    calls: Callable
    #: ``(response, [(call id, text)]) -> items``: the turns that carry the answers back.
    followup: Callable
    #: ``(response, names, everything=False) -> [(call id, tool name, arguments)]``: takes the
    #: calls of ``names`` out of a reply that also calls the application's tools (with
    #: ``everything``: out of any reply), and returns them.
    strip: Callable


class Route(NamedTuple):
    """How ``headroom.sdk``'s transport treats a POST to one API path
    (``headroom.openai.ROUTES``, ``headroom.anthropic.ROUTES``)."""

    api: Api
    #: Whether Headroom's tools are offered (and, with ``loop``, answered).
    offer: bool = True
    #: Whether the retrieve loop runs (else: compress, send, pass the reply through).
    loop: bool = True
    #: The class that reads this API's SSE streams round by round (``None``: streams are
    #: compressed and passed through, Headroom's tools not offered).
    stream: Optional[type] = None
    #: A batch: ``requests[].params`` are each compressed, no tool offered.
    batch: bool = False


class Loop:
    """The retrieve loop: compress the conversation, call the model, and while the reply calls
    only Headroom's tools answer them through the daemon and call the model again, at most
    ``rounds`` times. A reply that calls Headroom's tools beside the application's loses
    Headroom's calls (its ``memory_save`` calls are carried out) and is returned; so does the
    last allowed reply, whatever it calls.

    ``wrap`` puts it around an SDK-like ``create`` method (``headroom.litellm.completion``);
    ``headroom.sdk`` runs ``prepare`` and ``settle`` itself around HTTP requests and streams.

    ``client``: a ``HeadroomClient`` (default: the process-wide one); ``options``:
    ``headroom.compress`` options, ``memory`` included (memory tools on unless
    ``memory_tools=False``).
    """

    def __init__(self, client: Optional[HeadroomClient], rounds: int, options: dict):
        self.client = client
        self.rounds = rounds
        self.options = loop_options(options)
        self.memory = self.options.get("memory")

    def headroom(self, asynchronous: bool) -> Any:
        """The client to call: blocking, or its asyncio side."""
        hc = self.client or default_client()
        return hc.aio if asynchronous else hc

    def wrap(self, create: Callable, api: Api, asynchronous: bool = False) -> Callable:
        """``create`` (an SDK method; a coroutine function when ``asynchronous``) with the loop
        around it. A stream is returned as it comes, Headroom's tools offered."""
        def wrapped(*args, **kwargs):
            return drive(self.steps(create, api, asynchronous, args, kwargs), asynchronous)
        return wrapped

    def steps(self, create: Callable, api: Api, asynchronous: bool, args: tuple, kwargs: dict,
              results: Optional[list] = None) -> Generator:
        """The loop around ``create(*args, **kwargs)`` as a generator for ``drive``; each
        round's ``CompressResult`` is appended to ``results``."""
        items = kwargs.get(api.key)
        if not isinstance(items, list):
            return (yield create(*args, **kwargs))
        hc = self.headroom(asynchronous)
        history = list(items)
        results = [] if results is None else results
        for round_ in range(self.rounds + 1):
            call, names, result = yield from self.prepare(hc, api, history, kwargs)
            results.append(result)
            response = yield create(*args, **call)
            if kwargs.get("stream"):
                return response
            answers, _ = yield from self.settle(hc, api, response, names, round_ == self.rounds)
            if answers is None:
                return response
            history = history + api.followup(response, answers)
        return response

    def prepare(self, hc: Any, api: Api, history: list, kwargs: dict, offer: bool = True) -> Generator:
        """``(the call's keyword arguments, the names of Headroom's tools offered, the
        CompressResult)`` for one round: ``kwargs`` with ``history`` compressed and, when
        ``offer``, Headroom's tools beside the application's. Without ``offer`` (a call whose
        tool calls nobody can answer) none is added; the markers still say what was left out."""
        options = self.options
        if not offer and "memory" in options:
            options = {**options, "memory_tools": False}
        # The daemon's savings ledger counts SDK calls by SDK unless the caller names itself.
        sdk = "anthropic-sdk" if api.format == ProviderFormat.Anthropic else "openai-sdk"
        result = yield hc.compress(history, model=kwargs.get("model"), format=api.format, **{"app": sdk, **options})
        call = {**kwargs, api.key: result.messages}
        if not offer:
            return call, frozenset(), result
        offered, names = tools.offer(kwargs.get("tools"), result)
        if offered is not kwargs.get("tools"):
            call["tools"] = offered
        return call, names, result

    def settle(self, hc: Any, api: Api, response: Any, names: frozenset, last: bool) -> Generator:
        """``(answers, removed)`` for one reply: ``[(call id, text)]`` when it calls only
        Headroom's tools and ``last`` is false (call the model again with them), else ``None``
        and the calls of Headroom's tools taken out of the reply (``memory_save`` carried out)."""
        calls = [] if last else api.calls(response, names)
        if calls:
            answers = []
            for cid, name, arguments in calls:
                answers.append((cid, (yield hc.answer_tool(name, arguments, self.memory))))
            return answers, []
        removed = api.strip(response, names, last)
        for _, name, arguments in removed:
            if name == tools.MEMORY_SAVE_TOOL_NAME:
                yield hc.answer_tool(name, arguments, self.memory)
        return None, removed
