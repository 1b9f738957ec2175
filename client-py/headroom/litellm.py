"""LiteLLM integration: a callback that compresses every async call, and wrappers for the calls
no callback can rewrite.

- ``HeadroomCallback()``: register with ``litellm.callbacks = [HeadroomCallback()]`` or, on the
  proxy, ``litellm_settings: {callbacks: ["headroom.litellm.headroom_callback"]}`` in
  config.yaml. It compresses in ``async_pre_call_deployment_hook`` (every async SDK call,
  streaming included, the Router and the proxy), ``async_pre_call_hook`` (proxy) and
  ``async_pre_request_hook`` (the Anthropic ``/v1/messages`` path), adding the
  ``headroom_retrieve`` tool whenever a marker was emitted. With ``memory=`` (or per call
  ``metadata={"headroom_memory": scope}``) the scope's remembered facts join the latest user
  message and the ``memory_save`` / ``memory_search`` tools are offered. LiteLLM's own agentic
  loop answers Headroom's tools for non-streaming calls; elsewhere answer them in your tool loop
  with ``headroom.answer_tool(name, arguments, memory=scope)``.
- ``completion(...)`` / ``acompletion(...)``: ``litellm.completion`` / ``acompletion`` with the
  messages compressed (sync ``litellm.completion`` runs no pre-call hook), answering the
  model's calls of Headroom's tools themselves so the caller never sees them.

The caller's message lists and dicts are never modified.
"""

from __future__ import annotations

import collections
import contextvars
from typing import Any, Optional

import litellm as _litellm
from litellm.integrations.custom_logger import CustomLogger

from . import tools
from .client import HeadroomClient, default_client
from .loop import Loop
from .memory import loop_options
from .openai import CHAT
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

#: The ``metadata`` key that gives one call its memory scope.
MEMORY_METADATA = "headroom_memory"


class HeadroomCallback(CustomLogger):
    """Compresses the messages of every LiteLLM call it sees. ``client``: a ``HeadroomClient``
    (default: the process-wide one); ``options``: ``headroom.compress`` options such as
    ``protect_recent``, and ``memory`` (a ``MemoryScope`` or dict) for every call; one call's
    ``metadata={"headroom_memory": scope}`` overrides it. With a scope the memory tools are
    offered unless ``memory_tools=False``. Fails open like ``headroom.compress``."""

    def __init__(self, client: Optional[HeadroomClient] = None, **options):
        super().__init__()
        self.client = client
        self.options = loop_options(options)
        self._done: collections.OrderedDict = collections.OrderedDict()
        self._followups: collections.deque = collections.deque(maxlen=64)

    def _client(self) -> HeadroomClient:
        return self.client or default_client()

    def _memory(self, kwargs: dict) -> Any:
        """The memory scope of one call: its metadata's, else the callback's (else None)."""
        for key in ("metadata", "litellm_metadata"):
            metadata = kwargs.get(key)
            if isinstance(metadata, dict) and metadata.get(MEMORY_METADATA) is not None:
                return metadata[MEMORY_METADATA]
        return self.options.get("memory")

    async def _compress(self, messages: Any, model: Any, fmt: ProviderFormat, kwargs: dict):
        """``(compressed list, CompressResult)``, or ``None`` to leave the call as is."""
        if _WRAPPED.get() or not isinstance(messages, list) or not messages:
            return None
        call_id = kwargs.get("litellm_call_id")
        if call_id is not None and self._done.get(call_id) == messages:
            return None  # this call's messages are already Headroom's output
        for i, followup in enumerate(self._followups):
            if followup == messages:
                del self._followups[i]
                return None
        options = loop_options({**self.options, "memory": self._memory(kwargs)})
        result = await self._client().aio.compress(
            messages, model=model if isinstance(model, str) else None, format=fmt, **options)
        if result.error is not None:
            return None
        out = result.messages if result.messages is not messages else list(messages)
        if call_id is not None:
            self._done[call_id] = out
            self._done.move_to_end(call_id)
            while len(self._done) > _REMEMBERED_CALLS:
                self._done.popitem(last=False)
        return out, result

    async def _rewrite(self, body: dict, call_type: Any) -> Optional[dict]:
        """A copy of a call's body with its messages compressed and Headroom's tools added when
        offered; None when the call type has no messages or nothing changed."""
        shape = _SHAPES.get(getattr(call_type, "value", call_type))
        if shape is None:
            return None
        key, fmt = shape
        done = await self._compress(body.get(key), body.get("model"), fmt, body)
        if done is None:
            return None
        messages, result = done
        out = {**body, key: messages}
        offered = tools.offer(body.get("tools"), result)[0]
        if offered is not body.get("tools"):
            out["tools"] = offered
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
        done = await self._compress(messages, model, ProviderFormat.Anthropic, kwargs)
        if done is None:
            return None
        compressed, result = done
        messages[:] = compressed
        offered = tools.offer(kwargs.get("tools"), result)[0]
        if offered is kwargs.get("tools"):
            return None
        return {**kwargs, "tools": offered}

    # --- Headroom's tools where LiteLLM runs the loop (non-streaming chat, /v1/messages, Responses)

    async def async_should_run_agentic_loop(self, response: Any, model: str, messages: list, tools: Any,
                                            stream: bool, custom_llm_provider: str, kwargs: dict):
        memory = self._memory(kwargs)
        names = _offered_names(tools, memory)
        calls = _reply_calls(response, names) if names else []
        return (True, {"headroom_calls": calls, "headroom_memory": memory}) if calls else (False, {})

    async def async_build_agentic_loop_plan(self, tools: dict, model: str, messages: list, response: Any,
                                            anthropic_messages_provider_config: Any,
                                            anthropic_messages_optional_request_params: dict,
                                            logging_obj: Any, stream: bool, kwargs: dict):
        from litellm.types.integrations.custom_logger import AgenticLoopPlan, AgenticLoopRequestPatch

        calls = tools.get("headroom_calls") or []
        memory = tools.get("headroom_memory")
        answers = [(cid, await self._client().aio.answer_tool(name, args, memory)) for cid, name, args in calls]
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
            metadata={"tool_type": "headroom_tools"},
        )


