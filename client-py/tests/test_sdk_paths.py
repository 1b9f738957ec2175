"""Every call path of the real OpenAI (2.54) and Anthropic (2.14) SDKs through ``with_headroom``,
against the fake provider: what reached it was compressed, the model's ``headroom_retrieve``
call was answered unseen, and the reply counts both rounds and says what was saved."""

import asyncio
import json
import logging

import pytest
from anthropic import Anthropic, AnthropicBedrock, AnthropicVertex, AsyncAnthropic, NotFoundError
from openai import AsyncOpenAI, AzureOpenAI, OpenAI
from pydantic import BaseModel

from headroom.sdk import savings, with_headroom
from fake_provider import Scripted
from conftest import (TOOL_LOG, anthropic_conversation, assert_compressed, responses_input, tool_conversation,
                      tool_names, tool_texts)

MODEL = "claude-test"


class Cause(BaseModel):
    cause: str


CAUSE = Cause(cause="unknown container")


@pytest.fixture
def oa(daemon, provider):
    return with_headroom(OpenAI(base_url=provider.url + "/v1", api_key="sk-test", max_retries=0))


@pytest.fixture
def an(daemon, provider):
    return with_headroom(Anthropic(base_url=provider.url, api_key="sk-test", max_retries=0))


def assert_looped(provider, saved=None):
    """Two provider calls: the compressed conversation, then the same with the retrieved
    original as the answer to the model's headroom_retrieve call."""
    first, second = provider.bodies()
    assert_compressed(first)
    assert tool_texts(second)[0] == tool_texts(first)[0]
    assert tool_texts(second)[-1] == TOOL_LOG
    if saved is not None:
        assert saved["retrieve_rounds"] == 1
        assert saved["tokens_before"] > 4 * saved["tokens_after"] > 0
        assert saved["tokens_saved"] == saved["tokens_before"] - saved["tokens_after"]


def script_json(provider):
    provider.script.append(Scripted(text=json.dumps(CAUSE.model_dump())))


# --- OpenAI -----------------------------------------------------------------------------------


def test_the_wrapped_client_is_a_copy_of_the_sdks_class(daemon, provider):
    original = OpenAI(base_url=provider.url + "/v1", api_key="sk-test", max_retries=0)
    wrapped = with_headroom(original)
    assert isinstance(wrapped, OpenAI) and wrapped is not original
    provider.retrieve = False
    original.chat.completions.create(model="gpt-4o", messages=tool_conversation())
    assert tool_texts(provider.bodies()[0])[0] == TOOL_LOG, "the client given is not modified"
    provider.requests.clear()
    wrapped.with_options(timeout=30).chat.completions.create(model="gpt-4o", messages=tool_conversation())
    assert_compressed(provider.bodies()[0])


def test_chat_create_reply_counts_both_rounds(oa, provider):
    reply = oa.chat.completions.create(model="gpt-4o", messages=tool_conversation())
    assert reply.choices[0].message.content == "final answer"
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.total_tokens) == (20, 4, 24)
    assert savings(reply) == reply.headroom
    assert_looped(provider, reply.headroom)


def test_chat_parse(oa, provider):
    script_json(provider)
    reply = oa.chat.completions.parse(model="gpt-4o", messages=tool_conversation(), response_format=Cause)
    assert reply.choices[0].message.parsed == CAUSE
    assert reply.usage.prompt_tokens == 20
    assert_looped(provider, savings(reply))
    assert provider.bodies()[0]["response_format"]["type"] == "json_schema"


def test_beta_chat_parse(oa, provider):
    script_json(provider)
    reply = oa.beta.chat.completions.parse(model="gpt-4o", messages=tool_conversation(), response_format=Cause)
    assert reply.choices[0].message.parsed == CAUSE
    assert_looped(provider, savings(reply))


def test_chat_with_raw_response(oa, provider):
    raw = oa.chat.completions.with_raw_response.create(model="gpt-4o", messages=tool_conversation())
    assert raw.headers["content-type"] == "application/json"
    reply = raw.parse()
    assert reply.choices[0].message.content == "final answer"
    assert_looped(provider, savings(reply))


def test_chat_with_raw_response_parse(oa, provider):
    script_json(provider)
    raw = oa.chat.completions.with_raw_response.parse(model="gpt-4o", messages=tool_conversation(),
                                                       response_format=Cause)
    assert raw.parse().choices[0].message.parsed == CAUSE
    assert_looped(provider)


def test_chat_with_streaming_response(oa, provider):
    with oa.chat.completions.with_streaming_response.create(model="gpt-4o", messages=tool_conversation()) as raw:
        reply = raw.parse()
    assert reply.choices[0].message.content == "final answer"
    assert_looped(provider, savings(reply))


