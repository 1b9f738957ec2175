"""A fake LLM provider on 127.0.0.1 that records every request body and answers in OpenAI Chat,
OpenAI Responses or Anthropic Messages shape, as JSON or as an SSE stream.

It plays a model that reads Headroom markers: when a request holds a marker
(``headroom_retrieve hash=KEY``), offers the ``headroom_retrieve`` tool and has not yet had that
key answered, the reply is a ``headroom_retrieve`` tool call for KEY. Otherwise the reply is the
next scripted answer (``FakeProvider.script``), by default the text ``"final answer"``. Set
``retrieve = False`` for a model that never calls the tool, and ``preface`` for text it says
before calling it.

Streams follow the providers' event sequences (a chat stream ends with a usage chunk when
``stream_options.include_usage`` asks for it). Vertex (``:rawPredict``, ``:streamRawPredict``)
and Bedrock (``/invoke``) paths answer in the Anthropic shape.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MARKER = re.compile(r"headroom_retrieve hash=([0-9a-f]{24})")
#: Paths answered in the Anthropic shape: the API's, Vertex's and Bedrock's.
_ANTHROPIC = ("/messages", ":rawPredict", ":streamRawPredict", "/invoke")
#: Paths where the model answers (and takes the next scripted answer).
_GENERATING = ("/chat/completions", "/responses") + _ANTHROPIC


@dataclass
class Recorded:
    path: str
    body: dict
    headers: dict


@dataclass
class Scripted:
    """One answer: plain ``text``, or a call of ``tool`` with ``args`` (and parallel calls
    ``more``: ``[(tool, args)]``), after the text ``preface`` when it is not empty."""

    text: str = "final answer"
    tool: str | None = None
    args: dict = field(default_factory=dict)
    more: list = field(default_factory=list)
    preface: str = ""

    def calls(self) -> list:
        """``[(call number, tool, args)]`` of this answer."""
        return [(i + 1, tool, args) for i, (tool, args) in enumerate([(self.tool, self.args)] + self.more)]


def _tool_names(body: dict) -> set:
    names = set()
    for t in body.get("tools") or ():
        names.add(t.get("name") or (t.get("function") or {}).get("name"))
    return names


def _asked_keys(body: dict) -> set:
    """Keys the request already called ``headroom_retrieve`` for."""
    text = json.dumps(body.get("messages") or body.get("input") or [])
    return set(re.findall(r'hash\\?"\s*:\s*\\?"([0-9a-f]{24})', text))


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # Clients drop keep-alive connections when they are garbage collected: not a failure.
        pass


class FakeProvider:
    """``with FakeProvider() as p:`` serves on ``p.url`` (``http://127.0.0.1:PORT``)."""

    def __init__(self):
        self.requests: list[Recorded] = []
        self.script: list[Scripted] = []
        #: Whether to play the model that calls headroom_retrieve for unanswered markers.
        self.retrieve = True
        #: What that model says before its headroom_retrieve call.
        self.preface = ""
        self.lock = threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                self._json(200, {"object": "list", "data": []})

            def do_POST(self):
                n = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(n) or b"{}")
                path = self.path.split("?")[0]
                with provider.lock:
                    provider.requests.append(Recorded(self.path, body, dict(self.headers)))
                    answer = provider._next(body) if path.endswith(_GENERATING) else None
                if path.endswith("/chat/completions"):
                    self._answer(body, chat_json(body, answer), chat_sse(body, answer))
                elif path.endswith("/responses"):
                    self._answer(body, responses_json(body, answer), responses_sse(body, answer))
                elif path.endswith(_ANTHROPIC):
                    self._answer(body, anthropic_json(body, answer), anthropic_sse(body, answer))
                elif path.endswith(("/input_tokens", "/count_tokens")):
                    self._json(200, {"object": "response.input_tokens", "input_tokens": len(json.dumps(body)) // 4})
                elif path.endswith("/batches"):
                    self._json(200, {"id": "batch_1", "object": "batch", "type": "message_batch",
                                     "processing_status": "in_progress", "status": "validating"})
                else:
                    self._json(404, {"error": {"message": f"no route {self.path}"}})

            def _answer(self, body, whole, events):
                if body.get("stream"):
                    data = "".join(events).encode()
                    self.send_response(200)
                    self.send_header("content-type", "text/event-stream")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                else:
                    self._json(200, whole)

            def _json(self, status, obj):
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _next(self, body: dict) -> Scripted:
        if self.retrieve and "headroom_retrieve" in _tool_names(body):
            text = json.dumps(body.get("messages") or body.get("input") or [])
            asked = _asked_keys(body)
            for key in MARKER.findall(text):
                if key not in asked:
                    return Scripted(tool="headroom_retrieve", args={"hash": key}, preface=self.preface)
        if self.script:
            return self.script.pop(0)
        return Scripted(text="final answer")

    def bodies(self, suffix: str = "") -> list:
        return [r.body for r in self.requests if r.path.split("?")[0].endswith(suffix)]

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _sse(data, event=None) -> str:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n"


# --- OpenAI chat ------------------------------------------------------------------------------


def chat_json(body, a: Scripted) -> dict:
    message = {"role": "assistant", "content": a.text if a.tool is None else (a.preface or None)}
    if a.tool:
        message["tool_calls"] = [{"id": f"call_{n}", "type": "function",
                                  "function": {"name": tool, "arguments": json.dumps(args)}}
                                 for n, tool, args in a.calls()]
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": body.get("model", "m"),
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": "tool_calls" if a.tool else "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}}


