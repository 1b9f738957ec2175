"""Memory against the real daemon: the operations, scope isolation, supersession and as-of
queries, facts on the request path, and the memory tools answered by the integrations that own
the model-call loop (the OpenAI and Anthropic SDK wrappers, LangChain, LiteLLM) against the fake
provider."""

import asyncio
import datetime
import uuid

import litellm
import pytest
from anthropic import Anthropic
from langchain_core.messages import HumanMessage
from langchain_openai import ChatOpenAI
from openai import OpenAI

import headroom
from headroom import MemoryScope
from headroom.langchain import HeadroomChatModel
from headroom.litellm import HeadroomCallback
from headroom.sdk import with_headroom
from fake_provider import Scripted
from conftest import tool_names

DEPLOY_EU = "The deploy target is eu-west-1."
DEPLOY_US = "The deploy target is us-east-1."
SYSTEM = {"role": "system", "content": "You are a release assistant."}
UTC = datetime.timezone.utc


@pytest.fixture
def user():
    """A user no other test writes to: the daemon's state lives for the whole session."""
    return f"user-{uuid.uuid4().hex[:12]}"


def texts(facts):
    return [f.text for f in facts]


def openai(provider, **options):
    return with_headroom(OpenAI(base_url=provider.url + "/v1", api_key="sk-test", max_retries=0), **options)


# --- the operations ---------------------------------------------------------------------------


def test_add_search_list_forget(daemon, user):
    scope = MemoryScope(user, "billing-bot")
    vim = headroom.memory.add("Ada's favourite editor is vim.", scope, source="onboarding")
    assert not vim.duplicate and vim.superseded == [] and len(vim.fact.id) == 16
    assert vim.fact.scope == scope and vim.fact.source == "onboarding" and vim.fact.valid_to is None
    deploy = headroom.memory.add(DEPLOY_EU, scope)
    headroom.memory.add("Invoices are sent on the first Monday of the month.", scope)

    found = headroom.memory.search("which editor does Ada use", scope)
    assert found[0].id == vim.fact.id and found[0].score > 0
    assert texts(headroom.memory.search("deploy target", scope, limit=1)) == [DEPLOY_EU]
    listed = headroom.memory.list(scope)
    assert len(listed) == 3 and listed[0].created_ms >= listed[-1].created_ms, "newest first"
    assert all(f.score == 0 for f in listed)

    assert headroom.memory.forget(scope, id=deploy.fact.id) == 1
    assert DEPLOY_EU not in texts(headroom.memory.list(scope))
    assert headroom.memory.forget(user=user) == 2
    assert headroom.memory.list(user=user, include_narrower=True) == []


def test_search_is_bounded_by_limit_and_budget(daemon, user):
    for i in range(5):
        headroom.memory.add(f"Deploy window number {i} opens at {i} am for the billing service.", user=user)
    assert len(headroom.memory.search("deploy window billing", user=user, limit=2)) == 2
    assert len(headroom.memory.search("deploy window billing", user=user)) == 5
    assert 1 <= len(headroom.memory.search("deploy window billing", user=user, budget_tokens=20)) < 5


def test_a_near_identical_fact_is_a_duplicate(daemon, user):
    first = headroom.memory.add("Ada prefers dark mode in every editor.", user=user)
    again = headroom.memory.add("ada prefers dark mode in every editor!", user=user)
    assert again.duplicate and again.fact.id == first.fact.id
    assert len(headroom.memory.list(user=user)) == 1


