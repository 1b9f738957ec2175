"""LiteLLM integration: a callback that compresses every call LiteLLM lets it see, and wrappers
that also answer Headroom's tools themselves.

- ``HeadroomCallback()``: register with ``litellm.callbacks = [HeadroomCallback()]`` or, on the
  proxy, ``litellm_settings: {callbacks: ["headroom.litellm.headroom_callback"]}`` in
  config.yaml. Async calls (SDK, Router, proxy; streaming included) are compressed in
  ``async_pre_call_deployment_hook``, ``async_pre_call_hook`` (proxy) and
  ``async_pre_request_hook`` (the Anthropic ``/v1/messages`` path). Sync ``litellm.completion``
  and ``Router.completion`` run none of those: LiteLLM 1.106 only shows them to input callbacks,
  in ``log_pre_api_call``, with the provider request body it is about to send
  (``additional_args["complete_input_dict"]``); the callback replaces that body's ``messages``
  there. Where the body has no shape Headroom knows (Gemini's ``contents``, Bedrock's converse
  blocks, a body signed before callbacks see it) the call goes uncompressed and the ``headroom``
  logger says so once per process.
- ``headroom_retrieve`` (and, with ``memory=``, ``memory_save`` / ``memory_search``) is offered
  only where someone answers it: non-streaming async calls, whose retrieve loop LiteLLM runs
  (``async_should_run_agentic_loop``); never on streams or sync calls (the marker's text still
  says what was omitted), and never when this LiteLLM cannot send ``tools`` at all (1.106 imports
  its MCP gateway, and the ``mcp`` package, for every call with tools).
- ``completion(...)`` / ``acompletion(...)``: ``litellm.completion`` / ``acompletion`` with the
  messages compressed, answering the model's calls of Headroom's tools themselves so the caller
  never sees them; a stream is LiteLLM's own, compressed and offered none of Headroom's tools.
- ``savings(response)``: tokens before and after compression and retrieve rounds of one call;
  also ``response._hidden_params["headroom"]`` where LiteLLM lets a hook reach the response, and
  ``compression_savings`` in the call's metadata, which LiteLLM's spend logs keep.

The caller's message lists and dicts are never modified.
"""

from __future__ import annotations

import collections
import contextvars
import importlib
import logging
import threading
from typing import Any, Optional

import litellm as _litellm
from litellm.integrations.custom_logger import CustomLogger

from . import tools
from .client import CompressResult, HeadroomClient, default_client
from .loop import Loop
from .memory import loop_options
from .openai import CHAT
from .wire import ProviderFormat

logger = logging.getLogger("headroom")

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

#: How many recent calls are remembered (their compressed messages, their savings).
_REMEMBERED_CALLS = 256

#: The ``metadata`` key that gives one call its memory scope.
MEMORY_METADATA = "headroom_memory"

#: The name the daemon's savings ledger counts these calls under.
LEDGER_CLIENT = "litellm"

#: LiteLLM's own metadata key for a request's compression savings: its spend logs keep it, and
#: its daily activity counts the ``tokens_saved`` in it.
SAVINGS_METADATA = "compression_savings"

#: The ``_hidden_params`` key of a response that carries Headroom's savings.
HIDDEN_PARAMS_KEY = "headroom"

#: Providers whose request body LiteLLM signs before callbacks see it: a rewrite would not be sent.
_SIGNED_BODY_PROVIDERS = frozenset({"bedrock", "sagemaker", "sagemaker_chat", "oci"})

_CHAT_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


class _Recent:
    """The values of the last ``_REMEMBERED_CALLS`` keys, safe across threads (sync calls run on
    the caller's threads, async ones on the event loop)."""

    def __init__(self):
        self._items: collections.OrderedDict = collections.OrderedDict()
        self._lock = threading.Lock()

    def put(self, key: Any, value: Any) -> None:
        if key is None:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > _REMEMBERED_CALLS:
                self._items.popitem(last=False)

    def get(self, key: Any) -> Any:
        if key is None:
            return None
        with self._lock:
            return self._items.get(key)


