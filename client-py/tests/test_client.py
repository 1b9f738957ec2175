"""The client against the real daemon: compress, retrieve, stats, their async twins, connections,
and failing open when the daemon is gone, slow or refuses."""

import asyncio
import copy
import hashlib
import json
import logging
import os
import subprocess
import sys
import threading
import time

import pytest

import headroom
from headroom import wire
from conftest import LOGS, MARKER, NEEDLE, TOOL_LOG, SilentSocket, anthropic_conversation, tool_conversation

KEY = hashlib.sha256(TOOL_LOG.encode()).hexdigest()[:24]


def test_compress_shrinks_a_tool_output_and_keeps_what_the_question_needs(daemon):
    messages = tool_conversation()
    before = copy.deepcopy(messages)
    result = headroom.compress(messages, model="gpt-4o")
    assert messages == before, "the caller's list is not modified"
    assert result.error is None
    assert 0 < result.tokens_after < result.tokens_before / 4
    assert result.ccr_keys == [KEY]
    text = result.messages[3]["content"]
    assert NEEDLE in text and f"{MARKER}{KEY}" in text
    assert result.messages[:3] == messages[:3]
    assert result.retrieve_tool["function"]["name"] == "headroom_retrieve"
    assert result.format == headroom.ProviderFormat.OpenAiChat
    assert [c.name for c in result.compressors] == ["logs"]


def test_bare_list_result_has_messages_for_the_benchmark(daemon):
    result = headroom.compress([{"role": "user", "content": "hello"}])
    assert result.messages == [{"role": "user", "content": "hello"}]
    assert result.ccr_keys == [] and result.retrieve_tool is None


def test_nothing_to_compress_returns_the_callers_own_object(daemon):
    messages = [{"role": "user", "content": "short"}, {"role": "tool", "tool_call_id": "x", "content": "tiny"}]
    assert headroom.compress(messages).messages is messages


def test_whole_request_body_gets_the_tool_added(daemon):
    body = {"model": "claude-sonnet-4-5", "max_tokens": 100, "system": "s", "messages": anthropic_conversation(),
            "tools": [{"name": "read_log", "input_schema": {"type": "object"}}]}
    result = headroom.compress(body, format="anthropic")
    assert [t["name"] for t in result.messages["tools"]] == ["read_log", "headroom_retrieve"]
    assert result.retrieve_tool["name"] == "headroom_retrieve"
    assert NEEDLE in result.messages["messages"][2]["content"][0]["content"]
    assert body["tools"] == [{"name": "read_log", "input_schema": {"type": "object"}}]


def test_retrieve_whole_and_by_query(daemon):
    headroom.compress(tool_conversation())
    whole = headroom.retrieve(KEY)
    assert whole.whole and whole.content == TOOL_LOG
    lines = headroom.retrieve(KEY, query="RMContainerAllocator unknown container")
    assert not lines.whole and NEEDLE in lines.content and lines.content.startswith("L")


def test_retrieve_errors_carry_their_code(daemon):
    with pytest.raises(headroom.HeadroomError) as e:
        headroom.retrieve("0" * 24)
    assert e.value.code == headroom.ErrorCode.not_found
    with pytest.raises(headroom.HeadroomError) as e:
        headroom.retrieve("not-a-key")
    assert e.value.code == headroom.ErrorCode.bad_request
    assert "not available" in headroom.answer_retrieve({"hash": "0" * 24})
    assert headroom.answer_retrieve(json.dumps({"hash": KEY})) == TOOL_LOG


def test_stats_count_requests(daemon):
    before = headroom.stats()
    headroom.compress(tool_conversation())
    after = headroom.stats()
    assert after.protocol_version == wire.PROTOCOL_VERSION == 4
    assert after.compress_requests == before.compress_requests + 1
    assert after.ccr_entries >= 1 and after.replay_entries >= 1


def test_metrics(daemon):
    headroom.compress(tool_conversation())
    headroom.retrieve(KEY)
    m = headroom.metrics()
    assert "logs" in [c.name for c in m.compressors]
    assert m.ccr_hits >= 1 and m.all_time_compress_requests >= 1
    assert asyncio.run(headroom.aio.metrics()).ccr_hits >= 1


