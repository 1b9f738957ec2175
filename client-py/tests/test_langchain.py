"""LangChain (langchain-core 1.8, the real library) with langchain-openai's ChatOpenAI as the
wrapped model, against the fake provider."""

import asyncio
import copy

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_openai import ChatOpenAI
from pydantic import BaseModel

from headroom.langchain import HeadroomChatModel
from fake_provider import Scripted
from conftest import (QUESTION, TOOL_LOG, assert_compressed, assert_uncompressed, tool_names, tool_texts)


def conversation():
    return [SystemMessage("You are an operations assistant."), HumanMessage(QUESTION),
            AIMessage("", tool_calls=[{"id": "call_log", "name": "read_log", "args": {"path": "job.log"}}]),
            ToolMessage(TOOL_LOG, tool_call_id="call_log")]


@pytest.fixture
def model(daemon, provider):
    return HeadroomChatModel(model=ChatOpenAI(model="gpt-4o", base_url=provider.url + "/v1", api_key="sk-test",
                                              max_retries=0))


def get_weather(city: str) -> str:
    """The weather in a city."""
    return "sunny"


def assert_retrieve_loop(provider):
    first, second = provider.bodies()
    assert_compressed(first)
    assert tool_texts(second)[0] == tool_texts(first)[0]
    assert tool_texts(second)[-1] == TOOL_LOG


def test_invoke_answers_retrieve_and_the_app_sees_only_the_answer(model, provider):
    messages = conversation()
    before = copy.deepcopy(messages)
    reply = model.invoke(messages)
    assert reply.content == "final answer" and reply.tool_calls == []
    assert messages == before
    assert_retrieve_loop(provider)


def test_ainvoke(model, provider):
    assert asyncio.run(model.ainvoke(conversation())).content == "final answer"
    assert_retrieve_loop(provider)


def test_stream_answers_retrieve_unseen(model, provider):
    chunks = list(model.stream(conversation()))
    assert "".join(c.content for c in chunks) == "final answer"
    assert not any(c.tool_call_chunks for c in chunks)
    assert_retrieve_loop(provider)


def test_astream(model, provider):
    async def main():
        return [c async for c in model.astream(conversation())]
    assert "".join(c.content for c in asyncio.run(main())) == "final answer"
    assert_retrieve_loop(provider)


def test_batch(model, provider):
    provider.retrieve = False
    assert [m.content for m in model.batch([conversation(), conversation()])] == ["final answer"] * 2
    for body in provider.bodies():
        assert_compressed(body)


def test_bind_tools_passes_the_apps_tools_and_returns_its_calls(model, provider):
    bound = model.bind_tools([get_weather], tool_choice="auto")
    assert bound.invoke(conversation()).content == "final answer"
    assert tool_names(provider.bodies()[0]) == ["get_weather", "headroom_retrieve"]
    assert provider.bodies()[0]["tool_choice"] == "auto"
    provider.requests.clear()
    provider.retrieve = False
    provider.script.append(Scripted(tool="get_weather", args={"city": "Oslo"}))
    reply = bound.invoke(conversation())
    assert reply.tool_calls[0]["name"] == "get_weather" and reply.tool_calls[0]["args"] == {"city": "Oslo"}
    provider.script.append(Scripted(tool="get_weather", args={"city": "Oslo"}))
    chunks = list(bound.stream(conversation()))
    assert sum(chunks[1:], chunks[0]).tool_calls[0]["name"] == "get_weather"


def test_with_structured_output_is_the_wrapped_models(model, provider):
    class Cause(BaseModel):
        cause: str

    provider.retrieve = False
    provider.script.append(Scripted(tool="Cause", args={"cause": "unknown container"}))
    structured = model.with_structured_output(Cause, method="function_calling")
    assert structured.invoke(conversation()) == Cause(cause="unknown container")
    provider.script.append(Scripted(tool="Cause", args={"cause": "unknown container"}))
    assert asyncio.run(structured.ainvoke(conversation())) == Cause(cause="unknown container")
    assert len(provider.bodies()) == 2
    for body in provider.bodies():
        assert tool_names(body) == ["Cause"]
        text = tool_texts(body)[0]
        assert len(text) < len(TOOL_LOG) / 4


def test_daemon_stopped_calls_go_through_uncompressed(model, provider, stopped_daemon):
    provider.retrieve = False
    assert model.invoke(conversation()).content == "final answer"
    assert "".join(c.content for c in model.stream(conversation())) == "final answer"
    assert asyncio.run(model.ainvoke(conversation())).content == "final answer"
    assert model.bind_tools([get_weather]).invoke(conversation()).content == "final answer"
    for body in provider.bodies():
        assert_uncompressed(body)


# --- the numbers: every round counted, one finish, the savings --------------------------------


def usage_model(provider, **kw):
    return HeadroomChatModel(model=ChatOpenAI(model="gpt-4o", base_url=provider.url + "/v1", api_key="sk-test",
                                              max_retries=0, stream_usage=True), **kw)


def assert_saved(saved):
    assert saved["retrieve_rounds"] == 1
    assert saved["tokens_before"] > 4 * saved["tokens_after"] > 0


def assert_one_reply_of_two_rounds(message):
    assert message.response_metadata["finish_reason"] == "stop"
    assert message.response_metadata["model_name"] == "gpt-4o"
    usage = message.usage_metadata
    assert (usage["input_tokens"], usage["output_tokens"], usage["total_tokens"]) == (20, 4, 24)
    assert_saved(message.response_metadata["headroom"])


def test_stream_after_a_hidden_round_is_one_reply_counting_both_rounds(daemon, provider):
    provider.preface = "Let me look."
    seen, requests_at_first_text = [], None
    for chunk in usage_model(provider).stream(conversation()):
        if chunk.content and requests_at_first_text is None:
            requests_at_first_text = len(provider.requests)
        seen.append(chunk)
    total = sum(seen[1:], seen[0])
    assert total.content == "Let me look.final answer" and total.tool_calls == []
    assert requests_at_first_text == 1, "the first round's text passed before its tool call was answered"
    assert_one_reply_of_two_rounds(total)
    assert_retrieve_loop(provider)


def test_astream_counts_both_rounds(daemon, provider):
    async def main():
        return [c async for c in usage_model(provider).astream(conversation())]
    chunks = asyncio.run(main())
    assert_one_reply_of_two_rounds(sum(chunks[1:], chunks[0]))


def test_invoke_counts_both_rounds(daemon, provider):
    reply = usage_model(provider).invoke(conversation())
    assert reply.content == "final answer"
    assert_one_reply_of_two_rounds(reply)
    assert reply.response_metadata["token_usage"]["prompt_tokens"] == 20
    assert_retrieve_loop(provider)


def test_a_call_without_retrieve_has_its_savings_and_its_own_usage(model, provider):
    provider.retrieve = False
    reply = model.invoke(conversation())
    assert reply.usage_metadata["input_tokens"] == 10
    assert reply.response_metadata["headroom"]["retrieve_rounds"] == 0
    assert reply.response_metadata["headroom"]["tokens_after"] < reply.response_metadata["headroom"]["tokens_before"]


def test_stream_whose_rounds_run_out_ends_in_text(daemon, provider):
    provider.preface = "Let me look."
    chunks = list(usage_model(provider, max_retrieve_rounds=0).stream(conversation()))
    total = sum(chunks[1:], chunks[0])
    assert total.content == "Let me look." and total.tool_calls == []
    assert total.response_metadata["finish_reason"] == "stop"
    assert len(provider.requests) == 1
