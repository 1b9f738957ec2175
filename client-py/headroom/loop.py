"""The loop that answers Headroom's own tools inside one provider call, for the SDK wrappers
(``headroom.openai``, ``headroom.anthropic``) and ``headroom.litellm.completion``.

``Loop`` compresses the conversation, calls the model, and while the reply calls only
Headroom's tools (``headroom_retrieve``; ``memory_save`` and ``memory_search`` with a memory
scope) answers them through the daemon and calls the model again. ``Api`` says how one
provider API holds its messages and tool calls.

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


class Overlay:
    """``target`` with some attributes replaced: how the SDK wrappers put the looped methods on
    the SDK client while everything else stays the client's own."""

    def __init__(self, target: Any, overrides: dict):
        self._target = target
        self._overrides = overrides

    def __getattr__(self, name: str) -> Any:
        if name in self._overrides:
            return self._overrides[name]
        return getattr(self._target, name)

    def __repr__(self) -> str:
        return f"with_headroom({self._target!r})"


def dump(item: Any) -> Any:
    """An SDK object as a dict for the next request (dicts pass through)."""
    return item.model_dump(exclude_none=True) if hasattr(item, "model_dump") else item


def split(items: list, names: frozenset, name_of: Callable) -> tuple:
    """``(Headroom's calls, the other items)`` when ``items`` mixes calls of ``names`` with
    calls of other tools, else ``([], items)``."""
    ours = [i for i in items if name_of(i) in names]
    theirs = [i for i in items if name_of(i) is not None and name_of(i) not in names]
    if not ours or not theirs:
        return [], items
    return ours, [i for i in items if name_of(i) not in names]


def item_calls(attr: str, find: Callable) -> Callable:
    """``Api.calls`` for an API whose reply lists its items under ``attr`` (``find``: the
    ``tools`` function that reads them)."""
    def calls(response: Any, names: frozenset) -> list:
        items = getattr(response, attr, None)
        if not isinstance(items, list):
            return []
        found, only = find(items, names)
        return found if only else []
    return calls


def item_strip(attr: str, kind: str, id_field: str, args_field: str) -> Callable:
    """``Api.strip`` for an API whose reply lists its items under ``attr``, tool calls being
    items of type ``kind`` with an id, a name and arguments."""
    def strip(response: Any, names: frozenset) -> list:
        items = getattr(response, attr, None)
        if not isinstance(items, list):
            return []
        removed, kept = split(items, names, lambda i: i.name if getattr(i, "type", None) == kind else None)
        if removed:
            setattr(response, attr, kept)
        return [(getattr(i, id_field), i.name, tools.arguments_of(getattr(i, args_field))) for i in removed]
    return strip


class Api(NamedTuple):
    """One provider API as the loop meets it (``headroom.openai.CHAT``, ``RESPONSES``,
    ``headroom.anthropic.ANTHROPIC``)."""

    #: The keyword argument holding the messages.
    key: str
    format: ProviderFormat
    #: ``(response, names) -> [(call id, tool name, arguments)]``: the reply's calls of Headroom's
    #: tools ``names``, when they are its only tool calls.
    calls: Callable
    #: ``(response, [(call id, text)]) -> items``: the turns that carry the answers back.
    followup: Callable
    #: ``(response, names) -> [(call id, tool name, arguments)]``: takes the calls of ``names``
    #: out of a reply that also calls the application's tools, and returns them.
    strip: Callable


class Loop:
    """Builds ``create`` methods that compress the conversation, call the model, and while the
    reply calls only Headroom's tools answer them through the daemon and call the model again,
    at most ``rounds`` times. A reply that calls Headroom's tools beside the application's loses
    Headroom's calls (its ``memory_save`` calls are carried out) and is returned. Streams are
    passed through after compression.

    ``client``: a ``HeadroomClient`` (default: the process-wide one); ``options``:
    ``headroom.compress`` options, ``memory`` included (memory tools on unless
    ``memory_tools=False``).
    """

    def __init__(self, client: Optional[HeadroomClient], rounds: int, options: dict):
        self.client = client
        self.rounds = rounds
        self.options = loop_options(options)
        self.memory = self.options.get("memory")

    def wrap(self, create: Callable, api: Api, asynchronous: bool = False) -> Callable:
        """``create`` (an SDK method; a coroutine function when ``asynchronous``) with the loop
        around it."""
        def wrapped(*args, **kwargs):
            return drive(self._steps(create, api, asynchronous, args, kwargs), asynchronous)
        return wrapped

    def _steps(self, create: Callable, api: Api, asynchronous: bool, args: tuple, kwargs: dict) -> Generator:
        items = kwargs.get(api.key)
        if not isinstance(items, list):
            return (yield create(*args, **kwargs))
        hc = self.client or default_client()
        hc = hc.aio if asynchronous else hc
        history = list(items)
        for round_ in range(self.rounds + 1):
            result = yield hc.compress(history, model=kwargs.get("model"), format=api.format, **self.options)
            call = {**kwargs, api.key: result.messages}
            offered, names = tools.offer(kwargs.get("tools"), result)
            if offered is not kwargs.get("tools"):
                call["tools"] = offered
            response = yield create(*args, **call)
            if kwargs.get("stream"):
                return response
            calls = [] if round_ == self.rounds else api.calls(response, names)
            if not calls:
                for _, name, arguments in api.strip(response, names):
                    if name == tools.MEMORY_SAVE_TOOL_NAME:
                        yield hc.answer_tool(name, arguments, self.memory)
                return response
            answers = []
            for cid, name, arguments in calls:
                answers.append((cid, (yield hc.answer_tool(name, arguments, self.memory))))
            history = history + api.followup(response, answers)
        return response