def test_large_blocks_left_as_is_say_why(daemon):
    output = (LOGS / "Spark_2k.log").read_text() + "\nleft-as-is probe (python)\n"
    result = headroom.compress(tool_conversation(output), protect_recent=1)
    assert [(c.name, c.blocks) for c in result.left_as_is] == [("protected", 1)]
    assert result.left_as_is[0].tokens_before >= 2000 and result.compressors == []
    assert "protected" in [c.name for c in headroom.metrics().left_as_is]


def test_retrieve_answers_in_the_history_are_not_compressed_again(daemon):
    # The answer to headroom_retrieve is the exact original: left to the daemon, the replay store
    # would swap it for the compressed form again and the model would ask forever.
    followup = tool_conversation() + [
        {"role": "assistant", "content": None, "tool_calls": [{"id": "r1", "type": "function", "function": {
            "name": "headroom_retrieve", "arguments": json.dumps({"hash": KEY})}}]},
        {"role": "tool", "tool_call_id": "r1", "content": TOOL_LOG},
    ]
    before = copy.deepcopy(followup)
    result = headroom.compress(followup)
    assert result.messages[-1]["content"] == TOOL_LOG
    assert MARKER in result.messages[3]["content"]
    assert followup == before


def test_the_asyncio_side(daemon):
    async def main():
        result = await headroom.aio.compress(tool_conversation())
        assert result.ccr_keys == [KEY]
        assert (await headroom.aio.retrieve(KEY)).content == TOOL_LOG
        assert (await headroom.aio.stats()).compress_requests >= 1
        assert await headroom.aio.answer_retrieve({"hash": KEY, "query": "unknown container"})
    asyncio.run(main())


def test_one_pipelined_connection_per_event_loop(daemon):
    client = headroom.HeadroomClient()

    async def main():
        convs = [tool_conversation(TOOL_LOG + f"\nextra line {i}") for i in range(12)]
        results = await asyncio.gather(*(client.aio.compress(c) for c in convs))
        assert all(r.error is None and r.tokens_after < r.tokens_before for r in results)
        assert len({r.ccr_keys[0] for r in results}) == 12

    connections = headroom.stats().connections
    asyncio.run(main())
    assert headroom.stats().connections - connections == 1


def test_one_connection_per_thread(daemon):
    client = headroom.HeadroomClient()
    connections = headroom.stats().connections
    errors = []

    def work():
        for _ in range(5):
            if client.compress(tool_conversation()).error:
                errors.append("failed")
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert headroom.stats().connections - connections == 4


def test_socket_path_rule(monkeypatch):
    monkeypatch.setenv("HEADROOM_SOCKET", "/x/y.sock")
    assert headroom.default_socket_path() == "/x/y.sock"
    monkeypatch.setenv("HEADROOM_SOCKET", "")
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/7")
    assert headroom.default_socket_path() == "/run/user/7/headroom/headroomd.sock"
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert headroom.default_socket_path() == f"/tmp/headroom-{os.getuid()}/headroomd.sock"


def test_unknown_option_is_a_programming_error(daemon):
    with pytest.raises(TypeError):
        headroom.compress([], protect_everything=True)


# --- failing open -----------------------------------------------------------------------------


def warnings_in(caplog):
    return [r for r in caplog.records if r.name == "headroom" and r.levelno == logging.WARNING]


def test_daemon_killed_mid_session_fails_open_with_one_warning_then_recovers(daemon, caplog):
    client = headroom.HeadroomClient()
    messages = tool_conversation()
    assert client.compress(messages).ccr_keys == [KEY]
    daemon.stop()
    try:
        caplog.set_level(logging.DEBUG, logger="headroom")
        first = client.compress(messages)
        second = client.compress(messages)
        assert first.messages is messages and second.messages is messages
        assert first.error and first.tokens_before == 0 and first.retrieve_tool is None
        assert len(warnings_in(caplog)) == 1, "one warning for the outage"
        with pytest.raises(headroom.HeadroomError):
            client.retrieve(KEY)
        assert "not available" in client.answer_retrieve({"hash": KEY})
    finally:
        daemon.start()
    assert client.compress(messages).ccr_keys == [KEY], "reconnects once the daemon is back"
    assert client.retrieve(KEY).content == TOOL_LOG, "originals survive the restart"


