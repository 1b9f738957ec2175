"""LiteLLM's real proxy with its built-in `guardrail: headroom` pointed at headroomd's HTTP
front, configured as the README gives it: LiteLLM calls POST /v1/compress before forwarding,
answers the model's headroom_retrieve calls through GET /v1/retrieve/{hash} (its own agentic
loop), and with `unreachable_fallback: fail_open` forwards the request uncompressed when the
daemon is gone (LiteLLM's default, fail_closed, answers 502 instead)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import openai
import pytest

from conftest import Reply, fixture_text, free_port, start_daemon, stop_daemon, wait_for

MASTER_KEY = "sk-litellm-master"
MARKER = re.compile(r"hash=([a-f0-9]{24})")


@pytest.fixture(scope="module")
def guardrail_daemon(upstream):
    """The daemon this module's proxy compresses through: its own, so that stopping it leaves the
    session's daemon to the other tests."""
    home = tempfile.TemporaryDirectory()
    started = start_daemon(upstream, home.name)
    try:
        yield started
    finally:
        stop_daemon(started)
        home.cleanup()


@pytest.fixture(scope="module")
def litellm_proxy(guardrail_daemon, upstream):
    daemon = guardrail_daemon
    port = free_port()
    home = tempfile.TemporaryDirectory()
    config = Path(home.name) / "config.yaml"
    config.write_text(f"""
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_base: {upstream.url}/v1
      api_key: sk-upstream-secret
guardrails:
  - guardrail_name: headroom
    litellm_params:
      guardrail: headroom
      mode: pre_call
      api_base: {daemon.url}
      default_on: true
      unreachable_fallback: fail_open
""")
    env = {**os.environ, "LITELLM_MASTER_KEY": MASTER_KEY, "LITELLM_LOCAL_MODEL_COST_MAP": "True",
           "LITELLM_TELEMETRY": "False", "DISABLE_SCHEMA_UPDATE": "true"}
    env.pop("DATABASE_URL", None)
    litellm = Path(sys.executable).parent / "litellm"
    log = open(Path(home.name) / "litellm.log", "w")
    process = subprocess.Popen([str(litellm), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        try:
            wait_for(f"http://127.0.0.1:{port}/health/liveliness", 120, process)
        except Exception:
            log.flush()
            print((Path(home.name) / "litellm.log").read_text()[-4000:])
            raise
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        home.cleanup()


def conversation(log: str) -> list[dict]:
    return [
        {"role": "system", "content": "You are a helpful agent."},
        {"role": "user", "content": "why did the datanode fail?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "read_log", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": log},
        # LiteLLM holds back the newest assistant turn with its whole tool exchange, so the
        # log is compressible once the model has answered after it.
        {"role": "assistant", "content": "Several PacketResponders terminated."},
        {"role": "user", "content": "and which blocks were affected?"},
    ]


def answer(text: str | None, tool_calls: list | None = None) -> dict:
    message = {"role": "assistant", "content": text}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if tool_calls else "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}}


def test_litellm_guardrail_compresses_through_the_daemon_and_retrieves(litellm_proxy, upstream):
    log = fixture_text("logs/HDFS_2k.log")
    client = openai.OpenAI(base_url=litellm_proxy, api_key=MASTER_KEY, max_retries=0)

    upstream.reset(Reply(200, answer("Blocks blk_1 and blk_2.")))
    reply = client.chat.completions.create(model="gpt-4o", messages=conversation(log))
    assert reply.choices[0].message.content == "Blocks blk_1 and blk_2."
    sent = upstream.seen[0].json()
    assert upstream.seen[0].headers["authorization"] == "Bearer sk-upstream-secret"
    tool_output = next(m["content"] for m in sent["messages"] if m["role"] == "tool")
    assert "[headroom: " in tool_output, "the daemon's marker grammar: LiteLLM called /v1/compress"
    key = MARKER.search(tool_output).group(1)
    assert len(tool_output) * 3 < len(log)
    assert any(t["function"]["name"] == "headroom_retrieve" for t in sent["tools"]), "LiteLLM added the retrieve tool"

    # The model asks for the original; LiteLLM's loop fetches it from the daemon and calls again.
    call = {"id": "call_r", "type": "function", "function": {"name": "headroom_retrieve", "arguments": f'{{"hash": "{key}"}}'}}
    upstream.reset(Reply(200, answer(None, [call])), Reply(200, answer("Only blk_-1608999687919862906.")))
    reply = client.chat.completions.create(model="gpt-4o", messages=conversation(log))
    assert reply.choices[0].message.content == "Only blk_-1608999687919862906."
    assert len(upstream.seen) == 2
    follow_up = upstream.seen[1].json()["messages"]
    retrieved = next(m["content"] for m in follow_up if m.get("tool_call_id") == "call_r")
    assert retrieved == log, "GET /v1/retrieve/{hash} gave LiteLLM the exact original"


def test_litellm_guardrail_fails_open_when_the_daemon_stops(litellm_proxy, upstream, guardrail_daemon):
    log = fixture_text("logs/HDFS_2k.log")
    client = openai.OpenAI(base_url=litellm_proxy, api_key=MASTER_KEY, max_retries=0)

    upstream.reset(Reply(200, answer("Compressed.")))
    assert client.chat.completions.create(model="gpt-4o", messages=conversation(log)).choices[0].message.content \
        == "Compressed."
    sent = upstream.seen[0].json()
    tool_output = next(m["content"] for m in sent["messages"] if m["role"] == "tool")
    assert "[headroom: " in tool_output and len(tool_output) * 3 < len(log), "daemon up: compressed"

    stop_daemon(guardrail_daemon)
    upstream.reset(Reply(200, answer("Still answered.")))
    reply = client.chat.completions.create(model="gpt-4o", messages=conversation(log))
    assert reply.choices[0].message.content == "Still answered.", "daemon stopped: the call still succeeds"
    sent = upstream.seen[0].json()
    assert next(m["content"] for m in sent["messages"] if m["role"] == "tool") == log, "uncompressed"
    assert not any(t["function"]["name"] == "headroom_retrieve" for t in sent.get("tools") or [])
