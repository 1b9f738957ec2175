"""The OpenAI SDK wrapper behind ``with_headroom(OpenAI())`` and ``with_headroom(AsyncOpenAI())``:
``chat.completions.create`` and ``responses.create`` compress their messages and answer the
model's calls of Headroom's tools through ``Loop``. ``CHAT`` also serves
``headroom.litellm.completion``, whose replies have the chat shape. The ``openai`` package is never
imported: the wrapper reads the client's shape.
"""

from __future__ import annotations

from typing import Any

from . import tools
from .loop import Api, Loop, Overlay, dump, item_calls, item_strip, split
from .wire import ProviderFormat


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
    removed, kept = split(calls, names, lambda c: c.function.name)
    if removed:
        message.tool_calls = kept
    return [(c.id, c.function.name, tools.arguments_of(c.function.arguments)) for c in removed]


def _chat_followup(response: Any, answers: list) -> list:
    message = response.choices[0].message
    turn = {"role": "assistant", "content": message.content, "tool_calls": [
        {"id": c.id, "type": "function", "function": {"name": c.function.name, "arguments": c.function.arguments}}
        for c in message.tool_calls]}
    return tools.chat_followup(turn, answers)


def _responses_followup(response: Any, answers: list) -> list:
    return tools.responses_followup([dump(item) for item in response.output], answers)


#: OpenAI Chat Completions (and LiteLLM's ``completion``).
CHAT = Api("messages", ProviderFormat.OpenAiChat, _chat_calls, _chat_followup, _chat_strip)
#: OpenAI Responses.
RESPONSES = Api("input", ProviderFormat.OpenAiResponses, item_calls("output", tools.responses_calls),
                _responses_followup, item_strip("output", "function_call", "call_id", "arguments"))


def is_openai(sdk_client: Any) -> bool:
    """Whether ``sdk_client`` has the OpenAI client's shape (``chat.completions`` or ``responses``)."""
    return hasattr(getattr(sdk_client, "chat", None), "completions") or \
        hasattr(getattr(sdk_client, "responses", None), "create")


def wrap_openai(sdk_client: Any, loop: Loop, asynchronous: bool) -> Overlay:
    """``sdk_client`` with ``chat.completions.create`` and ``responses.create`` (those it has)
    run through ``loop``."""
    overrides = {}
    chat = getattr(sdk_client, "chat", None)
    if hasattr(chat, "completions"):
        completions = Overlay(chat.completions, {"create": loop.wrap(chat.completions.create, CHAT, asynchronous)})
        overrides["chat"] = Overlay(chat, {"completions": completions})
    responses = getattr(sdk_client, "responses", None)
    if hasattr(responses, "create"):
        overrides["responses"] = Overlay(responses, {"create": loop.wrap(responses.create, RESPONSES, asynchronous)})
    return Overlay(sdk_client, overrides)
