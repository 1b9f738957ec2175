"""The streaming rule of the SDK wrappers, against the real SDKs and the fake provider's SSE
streams: where the wrapper owns the stream it answers Headroom's tools inside it — text passes
on as it arrives, only the tool-call round is held — and where it cannot, it does not offer
them."""

import asyncio

import pytest
from anthropic import Anthropic, AsyncAnthropic
from openai import OpenAI

from headroom.sdk import savings, with_headroom
from fake_provider import Scripted
from conftest import (TOOL_LOG, anthropic_conversation, assert_compressed, responses_input, tool_conversation,
                      tool_names, tool_texts)

MODEL = "claude-test"
PREFACE = "Let me look."
READ_LOG = {"chat": {"type": "function", "function": {"name": "read_log", "parameters": {"type": "object"}}},
            "responses": {"type": "function", "name": "read_log", "parameters": {"type": "object"}},
            "anthropic": {"name": "read_log", "input_schema": {"type": "object"}}}


def openai(provider, **kw):
    return with_headroom(OpenAI(base_url=provider.url + "/v1", api_key="sk-test", max_retries=0), **kw)


def anthropic(provider, **kw):
    return with_headroom(Anthropic(base_url=provider.url, api_key="sk-test", max_retries=0), **kw)


class Seen:
    """What a streaming app saw: text, tool calls, how it ended, and how many requests had
    reached the provider when the first text arrived."""

    def __init__(self):
        self.text, self.calls, self.end, self.requests_at_first_text = "", [], None, None


def chat_stream(provider, tools=None, **kw) -> Seen:
    seen, extra = Seen(), ({"tools": [READ_LOG["chat"]]} if tools else {})
    for chunk in openai(provider, **kw).chat.completions.create(model="gpt-4o", messages=tool_conversation(),
                                                                stream=True, **extra):
        for choice in chunk.choices:
            if choice.delta.content:
                seen.requests_at_first_text = seen.requests_at_first_text or len(provider.requests)
                seen.text += choice.delta.content
            seen.calls += [(c.index, c.function.name) for c in choice.delta.tool_calls or ()]
            seen.end = choice.finish_reason or seen.end
    return seen


def responses_stream(provider, tools=None, **kw) -> Seen:
    seen, extra = Seen(), ({"tools": [READ_LOG["responses"]]} if tools else {})
    for event in openai(provider, **kw).responses.create(model="gpt-4o", input=responses_input(), stream=True,
                                                         **extra):
        if event.type == "response.output_text.delta":
            seen.requests_at_first_text = seen.requests_at_first_text or len(provider.requests)
            seen.text += event.delta
        if event.type == "response.output_item.added" and event.item.type == "function_call":
            seen.calls.append((event.output_index, event.item.name))
        if event.type == "response.completed":
            calls = [i for i in event.response.output if i.type == "function_call"]
            seen.end = "tool_calls" if calls else "stop"
    return seen


def anthropic_stream(provider, tools=None, **kw) -> Seen:
    seen, extra = Seen(), ({"tools": [READ_LOG["anthropic"]]} if tools else {})
    with anthropic(provider, **kw).messages.create(model=MODEL, max_tokens=64, messages=anthropic_conversation(),
                                                   stream=True, **extra) as stream:
        for event in stream:
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                seen.requests_at_first_text = seen.requests_at_first_text or len(provider.requests)
                seen.text += event.delta.text
            if event.type == "content_block_start" and event.content_block.type == "tool_use":
                seen.calls.append((event.index, event.content_block.name))
            if event.type == "message_delta":
                seen.end = {"tool_use": "tool_calls", "end_turn": "stop"}[event.delta.stop_reason]
    return seen


STREAMS = {"chat": chat_stream, "responses": responses_stream, "anthropic": anthropic_stream}


@pytest.mark.parametrize("api", STREAMS)
def test_a_plain_streaming_app_gets_text_as_it_comes_and_no_tool_call(daemon, provider, api):
    provider.preface = PREFACE
    seen = STREAMS[api](provider)
    assert seen.text == PREFACE + "final answer"
    assert seen.calls == [] and seen.end == "stop"
    assert seen.requests_at_first_text == 1, "the first round's text passed before its tool call was answered"
    first, second = provider.bodies()
    assert_compressed(first)
    assert tool_texts(second)[-1] == TOOL_LOG