def chat_sse(body, a: Scripted) -> list:
    def chunk(delta, finish=None):
        return _sse({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
                     "model": body.get("model", "m"),
                     "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]})
    out = [chunk({"role": "assistant", "content": ""})]
    if a.tool:
        out += [chunk({"content": w}) for w in _words(a.preface)] if a.preface else []
        out += [chunk({"tool_calls": [{"index": n - 1, "id": f"call_{n}", "type": "function",
                                       "function": {"name": tool, "arguments": json.dumps(args)}}]})
                for n, tool, args in a.calls()]
        out.append(chunk({}, "tool_calls"))
    else:
        words = a.text.split(" ")
        out += [chunk({"content": w if i == 0 else " " + w}) for i, w in enumerate(words)]
        out.append(chunk({}, "stop"))
    if (body.get("stream_options") or {}).get("include_usage"):
        out.append(_sse({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
                         "model": body.get("model", "m"), "choices": [],
                         "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}}))
    out.append("data: [DONE]\n\n")
    return out


# --- OpenAI Responses -------------------------------------------------------------------------


def _words(text: str) -> list:
    """``text`` in pieces as a stream sends it (the pieces join to ``text``)."""
    return [w if i == 0 else " " + w for i, w in enumerate(text.split(" "))]


def _responses_message(text: str) -> dict:
    return {"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}


def responses_json(body, a: Scripted) -> dict:
    if a.tool:
        items = [_responses_message(a.preface)] if a.preface else []
        items += [{"type": "function_call", "id": f"fc_{n}", "call_id": f"call_{n}", "name": tool,
                   "arguments": json.dumps(args), "status": "completed"} for n, tool, args in a.calls()]
    else:
        items = [_responses_message(a.text)]
    return {"id": "resp_1", "object": "response", "created_at": 1, "status": "completed",
            "model": body.get("model", "m"), "output": items, "parallel_tool_calls": True,
            "tool_choice": "auto", "tools": [], "error": None, "incomplete_details": None,
            "instructions": None, "metadata": {}, "temperature": 1.0, "top_p": 1.0,
            "usage": {"input_tokens": 10, "output_tokens": 2, "total_tokens": 12,
                      "input_tokens_details": {"cached_tokens": 0},
                      "output_tokens_details": {"reasoning_tokens": 0}}}


def responses_sse(body, a: Scripted) -> list:
    whole = responses_json(body, a)
    events = [("response.created", {"response": {**whole, "status": "in_progress", "output": []}})]
    for i, item in enumerate(whole["output"]):
        at = {"output_index": i, "item_id": item["id"]}
        if item["type"] == "message":
            part = item["content"][0]
            events.append(("response.output_item.added", {"output_index": i, "item": {
                **item, "status": "in_progress", "content": []}}))
            events.append(("response.content_part.added", {**at, "content_index": 0, "part": {**part, "text": ""}}))
            events += [("response.output_text.delta", {**at, "content_index": 0, "delta": w, "logprobs": []})
                       for w in _words(part["text"])]
            events.append(("response.output_text.done", {**at, "content_index": 0, "text": part["text"],
                                                         "logprobs": []}))
            events.append(("response.content_part.done", {**at, "content_index": 0, "part": part}))
        else:
            events.append(("response.output_item.added", {"output_index": i, "item": {
                **item, "status": "in_progress", "arguments": ""}}))
            events.append(("response.function_call_arguments.delta", {**at, "delta": item["arguments"]}))
            events.append(("response.function_call_arguments.done", {**at, "arguments": item["arguments"]}))
        events.append(("response.output_item.done", {"output_index": i, "item": item}))
    events.append(("response.completed", {"response": whole}))
    return [_sse({"type": kind, "sequence_number": n, **data}, kind) for n, (kind, data) in enumerate(events)]


# --- Anthropic --------------------------------------------------------------------------------


def anthropic_json(body, a: Scripted) -> dict:
    if a.tool:
        blocks = [{"type": "text", "text": a.preface}] if a.preface else []
        blocks += [{"type": "tool_use", "id": f"toolu_{n}", "name": tool, "input": args} for n, tool, args in a.calls()]
    else:
        blocks = [{"type": "text", "text": a.text}]
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": body.get("model", "m"),
            "content": blocks, "stop_reason": "tool_use" if a.tool else "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 2}}


def anthropic_sse(body, a: Scripted) -> list:
    whole = anthropic_json(body, a)
    out = [_sse({"type": "message_start", "message": {**whole, "content": [], "stop_reason": None}}, "message_start")]
    for i, block in enumerate(whole["content"]):
        if block["type"] == "text":
            start = {**block, "text": ""}
            deltas = [{"type": "text_delta", "text": w} for w in _words(block["text"])]
        else:
            start = {**block, "input": {}}
            deltas = [{"type": "input_json_delta", "partial_json": json.dumps(block["input"])}]
        out.append(_sse({"type": "content_block_start", "index": i, "content_block": start}, "content_block_start"))
        out += [_sse({"type": "content_block_delta", "index": i, "delta": d}, "content_block_delta") for d in deltas]
        out.append(_sse({"type": "content_block_stop", "index": i}, "content_block_stop"))
    out.append(_sse({"type": "message_delta", "delta": {"stop_reason": whole["stop_reason"], "stop_sequence": None},
                     "usage": {"output_tokens": 2}}, "message_delta"))
    out.append(_sse({"type": "message_stop"}, "message_stop"))
    return out