def _offered_names(tools_: Any, memory: Any) -> frozenset:
    """Headroom's tools the call offered whose calls Headroom can answer: the memory tools only
    when the call has a memory scope."""
    names = tools.offered_names(tools_)
    return names if memory is not None else names - {tools.MEMORY_SAVE_TOOL_NAME, tools.MEMORY_SEARCH_TOOL_NAME}


def _reply_calls(response: Any, names: frozenset) -> list:
    """Calls of ``names`` in a chat, Anthropic or Responses reply, when they are its only tool
    calls."""
    if isinstance(response, dict) and isinstance(response.get("content"), list):
        calls, only = tools.anthropic_calls(response["content"], names)
    elif getattr(response, "choices", None):
        calls, only = tools.chat_calls(response.choices[0].message, names)
    elif isinstance(getattr(response, "output", None), list):
        calls, only = tools.responses_calls(response.output, names)
    else:
        return []
    return calls if only else []


def _reply_followup(response: Any, answers: list) -> list:
    if isinstance(response, dict) and isinstance(response.get("content"), list):
        return tools.anthropic_followup(response["content"], answers)
    if getattr(response, "choices", None):
        return CHAT.followup(response, answers)
    items = [item.model_dump(exclude_none=True) if hasattr(item, "model_dump") else item for item in response.output]
    return tools.responses_followup(items, answers)


#: A ready instance for proxy config files: ``callbacks: ["headroom.litellm.headroom_callback"]``.
headroom_callback = HeadroomCallback()


def completion(model: str, messages: list, *, headroom_client: Optional[HeadroomClient] = None,
               headroom_options: Optional[dict] = None, max_retrieve_rounds: int = 3, **kwargs) -> Any:
    """``litellm.completion`` with compressed messages. Without streaming, a reply that only
    calls Headroom's tools is answered through the daemon and the model called again (at most
    ``max_retrieve_rounds`` times); with ``stream=True`` the stream is returned as is.
    ``headroom_options`` are ``headroom.compress`` options, ``memory`` included (its memory tools
    are then offered and answered unless ``memory_tools=False``)."""
    loop = Loop(headroom_client, max_retrieve_rounds, headroom_options or {})
    token = _WRAPPED.set(True)
    try:
        return loop.wrap(_litellm.completion, CHAT)(model=model, messages=messages, **kwargs)
    finally:
        _WRAPPED.reset(token)


async def acompletion(model: str, messages: list, *, headroom_client: Optional[HeadroomClient] = None,
                      headroom_options: Optional[dict] = None, max_retrieve_rounds: int = 3, **kwargs) -> Any:
    """``completion`` for asyncio, over ``litellm.acompletion``. (A twin because LiteLLM has
    both entry points, and the hooks must stand back while the awaited call runs.)"""
    loop = Loop(headroom_client, max_retrieve_rounds, headroom_options or {})
    token = _WRAPPED.set(True)
    try:
        return await loop.wrap(_litellm.acompletion, CHAT, asynchronous=True)(model=model, messages=messages, **kwargs)
    finally:
        _WRAPPED.reset(token)


__all__ = ["HeadroomCallback", "MEMORY_METADATA", "headroom_callback", "completion", "acompletion"]