def test_scopes_are_isolated(daemon, user):
    other = f"{user}-other"
    headroom.memory.add("The user-wide fact about release trains.", user=user)
    headroom.memory.add("The billing agent fact about release trains.", user=user, agent="billing")
    headroom.memory.add("The support agent fact about release trains.", user=user, agent="support")
    headroom.memory.add("The session s1 fact about release trains.", user=user, agent="billing", session="s1")
    headroom.memory.add("The session s2 fact about release trains.", user=user, agent="billing", session="s2")
    headroom.memory.add("The other user's fact about release trains.", user=other)

    def seen(**scope):
        return sorted(texts(headroom.memory.search("release trains fact", **scope)))

    assert seen(user=user) == ["The user-wide fact about release trains."]
    assert seen(user=user, agent="billing") == ["The billing agent fact about release trains.",
                                                "The user-wide fact about release trains."]
    assert seen(user=user, agent="billing", session="s1") == [
        "The billing agent fact about release trains.", "The session s1 fact about release trains.",
        "The user-wide fact about release trains."]
    assert seen(user=user, session="s1") == ["The user-wide fact about release trains."], "no agent: no agent's facts"
    assert seen(user=other) == ["The other user's fact about release trains."]
    assert len(headroom.memory.list(user=user, include_narrower=True)) == 5
    assert len(headroom.memory.list(user=user, agent="billing", include_narrower=True)) == 3
    # Forgetting a scope takes the scopes under it and nothing else.
    assert headroom.memory.forget(user=user, agent="billing") == 3
    assert seen(user=user, agent="support") == ["The support agent fact about release trains.",
                                                "The user-wide fact about release trains."]
    # A fact id outside the scope is not the scope's to forget.
    [user_wide] = headroom.memory.list(user=user)
    with pytest.raises(headroom.HeadroomError) as e:
        headroom.memory.forget(user=other, id=user_wide.id)
    assert e.value.code == headroom.ErrorCode.not_found
    assert headroom.memory.list(user=user) == [user_wide]


def test_a_new_fact_supersedes_the_old_one_which_still_answers_as_of(daemon, user):
    march = datetime.datetime(2026, 3, 1, tzinfo=UTC)
    june = datetime.datetime(2026, 6, 1, tzinfo=UTC)
    old = headroom.memory.add(DEPLOY_US, user=user, agent="bot", valid_from=march)
    new = headroom.memory.add(DEPLOY_EU, user=user, agent="bot", valid_from=june)
    assert new.superseded == [old.fact.id] and new.fact.key == old.fact.key == "deploy target"

    assert texts(headroom.memory.search("deploy target", user=user, agent="bot")) == [DEPLOY_EU]
    april = datetime.datetime(2026, 4, 1, tzinfo=UTC)
    assert texts(headroom.memory.search("deploy target", user=user, agent="bot", as_of=april)) == [DEPLOY_US]
    assert texts(headroom.memory.list(user=user, agent="bot", as_of=int(april.timestamp() * 1000))) == [DEPLOY_US]
    assert texts(headroom.memory.list(user=user, agent="bot")) == [DEPLOY_EU]
    history = {f.id: f for f in headroom.memory.list(user=user, agent="bot", include_superseded=True)}
    assert history[old.fact.id].valid_to == june and history[old.fact.id].superseded_by == new.fact.id
    assert history[new.fact.id].valid_to is None


def test_async_operations(daemon, user):
    async def main():
        added = await headroom.aio.memory.add(DEPLOY_EU, user=user)
        found = await headroom.aio.memory.search("deploy", user=user)
        listed = await headroom.aio.memory.list(user=user)
        removed = await headroom.aio.memory.forget(user=user, id=added.fact.id)
        return added, found, listed, removed
    added, found, listed, removed = asyncio.run(main())
    assert texts(found) == texts(listed) == [DEPLOY_EU] and removed == 1


