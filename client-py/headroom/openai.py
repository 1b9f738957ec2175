"""The OpenAI APIs as the retrieve loop meets them: Chat Completions (``CHAT``, which also serves
``headroom.litellm.completion``, whose replies have the chat shape) and Responses
(``RESPONSES``), their SSE streams (``ChatStream``, ``ResponsesStream``), and the paths
``with_headroom(OpenAI())`` compresses (``ROUTES``). The ``openai`` package is never imported:
the functions read SDK objects and JSON replies by their shape.
"""

from __future__ import annotations

from typing import Any, Optional

from . import tools
from .loop import Api, Route, dump, item_calls, item_strip, put, split
from .wire import ProviderFormat


def _choice(response: Any) -> Any:
    choices = tools.get(response, "choices") or ()
    return choices[0] if len(choices) == 1 else None


def _chat_calls(response: Any, names: frozenset) -> list:
    choice = _choice(response)
    if choice is None:
        return []
    calls, only = tools.chat_calls(tools.get(choice, "message"), names)
    return calls if only else []


def _function(call: Any) -> Any:
    return tools.get(call, "function")


def _chat_strip(response: Any, names: frozenset, everything: bool = False) -> list:
    choice = _choice(response)
    if choice is None:
        return []
    message = tools.get(choice, "message")
    calls = list(tools.get(message, "tool_calls") or ())
    removed, kept = split(calls, names, lambda c: tools.get(_function(c), "name"), everything)
    if removed:
        put(message, "tool_calls", kept or None)
        if not kept and tools.get(choice, "finish_reason") == "tool_calls":
            put(choice, "finish_reason", "stop")
    return [(tools.get(c, "id"), tools.get(_function(c), "name"), tools.arguments_of(tools.get(_function(c), "arguments")))
            for c in removed]


def _chat_followup(response: Any, answers: list) -> list:
    message = tools.get(_choice(response), "message")
    turn = {"role": "assistant", "content": tools.get(message, "content"), "tool_calls": [
        {"id": tools.get(c, "id"), "type": "function",
         "function": {"name": tools.get(_function(c), "name"), "arguments": tools.get(_function(c), "arguments")}}
        for c in tools.get(message, "tool_calls")]}
    return tools.chat_followup(turn, answers)


def _responses_followup(response: Any, answers: list) -> list:
    return tools.responses_followup([dump(item) for item in tools.get(response, "output")], answers)


#: OpenAI Chat Completions (and LiteLLM's ``completion``).
CHAT = Api("messages", ProviderFormat.OpenAiChat, _chat_calls, _chat_followup, _chat_strip)
#: OpenAI Responses.
RESPONSES = Api("input", ProviderFormat.OpenAiResponses, item_calls("output", tools.responses_calls),
                _responses_followup, item_strip("output", "function_call", "call_id", "arguments"))


def is_openai(sdk_client: Any) -> bool:
    """Whether ``sdk_client`` has the OpenAI client's shape (``chat.completions`` or ``responses``)."""
    return hasattr(getattr(sdk_client, "chat", None), "completions") or \
        hasattr(getattr(sdk_client, "responses", None), "create")


# --- streams ----------------------------------------------------------------------------------
#
# A reader takes one stream's events (``take``: those to pass on now), gives each round's reply
# in the JSON shape the ``Api`` reads (``reply``), starts another round after an answered one
# (``next_round``), and at the end hands back what it held, Headroom's calls removed
# (``release``). Its ``id`` is the stream's (the first round's), which every event keeps.