#: Savings by ``litellm_call_id``, for ``savings()`` and the hooks that run after the call.
_SAVINGS = _Recent()
#: Each call's compressed messages, by ``litellm_call_id``: Headroom's output is never compressed
#: again, whichever callback instance sees it (LiteLLM keeps every instance ever registered in
#: its input callbacks).
_DONE = _Recent()
#: Call ids an async hook has seen: the sync hook, which LiteLLM also runs for them, stands back.
_SEEN = _Recent()

_warned: set = set()


def _warn_once(what: str, message: str, *args: Any) -> None:
    """One warning on the ``headroom`` logger per ``what`` and process."""
    if what not in _warned:
        _warned.add(what)
        logger.warning(message, *args)


_takes_tools: Optional[bool] = None


def litellm_takes_tools() -> bool:
    """Whether this LiteLLM can send a call that has ``tools``: 1.106 imports its MCP gateway for
    every such call, and that needs the ``mcp`` package, which ``pip install litellm`` does not
    bring. Without it Headroom adds no tools (a call that works without Headroom must work with
    it) and says so once."""
    global _takes_tools
    if _takes_tools is None:
        try:
            importlib.import_module("litellm.responses.mcp.chat_completions_handler")
            _takes_tools = True
        except Exception as e:  # ImportError, or anything else the gateway's import raises
            _takes_tools = False
            logger.warning("headroom: this LiteLLM cannot send a call with tools (%s), so Headroom offers no "
                           "headroom_retrieve tool; the markers still say what was left out. Install the mcp "
                           "package (the litellm extra of headroom-client) to let the model retrieve.", e)
    return _takes_tools


def _savings_of(result: CompressResult) -> dict:
    """One call's savings, in the shape of LiteLLM's ``compression_savings`` metadata."""
    return {"tokens_before": result.tokens_before, "tokens_after": result.tokens_after,
            "tokens_saved": result.tokens_saved, "retrieve_rounds": 0, "source": "headroom"}


def savings(response: Any) -> Optional[dict]:
    """Headroom's savings on one LiteLLM response or stream (``litellm.completion`` and
    ``acompletion``, sync or async, streaming or not, the Router, the wrappers):
    ``{"tokens_before", "tokens_after", "tokens_saved", "retrieve_rounds", "source"}``, or
    ``None`` when Headroom did not compress the call (the daemon was down, the shape unknown).
    LiteLLM gives no hook that reaches a sync response before it is returned, so this looks the
    call up by its ``_hidden_params["litellm_call_id"]`` when ``_hidden_params["headroom"]`` is
    not there."""
    hidden = getattr(response, "_hidden_params", None)
    if not isinstance(hidden, dict):
        return None
    found = hidden.get(HIDDEN_PARAMS_KEY)
    if not isinstance(found, dict):
        found = _SAVINGS.get(hidden.get("litellm_call_id"))
    return dict(found) if found else None


def _chat_shaped(message: Any) -> bool:
    """Whether one message of a provider body is an OpenAI chat or Anthropic message."""
    if not isinstance(message, dict) or message.get("role") not in _CHAT_ROLES:
        return False
    content = message.get("content")
    if content is None or isinstance(content, str):
        return True
    return isinstance(content, list) and all(isinstance(b, dict) and isinstance(b.get("type"), str) for b in content)


def _body_format(provider: Any, body: Any) -> Optional[ProviderFormat]:
    """The format of a provider request body whose ``messages`` Headroom can rewrite, or None."""
    if provider in _SIGNED_BODY_PROVIDERS or not isinstance(body, dict):
        return None
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not all(_chat_shaped(m) for m in messages):
        return None
    return ProviderFormat.Anthropic if provider == "anthropic" else ProviderFormat.Auto


def _with_savings(body: dict, saved: dict, anthropic: bool) -> dict:
    """``body`` with ``saved`` in its LiteLLM metadata (``litellm_metadata`` on the Anthropic
    path, where ``metadata`` is the API's own field). The proxy's metadata dict is shared with its
    logging object, so it is written in place; an SDK caller's dict is copied, never touched."""
    key = "litellm_metadata" if anthropic or isinstance(body.get("litellm_metadata"), dict) else "metadata"
    metadata = body.get(key)
    if "proxy_server_request" in body and isinstance(metadata, dict):
        metadata[SAVINGS_METADATA] = saved
        return body
    return {**body, key: {**(metadata if isinstance(metadata, dict) else {}), SAVINGS_METADATA: saved}}


