"""The LiteLLM proxy (``litellm --config``, the real server) with ``HeadroomCallback`` registered
in config.yaml, in front of the fake provider; applications talk to it with the OpenAI and
Anthropic SDKs."""

import os
import pathlib
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from anthropic import Anthropic
from openai import APIStatusError, OpenAI

from fake_provider import FakeProvider
from conftest import (TOOL_LOG, anthropic_conversation, assert_compressed, assert_uncompressed, responses_input,
                      tool_conversation, tool_texts)

MASTER_KEY = "sk-headroom-test-master"
LITELLM = pathlib.Path(sys.executable).with_name("litellm")


@pytest.fixture(scope="module")
def proxy(daemon, tmp_path_factory):
    """``(base url, provider)``: a proxy started once for this module."""
    with FakeProvider() as provider:
        directory = tmp_path_factory.mktemp("proxy")
        config = directory / "config.yaml"
        config.write_text(f"""model_list:
  - model_name: gpt-4o
    litellm_params: {{model: openai/gpt-4o, api_base: "{provider.url}/v1", api_key: sk-provider}}
  - model_name: claude
    litellm_params: {{model: anthropic/claude-sonnet-4-5, api_base: "{provider.url}", api_key: sk-provider}}
litellm_settings:
  callbacks: ["headroom.litellm.headroom_callback"]
""")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "LITELLM_MASTER_KEY": MASTER_KEY, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
        log = directory / "proxy.log"
        process = subprocess.Popen([str(LITELLM), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
                                   env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    urllib.request.urlopen(url + "/health/liveliness", timeout=2)
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"litellm proxy did not start:\n{log.read_text()[-4000:]}")
                    time.sleep(0.2)
            yield url, provider
        finally:
            process.terminate()
            process.wait(timeout=30)


@pytest.fixture
def via(proxy):
    url, provider = proxy
    provider.requests.clear()
    provider.retrieve = True
    return url, provider


def openai_app(url):
    return OpenAI(base_url=url + "/v1", api_key=MASTER_KEY, max_retries=0)


def test_proxy_refuses_a_key_other_than_the_master_key(via):
    # Without a database the proxy knows no virtual keys: anything but LITELLM_MASTER_KEY is refused.
    url, provider = via
    with pytest.raises(APIStatusError) as e:
        OpenAI(base_url=url + "/v1", api_key="sk-wrong", max_retries=0).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert 400 <= e.value.status_code < 500
    assert provider.requests == []


def test_proxy_compresses_chat_and_answers_retrieve_itself(via):
    url, provider = via
    reply = openai_app(url).chat.completions.create(model="gpt-4o", messages=tool_conversation())
    assert reply.choices[0].message.content == "final answer"
    assert not reply.choices[0].message.tool_calls
    first, second = provider.bodies("/chat/completions")
    assert_compressed(first)
    assert tool_texts(second)[0] == tool_texts(first)[0]
    assert tool_texts(second)[-1] == TOOL_LOG


def test_proxy_streams_compressed_chat(via):
    url, provider = via
    provider.retrieve = False
    stream = openai_app(url).chat.completions.create(model="gpt-4o", messages=tool_conversation(), stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "final answer"
    assert_compressed(provider.bodies("/chat/completions")[0])


def test_proxy_anthropic_messages_path(via):
    url, provider = via
    app = Anthropic(base_url=url, api_key=MASTER_KEY, max_retries=0)
    reply = app.messages.create(model="claude", max_tokens=64, messages=anthropic_conversation())
    assert reply.content[0].text == "final answer"
    first, second = provider.bodies("/v1/messages")
    assert_compressed(first)
    assert first["messages"][2]["content"][0]["type"] == "tool_result"
    assert tool_texts(second)[-1] == TOOL_LOG
    provider.requests.clear()
    provider.retrieve = False
    with app.messages.stream(model="claude", max_tokens=64, messages=anthropic_conversation()) as stream:
        assert stream.get_final_text() == "final answer"
    assert_compressed(provider.bodies("/v1/messages")[0])


def test_proxy_responses_path(via):
    url, provider = via
    provider.retrieve = False
    reply = openai_app(url).responses.create(model="gpt-4o", input=responses_input())
    assert reply.output_text.strip() == "final answer"
    assert_compressed(provider.requests[0].body)


def test_proxy_with_the_daemon_stopped_passes_requests_uncompressed(via, stopped_daemon):
    url, provider = via
    provider.retrieve = False
    app = openai_app(url)
    assert app.chat.completions.create(model="gpt-4o", messages=tool_conversation()).choices[0].message.content \
        == "final answer"
    stream = app.chat.completions.create(model="gpt-4o", messages=tool_conversation(), stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "final answer"
    reply = Anthropic(base_url=url, api_key=MASTER_KEY, max_retries=0).messages.create(
        model="claude", max_tokens=64, messages=anthropic_conversation())
    assert reply.content[0].text == "final answer"
    assert len(provider.requests) == 3
    for body in provider.bodies():
        assert_uncompressed(body)


def test_proxy_reconnects_after_the_daemon_restarts(via):
    url, provider = via
    provider.retrieve = False
    openai_app(url).chat.completions.create(model="gpt-4o", messages=tool_conversation())
    assert_compressed(provider.bodies("/chat/completions")[0])
