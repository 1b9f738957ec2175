"""Anthropic Messages as the retrieve loop meets it (``ANTHROPIC``): content blocks go to the
daemon as they are (no conversion); its SSE stream (``MessagesStream``); the paths
``with_headroom(Anthropic())`` compresses (``ROUTES``, Vertex and Bedrock included). The
``anthropic`` package is never imported: the functions read SDK objects and JSON replies by
their shape.
"""

from __future__ import annotations

from typing import Any, Optional

from . import tools
from .loop import Api, Route, dump, item_calls, item_strip
from .wire import ProviderFormat


def _anthropic_followup(response: Any, answers: list) -> list:
    return tools.anthropic_followup([dump(block) for block in tools.get(response, "content")], answers)


#: Anthropic Messages.
ANTHROPIC = Api("messages", ProviderFormat.Anthropic, item_calls("content", tools.anthropic_calls),
                _anthropic_followup,
                item_strip("content", "tool_use", "id", "input", stop=("stop_reason", "tool_use", "end_turn")))


def is_anthropic(sdk_client: Any) -> bool:
    """Whether ``sdk_client`` has the Anthropic client's shape (``messages.create``)."""
    return hasattr(getattr(sdk_client, "messages", None), "create")


class MessagesStream:
    """A Messages stream (``create(stream=True)``, ``messages.stream()``, ``beta.messages``; the
    reader behind ``headroom.sdk``'s ``StreamRun``, see ``headroom.openai``): text and thinking
    blocks pass at once; ``tool_use`` blocks, ``message_delta`` and ``message_stop`` are held.
    Later rounds' ``message_start`` is dropped and their block indexes continue the first
    round's; the last ``message_delta`` carries the usage of every round."""

    def __init__(self):
        self.id: Optional[str] = None
        self.later = False
        self.next = 0
        self._start()

    def _start(self) -> None:
        self.blocks: dict = {}
        self.held: dict = {}
        self.index: dict = {}
        self.tail: list = []
        self.usage: Optional[dict] = None
        self.stop = None

    def take(self, name: Optional[str], data: Any) -> list:
        if not isinstance(data, dict):
            return [(name, data)]
        kind = data.get("type")
        if kind == "message_start":
            message = data.get("message") or {}
            self.usage = message.get("usage")
            if self.later:
                return []
            self.id = message.get("id")
            return [(name, data)]
        if kind in ("message_delta", "message_stop"):
            if kind == "message_delta":
                usage = {k: v for k, v in (data.get("usage") or {}).items() if v is not None}
                self.usage = {**(self.usage or {}), **usage}
                self.stop = (data.get("delta") or {}).get("stop_reason")
            self.tail.append((name, data))
            return []
        local = data.get("index")
        if local is None:
            return [(name, data)]
        if kind == "content_block_start":
            self.blocks[local] = dict(data.get("content_block") or {})
            if self.blocks[local].get("type") == "tool_use":
                self.held[local] = []
        elif kind == "content_block_delta":
            self._add(self.blocks.setdefault(local, {}), data.get("delta") or {})
        if local in self.held:
            self.held[local].append((name, data))
            return []
        if local not in self.index:
            self.index[local] = self.next
            self.next += 1
        data["index"] = self.index[local]
        return [(name, data)]

    @staticmethod
    def _add(block: dict, delta: dict) -> None:
        for key, value in delta.items():
            if key == "partial_json":
                block["partial_json"] = block.get("partial_json", "") + value
            elif key == "citation":
                block.setdefault("citations", []).append(value)
            elif key != "type" and isinstance(value, str):
                block[key] = (block.get(key) or "") + value

    def reply(self) -> dict:
        content = []
        for local in sorted(self.blocks):
            block = dict(self.blocks[local])
            if "partial_json" in block:
                block["input"] = tools.arguments_of(block.pop("partial_json"))
            content.append(block)
        return {"id": self.id, "content": content, "stop_reason": self.stop, "usage": self.usage}

    def next_round(self) -> None:
        self.later = True
        self._start()

    def release(self, removed: set, usage: Any, saved: Optional[dict]) -> list:
        out, calls = [], False
        for local in sorted(self.held):
            if self.blocks[local].get("id") in removed:
                continue
            calls = True
            for name, data in self.held[local]:
                data["index"] = self.next
                out.append((name, data))
            self.next += 1
        for name, data in self.tail:
            if data.get("type") == "message_delta":
                delta = data.setdefault("delta", {})
                if delta.get("stop_reason") == "tool_use" and not calls:
                    delta["stop_reason"] = "end_turn"
                if usage is not None:
                    data["usage"] = {**(data.get("usage") or {}), **usage}
                if saved is not None:
                    data["headroom"] = saved
            out.append((name, data))
        return out


_MESSAGES = Route(ANTHROPIC, stream=MessagesStream)

#: The paths ``with_headroom`` compresses on an Anthropic client, by suffix: the Messages API
#: (``beta.messages`` too), its token count and batches, and Vertex's and Bedrock's paths for
#: it (a Bedrock stream is AWS event-stream, which is passed through without Headroom's tools).
ROUTES = {
    "/messages": _MESSAGES,
    "/messages/count_tokens": Route(ANTHROPIC, loop=False),
    "/messages/batches": Route(ANTHROPIC, offer=False, loop=False, batch=True),
    ":rawPredict": _MESSAGES,
    ":streamRawPredict": _MESSAGES,
    "/invoke": Route(ANTHROPIC),
    "/invoke-with-response-stream": Route(ANTHROPIC, offer=False, loop=False),
}
