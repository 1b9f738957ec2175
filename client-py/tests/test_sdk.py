"""``with_headroom`` around the real OpenAI and Anthropic SDK clients, against the fake provider."""

import asyncio
import copy

import pytest
from anthropic import Anthropic, AsyncAnthropic
from openai import AsyncOpenAI, OpenAI

from headroom.sdk import with_headroom
from conftest import (TOOL_LOG, anthropic_conversation, assert_compressed, assert_uncompressed, responses_input,
                      tool_conversation, tool_names, tool_texts)

READ_LOG_CHAT = {"type": "function", "function": {"name": "read_log", "parameters": {"type": "object"}}}
READ_LOG_RESPONSES = {"type": "function", "name": "read_log", "parameters": {"type": "object"}}
READ_LOG_ANTHROPIC = {"name": "read_log", "input_schema": {"type": "object"}}
MODEL = "claude-test"


@pytest.fixture
def openai_client(daemon, provider):
    return with_headroom(OpenAI(base_url=provider.url + "/v1", api_key="sk-test", max_retries=0))


@pytest.fixture
def anthropic_client(daemon, provider):
    return with_headroom(Anthropic(base_url=provider.url, api_key="sk-test", max_retries=0))


def assert_retrieve_loop(provider, names):
    first, second = provider.bodies()
    assert_compressed(first)
    assert tool_names(first) == names, "the application's tools survive"
    assert tool_texts(second)[0] == tool_texts(first)[0]
    assert tool_texts(second)[-1] == TOOL_LOG


def test_chat_completions_answer_retrieve(openai_client, provider):
    messages = tool_conversation()
    before = copy.deepcopy(messages)
    reply = openai_client.chat.completions.create(model="gpt-4o", messages=messages, tools=[READ_LOG_CHAT])
    assert reply.choices[0].message.content == "final answer"
    assert messages == before
    assert_retrieve_loop(provider, ["read_log", "headroom_retrieve"])


def test_chat_completions_stream(openai_client, provider):
    provider.retrieve = False
    stream = openai_client.chat.completions.create(model="gpt-4o", messages=tool_conversation(), stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream) == "final answer"
    assert_compressed(provider.bodies()[0])


def test_responses_answer_retrieve(openai_client, provider):
    reply = openai_client.responses.create(model="gpt-4o", input=responses_input(), tools=[READ_LOG_RESPONSES])
    assert reply.output_text == "final answer"
    assert_retrieve_loop(provider, ["read_log", "headroom_retrieve"])
    assert provider.bodies()[1]["input"][-2]["type"] == "function_call"


def test_responses_stream(openai_client, provider):
    provider.retrieve = False
    events = list(openai_client.responses.create(model="gpt-4o", input=responses_input(), stream=True))
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta").strip() == "final answer"
    assert_compressed(provider.bodies()[0])


def test_a_history_with_list_valued_call_ids_goes_through_the_loop(openai_client, provider):
    # An earlier headroom_retrieve call whose ids are lists once made compress raise TypeError.
    history = tool_conversation() + [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": ["r0"], "type": "function", "function": {"name": "headroom_retrieve", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": ["r0"], "content": "nothing"},
    ]
    reply = openai_client.chat.completions.create(model="gpt-4o", messages=history, tools=[READ_LOG_CHAT])
    assert reply.choices[0].message.content == "final answer"
    assert_retrieve_loop(provider, ["read_log", "headroom_retrieve"])


def test_anthropic_native_blocks_answer_retrieve(anthropic_client, provider):
    messages = anthropic_conversation()
    before = copy.deepcopy(messages)
    reply = anthropic_client.messages.create(model=MODEL, max_tokens=64, messages=messages, tools=[READ_LOG_ANTHROPIC])
    assert reply.content[0].text == "final answer"
    assert messages == before
    assert_retrieve_loop(provider, ["read_log", "headroom_retrieve"])
    first, second = provider.bodies()
    assert first["messages"][2]["content"][0]["type"] == "tool_result"
    assert second["messages"][-2]["content"][0]["type"] == "tool_use"


def test_anthropic_stream(anthropic_client, provider):
    provider.retrieve = False
    with anthropic_client.messages.create(model=MODEL, max_tokens=64, messages=anthropic_conversation(),
                                          stream=True) as stream:
        text = "".join(e.delta.text for e in stream if e.type == "content_block_delta")
    assert text == "final answer"
    assert_compressed(provider.bodies()[0])


def test_async_clients(daemon, provider):
    async def main():
        oa = with_headroom(AsyncOpenAI(base_url=provider.url + "/v1", api_key="sk-test", max_retries=0))
        an = with_headroom(AsyncAnthropic(base_url=provider.url, api_key="sk-test", max_retries=0))
        chat = await oa.chat.completions.create(model="gpt-4o", messages=tool_conversation())
        resp = await oa.responses.create(model="gpt-4o", input=responses_input())
        msg = await an.messages.create(model=MODEL, max_tokens=64, messages=anthropic_conversation())
        provider.retrieve = False
        stream = await an.messages.create(model=MODEL, max_tokens=64, messages=anthropic_conversation(), stream=True)
        text = "".join([e.delta.text async for e in stream if e.type == "content_block_delta"])
        return chat.choices[0].message.content, resp.output_text, msg.content[0].text, text
    assert asyncio.run(main()) == ("final answer",) * 4
    assert len(provider.requests) == 7
    for body in provider.bodies():
        assert_compressed(body)


def test_other_attributes_are_the_clients_own(openai_client):
    assert openai_client.api_key == "sk-test"
    assert callable(openai_client.embeddings.create)
    with pytest.raises(TypeError):
        with_headroom(object())


def test_daemon_stopped_calls_go_through_uncompressed(daemon, provider, stopped_daemon):
    provider.retrieve = False
    oa = with_headroom(OpenAI(base_url=provider.url + "/v1", api_key="sk-test", max_retries=0))
    an = with_headroom(Anthropic(base_url=provider.url, api_key="sk-test", max_retries=0))
    reply = oa.chat.completions.create(model="gpt-4o", messages=tool_conversation())
    assert reply.choices[0].message.content == "final answer"
    assert getattr(reply, "headroom", None) is None, "no savings where nothing was compressed"
    assert oa.responses.create(model="gpt-4o", input=responses_input()).output_text == "final answer"
    assert an.messages.create(model=MODEL, max_tokens=64, messages=anthropic_conversation()).content[0].text \
        == "final answer"
    assert len(provider.requests) == 3
    for body in provider.bodies():
        assert_uncompressed(body)
