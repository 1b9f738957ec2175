"""Agno (the real library, pinned) with ``HeadroomAgnoModel`` in an ``Agent`` that has a tool, sync,
async and streaming, against the fake provider: every step of Agno's tool loop compressed,
``headroom_retrieve`` answered inside the step, savings in the run's metrics, fail-open."""

import os

os.environ.setdefault("AGNO_TELEMETRY", "false")  # no network from Agno

import asyncio
import subprocess
import sys
import uuid

import pytest
from agno.agent import Agent
from agno.models.anthropic import Claude
from agno.models.openai import OpenAIChat

import headroom
from fake_provider import Scripted
from headroom.agno import HeadroomAgnoModel
from conftest import MARKER, NEEDLE, TOOL_LOG, assert_compressed, tool_names, tool_texts

QUESTION = "Why did the job fail? Show the ERROR."
MODES = ["run", "arun", "stream", "astream"]


def read_log(path: str) -> str:
    """Read a log file."""
    return TOOL_LOG


def openai_model(provider):
    return OpenAIChat(id="gpt-4o", api_key="sk-test", base_url=provider.url + "/v1", max_retries=0)


def claude_model(provider):
    return Claude(id="claude-sonnet-4-5", api_key="sk-test", client_params={"base_url": provider.url, "max_retries": 0})


def run(agent, mode):
    """``(final text, [tool names the agent ran], additional_metrics, content events)``."""
    if mode == "run":
        out = agent.run(QUESTION)
    elif mode == "arun":
        out = asyncio.run(agent.arun(QUESTION))
    if mode in ("run", "arun"):
        return out.content, [t.tool_name for t in out.tools or []], out.metrics.additional_metrics, None
    if mode == "stream":
        events = list(agent.run(QUESTION, stream=True, stream_events=True))
    else:
        async def collect():
            return [e async for e in agent.arun(QUESTION, stream=True, stream_events=True)]
        events = asyncio.run(collect())
    contents = [e.content for e in events if e.event == "RunContent" and e.content]
    ran = [e.tool.tool_name for e in events if e.event == "ToolCallStarted"]
    done = [e for e in events if e.event == "RunCompleted"][0]
    return "".join(contents), ran, done.metrics.additional_metrics, contents


def agent_with(model):
    return Agent(model=model, tools=[read_log], telemetry=False)


@pytest.mark.parametrize("mode", MODES)
def test_every_step_compressed_and_retrieve_answered_inside_the_step(daemon, provider, mode):
    provider.script = [Scripted(tool="read_log", args={"path": "job.log"}), Scripted(text="final answer")]
    text, ran, metrics, contents = run(agent_with(HeadroomAgnoModel(model=openai_model(provider))), mode)
    assert text == "final answer"
    assert ran == ["read_log"], "the agent never sees headroom_retrieve"
    first, second, third = provider.bodies("/chat/completions")
    assert tool_texts(first) == [] and tool_names(first) == ["read_log"]
    assert_compressed(second)
    assert tool_names(second) == ["read_log", "headroom_retrieve"]
    assert tool_texts(third)[0] == tool_texts(second)[0], "the same compressed bytes again (prompt cache)"
    assert third["messages"][-2]["tool_calls"][0]["function"]["name"] == "headroom_retrieve"
    assert tool_texts(third)[-1] == TOOL_LOG, "the retrieved original reaches the model intact"
    assert metrics["headroom_tokens_before"] > 4 * metrics["headroom_tokens_after"] > 0
    assert metrics["headroom_retrieve_rounds"] == 1
    if contents is not None:
        assert contents == ["final", " answer"], "text passes through delta by delta"


@pytest.mark.parametrize("mode", ["run", "stream"])
def test_any_agno_model_claude(daemon, provider, mode):
    provider.script = [Scripted(tool="read_log", args={"path": "job.log"}), Scripted(text="final answer")]
    text, ran, metrics, _ = run(agent_with(HeadroomAgnoModel(model=claude_model(provider))), mode)
    assert text == "final answer" and ran == ["read_log"]
    _, second, third = provider.bodies("/v1/messages")
    assert second["messages"][-1]["content"][0]["type"] == "tool_result"
    assert_compressed(second)
    assert tool_texts(third)[-1] == TOOL_LOG
    assert metrics["headroom_retrieve_rounds"] == 1


