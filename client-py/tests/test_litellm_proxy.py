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
from conftest import (MARKER, NEEDLE, TOOL_LOG, anthropic_conversation, assert_compressed, assert_uncompressed,
                      responses_input, tool_conversation, tool_names, tool_texts)

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


def assert_compressed_stream(body):
    """A streamed call: compressed, and no headroom_retrieve offered (LiteLLM runs no retrieve
    loop on a stream, so a call of it would reach the application)."""
    text = tool_texts(body)[0]
    assert len(text) < len(TOOL_LOG) / 4 and NEEDLE in text and MARKER in text
    assert "headroom_retrieve" not in tool_names(body)


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
    raw = openai_app(url).chat.completions.with_raw_response.create(model="gpt-4o", messages=tool_conversation())
    reply = raw.parse()
    assert reply.choices[0].message.content == "final answer"
    assert not reply.choices[0].message.tool_calls
    first, second = provider.bodies("/chat/completions")
    assert_compressed(first)
    assert tool_texts(second)[0] == tool_texts(first)[0]
    assert tool_texts(second)[-1] == TOOL_LOG
    # The savings, in the headers headroomd's own HTTP front sends.
    before, after = int(raw.headers["x-headroom-tokens-before"]), int(raw.headers["x-headroom-tokens-after"])
    assert before > 4 * after > 0
    assert raw.headers["x-headroom-retrieve-rounds"] == "1"


def test_proxy_streaming_chat_app_gets_text_not_an_undeclared_tool(via):
    # The model would call headroom_retrieve if it were offered (provider.retrieve is on); the
    # proxy does not offer it on a stream, so the app that declared no tools gets the text.
    url, provider = via
    stream = openai_app(url).chat.completions.create(model="gpt-4o", messages=tool_conversation(), stream=True)
    chunks = [c for c in stream if c.choices]
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "final answer"
    assert not [tc for c in chunks for tc in (c.choices[0].delta.tool_calls or [])]
    assert_compressed_stream(provider.bodies("/chat/completions")[0])


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
    with app.messages.stream(model="claude", max_tokens=64, messages=anthropic_conversation()) as stream:
        assert stream.get_final_text() == "final answer"
    assert_compressed_stream(provider.bodies("/v1/messages")[0])


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
