"""Memory in the client without the daemon: scopes and times as callers give them, the bytes of
the new requests, the texts that answer the memory tools, which tools a call offers and finds,
and the client API against a scripted socket."""

import asyncio
import datetime
import json

import pytest

import headroom
from headroom import tools, wire
from headroom.anthropic import ANTHROPIC
from headroom.client import compress_options
from headroom.memory import loop_options, ms_of, scope_of, tool_failure, tool_request, tool_text
from headroom.openai import CHAT, RESPONSES
from headroom.wire import MemoryScope
from conftest import SilentSocket

ADA_BOT = MemoryScope("ada", "bot")
UTC = datetime.timezone.utc


def fact(fid="00000000000000aa", text="The deploy target is eu-west-1.", scope=ADA_BOT, valid_from_ms=1_764_000_000_000):
    return wire.MemoryFact(fid, scope, text, None, "deploy target", valid_from_ms, valid_from_ms, None, None, 0.0)


# --- scopes and times -------------------------------------------------------------------------


def test_a_scope_from_a_scope_a_dict_or_keywords():
    assert scope_of(ADA_BOT) == ADA_BOT
    assert scope_of({"user": "ada", "agent": "bot"}) == ADA_BOT
    assert scope_of(user="ada", agent="bot") == ADA_BOT
    assert scope_of(ADA_BOT, session="s1") == MemoryScope("ada", "bot", "s1")
    assert scope_of({"user": "ada", "agent": "", "session": None}) == MemoryScope("ada")


@pytest.mark.parametrize("scope,kwargs,error", [
    (None, {}, ValueError),
    ({"agent": "bot"}, {}, ValueError),
    ({"user": ""}, {}, ValueError),
    ({"user": "ada", "project": "x"}, {}, TypeError),
    ("ada", {}, TypeError),
    (None, {"user": 7}, TypeError),
])
def test_a_scope_needs_a_user_and_strings(scope, kwargs, error):
    with pytest.raises(error):
        scope_of(scope, **kwargs)


def test_times_are_datetimes_or_milliseconds():
    assert ms_of(None) is None
    assert ms_of(1_700_000_000_000) == 1_700_000_000_000
    assert ms_of(datetime.datetime(2023, 11, 14, 22, 13, 20, 500_000, tzinfo=UTC)) == 1_700_000_000_500
    for bad in (True, -1, 1.5, "2023-11-14"):
        with pytest.raises(TypeError):
            ms_of(bad)


def test_fact_times_as_datetimes():
    f = fact()
    assert f.valid_from == datetime.datetime(2025, 11, 24, 16, 0, tzinfo=UTC)
    assert f.created == f.valid_from and f.valid_to is None


# --- bytes ------------------------------------------------------------------------------------


def test_compress_memory_options_on_the_wire():
    options = compress_options(memory={"user": "ada", "session": "s"}, memory_tools=True, memory_budget_tokens=300)
    assert options.memory == wire.MemoryOptions(MemoryScope("ada", None, "s"), 300, True)
    body = wire.encode_request(wire.Request(1, wire.CompressRequest(b"[]", options)))
    # seven default option bytes, then Some(MemoryOptions): user, agent None, Some(session),
    # budget 300 (fb 2c 01), tools true; then client None.
    assert body == b"\x01\x02\x02[]" + bytes(7) + b"\x01\x03ada\x00\x01\x01s\xfb\x2c\x01\x01" + b"\x00"
    assert wire.decode_request(body).op.options == options


def test_memory_options_need_a_scope():
    assert compress_options(memory_tools=False, memory_budget_tokens=0).memory is None
    with pytest.raises(TypeError):
        compress_options(memory_tools=True)
    with pytest.raises(TypeError):
        compress_options(memory_budget_tokens=100)


def test_a_fact_score_is_four_little_endian_bytes():
    body = wire.encode_reply(wire.Reply(1, wire.MemoryFactsReply([fact()])))
    assert body.endswith(b"\x00\x00\x00\x00")
    scored = fact()
    scored.score = 1.5
    body = wire.encode_reply(wire.Reply(1, wire.MemoryFactsReply([scored])))
    assert body.endswith(b"\x00\x00\xc0\x3f")
    assert wire.decode_reply(body).body.facts[0].score == 1.5


def test_requests_round_trip():
    for op in (wire.MemoryAddRequest(ADA_BOT, "t", "src", None, 2**40),
               wire.MemorySearchRequest(MemoryScope("a", None, "s"), "q", None, 0, 70_000),
               wire.MemoryListRequest(ADA_BOT, 5, False, True),
               wire.MemoryForgetRequest(MemoryScope("a"), None)):
        body = wire.encode_request(wire.Request(9, op))
        assert wire.decode_request(body) == wire.Request(9, op)