class HeadroomCallback(CustomLogger):
    """Compresses the messages of every LiteLLM call it sees. ``client``: a ``HeadroomClient``
    (default: the process-wide one); ``options``: ``headroom.compress`` options such as
    ``protect_recent``, and ``memory`` (a ``MemoryScope`` or dict) for every call; one call's
    ``metadata={"headroom_memory": scope}`` overrides it. With a scope the memory tools are
    offered where Headroom's tools are (unless ``memory_tools=False``). Fails open like
    ``headroom.compress``."""

    def __init__(self, client: Optional[HeadroomClient] = None, **options):
        super().__init__()
        self.client = client
        self.options = loop_options(options)
        self._followups: collections.deque = collections.deque(maxlen=64)

    def _client(self) -> HeadroomClient:
        return self.client or default_client()

    def _memory(self, kwargs: dict) -> Any:
        """The memory scope of one call: its metadata's, else the callback's (else None)."""
        params = kwargs.get("litellm_params")
        for holder in (kwargs, params if isinstance(params, dict) else {}):
            for key in ("metadata", "litellm_metadata"):
                metadata = holder.get(key)
                if isinstance(metadata, dict) and metadata.get(MEMORY_METADATA) is not None:
                    return metadata[MEMORY_METADATA]
        return self.options.get("memory")

    def _options(self, kwargs: dict, tools_possible: bool) -> dict:
        """Compress options for one call; the memory tools are asked for only where they could
        be offered."""
        options = loop_options({"app": LEDGER_CLIENT, **self.options, "memory": self._memory(kwargs)})
        if not tools_possible and options.get("memory") is not None:
            options["memory_tools"] = False
        return options

    async def _compress(self, messages: Any, model: Any, fmt: ProviderFormat, kwargs: dict):
        """``(compressed list, CompressResult, savings)``, or ``None`` to leave the call as is."""
        if _WRAPPED.get() or not isinstance(messages, list) or not messages:
            return None
        call_id = kwargs.get("litellm_call_id")
        _SEEN.put(call_id, True)
        if _DONE.get(call_id) == messages:
            return None  # this call's messages are already Headroom's output
        for i, followup in enumerate(self._followups):
            if followup == messages:
                del self._followups[i]
                return None
        options = self._options(kwargs, not kwargs.get("stream"))
        result = await self._client().aio.compress(
            messages, model=model if isinstance(model, str) else None, format=fmt, **options)
        if result.error is not None:
            return None
        out = result.messages if result.messages is not messages else list(messages)
        _DONE.put(call_id, out)
        saved = _savings_of(result)
        _SAVINGS.put(call_id, saved)
        return out, result, saved

    @staticmethod
    def _offer(body: dict, result: CompressResult) -> Any:
        """The tools to send: the call's own plus Headroom's, when someone will answer them (not
        on a stream) and this LiteLLM can send tools at all; else the call's own."""
        own = body.get("tools")
        if body.get("stream") or not (result.retrieve_tool or result.memory_tools):
            return own
        if not own and not litellm_takes_tools():
            return own
        return tools.offer(own, result)[0]

    async def _rewrite(self, body: dict, call_type: Any) -> Optional[dict]:
        """A copy of a call's body with its messages compressed, Headroom's tools added where
        they are answered and the savings in its metadata; None when the call type has no
        messages or nothing changed."""
        name = getattr(call_type, "value", call_type)
        shape = _SHAPES.get(name)
        if shape is None:
            return None
        key, fmt = shape
        done = await self._compress(body.get(key), body.get("model"), fmt, body)
        if done is None:
            return None
        messages, result, saved = done
        out = {**body, key: messages}
        offered = self._offer(body, result)
        if offered is not body.get("tools"):
            out["tools"] = offered
        return _with_savings(out, saved, "anthropic" in name)

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
        compressed, result, saved = done
        messages[:] = compressed
        metadata = kwargs.get("litellm_metadata")
        if "proxy_server_request" in kwargs and isinstance(metadata, dict):
            metadata[SAVINGS_METADATA] = saved
        offered = self._offer(kwargs, result)
        if offered is kwargs.get("tools"):
            return None
        return {**kwargs, "tools": offered}

    # --- sync calls: the provider body, just before LiteLLM sends it

    def log_pre_api_call(self, model: Any, messages: Any, kwargs: dict) -> None:
        """Compresses a sync ``litellm.completion`` / ``Router.completion`` (streaming or not):
        LiteLLM 1.106 runs no pre-call hook for them, only this input callback, with the request
        body it sends next (``additional_args["complete_input_dict"]``, the same dict object), whose
        ``messages`` are replaced. No tools are added: nothing would answer them on this path."""
        if _WRAPPED.get() or kwargs.get("call_type") != "completion":
            return
        call_id = kwargs.get("litellm_call_id")
        if _SEEN.get(call_id):
            return
        body = (kwargs.get("additional_args") or {}).get("complete_input_dict")
        done = _DONE.get(call_id)
        if done is not None and isinstance(body, dict) and body.get("messages") is done:
            return  # another HeadroomCallback instance rewrote this body already
        provider = kwargs.get("custom_llm_provider")
        fmt = _body_format(provider, body)
        if fmt is None:
            _warn_once("sync-shape", "headroom: a synchronous LiteLLM call to %s sends a request body Headroom cannot "
                       "rewrite, so it goes uncompressed; for such calls use headroom.litellm.completion() or "
                       "litellm.acompletion().", provider)
            return
        result = self._client().compress(body["messages"], model=model if isinstance(model, str) else None,
                                         format=fmt, **self._options(kwargs, False))
        if result.error is not None:
            return
        body["messages"] = result.messages
        _DONE.put(call_id, result.messages)
        saved = _savings_of(result)
        _SAVINGS.put(call_id, saved)
        params = kwargs.get("litellm_params")
        if isinstance(params, dict):
            # The logging object's own metadata (a copy: the caller's dict stays as it was).
            key = "litellm_metadata" if params.get("litellm_metadata") else "metadata"
            metadata = params.get(key)
            params[key] = {**(metadata if isinstance(metadata, dict) else {}), SAVINGS_METADATA: saved}

    # --- savings on the response

    async def async_post_call_success_deployment_hook(self, request_data: dict, response: Any, call_type: Any):
        saved = _SAVINGS.get(request_data.get("litellm_call_id")) if isinstance(request_data, dict) else None
        hidden = getattr(response, "_hidden_params", None)
        if saved is not None and isinstance(hidden, dict):
            hidden[HIDDEN_PARAMS_KEY] = dict(saved)
        return None

    async def async_post_call_response_headers_hook(self, data: dict, user_api_key_dict: Any, response: Any,
                                                    request_headers: Optional[dict] = None,
                                                    litellm_call_info: Optional[dict] = None) -> Optional[dict]:
        """The proxy's response headers, as headroomd's own HTTP front sends them."""
        saved = _SAVINGS.get(data.get("litellm_call_id")) if isinstance(data, dict) else None
        if saved is None:
            return None
        return {"x-headroom-tokens-before": str(saved["tokens_before"]),
                "x-headroom-tokens-after": str(saved["tokens_after"]),
                "x-headroom-retrieve-rounds": str(saved["retrieve_rounds"])}

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
        saved = _SAVINGS.get(kwargs.get("litellm_call_id"))
        if saved is not None:
            saved["retrieve_rounds"] += 1
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