@pytest.mark.parametrize("api", STREAMS)
def test_a_streamed_reply_calling_the_apps_tool_and_headrooms_keeps_only_the_apps(daemon, provider, api):
    provider.retrieve = False
    provider.script.append(Scripted(tool="headroom_retrieve", args={"hash": "0" * 24}, preface=PREFACE,
                                    more=[("read_log", {"path": "other.log"})]))
    seen = STREAMS[api](provider, tools=True)
    assert seen.text == PREFACE
    assert [name for _, name in seen.calls] == ["read_log"] and seen.end == "tool_calls"
    assert [index for index, _ in seen.calls] == [{"chat": 0, "responses": 1, "anthropic": 1}[api]], \
        "indexes follow what was passed on"
    assert len(provider.requests) == 1
    assert tool_names(provider.bodies()[0]) == ["read_log", "headroom_retrieve"]


@pytest.mark.parametrize("api", STREAMS)
def test_when_the_rounds_run_out_the_stream_ends_without_headrooms_call(daemon, provider, api):
    provider.preface = PREFACE
    seen = STREAMS[api](provider, max_retrieve_rounds=0)
    assert seen.text == PREFACE and seen.calls == [] and seen.end == "stop"
    assert len(provider.requests) == 1


def test_when_the_rounds_run_out_a_reply_ends_without_headrooms_call(daemon, provider):
    provider.preface = PREFACE
    reply = openai(provider, max_retrieve_rounds=0).chat.completions.create(model="gpt-4o",
                                                                            messages=tool_conversation())
    assert reply.choices[0].message.content == PREFACE
    assert reply.choices[0].message.tool_calls is None and reply.choices[0].finish_reason == "stop"
    message = anthropic(provider, max_retrieve_rounds=0).messages.create(model=MODEL, max_tokens=64,
                                                                         messages=anthropic_conversation())
    assert [b.type for b in message.content] == ["text"] and message.stop_reason == "end_turn"


def test_a_stream_nobody_can_answer_is_compressed_without_the_tool(daemon, provider):
    provider.retrieve = False
    stream = openai(provider).chat.completions.create(model="gpt-4o", messages=tool_conversation(), stream=True, n=2)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "final answer"
    body = provider.bodies()[0]
    assert len(tool_texts(body)[0]) < len(TOOL_LOG) / 4
    assert "headroom_retrieve" not in tool_names(body)


def test_the_last_chunk_counts_every_round(daemon, provider):
    chunks = list(openai(provider).chat.completions.create(model="gpt-4o", messages=tool_conversation(), stream=True,
                                                           stream_options={"include_usage": True}))
    last = chunks[-1]
    assert last.choices == [] and (last.usage.prompt_tokens, last.usage.completion_tokens) == (20, 4)
    assert savings(last)["retrieve_rounds"] == 1
    assert len({c.id for c in chunks}) == 1, "one id across the rounds"


def test_closing_a_stream_early_stops_the_rounds(daemon, provider):
    provider.preface = PREFACE
    with anthropic(provider).messages.create(model=MODEL, max_tokens=64, messages=anthropic_conversation(),
                                             stream=True) as stream:
        assert next(iter(stream)).type == "message_start"
    assert len(provider.requests) == 1


def test_async_stream_answers_inside(daemon, provider):
    provider.preface = PREFACE

    async def main():
        client = with_headroom(AsyncAnthropic(base_url=provider.url, api_key="sk-test", max_retries=0))
        stream = await client.messages.create(model=MODEL, max_tokens=64, messages=anthropic_conversation(),
                                              stream=True)
        return [e async for e in stream]
    events = asyncio.run(main())
    assert "".join(e.delta.text for e in events if e.type == "content_block_delta") == PREFACE + "final answer"
    assert [e.index for e in events if e.type == "content_block_start"] == [0, 1]
    assert not any(e.type == "content_block_start" and e.content_block.type == "tool_use" for e in events)
    delta = next(e for e in events if e.type == "message_delta")
    assert delta.usage.input_tokens == 20 and delta.usage.output_tokens == 4
    assert len(provider.requests) == 2


def test_daemon_stopped_streams_go_through_uncompressed_without_the_tool(daemon, provider, stopped_daemon):
    provider.retrieve = False
    assert chat_stream(provider).text == "final answer"
    assert anthropic_stream(provider).text == "final answer"
    for body in provider.bodies():
        assert tool_texts(body)[0] == TOOL_LOG
        assert "headroom_retrieve" not in tool_names(body)