# --- the memory tools' texts ------------------------------------------------------------------


def test_memory_save_goes_to_the_agent_or_the_user_never_the_session():
    save = tool_request("memory_save", '{"text": "Ada prefers vim.", "key": "editor"}', MemoryScope("ada", "bot", "s1"))
    assert save == wire.MemoryAddRequest(ADA_BOT, "Ada prefers vim.", "conversation s1", "editor")
    save = tool_request("memory_save", {"text": "x"}, {"user": "ada", "session": "s1"})
    assert save.scope == MemoryScope("ada") and save.source == "conversation s1" and save.key is None
    assert tool_request("memory_save", {"text": "x"}, ADA_BOT).source is None


def test_memory_search_searches_the_whole_scope():
    search = tool_request("memory_search", '{"query": "editor"}', MemoryScope("ada", "bot", "s1"))
    assert search == wire.MemorySearchRequest(MemoryScope("ada", "bot", "s1"), "editor")


def test_only_memory_tools_and_a_scope():
    with pytest.raises(ValueError):
        tool_request("read_log", "{}", ADA_BOT)
    with pytest.raises(ValueError):
        tool_request("memory_save", "{}", None)


def test_a_save_without_text_is_answered_without_the_daemon():
    for arguments in ("{}", '{"text": "  "}', {"text": 3}, "not json"):
        assert tool_request("memory_save", arguments, ADA_BOT) == \
            'memory_save needs a "text": the fact to remember.'
    assert tool_request("memory_search", {"query": 3}, ADA_BOT).query == ""


def test_tool_texts_are_the_documented_ones():
    saved = wire.MemoryAddReply(fact(), False, [])
    assert tool_text(saved) == "saved as fact 00000000000000aa"
    again = wire.MemoryAddReply(fact(), True, [])
    assert tool_text(again) == "already remembered as fact 00000000000000aa"
    replaced = wire.MemoryAddReply(fact(), False, ["01", "02"])
    assert tool_text(replaced) == "saved as fact 00000000000000aa; it replaces 2 earlier fact(s)"
    found = wire.MemoryFactsReply([fact(), fact(text="Ada prefers vim.", valid_from_ms=1_600_000_000_000)])
    assert tool_text(found) == ("- The deploy target is eu-west-1. (since 2025-11-24)\n"
                                         "- Ada prefers vim. (since 2020-09-13)")
    assert tool_text(wire.MemoryFactsReply([])) == "no remembered fact matches"


def test_tool_failure_text():
    gone = headroom.HeadroomError("cannot talk to headroomd")
    assert tool_failure("memory_search", gone) == \
        "Headroom could not answer memory_search (cannot talk to headroomd); go on without it."


# --- which tools a call offers and answers ----------------------------------------------------

CHAT_TOOLS = [{"type": "function", "function": {"name": n}} for n in ("memory_save", "memory_search")]
RETRIEVE = {"type": "function", "function": {"name": "headroom_retrieve"}}


def test_offer_adds_headrooms_tools_after_the_apps():
    app = [{"type": "function", "function": {"name": "read_log"}}]
    result = headroom.CompressResult([], retrieve_tool=RETRIEVE, memory_tools=CHAT_TOOLS)
    offered, names = tools.offer(app, result)
    assert [tools.tool_name(t) for t in offered] == ["read_log", "headroom_retrieve", "memory_save", "memory_search"]
    assert names == tools.NAMES
    assert app == [{"type": "function", "function": {"name": "read_log"}}]


def test_offer_leaves_the_apps_same_named_tool_alone():
    app = [{"name": "memory_search", "input_schema": {}}]
    offered, names = tools.offer(app, headroom.CompressResult([], memory_tools=CHAT_TOOLS))
    assert [tools.tool_name(t) for t in offered] == ["memory_search", "memory_save"]
    assert names == {"headroom_retrieve", "memory_save"}


def test_offer_without_headroom_tools_keeps_the_apps_object():
    app = [{"name": "x"}]
    assert tools.offer(app, headroom.CompressResult([])) == (app, frozenset({"headroom_retrieve"}))
    assert tools.offer(None, headroom.CompressResult([]))[0] is None