# --- the wrappers ------------------------------------------------------------------------------


class _Recorder:
    """The client a wrapper hands to ``Loop``: every call passes through to ``client``, and each
    compression is kept (the first is the application's conversation, each later one a retrieve
    round)."""

    def __init__(self, client: Any, results: Optional[list] = None):
        self._client = client
        self.results = [] if results is None else results

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def compress(self, *args, **kwargs) -> CompressResult:
        result = self._client.compress(*args, **kwargs)
        self.results.append(result)
        return result

    @property
    def aio(self) -> "_AioRecorder":
        return _AioRecorder(self._client.aio, self.results)


class _AioRecorder(_Recorder):
    async def compress(self, *args, **kwargs) -> CompressResult:
        result = await self._client.compress(*args, **kwargs)
        self.results.append(result)
        return result


def _record(response: Any, results: list) -> Any:
    """Puts the savings of a wrapper's call on its response (and under its call id)."""
    if not results or results[0].error is not None:
        return response
    saved = {**_savings_of(results[0]), "retrieve_rounds": len(results) - 1}
    hidden = getattr(response, "_hidden_params", None)
    if isinstance(hidden, dict):
        hidden[HIDDEN_PARAMS_KEY] = saved
        _SAVINGS.put(hidden.get("litellm_call_id"), saved)
    return response


