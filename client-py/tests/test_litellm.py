"""LiteLLM (the real library, pinned) in SDK mode: the callback on every async entry point, and
the completion()/acompletion() wrappers with their retrieve loop, against the fake provider."""

import asyncio
import copy

import litellm
import pytest

import headroom
from headroom.litellm import HeadroomCallback, acompletion, completion
from conftest import (TOOL_LOG, anthropic_conversation, assert_compressed, assert_uncompressed, responses_input,
                      tool_conversation, tool_names, tool_texts)

READ_LOG = {"type": "function", "function": {"name": "read_log", "description": "Read a log file",
                                             "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}}


@pytest.fixture
def callback(daemon):
    saved = litellm.callbacks
    litellm.callbacks = [HeadroomCallback()]
    yield litellm.callbacks[0]
    litellm.callbacks = saved


def chat_kwargs(provider, **extra):
    return {"model": "openai/gpt-4o", "api_base": provider.url + "/v1", "api_key": "sk-test", **extra}


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


def test_streaming_app_answers_retrieve_with_the_helper(callback, provider):
    # A stream is passed through, so the application's own tool loop sees headroom_retrieve and
    # answers it with headroom.answer_retrieve.
    messages = tool_conversation()

    async def call(msgs):
        stream = await litellm.acompletion(messages=msgs, tools=[READ_LOG], stream=True, **chat_kwargs(provider))
        return [chunk async for chunk in stream]
    chunks = asyncio.run(call(messages))
    calls = [tc for c in chunks for tc in (c.choices[0].delta.tool_calls or [])]
    assert calls[0].function.name == "headroom_retrieve"
    followup = messages + [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": calls[0].id, "type": "function", "function": {"name": "headroom_retrieve",
                                                                  "arguments": calls[0].function.arguments}}]},
        {"role": "tool", "tool_call_id": calls[0].id, "content": headroom.answer_retrieve(calls[0].function.arguments)},
    ]
    text = "".join(c.choices[0].delta.content or "" for c in asyncio.run(call(followup)))
    assert text == "final answer"
    first, second = provider.bodies()
    assert_compressed(first)
    assert tool_texts(second)[0] == tool_texts(first)[0]
    assert tool_texts(second)[-1] == TOOL_LOG


def test_callback_compresses_streaming(callback, provider):
    provider.retrieve = False

    async def main():
        stream = await litellm.acompletion(messages=tool_conversation(), stream=True, **chat_kwargs(provider))
        return "".join([chunk.choices[0].delta.content or "" async for chunk in stream])
    assert asyncio.run(main()) == "final answer"
    assert_compressed(provider.bodies()[0])


def test_callback_on_the_router(callback, provider):
    router = litellm.Router(model_list=[{"model_name": "ops", "litellm_params": chat_kwargs(provider)}])
    provider.retrieve = False
    reply = asyncio.run(router.acompletion(model="ops", messages=tool_conversation()))
    assert reply.choices[0].message.content == "final answer"
    assert_compressed(provider.bodies()[0])


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
    for body in provider.bodies("/v1/messages"):
        assert_compressed(body)
        assert body["messages"][2]["content"][0]["type"] == "tool_result"


def test_callback_on_responses(callback, provider):
    provider.retrieve = False
    reply = asyncio.run(litellm.aresponses(input=responses_input(), **chat_kwargs(provider)))
    assert reply.output[0].content[0].text == "final answer"
    assert_compressed(provider.bodies("/responses")[0])


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


def test_wrapper_streaming_is_passed_through(daemon, provider):
    provider.retrieve = False
    stream = completion(messages=tool_conversation(), stream=True, **chat_kwargs(provider))
    assert "".join(c.choices[0].delta.content or "" for c in stream) == "final answer"
    assert_compressed(provider.bodies()[0])


def test_daemon_stopped_every_call_succeeds_uncompressed(callback, provider, stopped_daemon):
    provider.retrieve = False
    assert asyncio.run(litellm.acompletion(messages=tool_conversation(), **chat_kwargs(provider))) \
        .choices[0].message.content == "final answer"
    assert completion(messages=tool_conversation(), **chat_kwargs(provider)).choices[0].message.content == "final answer"
    assert asyncio.run(acompletion(messages=tool_conversation(), **chat_kwargs(provider))) \
        .choices[0].message.content == "final answer"
    assert len(provider.bodies()) == 3
    for body in provider.bodies():
        assert_uncompressed(body)
