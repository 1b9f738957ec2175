"""LiteLLM integration: a callback that compresses every async call, and wrappers for the calls
no callback can rewrite.

- ``HeadroomCallback()``: register with ``litellm.callbacks = [HeadroomCallback()]`` or, on the
  proxy, ``litellm_settings: {callbacks: ["headroom.litellm.headroom_callback"]}`` in
  config.yaml. It compresses in ``async_pre_call_deployment_hook`` (every async SDK call,
  streaming included, the Router and the proxy), ``async_pre_call_hook`` (proxy) and
  ``async_pre_request_hook`` (the Anthropic ``/v1/messages`` path), adding the
  ``headroom_retrieve`` tool whenever a marker was emitted. LiteLLM does not run the tool for
  you: answer it in your tool loop with ``headroom.answer_retrieve(tool_call.function.arguments)``.
- ``completion(...)`` / ``acompletion(...)``: ``litellm.completion`` / ``acompletion`` with the
  messages compressed (sync ``litellm.completion`` runs no pre-call hook), answering the
  model's ``headroom_retrieve`` calls themselves so the caller never sees them.

The caller's message lists and dicts are never modified.
"""

from __future__ import annotations

import collections
import contextvars
from typing import Any, Optional

import litellm as _litellm
from litellm.integrations.custom_logger import CustomLogger

from . import retrieval
from .client import Client, default_client
from .wire import ProviderFormat

# Inside ``completion``/``acompletion`` the wrapper has compressed already: hooks stand back.
_WRAPPED: contextvars.ContextVar[bool] = contextvars.ContextVar("headroom_litellm_wrapped", default=False)

_SHAPES = {
    "completion": ("messages", ProviderFormat.OpenAiChat),
    "acompletion": ("messages", ProviderFormat.OpenAiChat),
    "responses": ("input", ProviderFormat.OpenAiResponses),
    "aresponses": ("input", ProviderFormat.OpenAiResponses),
    "anthropic_messages": ("messages", ProviderFormat.Anthropic),
    "aanthropic_messages": ("messages", ProviderFormat.Anthropic),
}

#: How many recent calls' compressed messages are remembered so that a second hook of the same
#: call does not compress Headroom's own output again.
_REMEMBERED_CALLS = 256


class HeadroomCallback(CustomLogger):
    """Compresses the messages of every LiteLLM call it sees. ``client``: a ``headroom.Client``
    (default: the process-wide one); ``options``: ``headroom.compress`` options such as
    ``protect_recent``. Fails open like ``headroom.compress``."""

    def __init__(self, client: Optional[Client] = None, **options):
        super().__init__()
        self.client = client
        self.options = options
        self._done: collections.OrderedDict = collections.OrderedDict()
        self._followups: collections.deque = collections.deque(maxlen=64)

    def _client(self) -> Client:
        return self.client or default_client()

    async def _compress(self, messages: Any, model: Any, fmt: ProviderFormat, call_id: Any):
        """``(compressed list, retrieve tool or None)``, or ``None`` to leave the call as is."""
        if _WRAPPED.get() or not isinstance(messages, list) or not messages:
            return None
        if call_id is not None and self._done.get(call_id) == messages:
            return None  # this call's messages are already Headroom's output
        for i, followup in enumerate(self._followups):
            if followup == messages:
                del self._followups[i]
                return None
        result = await self._client().acompress(
            messages, model=model if isinstance(model, str) else None, format=fmt, **self.options)
        if result.error is not None:
            return None
        out = result.messages if result.messages is not messages else list(messages)
        if call_id is not None:
            self._done[call_id] = out
            self._done.move_to_end(call_id)
            while len(self._done) > _REMEMBERED_CALLS:
                self._done.popitem(last=False)
        return out, result.retrieve_tool

    async def _rewrite(self, body: dict, call_type: Any) -> Optional[dict]:
        """A copy of a call's body with its messages compressed and the retrieve tool added when
        a marker was emitted; None when the call type has no messages or nothing changed."""
        shape = _SHAPES.get(getattr(call_type, "value", call_type))
        if shape is None:
            return None
        key, fmt = shape
        done = await self._compress(body.get(key), body.get("model"), fmt, body.get("litellm_call_id"))
        if done is None:
            return None
        messages, tool = done
        out = {**body, key: messages}
        if tool is not None:
            out["tools"] = retrieval.add_tool(body.get("tools"), tool)
        return out

    async def async_pre_call_deployment_hook(self, kwargs: dict, call_type: Any) -> Optional[dict]:
        return await self._rewrite(kwargs, call_type)

    async def async_pre_call_hook(self, user_api_key_dict: Any, cache: Any, data: dict, call_type: Any):
        if not isinstance(data, dict):
            return data
        rewritten = await self._rewrite(data, call_type)
        return data if rewritten is None else rewritten

    async def async_pre_request_hook(self, model: str, messages: list, kwargs: dict) -> Optional[dict]:
        # LiteLLM passes its own normalised copy of the messages here and forwards that same list
        # object, so it is replaced in place; the caller's list is not this one.
        done = await self._compress(messages, model, ProviderFormat.Anthropic, kwargs.get("litellm_call_id"))
        if done is None:
            return None
        compressed, tool = done
        messages[:] = compressed
        if tool is None:
            return None
        return {**kwargs, "tools": retrieval.add_tool(kwargs.get("tools"), tool)}


    # --- the retrieve loop where LiteLLM runs it (non-streaming chat, /v1/messages, Responses) ---

    async def async_should_run_agentic_loop(self, response: Any, model: str, messages: list, tools: Any,
                                            stream: bool, custom_llm_provider: str, kwargs: dict):
        calls = _reply_retrieve_calls(response) if retrieval.has_tool(tools) else []
        return (True, {"headroom_calls": calls}) if calls else (False, {})

    async def async_build_agentic_loop_plan(self, tools: dict, model: str, messages: list, response: Any,
                                            anthropic_messages_provider_config: Any,
                                            anthropic_messages_optional_request_params: dict,
                                            logging_obj: Any, stream: bool, kwargs: dict):
        from litellm.types.integrations.custom_logger import AgenticLoopPlan, AgenticLoopRequestPatch

        calls = tools.get("headroom_calls") or []
        answers = [(cid, await self._client().aanswer(args)) for cid, args in calls]
        followup = list(messages) + _reply_followup(response, answers)
        # The follow-up is this call's compressed messages plus one turn: not compressed again.
        self._followups.append(followup)
        params = anthropic_messages_optional_request_params or {}
        details = getattr(logging_obj, "model_call_details", None) or {}
        full_model = (details.get("agentic_loop_params") or {}).get("model") or model
        return AgenticLoopPlan(
            run_agentic_loop=True,
            request_patch=AgenticLoopRequestPatch(
                model=full_model,
                messages=followup,
                max_tokens=params.get("max_tokens") or kwargs.get("max_tokens"),
                optional_params={k: v for k, v in params.items() if k != "max_tokens"},
                kwargs={k: v for k, v in kwargs.items() if k != "litellm_logging_obj"},
            ),
            metadata={"tool_type": "headroom_retrieve"},
        )