class ChatStream:
    """A Chat Completions stream (``create(stream=True)``, ``chat.completions.stream()``): text
    chunks pass at once; chunks with tool calls, the finishing chunk, the usage chunk and
    ``[DONE]`` are held."""

    def __init__(self):
        self.id: Optional[str] = None
        self.later = False
        self._start()

    def _start(self) -> None:
        self.held: list = []
        self.content = ""
        self.calls: dict = {}
        self.finish = None
        self.usage = None

    def take(self, name: Optional[str], data: Any) -> list:
        if not isinstance(data, dict):
            self.held.append((name, data))
            return []
        self.id = self.id or data.get("id")
        data["id"] = self.id
        if data.get("usage"):
            self.usage = data["usage"]
        choices = data.get("choices") or []
        hold = not choices
        for choice in choices:
            delta = choice.get("delta") or {}
            if self.later:
                delta.pop("role", None)  # the SDK's accumulator would append it to the first
            self.content += delta.get("content") or ""
            for call in delta.get("tool_calls") or ():
                hold = True
                slot = self.calls.setdefault(call.get("index", 0), {"id": None, "name": "", "arguments": ""})
                slot["id"] = call.get("id") or slot["id"]
                slot["name"] += (call.get("function") or {}).get("name") or ""
                slot["arguments"] += (call.get("function") or {}).get("arguments") or ""
            if choice.get("finish_reason"):
                self.finish = choice["finish_reason"]
                hold = True
        if hold:
            self.held.append((name, data))
            return []
        return [(name, data)]

    def reply(self) -> dict:
        message: dict = {"role": "assistant", "content": self.content or None}
        if self.calls:
            message["tool_calls"] = [{"id": c["id"], "type": "function",
                                      "function": {"name": c["name"], "arguments": c["arguments"]}}
                                     for _, c in sorted(self.calls.items())]
        return {"id": self.id, "choices": [{"index": 0, "message": message, "finish_reason": self.finish}],
                "usage": self.usage}

    def next_round(self) -> None:
        self.later = True
        self._start()

    def release(self, removed: set, usage: Any, saved: Optional[dict]) -> list:
        gone = {i for i, c in self.calls.items() if c["id"] in removed}
        renumber = {i: n for n, i in enumerate(sorted(set(self.calls) - gone))}
        last = None
        for _, data in self.held:
            if not isinstance(data, dict):
                continue
            last = data
            for choice in data.get("choices") or ():
                delta = choice.get("delta") or {}
                if "tool_calls" in delta:
                    kept = [{**c, "index": renumber[c.get("index", 0)]} for c in delta["tool_calls"] or ()
                            if c.get("index", 0) not in gone]
                    if kept:
                        delta["tool_calls"] = kept
                    else:
                        del delta["tool_calls"]
                if choice.get("finish_reason") == "tool_calls" and not renumber:
                    choice["finish_reason"] = "stop"
            if data.get("usage"):
                data["usage"] = usage
        if last is not None and saved is not None:
            last["headroom"] = saved
        return self.held


class ResponsesStream:
    """A Responses stream (``responses.create(stream=True)``, ``responses.stream()``): events of
    function-call items and the terminal event are held, the rest pass at once. Output indexes
    and sequence numbers are renumbered across rounds, and the terminal event's response lists
    every item that was passed on."""

    _TERMINAL = ("response.completed", "response.incomplete", "response.failed")
    _STARTING = ("response.created", "response.in_progress", "response.queued")

    def __init__(self):
        self.id: Optional[str] = None
        self.later = False
        self.sequence = 0
        self.items: list = []
        self._start()

    def _start(self) -> None:
        self.held: dict = {}
        self.index: dict = {}
        self.end = None

    def _numbered(self, event: tuple) -> tuple:
        if "sequence_number" in event[1]:
            event[1]["sequence_number"] = self.sequence
        self.sequence += 1
        return event

    def _passed(self, local: int, data: dict) -> None:
        if local not in self.index:
            self.index[local] = len(self.items)
            self.items.append(None)
        data["output_index"] = self.index[local]
        if isinstance(data.get("item"), dict):
            self.items[self.index[local]] = data["item"]

    def take(self, name: Optional[str], data: Any) -> list:
        if not isinstance(data, dict):
            return [(name, data)]
        kind = data.get("type")
        response = data.get("response")
        if isinstance(response, dict):
            self.id = self.id or response.get("id")
            response["id"] = self.id
        if kind in self._TERMINAL:
            self.end = (name, data)
            return []
        if kind in self._STARTING and self.later:
            return []
        local = data.get("output_index")
        if local is None:
            return [self._numbered((name, data))]
        if kind == "response.output_item.added" and (data.get("item") or {}).get("type") == "function_call":
            self.held[local] = []
        if local in self.held:
            self.held[local].append((name, data))
            return []
        self._passed(local, data)
        return [self._numbered((name, data))]

    def reply(self) -> dict:
        return self.end[1]["response"] if self.end else {"output": []}

    def next_round(self) -> None:
        self.later = True
        self._start()

    def release(self, removed: set, usage: Any, saved: Optional[dict]) -> list:
        out = []
        for local in sorted(self.held):
            events = self.held[local]
            if next((d["item"] for _, d in events if isinstance(d.get("item"), dict)), {}).get("call_id") in removed:
                continue
            for name, data in events:
                self._passed(local, data)
                out.append(self._numbered((name, data)))
        if self.end is not None:
            response = self.end[1]["response"]
            response["output"] = [item for item in self.items if item is not None]
            if usage is not None:
                response["usage"] = usage
            if saved is not None:
                response["headroom"] = saved
            out.append(self._numbered(self.end))
        return out


#: The paths ``with_headroom`` compresses on an OpenAI client (Azure's included), by suffix.
ROUTES = {
    "/chat/completions": Route(CHAT, stream=ChatStream),
    "/responses": Route(RESPONSES, stream=ResponsesStream),
    "/responses/input_tokens": Route(RESPONSES, loop=False),
}

#: Paths it sees but cannot compress, with the warning given once per process.
UNSUPPORTED = {
    "/batches": "headroom: an OpenAI batch reads its requests from an uploaded file, which Headroom does not "
                "rewrite, so the batch is not compressed. Compress each request's messages with "
                "headroom.compress(messages, format='openai_chat') before writing the file.",
}