def _options(options: Optional[dict]) -> dict:
    """The wrappers' compress options: the caller's, counted under ``litellm`` unless they name
    another client."""
    return {"app": LEDGER_CLIENT, **(options or {})}


def _plain_options(options: Optional[dict]) -> dict:
    """Compress options for a call Headroom's tools cannot join."""
    options = loop_options(_options(options))
    return {**options, "memory_tools": False} if options.get("memory") is not None else options


def completion(model: str, messages: list, *, headroom_client: Optional[HeadroomClient] = None,
               headroom_options: Optional[dict] = None, max_retrieve_rounds: int = 3, **kwargs) -> Any:
    """``litellm.completion`` with compressed messages. A reply that only calls Headroom's tools
    is answered through the daemon and the model called again (at most ``max_retrieve_rounds``
    times). A stream is LiteLLM's own, returned as it comes: no Headroom tool is offered on it
    (nothing would answer it), nor when the call has no tools and this LiteLLM cannot send any
    (``litellm_takes_tools``). ``headroom_options`` are ``headroom.compress`` options, ``memory``
    included (its memory tools are then offered and answered unless ``memory_tools=False``).
    ``savings(response)`` tells what it saved."""
    client = _Recorder(headroom_client or default_client())
    token = _WRAPPED.set(True)
    try:
        if kwargs.get("stream") or (not kwargs.get("tools") and not litellm_takes_tools()):
            result = client.compress(messages, model=model, format=ProviderFormat.OpenAiChat,
                                     **_plain_options(headroom_options))
            return _record(_litellm.completion(model=model, messages=result.messages, **kwargs), client.results)
        loop = Loop(client, max_retrieve_rounds, _options(headroom_options))
        return _record(loop.wrap(_litellm.completion, CHAT)(model=model, messages=messages, **kwargs), client.results)
    finally:
        _WRAPPED.reset(token)


async def acompletion(model: str, messages: list, *, headroom_client: Optional[HeadroomClient] = None,
                      headroom_options: Optional[dict] = None, max_retrieve_rounds: int = 3, **kwargs) -> Any:
    """``completion`` for asyncio, over ``litellm.acompletion``. (A twin because LiteLLM has
    both entry points, and the hooks must stand back while the awaited call runs.)"""
    client = _Recorder(headroom_client or default_client())
    token = _WRAPPED.set(True)
    try:
        if kwargs.get("stream") or (not kwargs.get("tools") and not litellm_takes_tools()):
            result = await client.aio.compress(messages, model=model, format=ProviderFormat.OpenAiChat,
                                               **_plain_options(headroom_options))
            return _record(await _litellm.acompletion(model=model, messages=result.messages, **kwargs), client.results)
        loop = Loop(client, max_retrieve_rounds, _options(headroom_options))
        response = await loop.wrap(_litellm.acompletion, CHAT, asynchronous=True)(model=model, messages=messages,
                                                                                   **kwargs)
        return _record(response, client.results)
    finally:
        _WRAPPED.reset(token)


__all__ = ["HIDDEN_PARAMS_KEY", "HeadroomCallback", "MEMORY_METADATA", "SAVINGS_METADATA", "acompletion",
           "completion", "headroom_callback", "litellm_takes_tools", "savings"]
