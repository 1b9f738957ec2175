"""Provider SDK wrappers: ``with_headroom(OpenAI())``, ``with_headroom(AsyncOpenAI())``,
``with_headroom(Anthropic())``, ``with_headroom(AsyncAnthropic())``.

The returned object is the same client with three methods compressed: OpenAI's
``chat.completions.create`` and ``responses.create``, Anthropic's ``messages.create`` (Anthropic
content blocks go to the daemon as they are, no conversion). Everything else is the wrapped
client's own attribute. Streaming calls are passed through with compressed messages; other calls
answer the model's calls of Headroom's tools (``headroom_retrieve``, and ``memory_save`` /
``memory_search`` with ``memory=``) themselves through the daemon and call the model again, so
the application never sees them. The SDKs are never imported here: the wrapper reads the
client's shape. ``Loop`` is that loop, shared with ``headroom.litellm.completion``.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional

from . import memories, tools
from .client import Client, default_client
from .wire import ProviderFormat


class _Proxy:
    """``target`` with some attributes replaced."""

    def __init__(self, target: Any, overrides: dict):
        self._target = target
        self._overrides = overrides

    def __getattr__(self, name: str) -> Any:
        if name in self._overrides:
            return self._overrides[name]
        return getattr(self._target, name)

    def __repr__(self) -> str:
        return f"with_headroom({self._target!r})"


def _dump(item: Any) -> Any:
    return item.model_dump(exclude_none=True) if hasattr(item, "model_dump") else item


# Per API: where the messages are, their format, how to find calls of Headroom's tools in a reply,
# how to take them out of a reply that also calls the application's tools, and the turns that
# answer them. The replies of LiteLLM's ``completion`` have the OpenAI chat shape.


def _split(items: list, names: frozenset, name_of: Callable) -> tuple:
    """``(Headroom's calls, the other items)`` when ``items`` mixes calls of ``names`` with
    calls of other tools, else ``([], items)``."""
    ours = [i for i in items if name_of(i) in names]
    theirs = [i for i in items if name_of(i) is not None and name_of(i) not in names]
    if not ours or not theirs:
        return [], items
    return ours, [i for i in items if name_of(i) not in names]


def _chat_calls(response: Any, names: frozenset) -> list:
    choices = getattr(response, "choices", None) or ()
    if len(choices) != 1:
        return []
    calls, only = tools.chat_calls(choices[0].message, names)
    return calls if only else []


def _chat_strip(response: Any, names: frozenset) -> list:
    choices = getattr(response, "choices", None) or ()
    if len(choices) != 1:
        return []
    message = choices[0].message
    calls = list(getattr(message, "tool_calls", None) or ())
    removed, kept = _split(calls, names, lambda c: c.function.name)
    if removed:
        message.tool_calls = kept
    return [(c.id, c.function.name, tools.arguments_of(c.function.arguments)) for c in removed]


def _chat_followup(response: Any, answers: list) -> list:
    message = response.choices[0].message
    turn = {"role": "assistant", "content": message.content, "tool_calls": [
        {"id": c.id, "type": "function", "function": {"name": c.function.name, "arguments": c.function.arguments}}
        for c in message.tool_calls]}
    return tools.chat_followup(turn, answers)


def _item_calls(attr: str, find: Callable) -> Callable:
    """``calls`` for an API whose reply lists its items under ``attr`` (``find``: the
    ``tools`` function that reads them)."""
    def calls(response: Any, names: frozenset) -> list:
        items = getattr(response, attr, None)
        if not isinstance(items, list):
            return []
        found, only = find(items, names)
        return found if only else []
    return calls


def _item_strip(attr: str, kind: str, id_field: str, args_field: str) -> Callable:
    """``strip`` for an API whose reply lists its items under ``attr``, tool calls being items
    of type ``kind`` with an id, a name and arguments."""
    def strip(response: Any, names: frozenset) -> list:
        items = getattr(response, attr, None)
        if not isinstance(items, list):
            return []
        removed, kept = _split(items, names, lambda i: i.name if getattr(i, "type", None) == kind else None)
        if removed:
            setattr(response, attr, kept)
        return [(getattr(i, id_field), i.name, tools.arguments_of(getattr(i, args_field))) for i in removed]
    return strip


def _responses_followup(response: Any, answers: list) -> list:
    return tools.responses_followup([_dump(item) for item in response.output], answers)


def _anthropic_followup(response: Any, answers: list) -> list:
    return tools.anthropic_followup([_dump(block) for block in response.content], answers)


class Api(NamedTuple):
    """One provider API as the loop meets it."""

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


#: OpenAI Chat Completions (and LiteLLM's ``completion``).
CHAT = Api("messages", ProviderFormat.OpenAiChat, _chat_calls, _chat_followup, _chat_strip)
#: OpenAI Responses.
RESPONSES = Api("input", ProviderFormat.OpenAiResponses, _item_calls("output", tools.responses_calls),
                _responses_followup, _item_strip("output", "function_call", "call_id", "arguments"))
#: Anthropic Messages.
ANTHROPIC = Api("messages", ProviderFormat.Anthropic, _item_calls("content", tools.anthropic_calls),
                _anthropic_followup, _item_strip("content", "tool_use", "id", "input"))


class Loop:
    """Builds ``create`` methods that compress the conversation, call the model, and while the
    reply calls only Headroom's tools (``headroom_retrieve``; ``memory_save`` and
    ``memory_search`` with a memory scope) answer them through the daemon and call the model
    again, at most ``rounds`` times. A reply that calls Headroom's tools beside the
    application's loses Headroom's calls (its ``memory_save`` calls are carried out) and is
    returned. Streams are passed through after compression.

    ``client``: a ``headroom.Client`` (default: the process-wide one); ``options``:
    ``headroom.compress`` options, ``memory`` included (memory tools on unless
    ``memory_tools=False``).
    """

    def __init__(self, client: Optional[Client], rounds: int, options: dict):
        self.client = client
        self.rounds = rounds
        self.options = memories.loop_options(options)
        self.memory = self.options.get("memory")

    def _hc(self) -> Client:
        return self.client or default_client()

    @staticmethod
    def _call(result, key: str, kwargs: dict) -> tuple:
        """The model call's keyword arguments, and the names of Headroom's tools it offers."""
        call = {**kwargs, key: result.messages}
        offered, names = tools.offer(kwargs.get("tools"), result)
        if offered is not kwargs.get("tools"):
            call["tools"] = offered
        return call, names

    def sync(self, create: Callable, api: Api) -> Callable:
        """``create`` (a blocking SDK method) with the loop around it; ``api`` is ``CHAT``,
        ``RESPONSES`` or ``ANTHROPIC``."""
        key, fmt, find_calls, followup, strip = api

        def wrapped(*args, **kwargs):
            items = kwargs.get(key)
            if not isinstance(items, list):
                return create(*args, **kwargs)
            history = list(items)
            for round_ in range(self.rounds + 1):
                result = self._hc().compress(history, model=kwargs.get("model"), format=fmt, **self.options)
                call, names = self._call(result, key, kwargs)
                response = create(*args, **call)
                if kwargs.get("stream"):
                    return response
                calls = [] if round_ == self.rounds else find_calls(response, names)
                if not calls:
                    for _, name, arguments in strip(response, names):
                        if name == tools.MEMORY_SAVE:
                            self._hc().answer_tool(name, arguments, self.memory)
                    return response
                answers = [(cid, self._hc().answer_tool(name, arguments, self.memory))
                           for cid, name, arguments in calls]
                history = history + followup(response, answers)
            return response

        return wrapped

    def asynchronous(self, create: Callable, api: Api) -> Callable:
        """``sync`` for an async SDK method."""
        key, fmt, find_calls, followup, strip = api

        async def wrapped(*args, **kwargs):
            items = kwargs.get(key)
            if not isinstance(items, list):
                return await create(*args, **kwargs)
            history = list(items)
            for round_ in range(self.rounds + 1):
                result = await self._hc().acompress(history, model=kwargs.get("model"), format=fmt, **self.options)
                call, names = self._call(result, key, kwargs)
                response = await create(*args, **call)
                if kwargs.get("stream"):
                    return response
                calls = [] if round_ == self.rounds else find_calls(response, names)
                if not calls:
                    for _, name, arguments in strip(response, names):
                        if name == tools.MEMORY_SAVE:
                            await self._hc().aanswer_tool(name, arguments, self.memory)
                    return response
                answers = [(cid, await self._hc().aanswer_tool(name, arguments, self.memory))
                           for cid, name, arguments in calls]
                history = history + followup(response, answers)
            return response

        return wrapped


def with_headroom(sdk_client: Any, *, headroom_client: Optional[Client] = None, max_retrieve_rounds: int = 3,
                  **options) -> Any:
    """``sdk_client`` (an OpenAI, AsyncOpenAI, Anthropic or AsyncAnthropic client) with its
    messages compressed. ``options`` are ``headroom.compress`` options, ``memory=`` included: a
    ``MemoryScope`` or dict whose remembered facts join the latest user message and whose
    ``memory_save`` / ``memory_search`` calls the wrapper answers (``memory_tools=False`` offers
    no tools). ``headroom_client`` is a ``headroom.Client`` (default: the process-wide one);
    ``max_retrieve_rounds`` bounds how often one call answers Headroom's tools. Wrapping is
    cheap: wrap once per conversation to give each its session. Fails open."""
    c = Loop(headroom_client, max_retrieve_rounds, options)
    # AsyncOpenAI, AsyncAzureOpenAI, AsyncAnthropic... (their methods are wrapped, so the class
    # says it, not inspect.iscoroutinefunction).
    is_async = any(cls.__name__.startswith("Async") for cls in type(sdk_client).__mro__)
    wrap = c.asynchronous if is_async else c.sync
    overrides = {}
    chat = getattr(sdk_client, "chat", None)
    if chat is not None and hasattr(chat, "completions"):
        completions = _Proxy(chat.completions, {"create": wrap(chat.completions.create, CHAT)})
        overrides["chat"] = _Proxy(chat, {"completions": completions})
    responses = getattr(sdk_client, "responses", None)
    if responses is not None and hasattr(responses, "create"):
        overrides["responses"] = _Proxy(responses, {"create": wrap(responses.create, RESPONSES)})
    messages = getattr(sdk_client, "messages", None)
    if messages is not None and hasattr(messages, "create"):
        overrides["messages"] = _Proxy(messages, {"create": wrap(messages.create, ANTHROPIC)})
    if not overrides:
        raise TypeError(f"with_headroom: {type(sdk_client).__name__} is not an OpenAI or Anthropic client")
    return _Proxy(sdk_client, overrides)