def test_answer_tool_through_the_daemon(daemon, user):
    scope = {"user": user, "agent": "bot", "session": "s1"}
    saved = headroom.answer_tool("memory_save", {"text": DEPLOY_US}, memory=scope)
    assert saved.startswith("saved as fact ")
    assert headroom.answer_tool("memory_save", {"text": DEPLOY_US}, memory=scope) == \
        "already remembered as" + saved.removeprefix("saved as")
    replaced = headroom.answer_tool("memory_save", f'{{"text": "{DEPLOY_EU}"}}', memory=scope)
    assert replaced.endswith("; it replaces 1 earlier fact(s)")
    today = datetime.datetime.now(UTC).strftime("%Y-%m-%d")
    assert headroom.answer_tool("memory_search", {"query": "deploy target"}, memory=scope) == \
        f"- {DEPLOY_EU} (since {today})"
    assert headroom.answer_tool("memory_search", {"query": "zebra"}, memory=scope) == "no remembered fact matches"
    assert headroom.answer_tool("memory_save", {"text": ""}, memory=scope) == \
        'memory_save needs a "text": the fact to remember.'
    [fact] = headroom.memory.list(user=user, agent="bot", include_narrower=True)
    assert fact.scope == MemoryScope(user, "bot") and fact.source == "conversation s1"


# --- the request path -------------------------------------------------------------------------


def test_compress_adds_the_scopes_facts_to_the_latest_user_message(daemon, user):
    headroom.memory.add(DEPLOY_EU, user=user, agent="bot")
    question = "Where do we deploy the new queue?"
    messages = [SYSTEM, {"role": "user", "content": "hello"}, {"role": "assistant", "content": "hi"},
                {"role": "user", "content": question}]
    result = headroom.compress(messages, memory=MemoryScope(user, "bot", "s1"))
    assert result.error is None and result.memories == 1 and result.memory_tools is None
    assert result.messages[:3] == messages[:3]
    latest = result.messages[3]["content"]
    assert latest.startswith("<memory>\n") and DEPLOY_EU in latest and latest.endswith(question)
    assert messages[3]["content"] == question, "the caller's messages are not modified"

    with_tools = headroom.compress(messages, memory={"user": user, "agent": "bot"}, memory_tools=True)
    assert [t["function"]["name"] for t in with_tools.memory_tools] == ["memory_save", "memory_search"]
    body = {"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": question}],
            "tools": [{"name": "read_log", "input_schema": {"type": "object"}}]}
    whole = headroom.compress(body, format="anthropic", memory={"user": user, "agent": "bot"}, memory_tools=True)
    assert tool_names(whole.messages) == ["read_log", "memory_save", "memory_search"]
    assert headroom.compress(messages, memory={"user": f"{user}-nobody"}).memories == 0


def test_a_fact_saved_in_conversation_a_is_used_in_conversation_b(daemon, provider, user):
    # Conversation A: the model saves a fact; the wrapper answers the call through the daemon and
    # calls the model again, so the application sees only the final answer.
    provider.script += [Scripted(tool="memory_save", args={"text": DEPLOY_EU}), Scripted(text="Noted.")]
    a = openai(provider, memory=MemoryScope(user, "billing-bot", "a"))
    reply = a.chat.completions.create(model="gpt-4o", messages=[
        SYSTEM, {"role": "user", "content": "Remember: from now on we deploy to eu-west-1."}])
    assert reply.choices[0].message.content == "Noted." and not reply.choices[0].message.tool_calls
    call, answered = provider.bodies()
    assert tool_names(call) == ["memory_save", "memory_search"]
    assert answered["messages"][-2]["tool_calls"][0]["function"]["name"] == "memory_save"
    assert answered["messages"][-1]["content"].startswith("saved as fact ")
    [saved] = headroom.memory.list(user=user, include_narrower=True)
    assert saved.text == DEPLOY_EU and saved.scope == MemoryScope(user, "billing-bot"), "saved at the agent level"
    assert saved.source == "conversation a"

    # Conversation B, another session of the same user and agent: the fact reaches the model in
    # the latest user message.
    provider.requests.clear()
    b = openai(provider, memory=MemoryScope(user, "billing-bot", "b"))
    q1 = {"role": "user", "content": "Where should we deploy the new queue?"}
    assert b.chat.completions.create(model="gpt-4o", messages=[SYSTEM, q1]).choices[0].message.content \
        == "final answer"
    [first] = provider.bodies()
    latest = first["messages"][-1]["content"]
    assert latest.startswith("<memory>\n") and DEPLOY_EU in latest and latest.endswith(q1["content"])

    # A second turn, after another fact arrived: the earlier messages are re-sent exactly as
    # before (same memory block), so the provider's prompt cache keeps hitting.
    headroom.memory.add("The queue service deploys from the release branch.", user=user, agent="billing-bot")
    q2 = {"role": "user", "content": "And where does the queue service deploy from?"}
    b.chat.completions.create(model="gpt-4o", messages=[SYSTEM, q1, {"role": "assistant", "content": "final answer"},
                                                        q2])
    second = provider.bodies()[1]
    assert second["messages"][:2] == first["messages"][:2]
    assert second["messages"][1]["content"] == latest
    assert "release branch" in second["messages"][3]["content"]