def test_calls_in_three_shapes():
    names = tools.NAMES
    chat = {"tool_calls": [{"id": "c1", "function": {"name": "memory_save", "arguments": '{"text": "t"}'}}]}
    assert tools.chat_calls(chat, names) == ([("c1", "memory_save", {"text": "t"})], True)
    chat["tool_calls"].append({"id": "c2", "function": {"name": "read_log", "arguments": "{}"}})
    assert tools.chat_calls(chat, names)[1] is False
    assert tools.chat_calls(chat, {"headroom_retrieve"}) == ([], False)
    output = [{"type": "function_call", "call_id": "c1", "name": "memory_search", "arguments": '{"query": "q"}'}]
    assert tools.responses_calls(output, names) == ([("c1", "memory_search", {"query": "q"})], True)
    content = [{"type": "text", "text": "noting"},
               {"type": "tool_use", "id": "t1", "name": "memory_save", "input": {"text": "t"}}]
    assert tools.anthropic_calls(content, names) == ([("t1", "memory_save", {"text": "t"})], True)


def test_integrations_offer_memory_tools_unless_told_not_to():
    assert loop_options({"protect_recent": 1}) == {"protect_recent": 1}
    assert loop_options({"memory": {"user": "ada"}}) == {"memory": MemoryScope("ada"), "memory_tools": True}
    assert loop_options({"memory": ADA_BOT, "memory_tools": False})["memory_tools"] is False
    with pytest.raises(ValueError):
        loop_options({"memory": {"agent": "bot"}})


# --- the client API against a scripted socket -------------------------------------------------


class Scripted:
    """Answers Hello, and every other request with the next reply body of ``bodies``."""

    def __init__(self, *bodies):
        self.bodies = list(bodies)

    def __call__(self, request):
        if isinstance(request.op, wire.Hello):
            return wire.Reply(request.id, wire.HelloReply(wire.PROTOCOL_VERSION, "scripted"))
        return wire.Reply(request.id, self.bodies.pop(0))


@pytest.fixture
def scripted(tmp_path):
    servers = []

    def start(*bodies):
        server = SilentSocket(str(tmp_path / f"s{len(servers)}.sock"), Scripted(*bodies))
        servers.append(server)
        return server, headroom.HeadroomClient(socket=server.path, timeout=1)

    yield start
    for server in servers:
        server.close()


def ops(server):
    return [r.op for r in server.requests if not isinstance(r.op, wire.Hello)]


def test_memory_operations_send_what_they_are_given(scripted):
    added = wire.MemoryAddReply(fact(), False, ["00000000000000ff"])
    server, client = scripted(added, wire.MemoryFactsReply([fact()]), wire.MemoryFactsReply([]),
                              wire.MemoryForgetReply(3))
    when = datetime.datetime(2025, 11, 24, 16, 0, tzinfo=UTC)
    assert client.memory.add("The deploy target is eu-west-1.", ADA_BOT, key="deploy target", source="c-7",
                             valid_from=when) == added
    assert client.memory.search("deploy", user="ada", session="s1", as_of=1_700_000_000_000, limit=5) == [fact()]
    assert client.memory.list({"user": "ada"}, include_narrower=True) == []
    assert client.memory.forget(user="ada", id="00000000000000ff") == 3
    assert ops(server) == [
        wire.MemoryAddRequest(ADA_BOT, "The deploy target is eu-west-1.", "c-7", "deploy target", 1_764_000_000_000),
        wire.MemorySearchRequest(MemoryScope("ada", None, "s1"), "deploy", 1_700_000_000_000, 5, 0),
        wire.MemoryListRequest(MemoryScope("ada"), None, False, True),
        wire.MemoryForgetRequest(MemoryScope("ada"), "00000000000000ff"),
    ]


def test_async_memory_operations(scripted):
    server, client = scripted(wire.MemoryAddReply(fact(), True, []), wire.MemoryFactsReply([fact()]),
                              wire.MemoryFactsReply([fact()]), wire.MemoryForgetReply(1))

    async def main():
        return (await client.aio.memory.add("t", user="ada"), await client.aio.memory.search("q", ADA_BOT),
                await client.aio.memory.list(ADA_BOT, include_superseded=True),
                await client.aio.memory.forget(ADA_BOT))
    added, found, listed, removed = asyncio.run(main())
    assert added.duplicate and found == listed == [fact()] and removed == 1
    assert [type(op) for op in ops(server)] == [wire.MemoryAddRequest, wire.MemorySearchRequest,
                                                 wire.MemoryListRequest, wire.MemoryForgetRequest]


def test_memory_operations_raise_with_the_daemons_code(scripted):
    server, client = scripted(wire.ErrorReply(wire.ErrorCode.bad_request, "the text is empty"))
    with pytest.raises(headroom.HeadroomError) as e:
        client.memory.add("", user="ada")
    assert e.value.code == headroom.ErrorCode.bad_request
    with pytest.raises(headroom.HeadroomError) as e:
        headroom.HeadroomClient(socket=server.path + ".absent").memory.search("q", user="ada")
    assert e.value.code is None


