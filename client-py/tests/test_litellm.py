"""LiteLLM (the real library, pinned) in SDK mode: the callback on every entry point, sync and
async, streaming or not, and the completion()/acompletion() wrappers with their retrieve loop,
against the fake provider."""

import asyncio
import copy
import json
import logging
import threading
import time

import litellm
import pytest
from litellm.integrations.custom_logger import CustomLogger
from litellm.litellm_core_utils.core_helpers import get_litellm_metadata_from_kwargs
from litellm.proxy.spend_tracking.compression_savings import extract_compression_saved_tokens

import headroom
import headroom.litellm as hl
from headroom.litellm import HeadroomCallback, acompletion, completion, savings
from conftest import (MARKER, NEEDLE, TOOL_LOG, anthropic_conversation, assert_compressed, assert_uncompressed,
                      responses_input, tool_conversation, tool_names, tool_texts)

READ_LOG = {"type": "function", "function": {"name": "read_log", "description": "Read a log file",
                                             "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}}


class SpendLog(CustomLogger):
    """Records the metadata LiteLLM's spend logs would read for each successful call."""

    def __init__(self):
        super().__init__()
        self.metadata = []
        self.done = threading.Event()

    def _record(self, kwargs):
        self.metadata.append(get_litellm_metadata_from_kwargs(kwargs))
        self.done.set()

    def log_success_event(self, kwargs, response_obj, start_time, end_time):
        self._record(kwargs)

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        self._record(kwargs)


def unregister(*callbacks):
    """Takes callbacks out of every list LiteLLM copied them into (it keeps at most 30 per list)."""
    for cb in callbacks:
        litellm.logging_callback_manager.remove_callback_from_all_lists(cb)
        while cb in litellm.input_callback:
            litellm.input_callback.remove(cb)


@pytest.fixture
def callback(daemon):
    saved = litellm.callbacks
    cb = HeadroomCallback()
    litellm.callbacks = [cb]
    yield cb
    unregister(cb)
    litellm.callbacks = saved


@pytest.fixture
def spend_log(callback):
    log = SpendLog()
    litellm.callbacks = litellm.callbacks + [log]
    yield log
    unregister(log)


def chat_kwargs(provider, **extra):
    return {"model": "openai/gpt-4o", "api_base": provider.url + "/v1", "api_key": "sk-test", **extra}


def assert_compressed_without_tools(body, tools=()):
    """The log arrived compressed (the ERROR line and a marker in it) and the tools are the
    application's own: nothing would answer a headroom_retrieve call on this path."""
    text = tool_texts(body)[0]
    assert len(text) < len(TOOL_LOG) / 4, (len(text), len(TOOL_LOG))
    assert NEEDLE in text and MARKER in text
    assert tool_names(body) == list(tools)


def assert_saved(saved, rounds=0):
    assert saved is not None
    assert saved["tokens_before"] > 4 * saved["tokens_after"] > 0, saved
    assert saved["tokens_saved"] == saved["tokens_before"] - saved["tokens_after"]
    assert saved["retrieve_rounds"] == rounds


def wait_for_spend_log(log):
    assert log.done.wait(10), "LiteLLM logged no success"
    return log.metadata[-1]


# --- async calls ------------------------------------------------------------------------------


def test_callback_compresses_acompletion_and_litellm_runs_the_retrieve_loop(callback, provider):
    messages = tool_conversation()
    before = copy.deepcopy(messages)
    reply = asyncio.run(litellm.acompletion(messages=messages, tools=[READ_LOG], **chat_kwargs(provider)))
    assert messages == before
    assert reply.choices[0].message.content == "final answer", "the retrieve call never reaches the app"
    first, second = provider.bodies()
    assert_compressed(first)
    assert tool_names(first) == ["read_log", "headroom_retrieve"], "the application's tools survive"
    assert tool_texts(second)[0] == tool_texts(first)[0], "the same compressed bytes again (prompt cache)"
    assert second["messages"][-2]["tool_calls"][0]["function"]["name"] == "headroom_retrieve"
    assert tool_texts(second)[-1] == TOOL_LOG, "the retrieved original reaches the model intact"
    assert_saved(reply._hidden_params["headroom"], rounds=1)
    assert savings(reply) == reply._hidden_params["headroom"]


def test_async_savings_reach_the_spend_log_metadata(spend_log, provider):
    provider.retrieve = False
    metadata = {"team": "ops"}

    async def call():
        reply = await litellm.acompletion(messages=tool_conversation(), metadata=metadata, **chat_kwargs(provider))
        for _ in range(200):  # LiteLLM logs success in a task on this loop
            if spend_log.done.is_set():
                break
            await asyncio.sleep(0.05)
        return reply
    reply = asyncio.run(call())
    logged = wait_for_spend_log(spend_log)
    assert logged["team"] == "ops"
    assert extract_compression_saved_tokens(logged) == savings(reply)["tokens_saved"] > 0, \
        "LiteLLM's own spend accounting counts Headroom's savings"
    assert "compression_savings" not in metadata, "the caller's dict is not modified"


def test_streaming_chat_app_gets_text_and_no_undeclared_tool(callback, provider):
    # LiteLLM runs no retrieve loop on a stream: the callback offers no tool there, so a plain
    # streaming chat app gets the model's text, never a call to a tool it did not declare.
    async def stream(**extra):
        chunks = await litellm.acompletion(messages=tool_conversation(), stream=True, **chat_kwargs(provider, **extra))
        return [chunk async for chunk in chunks], chunks

    chunks, wrapper = asyncio.run(stream())
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "final answer"
    assert not [tc for c in chunks for tc in (c.choices[0].delta.tool_calls or [])]
    assert_compressed_without_tools(provider.bodies()[0])
    assert_saved(savings(wrapper))
    chunks, _ = asyncio.run(stream(tools=[READ_LOG]))
    assert_compressed_without_tools(provider.bodies()[1], ["read_log"])


def test_callback_on_the_router(callback, provider):
    router = litellm.Router(model_list=[{"model_name": "ops", "litellm_params": chat_kwargs(provider)}])
    provider.retrieve = False
    reply = asyncio.run(router.acompletion(model="ops", messages=tool_conversation()))
    assert reply.choices[0].message.content == "final answer"
    assert_compressed(provider.bodies()[0])
    assert_saved(savings(reply))


def test_callback_on_anthropic_messages_compresses_once(callback, provider):
    provider.retrieve = False
    compressions = headroom.stats().compress_requests

    async def main():
        kwargs = {"model": "anthropic/claude-sonnet-4-5", "max_tokens": 64, "api_base": provider.url, "api_key": "sk-test"}
        reply = await litellm.anthropic.messages.acreate(messages=anthropic_conversation(), **kwargs)
        stream = await litellm.anthropic.messages.acreate(messages=anthropic_conversation(), stream=True, **kwargs)
        return reply, b"".join([chunk async for chunk in stream])
    reply, streamed = asyncio.run(main())
    assert reply["content"][0]["text"] == "final answer"
    assert b"text_delta" in streamed
    assert headroom.stats().compress_requests - compressions == 2, "one compression per call, not per hook"
    whole, stream = provider.bodies("/v1/messages")
    assert_compressed(whole)
    assert_compressed_without_tools(stream)
    assert whole["messages"][2]["content"][0]["type"] == "tool_result"
    assert "metadata" not in whole and "metadata" not in stream, "savings stay in LiteLLM's own metadata"


def test_callback_on_responses(callback, provider):
    provider.retrieve = False
    reply = asyncio.run(litellm.aresponses(input=responses_input(), **chat_kwargs(provider)))
    assert reply.output[0].content[0].text == "final answer"
    assert_compressed(provider.bodies("/responses")[0])


def test_sync_responses_runs_the_async_hooks_and_the_retrieve_loop(callback, provider):
    # LiteLLM's sync responses() runs its async path inside: compressed, retrieve answered.
    reply = litellm.responses(input=responses_input(), **chat_kwargs(provider))
    assert [item.type for item in reply.output] == ["message"]
    first, second = provider.bodies("/responses")
    assert_compressed(first)
    assert tool_texts(second)[-1] == TOOL_LOG
    assert_saved(savings(reply), rounds=1)


# --- sync calls: no pre-call hook, the callback rewrites the provider body ---------------------


def test_sync_completion_is_compressed(spend_log, provider):
    messages = tool_conversation()
    before = copy.deepcopy(messages)
    reply = litellm.completion(messages=messages, **chat_kwargs(provider))
    assert reply.choices[0].message.content == "final answer"
    assert messages == before
    assert_compressed_without_tools(provider.bodies()[0])
    assert_saved(savings(reply))
    assert extract_compression_saved_tokens(wait_for_spend_log(spend_log)) == savings(reply)["tokens_saved"]


def test_sync_stream_is_compressed(callback, provider):
    stream = litellm.completion(messages=tool_conversation(), stream=True, tools=[READ_LOG], **chat_kwargs(provider))
    assert "".join(c.choices[0].delta.content or "" for c in stream) == "final answer"
    assert_compressed_without_tools(provider.bodies()[0], ["read_log"])
    assert_saved(savings(stream))


def test_sync_router_completion_and_stream_are_compressed(callback, provider):
    router = litellm.Router(model_list=[{"model_name": "ops", "litellm_params": chat_kwargs(provider)}])
    reply = router.completion(model="ops", messages=tool_conversation())
    assert reply.choices[0].message.content == "final answer"
    stream = router.completion(model="ops", messages=tool_conversation(), stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream) == "final answer"
    for body in provider.bodies():
        assert_compressed_without_tools(body)
    assert_saved(savings(reply))
    assert_saved(savings(stream))


def test_sync_completion_to_anthropic_is_compressed(callback, provider):
    reply = litellm.completion(model="anthropic/claude-sonnet-4-5", messages=tool_conversation(),
                               api_base=provider.url, api_key="sk-test")
    assert reply.choices[0].message.content == "final answer"
    body = provider.bodies("/v1/messages")[0]
    assert body["messages"][-1]["content"][0]["type"] == "tool_result"
    text = tool_texts(body)[0]
    assert len(text) < len(TOOL_LOG) / 4 and NEEDLE in text and MARKER in text
    assert "headroom_retrieve" not in tool_names(body)


def test_sync_call_whose_body_headroom_cannot_rewrite_warns_once(callback, provider, monkeypatch, caplog):
    # Gemini's request body has `contents`, not `messages`: sent as LiteLLM built it, and the
    # headroom logger says so once per process. (The fake provider has no Gemini route: 404.)
    monkeypatch.setattr(hl, "_warned", set())
    caplog.set_level(logging.WARNING, logger="headroom")
    for _ in range(2):
        with pytest.raises(litellm.NotFoundError):
            litellm.completion(model="gemini/gemini-2.0-flash", messages=tool_conversation(),
                               api_base=provider.url, api_key="sk-test")
    warnings = [r for r in caplog.records if r.name == "headroom" and "cannot rewrite" in r.getMessage()]
    assert len(warnings) == 1
    assert "headroom.litellm.completion()" in warnings[0].getMessage()
    assert len(provider.requests) == 2
    assert json.dumps(TOOL_LOG)[1:-1] in json.dumps(provider.requests[0].body), "the whole log went out"


# --- the wrappers -----------------------------------------------------------------------------


def test_completion_wrapper_runs_the_retrieve_loop(daemon, provider):
    messages = tool_conversation()
    before = copy.deepcopy(messages)
    reply = completion(messages=messages, tools=[READ_LOG], **chat_kwargs(provider))
    assert reply.choices[0].message.content == "final answer"
    assert messages == before
    first, second = provider.bodies()
    assert_compressed(first)
    assert tool_names(second) == ["read_log", "headroom_retrieve"]
    assert second["messages"][-2]["tool_calls"][0]["function"]["name"] == "headroom_retrieve"
    assert tool_texts(second)[-1] == TOOL_LOG
    assert_saved(reply._hidden_params["headroom"], rounds=1)


def test_acompletion_wrapper_with_the_callback_registered_compresses_once(callback, provider):
    # The wrapper compresses; the callback's hooks stand back, and its agentic-loop hooks answer
    # the retrieve call inside LiteLLM without compressing the follow-up again.
    compressions = headroom.stats().compress_requests
    reply = asyncio.run(acompletion(messages=tool_conversation(), **chat_kwargs(provider)))
    assert reply.choices[0].message.content == "final answer"
    assert len(provider.bodies()) == 2
    assert headroom.stats().compress_requests - compressions == 1
    assert_compressed(provider.bodies()[0])
    assert tool_texts(provider.bodies()[1])[-1] == TOOL_LOG
    assert_saved(savings(reply))


def test_sync_wrapper_with_the_callback_registered_compresses_once(callback, provider):
    compressions = headroom.stats().compress_requests
    reply = completion(messages=tool_conversation(), **chat_kwargs(provider))
    assert reply.choices[0].message.content == "final answer"
    assert headroom.stats().compress_requests - compressions == 2, "the wrapper's two rounds, not the callback"
    assert_compressed(provider.bodies()[0])


def test_wrapper_streams_are_compressed_without_an_undeclared_tool(daemon, provider):
    # The wrappers hand LiteLLM's stream back as it comes, so they offer no tool on it.
    stream = completion(messages=tool_conversation(), stream=True, **chat_kwargs(provider))
    assert "".join(c.choices[0].delta.content or "" for c in stream) == "final answer"

    async def astream():
        chunks = await acompletion(messages=tool_conversation(), stream=True, tools=[READ_LOG], **chat_kwargs(provider))
        return "".join([c.choices[0].delta.content or "" async for c in chunks])
    assert asyncio.run(astream()) == "final answer"
    first, second = provider.bodies()
    assert_compressed_without_tools(first)
    assert_compressed_without_tools(second, ["read_log"])
    assert_saved(savings(stream))


# --- the daemon stopped -----------------------------------------------------------------------


def test_daemon_stopped_every_call_succeeds_uncompressed(callback, provider, stopped_daemon):
    provider.retrieve = False
    replies = [
        asyncio.run(litellm.acompletion(messages=tool_conversation(), **chat_kwargs(provider))),
        litellm.completion(messages=tool_conversation(), **chat_kwargs(provider)),
        completion(messages=tool_conversation(), **chat_kwargs(provider)),
        asyncio.run(acompletion(messages=tool_conversation(), **chat_kwargs(provider))),
    ]
    stream = litellm.completion(messages=tool_conversation(), stream=True, **chat_kwargs(provider))
    assert "".join(c.choices[0].delta.content or "" for c in stream) == "final answer"
    assert [r.choices[0].message.content for r in replies] == ["final answer"] * 4
    assert [savings(r) for r in replies] == [None] * 4
    assert len(provider.bodies()) == 5
    for body in provider.bodies():
        assert_uncompressed(body)
