"""Provider SDK wrappers: ``with_headroom(OpenAI())``, ``with_headroom(AsyncOpenAI())``,
``with_headroom(Anthropic())``, ``with_headroom(AsyncAnthropic())``.

The returned object is the same client with three methods compressed: OpenAI's
``chat.completions.create`` and ``responses.create``, Anthropic's ``messages.create`` (Anthropic
content blocks go to the daemon as they are, no conversion). Everything else is the wrapped
client's own attribute. Streaming calls are passed through with compressed messages; other calls
answer the model's ``headroom_retrieve`` calls themselves through the daemon and call the model
again, so the application never sees them. The SDKs are never imported here: the wrapper reads
the client's shape.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from . import retrieval
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


# Per API: where the messages are, their format, how to find retrieve calls in a reply, and the
# turns that answer them.


def _chat_calls(response: Any) -> list:
    choices = getattr(response, "choices", None) or ()
    if len(choices) != 1:
        return []
    calls, only = retrieval.chat_calls(choices[0].message)
    return calls if only else []


def _chat_followup(response: Any, answers: list) -> list:
    message = response.choices[0].message
    turn = {"role": "assistant", "content": message.content, "tool_calls": [
        {"id": c.id, "type": "function", "function": {"name": c.function.name, "arguments": c.function.arguments}}
        for c in message.tool_calls]}
    return retrieval.chat_followup(turn, answers)


def _responses_calls(response: Any) -> list:
    output = getattr(response, "output", None)
    if not isinstance(output, list):
        return []
    calls, only = retrieval.responses_calls(output)
    return calls if only else []


def _responses_followup(response: Any, answers: list) -> list:
    return retrieval.responses_followup([_dump(item) for item in response.output], answers)


def _anthropic_calls(response: Any) -> list:
    content = getattr(response, "content", None)
    if not isinstance(content, list):
        return []
    calls, only = retrieval.anthropic_calls(content)
    return calls if only else []


def _anthropic_followup(response: Any, answers: list) -> list:
    return retrieval.anthropic_followup([_dump(block) for block in response.content], answers)


_CHAT = ("messages", ProviderFormat.OpenAiChat, _chat_calls, _chat_followup)
_RESPONSES = ("input", ProviderFormat.OpenAiResponses, _responses_calls, _responses_followup)
_ANTHROPIC = ("messages", ProviderFormat.Anthropic, _anthropic_calls, _anthropic_followup)


class _Compressing:
    """Builds the replacement ``create`` methods for one wrapped client."""

    def __init__(self, client: Optional[Client], max_retrieve_rounds: int, options: dict):
        self.client = client
        self.rounds = max_retrieve_rounds
        self.options = options

    def _hc(self) -> Client:
        return self.client or default_client()

    def _call(self, result, key: str, kwargs: dict) -> dict:
        call = {**kwargs, key: result.messages}
        if result.retrieve_tool is not None:
            call["tools"] = retrieval.add_tool(kwargs.get("tools"), result.retrieve_tool)
        return call

    def sync(self, create: Callable, api: tuple) -> Callable:
        key, fmt, find_calls, followup = api

        def wrapped(*args, **kwargs):
            items = kwargs.get(key)
            if not isinstance(items, list):
                return create(*args, **kwargs)
            history = list(items)
            for round_ in range(self.rounds + 1):
                result = self._hc().compress(history, model=kwargs.get("model"), format=fmt, **self.options)
                response = create(*args, **self._call(result, key, kwargs))
                calls = [] if kwargs.get("stream") or round_ == self.rounds else find_calls(response)
                if not calls:
                    return response
                answers = [(cid, self._hc().answer(arguments)) for cid, arguments in calls]
                history = history + followup(response, answers)
            return response

        return wrapped

    def asynchronous(self, create: Callable, api: tuple) -> Callable:
        key, fmt, find_calls, followup = api

        async def wrapped(*args, **kwargs):
            items = kwargs.get(key)
            if not isinstance(items, list):
                return await create(*args, **kwargs)
            history = list(items)
            for round_ in range(self.rounds + 1):
                result = await self._hc().acompress(history, model=kwargs.get("model"), format=fmt, **self.options)
                response = await create(*args, **self._call(result, key, kwargs))
                calls = [] if kwargs.get("stream") or round_ == self.rounds else find_calls(response)
                if not calls:
                    return response
                answers = [(cid, await self._hc().aanswer(arguments)) for cid, arguments in calls]
                history = history + followup(response, answers)
            return response

        return wrapped


def with_headroom(sdk_client: Any, *, headroom_client: Optional[Client] = None, max_retrieve_rounds: int = 3,
                  **options) -> Any:
    """``sdk_client`` (an OpenAI, AsyncOpenAI, Anthropic or AsyncAnthropic client) with its
    messages compressed. ``options`` are ``headroom.compress`` options; ``headroom_client`` a
    ``headroom.Client`` (default: the process-wide one). Fails open."""
    c = _Compressing(headroom_client, max_retrieve_rounds, options)
    # AsyncOpenAI, AsyncAzureOpenAI, AsyncAnthropic... (their methods are wrapped, so the class
    # says it, not inspect.iscoroutinefunction).
    is_async = any(cls.__name__.startswith("Async") for cls in type(sdk_client).__mro__)
    wrap = c.asynchronous if is_async else c.sync
    overrides = {}
    chat = getattr(sdk_client, "chat", None)
    if chat is not None and hasattr(chat, "completions"):
        completions = _Proxy(chat.completions, {"create": wrap(chat.completions.create, _CHAT)})
        overrides["chat"] = _Proxy(chat, {"completions": completions})
    responses = getattr(sdk_client, "responses", None)
    if responses is not None and hasattr(responses, "create"):
        overrides["responses"] = _Proxy(responses, {"create": wrap(responses.create, _RESPONSES)})
    messages = getattr(sdk_client, "messages", None)
    if messages is not None and hasattr(messages, "create"):
        overrides["messages"] = _Proxy(messages, {"create": wrap(messages.create, _ANTHROPIC)})
    if not overrides:
        raise TypeError(f"with_headroom: {type(sdk_client).__name__} is not an OpenAI or Anthropic client")
    return _Proxy(sdk_client, overrides)