def test_async_daemon_killed_mid_session(daemon, caplog):
    client = headroom.HeadroomClient()
    messages = anthropic_conversation()

    async def main():
        assert (await client.aio.compress(messages)).ccr_keys == [KEY]
        daemon.stop()
        try:
            caplog.set_level(logging.WARNING, logger="headroom")
            failed = await client.aio.compress(messages)
            assert failed.messages is messages and failed.error
            assert len(warnings_in(caplog)) == 1
        finally:
            daemon.start()
        assert (await client.aio.compress(messages)).ccr_keys == [KEY]
    asyncio.run(main())


def test_timeout_fails_open(tmp_path, caplog):
    server = SilentSocket(str(tmp_path / "slow.sock"))
    try:
        messages = tool_conversation()
        t = time.monotonic()
        result = headroom.HeadroomClient(socket=server.path, timeout=0.3).compress(messages)
        assert time.monotonic() - t < 1.5
        assert result.messages is messages and "did not answer within 0.3 s" in result.error
        t = time.monotonic()
        result = asyncio.run(headroom.HeadroomClient(socket=server.path, timeout=0.3).aio.compress(messages))
        assert time.monotonic() - t < 1.5
        assert result.messages is messages and "did not answer within 0.3 s" in result.error
    finally:
        server.close()


def test_default_timeout_is_two_seconds():
    assert headroom.HeadroomClient().timeout == 2.0 == headroom.DEFAULT_TIMEOUT


def test_error_reply_fails_open_with_a_warning(daemon, caplog):
    caplog.set_level(logging.WARNING, logger="headroom")
    body = {"neither": "messages nor input"}
    result = headroom.compress(body)
    assert result.messages is body and "bad_request" in result.error
    assert len(warnings_in(caplog)) == 1


def test_refused_handshake_and_unattributed_replies_fail_open(tmp_path):
    def refuse(request):
        return wire.Reply(request.id, wire.ErrorReply(wire.ErrorCode.unsupported_version,
                                                      "client speaks protocol 2, daemon speaks 3"))

    def anonymous(request):
        if isinstance(request.op, wire.Hello):
            return wire.Reply(request.id, wire.HelloReply(wire.PROTOCOL_VERSION, "fake"))
        return wire.Reply(0, wire.ErrorReply(wire.ErrorCode.internal, ""))

    for name, behaviour in (("refuse", refuse), ("anonymous", anonymous)):
        server = SilentSocket(str(tmp_path / f"{name}.sock"), behaviour)
        try:
            client = headroom.HeadroomClient(socket=server.path, timeout=1)
            messages = tool_conversation()
            assert client.compress(messages).messages is messages
            assert asyncio.run(client.aio.compress(messages)).messages is messages
        finally:
            server.close()


def test_unserialisable_messages_fail_open(daemon):
    messages = [{"role": "user", "content": object()}]
    assert headroom.compress(messages).messages is messages


def test_import_needs_no_framework():
    code = ("import sys\n"
            "for m in ('litellm', 'langchain_core', 'openai', 'anthropic', 'pydantic'): sys.modules[m] = None\n"
            "import headroom, headroom.sdk\n"
            "r = headroom.HeadroomClient(socket='/nonexistent/s.sock').compress([{'role': 'user', 'content': 'x'}])\n"
            "assert r.messages == [{'role': 'user', 'content': 'x'}] and r.error\n")
    subprocess.run([sys.executable, "-c", code], check=True)


# --- malformed ids and replies ----------------------------------------------------------------