def test_anthropic_wrapper_answers_memory_search(daemon, provider, user):
    headroom.memory.add(DEPLOY_EU, user=user)
    provider.script += [Scripted(tool="memory_search", args={"query": "deploy target"}), Scripted(text="eu-west-1")]
    client = with_headroom(Anthropic(base_url=provider.url, api_key="sk-test", max_retries=0),
                           memory={"user": user, "session": "s9"})
    reply = client.messages.create(model="claude-test", max_tokens=64,
                                   messages=[{"role": "user", "content": "What was decided about deploys?"}])
    assert [b.type for b in reply.content] == ["text"] and reply.content[0].text == "eu-west-1"
    call, answered = provider.bodies()
    assert tool_names(call) == ["memory_save", "memory_search"]
    result = answered["messages"][-1]["content"][0]
    assert result["type"] == "tool_result" and result["content"].startswith(f"- {DEPLOY_EU} (since ")


def test_a_save_beside_the_apps_own_call_is_kept_and_hidden(daemon, provider, user):
    read_log = {"type": "function", "function": {"name": "read_log", "parameters": {"type": "object"}}}
    provider.script.append(Scripted(tool="memory_save", args={"text": DEPLOY_EU},
                                    more=[("read_log", {"path": "job.log"})]))
    client = openai(provider, memory={"user": user, "agent": "bot", "session": "p1"})
    reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "check the log"}],
                                           tools=[read_log])
    assert [c.function.name for c in reply.choices[0].message.tool_calls] == ["read_log"]
    assert texts(headroom.memory.list(user=user, agent="bot")) == [DEPLOY_EU]
    assert len(provider.requests) == 1


def test_memory_tools_false_offers_facts_but_no_tools(daemon, provider, user):
    headroom.memory.add(DEPLOY_EU, user=user)
    provider.script.append(Scripted(tool="memory_save", args={"text": "x"}))
    client = openai(provider, memory={"user": user}, memory_tools=False)
    reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "deploy target?"}])
    assert reply.choices[0].message.tool_calls[0].function.name == "memory_save", "not Headroom's call to answer"
    [body] = provider.bodies()
    assert "tools" not in body and DEPLOY_EU in body["messages"][0]["content"]


def test_langchain_answers_memory_save_unseen(daemon, provider, user):
    provider.script += [Scripted(tool="memory_save", args={"text": DEPLOY_EU, "key": "deploy target"}),
                        Scripted(text="Noted.")]
    model = HeadroomChatModel(model=ChatOpenAI(model="gpt-4o", base_url=provider.url + "/v1", api_key="sk-test",
                                               max_retries=0),
                              memory=MemoryScope(user, "bot", "lc"))
    reply = model.invoke([HumanMessage("We deploy to eu-west-1 now.")])
    assert reply.content == "Noted." and reply.tool_calls == []
    assert texts(headroom.memory.list(user=user, agent="bot")) == [DEPLOY_EU]
    provider.requests.clear()
    chunks = list(model.stream([HumanMessage("Where do we deploy?")]))
    assert "".join(c.content for c in chunks) == "final answer"
    assert DEPLOY_EU in provider.bodies()[0]["messages"][0]["content"]