def test_answer_tool_saves_and_searches_and_never_raises(scripted):
    server, client = scripted(wire.MemoryAddReply(fact(), False, []), wire.MemoryFactsReply([fact()]),
                              wire.ErrorReply(wire.ErrorCode.internal, "disk full"))
    scope = MemoryScope("ada", "bot", "s1")
    assert client.answer_tool("memory_save", '{"text": "The deploy target is eu-west-1."}', scope) == \
        "saved as fact 00000000000000aa"
    assert asyncio.run(client.aio.answer_tool("memory_search", {"query": "deploy"}, scope)) == \
        "- The deploy target is eu-west-1. (since 2025-11-24)"
    assert client.answer_tool("memory_save", {"text": "x"}, scope) == \
        "Headroom could not answer memory_save (headroomd: internal: disk full); go on without it."
    assert ops(server)[0].scope == ADA_BOT and ops(server)[0].source == "conversation s1"
    assert ops(server)[1].scope == scope
    with pytest.raises(ValueError):
        client.answer_tool("read_log", "{}", scope)


def test_compress_reports_memories_and_parsed_memory_tools(scripted):
    reply = wire.CompressReply(b'[{"role":"user","content":"<memory>\\n- f\\n</memory>\\n\\nq"}]', 1, 1, [], [], None,
                               wire.ProviderFormat.OpenAiChat, 1, json.dumps(CHAT_TOOLS).encode())
    server, client = scripted(reply)
    result = client.compress([{"role": "user", "content": "q"}], memory=ADA_BOT, memory_tools=True)
    assert result.memories == 1 and result.memory_tools == CHAT_TOOLS
    assert result.messages[0]["content"].endswith("\n\nq")
    assert ops(server)[0].options.memory == wire.MemoryOptions(ADA_BOT, 0, True)


def test_the_module_namespace_uses_the_process_wide_client(scripted, monkeypatch):
    server, client = scripted(wire.MemoryForgetReply(0), wire.MemoryForgetReply(2))
    monkeypatch.setattr("headroom.client._default", client)
    assert headroom.memory.forget(user="nobody") == 0
    assert asyncio.run(headroom.aio.memory.forget(user="nobody")) == 2
    assert isinstance(headroom.HeadroomClient().memory, headroom.Memory)
    from headroom.memory import Memory  # the module, although ``headroom.memory`` is the namespace
    assert Memory is headroom.Memory


def test_each_operation_is_written_once_for_both_sides():
    for name in ("compress", "retrieve", "stats", "metrics", "answer_retrieve", "answer_tool", "memory"):
        assert getattr(headroom.HeadroomClient, name) is getattr(headroom.AsyncHeadroomClient, name)
    client = headroom.HeadroomClient()
    assert client.aio is client.aio and client.aio._home() is client


# --- a reply that calls Headroom's tools beside the application's ----------------------------


class Obj:
    """An SDK-like object: attributes from keywords."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


def chat_call(cid, name, arguments="{}"):
    return Obj(id=cid, type="function", function=Obj(name=name, arguments=arguments))


def test_mixed_chat_reply_loses_headrooms_calls():
    message = Obj(content=None, tool_calls=[chat_call("c1", "memory_save", '{"text": "t"}'), chat_call("c2", "read_log")])
    response = Obj(choices=[Obj(message=message)])
    assert CHAT.strip(response, tools.NAMES) == [("c1", "memory_save", {"text": "t"})]
    assert [c.id for c in message.tool_calls] == ["c2"]
    assert CHAT.strip(response, tools.NAMES) == [], "nothing of Headroom's is left"


def test_a_reply_with_only_headrooms_calls_is_not_stripped():
    message = Obj(content=None, tool_calls=[chat_call("c1", "memory_save")])
    assert CHAT.strip(Obj(choices=[Obj(message=message)]), tools.NAMES) == []
    assert len(message.tool_calls) == 1


def test_mixed_responses_and_anthropic_replies_lose_headrooms_calls():
    text = Obj(type="message", name=None)
    output = [text, Obj(type="function_call", call_id="c1", name="memory_search", arguments='{"query": "q"}'),
              Obj(type="function_call", call_id="c2", name="read_log", arguments="{}")]
    response = Obj(output=output)
    assert RESPONSES.strip(response, tools.NAMES) == [("c1", "memory_search", {"query": "q"})]
    assert [getattr(i, "call_id", None) for i in response.output] == [None, "c2"]
    content = [Obj(type="text", text="saving"), Obj(type="tool_use", id="t1", name="memory_save", input={"text": "t"}),
               Obj(type="tool_use", id="t2", name="read_log", input={})]
    response = Obj(content=content)
    assert ANTHROPIC.strip(response, tools.NAMES) == [("t1", "memory_save", {"text": "t"})]
    assert [b.type for b in response.content] == ["text", "tool_use"]