def test_chat_with_streaming_response_of_a_stream(oa, provider):
    with oa.chat.completions.with_streaming_response.create(model="gpt-4o", messages=tool_conversation(),
                                                            stream=True) as raw:
        chunks = [json.loads(line[6:]) for line in raw.iter_lines() if line.startswith("data: {")]
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == "final answer"
    assert not any("tool_calls" in c["choices"][0]["delta"] for c in chunks)
    assert_looped(provider, chunks[-1]["headroom"])


def test_chat_stream_helper(oa, provider):
    with oa.chat.completions.stream(model="gpt-4o", messages=tool_conversation(),
                                    stream_options={"include_usage": True}) as stream:
        kinds = {event.type for event in stream}
        final = stream.get_final_completion()
    assert final.choices[0].message.content == "final answer"
    assert final.choices[0].message.tool_calls is None and final.choices[0].finish_reason == "stop"
    assert "tool_calls.function.arguments.delta" not in kinds
    assert final.usage.prompt_tokens == 20
    assert_looped(provider, savings(final))


def test_responses_parse(oa, provider):
    script_json(provider)
    reply = oa.responses.parse(model="gpt-4o", input=responses_input(), text_format=Cause)
    assert reply.output_parsed == CAUSE
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (20, 4)
    assert_looped(provider, savings(reply))


def test_responses_stream_helper(oa, provider):
    with oa.responses.stream(model="gpt-4o", input=responses_input()) as stream:
        kinds = {event.type for event in stream}
        final = stream.get_final_response()
    assert final.output_text == "final answer"
    assert not any(item.type == "function_call" for item in final.output)
    assert "response.function_call_arguments.delta" not in kinds
    assert final.usage.input_tokens == 20
    assert_looped(provider, savings(final))


def test_responses_with_raw_response(oa, provider):
    reply = oa.responses.with_raw_response.create(model="gpt-4o", input=responses_input()).parse()
    assert reply.output_text == "final answer"
    assert_looped(provider, savings(reply))


def test_responses_input_tokens_count_what_would_be_sent(oa, provider):
    oa.responses.input_tokens.count(model="gpt-4o", input=responses_input())
    assert_compressed(provider.bodies("/input_tokens")[0])


def test_azure(daemon, provider):
    client = with_headroom(AzureOpenAI(azure_endpoint=provider.url, api_key="sk-test", api_version="2024-10-21",
                                       max_retries=0))
    with client.chat.completions.stream(model="gpt-4o", messages=tool_conversation()) as stream:
        assert stream.get_final_completion().choices[0].message.content == "final answer"
    assert provider.requests[0].path.startswith("/openai/deployments/gpt-4o/chat/completions")
    assert_looped(provider)


def test_openai_batches_warn_once(oa, provider, caplog):
    with caplog.at_level(logging.WARNING, logger="headroom"):
        for _ in range(2):
            oa.batches.create(input_file_id="file-1", endpoint="/v1/chat/completions", completion_window="24h")
    warnings = [r for r in caplog.records if "batch" in r.getMessage()]
    assert len(warnings) == 1, "once per process"
    assert "headroom.compress" in warnings[0].getMessage(), "with the supported alternative"
    assert len(provider.bodies("/batches")) == 2


def test_async_openai_paths(daemon, provider):
    async def main():
        client = with_headroom(AsyncOpenAI(base_url=provider.url + "/v1", api_key="sk-test", max_retries=0))
        async with client.chat.completions.stream(model="gpt-4o", messages=tool_conversation()) as stream:
            chat = await stream.get_final_completion()
        script_json(provider)
        parsed = await client.chat.completions.parse(model="gpt-4o", messages=tool_conversation(),
                                                     response_format=Cause)
        async with client.responses.stream(model="gpt-4o", input=responses_input()) as stream:
            response = await stream.get_final_response()
        return chat.choices[0].message.content, parsed.choices[0].message.parsed, response.output_text
    assert asyncio.run(main()) == ("final answer", CAUSE, "final answer")
    bodies = provider.bodies()
    assert len(bodies) == 6
    for first in bodies[::2]:
        assert_compressed(first)


# --- Anthropic --------------------------------------------------------------------------------


def test_anthropic_create_reply_counts_both_rounds(an, provider):
    reply = an.messages.create(model=MODEL, max_tokens=64, messages=anthropic_conversation())
    assert reply.content[0].text == "final answer"
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (20, 4)
    assert_looped(provider, reply.headroom)


def test_anthropic_stream_helper(an, provider):
    with an.messages.stream(model=MODEL, max_tokens=64, messages=anthropic_conversation()) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "final answer"
    assert [b.type for b in final.content] == ["text"] and final.stop_reason == "end_turn"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (20, 4)
    assert_looped(provider, savings(final))


def test_anthropic_parse(an, provider):
    script_json(provider)
    reply = an.messages.parse(model=MODEL, max_tokens=64, messages=anthropic_conversation(), output_format=Cause)
    assert reply.parsed_output == CAUSE
    assert_looped(provider, savings(reply))