def with_list_ids(messages: list) -> list:
    """``messages`` followed by a ``headroom_retrieve`` call and its answer whose ids are lists,
    in OpenAI chat shape, and a string-id call whose answer's id is a list."""
    call = {"type": "function", "function": {"name": "headroom_retrieve", "arguments": json.dumps({"hash": KEY})}}
    return messages + [
        {"role": "assistant", "content": None, "tool_calls": [{**call, "id": ["r1"]}]},
        {"role": "tool", "tool_call_id": ["r1"], "content": "first answer"},
        {"role": "assistant", "content": None, "tool_calls": [{**call, "id": "r2"}]},
        {"role": "tool", "tool_call_id": ["r2"], "content": "second answer"},
    ]


def test_non_string_call_ids_are_skipped_instead_of_raising(daemon, tmp_path):
    messages = with_list_ids(tool_conversation())
    before = copy.deepcopy(messages)
    result = headroom.compress(messages)
    assert result.error is None and result.ccr_keys == [KEY]
    assert messages == before
    dead = headroom.HeadroomClient(socket=str(tmp_path / "none.sock")).compress(messages)
    assert dead.messages is messages and dead.error

    responses = [
        {"role": "user", "content": "Why?"},
        {"type": "function_call", "call_id": ["f1"], "name": "headroom_retrieve", "arguments": "{}"},
        {"type": "function_call_output", "call_id": ["f1"], "output": "answer"},
    ]
    anthropic = [
        {"role": "user", "content": "Why?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": {"x": 1}, "name": "headroom_retrieve", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": {"x": 1}, "content": "answer"}]},
    ]
    for items in (responses, anthropic):
        assert headroom.compress(items).error is None


def fake_compressor(answer):
    """A fake daemon's behaviour: greets, and answers every Compress with ``answer(request)``'s
    messages (bytes)."""
    def reply(request):
        if isinstance(request.op, wire.Hello):
            return wire.Reply(request.id, wire.HelloReply(wire.PROTOCOL_VERSION, "fake"))
        return wire.Reply(request.id, wire.CompressReply(answer(request.op.messages), 100, 10, [], [], None,
                                                         wire.ProviderFormat.OpenAiChat))
    return reply


def test_a_reply_of_another_shape_fails_open_with_a_logged_error(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="headroom")
    conversation = tool_conversation("tiny log")

    def reshaped(sent: bytes) -> bytes:
        value = json.loads(sent)
        if isinstance(value, dict):  # a whole request body answered with a bare array
            return b"[]"
        if len(value) == 4:  # a message lost
            return json.dumps(value[:-1]).encode()
        if len(value) == 5:  # a message's role changed
            return json.dumps([{**value[0], "role": "assistant"}] + value[1:]).encode()
        # Anthropic with a shielded retrieve answer whose tool_result block is gone.
        return json.dumps([value[0], value[1], {"role": "user", "content": "flattened"}]).encode()

    retrieved = [
        {"role": "user", "content": "Why?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "headroom_retrieve", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "the original"}]},
    ]
    server = SilentSocket(str(tmp_path / "reshaping.sock"), fake_compressor(reshaped))
    try:
        client = headroom.HeadroomClient(socket=server.path, timeout=2)
        role_changed = [{"role": "user", "content": "q"}] + conversation
        for messages in ({"model": "gpt-4o", "messages": conversation}, conversation, role_changed, retrieved):
            for result in (client.compress(messages), asyncio.run(client.aio.compress(messages))):
                assert result.messages is messages
                assert result.error == "headroomd returned messages of another shape than those sent"
                assert result.tokens_before == 0 and result.ccr_keys == []
    finally:
        server.close()
    assert len(warnings_in(caplog)) == 8 and "another shape" in warnings_in(caplog)[0].getMessage()


def test_a_reply_of_the_same_shape_is_accepted(tmp_path):
    def shortened(sent: bytes) -> bytes:
        value = json.loads(sent)
        value[-1] = {**value[-1], "content": "[headroom: short]"}
        return json.dumps(value).encode()

    server = SilentSocket(str(tmp_path / "same.sock"), fake_compressor(shortened))
    try:
        result = headroom.HeadroomClient(socket=server.path).compress(tool_conversation("tiny log"))
        assert result.error is None and result.messages[-1]["content"] == "[headroom: short]"
    finally:
        server.close()