def get_weather(city: str) -> str:
    """The weather in a city."""
    return "sunny"


def test_langchain_keeps_a_save_beside_the_apps_call_and_hides_it(daemon, provider, user):
    model = HeadroomChatModel(model=ChatOpenAI(model="gpt-4o", base_url=provider.url + "/v1", api_key="sk-test",
                                               max_retries=0),
                              memory={"user": user, "agent": "bot"}).bind_tools([get_weather])
    both = Scripted(tool="memory_save", args={"text": DEPLOY_EU}, more=[("get_weather", {"city": "Oslo"})])
    provider.script += [both, both]
    reply = model.invoke([HumanMessage("Weather in Oslo? Also, we deploy to eu-west-1.")])
    assert [c["name"] for c in reply.tool_calls] == ["get_weather"]
    chunks = list(model.stream([HumanMessage("Weather in Oslo? Also, we deploy to eu-west-1.")]))
    streamed = sum(chunks[1:], chunks[0])
    assert [c["name"] for c in streamed.tool_calls] == ["get_weather"]
    assert streamed.tool_calls[0]["args"] == {"city": "Oslo"}
    assert len(provider.requests) == 2
    facts = headroom.memory.list(user=user, agent="bot")
    assert texts(facts) == [DEPLOY_EU], "saved once, the second save was a duplicate"


@pytest.fixture
def register(daemon):
    """Registers ``HeadroomCallback(**options)`` as LiteLLM's only callback for one test."""
    saved = litellm.callbacks

    def register(**options):
        litellm.callbacks = [HeadroomCallback(**options)]
    yield register
    litellm.callbacks = saved


def test_litellm_callback_per_call_memory_and_litellms_loop_answers_the_tools(register, provider, user):
    register(memory={"user": "nobody-by-default"})
    provider.script += [Scripted(tool="memory_save", args={"text": DEPLOY_EU}), Scripted(text="Noted.")]
    kwargs = {"model": "openai/gpt-4o", "api_base": provider.url + "/v1", "api_key": "sk-test"}
    scope = {"user": user, "agent": "bot", "session": "l1"}
    reply = asyncio.run(litellm.acompletion(messages=[{"role": "user", "content": "We deploy to eu-west-1."}],
                                            metadata={"headroom_memory": scope}, **kwargs))
    assert reply.choices[0].message.content == "Noted."
    assert texts(headroom.memory.list(user=user, agent="bot")) == [DEPLOY_EU]
    assert headroom.memory.list(user="nobody-by-default", include_narrower=True) == []

    # Streaming: LiteLLM runs no tool loop on a stream, so the facts come in the message and the
    # memory tools are not offered (nothing would answer them).
    provider.requests.clear()

    async def stream():
        chunks = await litellm.acompletion(messages=[{"role": "user", "content": "Where do we deploy?"}],
                                           metadata={"headroom_memory": scope}, stream=True, **kwargs)
        return "".join([c.choices[0].delta.content or "" async for c in chunks])
    assert asyncio.run(stream()) == "final answer"
    assert DEPLOY_EU in provider.bodies()[0]["messages"][0]["content"]
    assert tool_names(provider.bodies()[0]) == []


def test_daemon_stopped_memory_fails_open_for_calls_and_raises_for_operations(daemon, provider, user,
                                                                             stopped_daemon):
    client = openai(provider, memory={"user": user})
    reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content == "final answer"
    assert provider.bodies()[0]["messages"] == [{"role": "user", "content": "hi"}]
    with pytest.raises(headroom.HeadroomError):
        headroom.memory.add("x", user=user)
    answer = headroom.answer_tool("memory_search", {"query": "x"}, memory={"user": user})
    assert answer.startswith("Headroom could not answer memory_search (") and answer.endswith("; go on without it.")