def _reply_retrieve_calls(response: Any) -> list:
    """Retrieve calls in a chat, Anthropic or Responses reply, when they are its only tool calls."""
    if isinstance(response, dict) and isinstance(response.get("content"), list):
        calls, only = retrieval.anthropic_calls(response["content"])
    elif getattr(response, "choices", None):
        calls, only = retrieval.chat_calls(response.choices[0].message)
    elif isinstance(getattr(response, "output", None), list):
        calls, only = retrieval.responses_calls(response.output)
    else:
        return []
    return calls if only else []


def _reply_followup(response: Any, answers: list) -> list:
    if isinstance(response, dict) and isinstance(response.get("content"), list):
        return retrieval.anthropic_followup(response["content"], answers)
    if getattr(response, "choices", None):
        return retrieval.chat_followup(_assistant_turn(response.choices[0].message), answers)
    items = [item.model_dump(exclude_none=True) if hasattr(item, "model_dump") else item for item in response.output]
    return retrieval.responses_followup(items, answers)


#: A ready instance for proxy config files: ``callbacks: ["headroom.litellm.headroom_callback"]``.
headroom_callback = HeadroomCallback()


def _assistant_turn(message: Any) -> dict:
    calls = []
    for c in getattr(message, "tool_calls", None) or ():
        fn = c.function
        calls.append({"id": c.id, "type": "function", "function": {"name": fn.name, "arguments": fn.arguments}})
    return {"role": "assistant", "content": getattr(message, "content", None), "tool_calls": calls}


def _call_kwargs(result, kwargs: dict) -> dict:
    if result.retrieve_tool is None:
        return kwargs
    return {**kwargs, "tools": retrieval.add_tool(kwargs.get("tools"), result.retrieve_tool)}


def _retrieve_calls(response: Any) -> list:
    """The retrieve calls to answer, when every tool call of the reply is one."""
    choices = getattr(response, "choices", None) or ()
    if len(choices) != 1:
        return []
    calls, only = retrieval.chat_calls(choices[0].message)
    return calls if only else []


def completion(model: str, messages: list, *, headroom_client: Optional[Client] = None,
               headroom_options: Optional[dict] = None, max_retrieve_rounds: int = 3, **kwargs) -> Any:
    """``litellm.completion`` with compressed messages. Without streaming, a reply that only
    calls ``headroom_retrieve`` is answered through the daemon and the model called again (at
    most ``max_retrieve_rounds`` times); with ``stream=True`` the stream is returned as is."""
    client = headroom_client or default_client()
    options = headroom_options or {}
    history = list(messages)
    token = _WRAPPED.set(True)
    try:
        for round_ in range(max_retrieve_rounds + 1):
            result = client.compress(history, model=model, format=ProviderFormat.OpenAiChat, **options)
            response = _litellm.completion(model=model, messages=result.messages, **_call_kwargs(result, kwargs))
            calls = [] if kwargs.get("stream") or round_ == max_retrieve_rounds else _retrieve_calls(response)
            if not calls:
                return response
            answers = [(cid, client.answer(args)) for cid, args in calls]
            history = history + retrieval.chat_followup(_assistant_turn(response.choices[0].message), answers)
    finally:
        _WRAPPED.reset(token)
    return response


async def acompletion(model: str, messages: list, *, headroom_client: Optional[Client] = None,
                      headroom_options: Optional[dict] = None, max_retrieve_rounds: int = 3, **kwargs) -> Any:
    """``completion`` for asyncio, over ``litellm.acompletion``."""
    client = headroom_client or default_client()
    options = headroom_options or {}
    history = list(messages)
    token = _WRAPPED.set(True)
    try:
        for round_ in range(max_retrieve_rounds + 1):
            result = await client.acompress(history, model=model, format=ProviderFormat.OpenAiChat, **options)
            response = await _litellm.acompletion(model=model, messages=result.messages, **_call_kwargs(result, kwargs))
            calls = [] if kwargs.get("stream") or round_ == max_retrieve_rounds else _retrieve_calls(response)
            if not calls:
                return response
            answers = [(cid, await client.aanswer(args)) for cid, args in calls]
            history = history + retrieval.chat_followup(_assistant_turn(response.choices[0].message), answers)
    finally:
        _WRAPPED.reset(token)
    return response


__all__ = ["HeadroomCallback", "headroom_callback", "completion", "acompletion"]