@pytest.mark.parametrize("mode", ["run", "stream"])
def test_headroom_calls_beside_the_agents_are_dropped(daemon, provider, mode):
    # The model calls read_log and headroom_retrieve together: the agent runs its own tool and
    # never hears of Headroom's.
    provider.retrieve = False
    provider.script = [
        Scripted(tool="read_log", args={"path": "job.log"}),
        Scripted(tool="read_log", args={"path": "other.log"}, more=[("headroom_retrieve", {"hash": "0" * 24})]),
        Scripted(text="final answer"),
    ]
    text, ran, _, _ = run(agent_with(HeadroomAgnoModel(model=openai_model(provider))), mode)
    assert text == "final answer"
    assert ran == ["read_log", "read_log"]
    last = provider.bodies("/chat/completions")[-1]
    calls = [c["function"]["name"] for m in last["messages"] for c in m.get("tool_calls") or []]
    assert calls == ["read_log", "read_log"]


@pytest.mark.parametrize("mode", ["run", "astream"])
def test_daemon_stopped_the_agent_runs_uncompressed(provider, stopped_daemon, mode):
    provider.script = [Scripted(tool="read_log", args={"path": "job.log"}), Scripted(text="final answer")]
    text, ran, metrics, _ = run(agent_with(HeadroomAgnoModel(model=openai_model(provider))), mode)
    assert text == "final answer" and ran == ["read_log"]
    second = provider.bodies("/chat/completions")[1]
    assert tool_texts(second) == [TOOL_LOG]
    assert tool_names(second) == ["read_log"]
    assert not any(key.startswith("headroom_") for key in metrics or {})


def test_the_wrapped_model_is_still_the_model(daemon, provider):
    inner = openai_model(provider)
    model = HeadroomAgnoModel(model=inner)
    assert isinstance(model, OpenAIChat) and isinstance(model, HeadroomAgnoModel)
    assert (model.id, model.base_url, model.supports_native_structured_outputs) == ("gpt-4o", inner.base_url, True)
    assert type(inner) is OpenAIChat, "the model passed in is left as it was"
    with pytest.raises(TypeError):
        HeadroomAgnoModel(model="gpt-4o")


def test_importing_the_module_does_not_import_agno():
    done = subprocess.run([sys.executable, "-c", "import sys, headroom.agno; print('agno' in sys.modules)"],
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


def test_markers_survive_in_the_text_the_model_reads(daemon, provider):
    # A model that never calls headroom_retrieve still reads what was left out and the ERROR.
    provider.retrieve = False
    provider.script = [Scripted(tool="read_log", args={"path": "job.log"}), Scripted(text="final answer")]
    run(agent_with(HeadroomAgnoModel(model=openai_model(provider))), "run")
    text = tool_texts(provider.bodies("/chat/completions")[1])[0]
    assert NEEDLE in text and MARKER in text


def test_memory_tools_answered_inside_the_step_and_facts_on_the_next_run(daemon, provider):
    user = f"agno-{uuid.uuid4().hex[:12]}"
    fact = "The deploy target is eu-west-1."
    model = HeadroomAgnoModel(model=openai_model(provider), memory={"user": user, "agent": "ops"})
    provider.script = [Scripted(tool="memory_save", args={"text": fact}), Scripted(text="Noted.")]
    out = agent_with(model).run("We deploy to eu-west-1.")
    assert out.content == "Noted." and not out.tools, "the agent never sees memory_save"
    assert "memory_save" in tool_names(provider.bodies()[0])
    assert [f.text for f in headroom.memory.list(user=user, agent="ops")] == [fact]
    provider.requests.clear()
    agent_with(model).run("Where do we deploy?")
    assert fact in provider.bodies()[0]["messages"][-1]["content"], "the fact joins the latest user message"
