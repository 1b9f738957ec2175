"""The OpenAI and Anthropic SDKs, unchanged, pointed at headroomd's HTTP front by base URL."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

import anthropic
import openai
import pytest

from conftest import Reply, fixture_text

MARKER = re.compile(r"hash=([a-f0-9]{24})")


def chat_answer(text: str) -> dict:
    return {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12},
    }


def chat_conversation(log: str) -> list[dict]:
    return [
        {"role": "system", "content": "You are a helpful agent."},
        {"role": "user", "content": "why did the datanode fail?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "read_log", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": log},
    ]


def test_openai_chat_is_compressed_and_answered(daemon, upstream):
    log = fixture_text("logs/HDFS_2k.log")
    upstream.reset(Reply(200, chat_answer("The disk was full.")))
    client = openai.OpenAI(base_url=f"{daemon.url}/v1", api_key="sk-test-secret", max_retries=0)
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=chat_conversation(log))
    answer = raw.parse()
    assert answer.choices[0].message.content == "The disk was full."
    assert int(raw.headers["x-headroom-tokens-after"]) * 3 < int(raw.headers["x-headroom-tokens-before"])
    seen = upstream.seen[0]
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["authorization"] == "Bearer sk-test-secret"
    sent = seen.json()
    assert MARKER.search(sent["messages"][3]["content"]), "the tool output carries a marker"
    assert len(sent["messages"][3]["content"]) * 3 < len(log)
    assert sent["messages"][:3] == chat_conversation(log)[:3], "other messages untouched"
    assert sent["tools"][0]["function"]["name"] == "headroom_retrieve"


def test_openai_chat_stream_passes_through(daemon, upstream):
    chunks = [
        {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
         "choices": [{"index": 0, "delta": {"role": "assistant", "content": word}, "finish_reason": None}]}
        for word in ["Hello", " from", " upstream"]
    ]
    upstream.reset(Reply(200, events=[f"data: {json.dumps(c)}\n\n" for c in chunks] + ["data: [DONE]\n\n"]))
    client = openai.OpenAI(base_url=f"{daemon.url}/v1", api_key="sk-test-secret", max_retries=0)
    stream = client.chat.completions.create(model="gpt-4o", stream=True, messages=[{"role": "user", "content": "hi"}])
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
    assert text == "Hello from upstream"
    assert upstream.seen[0].json()["stream"] is True


def test_openai_responses_retrieve_loop_is_invisible_to_the_sdk(daemon, upstream):
    log = fixture_text("logs/Zookeeper_2k.log")
    first = {"id": "resp_0", "object": "response", "created_at": 1, "status": "completed", "model": "gpt-5",
             "output": [{"type": "function_call", "id": "fc_0", "call_id": "call_r", "name": "headroom_retrieve",
                         "arguments": "{}", "status": "completed"}]}
    final = {"id": "resp_1", "object": "response", "created_at": 1, "status": "completed", "model": "gpt-5",
             "output": [{"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                         "content": [{"type": "output_text", "text": "A session expired.", "annotations": []}]}]}
    client = openai.OpenAI(base_url=f"{daemon.url}/v1", api_key="sk-test-secret", max_retries=0)
    conversation = [
        {"role": "user", "content": "what went wrong with zookeeper?"},
        {"type": "function_call", "call_id": "c1", "name": "read_log", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": log},
    ]
    # Learn the key the daemon gives this log (compression is deterministic), then script the
    # model calling headroom_retrieve with it.
    upstream.reset(Reply(200, final))
    client.responses.create(model="gpt-5", input=conversation)
    key = MARKER.search(upstream.seen[0].json()["input"][2]["output"]).group(1)
    first["output"][0]["arguments"] = json.dumps({"hash": key})
    upstream.reset(Reply(200, first), Reply(200, final))
    response = client.responses.create(model="gpt-5", input=conversation)
    assert response.output_text == "A session expired."
    assert len(upstream.seen) == 2
    follow_up = upstream.seen[1].json()["input"]
    assert follow_up[-1] == {"type": "function_call_output", "call_id": "call_r", "output": log}


def anthropic_events(text: str) -> list[str]:
    def event(name, data):
        return f"event: {name}\ndata: {json.dumps(data)}\n\n"
    return [
        event("message_start", {"type": "message_start", "message": {
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 1}}}),
        event("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        *[event("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": w}})
          for w in text.split("|")],
        event("content_block_stop", {"type": "content_block_stop", "index": 0}),
        event("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                "usage": {"output_tokens": 5}}),
        event("message_stop", {"type": "message_stop"}),
    ]


def anthropic_conversation(log: str) -> list[dict]:
    return [
        {"role": "user", "content": "why did the datanode fail?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "read_log", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": log}]},
    ]


def test_anthropic_messages_and_stream(daemon, upstream):
    log = fixture_text("logs/Hadoop_2k.log")
    message = {"id": "msg_0", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
               "content": [{"type": "text", "text": "A container was killed."}], "stop_reason": "end_turn",
               "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 5}}
    upstream.reset(Reply(200, message), Reply(200, events=anthropic_events("The |node |ran out.")))
    client = anthropic.Anthropic(base_url=daemon.url, api_key="sk-ant-secret", max_retries=0)
    answer = client.messages.create(model="claude-sonnet-4-5", max_tokens=256, messages=anthropic_conversation(log))
    assert answer.content[0].text == "A container was killed."
    seen = upstream.seen[0]
    assert seen.path == "/v1/messages"
    # This SDK version sends the key as a bearer token; older ones as x-api-key: either passes.
    assert "sk-ant-secret" in (seen.headers.get("x-api-key"), seen.headers.get("authorization", "").removeprefix("Bearer "))
    assert "anthropic-version" in seen.headers
    assert MARKER.search(seen.json()["messages"][2]["content"][0]["content"])
    assert seen.json()["tools"][0]["name"] == "headroom_retrieve"

    with client.messages.stream(model="claude-sonnet-4-5", max_tokens=256, messages=anthropic_conversation(log)) as stream:
        text = "".join(stream.text_stream)
    assert text == "The node ran out."


def test_errors_reach_the_sdks_as_their_own_exceptions(daemon, upstream):
    upstream.reset(Reply(400, {"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: required"}}))
    client = anthropic.Anthropic(base_url=daemon.url, api_key="sk-ant-secret", max_retries=0)
    with pytest.raises(anthropic.BadRequestError, match="max_tokens: required"):
        client.messages.create(model="claude-sonnet-4-5", max_tokens=1, messages=[{"role": "user", "content": "hi"}])

    upstream.reset(Reply(429, {"error": {"message": "slow down", "type": "requests", "param": None, "code": "rate_limit_exceeded"}}))
    oa = openai.OpenAI(base_url=f"{daemon.url}/v1", api_key="sk-test-secret", max_retries=0)
    with pytest.raises(openai.RateLimitError, match="slow down"):
        oa.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])

    # Bad JSON never leaves the proxy and comes back in OpenAI's error shape.
    upstream.reset()
    request = urllib.request.Request(f"{daemon.url}/v1/chat/completions", data=b"{not json", method="POST",
                                     headers={"content-type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as failure:
        urllib.request.urlopen(request)
    assert failure.value.code == 400
    assert json.loads(failure.value.read())["error"]["type"] == "invalid_request_error"
    assert upstream.seen == []
