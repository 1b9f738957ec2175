"""LiteLLM without the ``mcp`` package (what a plain ``pip install litellm`` gives): LiteLLM 1.106
imports its MCP gateway for every call that has ``tools``, so such a call fails with ``No module
named 'mcp'``. Headroom must not turn a call that works without it into one that fails: there it
adds no tools. Run in a subprocess whose imports of ``mcp`` fail, against the real daemon and
the fake provider."""

import json
import os
import subprocess
import sys

from conftest import MARKER, NEEDLE, TOOL_LOG, tool_texts

SCRIPT = r'''
import asyncio, importlib.abc, json, logging, sys

class NoMcp(importlib.abc.MetaPathFinder):
    """`mcp` is not installed."""
    def find_spec(self, name, path=None, target=None):
        if name == "mcp" or name.startswith("mcp."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoMcp())
sys.path.insert(0, sys.argv[2])
warnings = []
handler = logging.Handler()
handler.emit = lambda record: warnings.append(record.getMessage())
logging.getLogger("headroom").addHandler(handler)

import litellm
import headroom.litellm as hl
from conftest import tool_conversation

kwargs = {"model": "openai/gpt-4o", "api_base": sys.argv[1] + "/v1", "api_key": "sk-test"}
out = {}
tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}
try:  # without Headroom: a call with tools fails in this LiteLLM
    litellm.completion(messages=[{"role": "user", "content": "hi"}], tools=[tool], **kwargs)
    out["with_tools"] = "ok"
except Exception as e:
    out["with_tools"] = str(e)

litellm.callbacks = [hl.HeadroomCallback()]
text = lambda r: r.choices[0].message.content
out["callback_async"] = text(asyncio.run(litellm.acompletion(messages=tool_conversation(), **kwargs)))
out["callback_sync"] = text(litellm.completion(messages=tool_conversation(), **kwargs))
out["wrapper_sync"] = text(hl.completion(messages=tool_conversation(), **kwargs))
out["wrapper_async"] = text(asyncio.run(hl.acompletion(messages=tool_conversation(), **kwargs)))
out["takes_tools"] = hl.litellm_takes_tools()
out["warnings"] = warnings
print(json.dumps(out))
'''


def test_without_mcp_headroom_adds_no_tools_and_every_call_succeeds(daemon, provider):
    here = os.path.dirname(os.path.abspath(__file__))
    done = subprocess.run([sys.executable, "-c", SCRIPT, provider.url, here], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "HEADROOM_SOCKET": daemon.socket,
                                            "LITELLM_LOCAL_MODEL_COST_MAP": "True"})
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert "No module named 'mcp'" in out["with_tools"], "the subprocess really has no mcp"
    for path in ("callback_async", "callback_sync", "wrapper_sync", "wrapper_async"):
        assert out[path] == "final answer", path
    assert out["takes_tools"] is False
    assert len([w for w in out["warnings"] if "cannot send a call with tools" in w]) == 1, out["warnings"]
    bodies = provider.bodies("/chat/completions")
    assert len(bodies) == 4, "the call with tools failed inside LiteLLM; the four others were sent"
    for body in bodies:
        assert "tools" not in body
        text = tool_texts(body)[0]
        assert len(text) < len(TOOL_LOG) / 4 and NEEDLE in text and MARKER in text, "still compressed"