def test_anthropic_with_raw_response(an, provider):
    reply = an.messages.with_raw_response.create(model=MODEL, max_tokens=64, messages=anthropic_conversation()).parse()
    assert reply.content[0].text == "final answer"
    assert_looped(provider, savings(reply))


def test_anthropic_with_streaming_response(an, provider):
    with an.messages.with_streaming_response.create(model=MODEL, max_tokens=64,
                                                    messages=anthropic_conversation()) as raw:
        reply = raw.parse()
    assert reply.content[0].text == "final answer"
    assert_looped(provider, savings(reply))


def test_anthropic_beta_messages(an, provider):
    reply = an.beta.messages.create(model=MODEL, max_tokens=64, messages=anthropic_conversation())
    assert reply.content[0].text == "final answer"
    assert_looped(provider, savings(reply))
    provider.requests.clear()
    with an.beta.messages.stream(model=MODEL, max_tokens=64, messages=anthropic_conversation()) as stream:
        assert stream.get_final_text() == "final answer"
    assert_looped(provider)


def test_anthropic_count_tokens_counts_what_would_be_sent(an, provider):
    an.messages.count_tokens(model=MODEL, messages=anthropic_conversation())
    assert_compressed(provider.bodies("/count_tokens")[0])


def test_anthropic_batch_requests_are_compressed_without_tools(an, provider):
    batch = an.messages.batches.create(requests=[
        {"custom_id": "a", "params": {"model": MODEL, "max_tokens": 64, "messages": anthropic_conversation()}}])
    assert batch.id == "batch_1"
    params = provider.bodies("/batches")[0]["requests"][0]["params"]
    assert len(tool_texts(params)[0]) < len(TOOL_LOG) / 4
    assert "headroom_retrieve" not in tool_names(params), "nobody answers a batch's tool calls"


def test_async_anthropic_stream_helper(daemon, provider):
    async def main():
        client = with_headroom(AsyncAnthropic(base_url=provider.url, api_key="sk-test", max_retries=0))
        async with client.messages.stream(model=MODEL, max_tokens=64, messages=anthropic_conversation()) as stream:
            return await stream.get_final_message()
    final = asyncio.run(main())
    assert final.content[0].text == "final answer" and final.usage.input_tokens == 20
    assert_looped(provider, savings(final))


def test_vertex(daemon, provider):
    client = with_headroom(AnthropicVertex(region="us-east5", project_id="p", access_token="t", base_url=provider.url,
                                           max_retries=0))
    assert client.messages.create(model=MODEL, max_tokens=64, messages=anthropic_conversation()).content[0].text \
        == "final answer"
    assert_looped(provider)
    assert provider.requests[0].path.endswith(":rawPredict")
    provider.requests.clear()
    with client.messages.stream(model=MODEL, max_tokens=64, messages=anthropic_conversation()) as stream:
        assert stream.get_final_text() == "final answer"
    assert_looped(provider)


def test_bedrock_bodies_are_signed_after_compression(daemon, provider):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    client = with_headroom(AnthropicBedrock(aws_region="us-east-1", aws_access_key="AKIDEXAMPLE",
                                            aws_secret_key="secret", base_url=provider.url, max_retries=0))
    assert client.messages.create(model=MODEL, max_tokens=64, messages=anthropic_conversation()).content[0].text \
        == "final answer"
    assert_looped(provider)
    for recorded in provider.requests:
        headers = {k.lower(): v for k, v in recorded.headers.items()}
        authorization = headers["authorization"]
        signed = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
        request = AWSRequest(method="POST", url=provider.url + recorded.path, data=json.dumps(recorded.body).encode(),
                             headers={h: headers[h] for h in signed})
        request.context["timestamp"] = headers["x-amz-date"]
        signer = SigV4Auth(Credentials("AKIDEXAMPLE", "secret"), "bedrock", "us-east-1")
        signature = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
        assert authorization.endswith("Signature=" + signature), "signed over the body that was sent"


def test_bedrock_stream_is_compressed_without_tools(daemon, provider):
    client = with_headroom(AnthropicBedrock(aws_region="us-east-1", aws_access_key="AKIDEXAMPLE",
                                            aws_secret_key="secret", base_url=provider.url, max_retries=0))
    with pytest.raises(NotFoundError):  # the fake provider does not speak AWS event-stream
        with client.messages.stream(model=MODEL, max_tokens=64, messages=anthropic_conversation()) as stream:
            stream.get_final_text()
    body = provider.requests[0].body
    assert provider.requests[0].path.endswith("/invoke-with-response-stream")
    assert len(tool_texts(body)[0]) < len(TOOL_LOG) / 4
    assert "headroom_retrieve" not in tool_names(body), "Headroom cannot answer inside an event-stream"
