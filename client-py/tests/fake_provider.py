"""A fake LLM provider on 127.0.0.1 that records every request body and answers in OpenAI Chat,
OpenAI Responses or Anthropic Messages shape, as JSON or as an SSE stream.

It plays a model that reads Headroom markers: when a request holds a marker
(``headroom_retrieve hash=KEY``), offers the ``headroom_retrieve`` tool and has not yet had that
key answered, the reply is a ``headroom_retrieve`` tool call for KEY. Otherwise the reply is the
next scripted answer (``FakeProvider.script``), by default the text ``"final answer"``. Set
``retrieve = False`` for a model that never calls the tool.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MARKER = re.compile(r"headroom_retrieve hash=([0-9a-f]{24})")


@dataclass
class Recorded:
    path: str
    body: dict
    headers: dict


@dataclass
class Scripted:
    """One answer: plain ``text``, or a call of ``tool`` with ``args`` (and parallel calls
    ``more``: ``[(tool, args)]``, in every JSON reply and the chat stream)."""

    text: str = "final answer"
    tool: str | None = None
    args: dict = field(default_factory=dict)
    more: list = field(default_factory=list)

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
                with provider.lock:
                    provider.requests.append(Recorded(self.path, body, dict(self.headers)))
                    answer = provider._next(body)
                path = self.path.split("?")[0]
                if path.endswith("/chat/completions"):
                    self._answer(body, chat_json(body, answer), chat_sse(body, answer))
                elif path.endswith("/responses"):
                    self._answer(body, responses_json(body, answer), responses_sse(body, answer))
                elif path.endswith("/messages"):
                    self._answer(body, anthropic_json(body, answer), anthropic_sse(body, answer))
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
                    return Scripted(tool="headroom_retrieve", args={"hash": key})
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
    message = {"role": "assistant", "content": a.text if a.tool is None else None}
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
        out += [chunk({"tool_calls": [{"index": n - 1, "id": f"call_{n}", "type": "function",
                                       "function": {"name": tool, "arguments": json.dumps(args)}}]})
                for n, tool, args in a.calls()]
        out.append(chunk({}, "tool_calls"))
    else:
        words = a.text.split(" ")
        out += [chunk({"content": w if i == 0 else " " + w}) for i, w in enumerate(words)]
        out.append(chunk({}, "stop"))
    out.append("data: [DONE]\n\n")
    return out


# --- OpenAI Responses -------------------------------------------------------------------------


def responses_json(body, a: Scripted) -> dict:
    if a.tool:
        items = [{"type": "function_call", "id": f"fc_{n}", "call_id": f"call_{n}", "name": tool,
                  "arguments": json.dumps(args), "status": "completed"} for n, tool, args in a.calls()]
    else:
        items = [{"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
                  "content": [{"type": "output_text", "text": a.text, "annotations": []}]}]
    return {"id": "resp_1", "object": "response", "created_at": 1, "status": "completed",
            "model": body.get("model", "m"), "output": items, "parallel_tool_calls": True,
            "tool_choice": "auto", "tools": [], "error": None, "incomplete_details": None,
            "instructions": None, "metadata": {}, "temperature": 1.0, "top_p": 1.0,
            "usage": {"input_tokens": 10, "output_tokens": 2, "total_tokens": 12,
                      "input_tokens_details": {"cached_tokens": 0},
                      "output_tokens_details": {"reasoning_tokens": 0}}}


def responses_sse(body, a: Scripted) -> list:
    whole = responses_json(body, a)
    started = {**whole, "status": "in_progress", "output": []}
    out = [_sse({"type": "response.created", "sequence_number": 0, "response": started}, "response.created")]
    seq = 1
    if not a.tool:
        for w in a.text.split(" "):
            out.append(_sse({"type": "response.output_text.delta", "sequence_number": seq, "item_id": "msg_1",
                             "output_index": 0, "content_index": 0, "delta": w + " ", "logprobs": []},
                            "response.output_text.delta"))
            seq += 1
    out.append(_sse({"type": "response.completed", "sequence_number": seq, "response": whole}, "response.completed"))
    return out


# --- Anthropic --------------------------------------------------------------------------------


def anthropic_json(body, a: Scripted) -> dict:
    blocks = ([{"type": "tool_use", "id": f"toolu_{n}", "name": tool, "input": args} for n, tool, args in a.calls()]
              if a.tool else [{"type": "text", "text": a.text}])
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": body.get("model", "m"),
            "content": blocks, "stop_reason": "tool_use" if a.tool else "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 2}}


def anthropic_sse(body, a: Scripted) -> list:
    start = {**anthropic_json(body, a), "content": [], "stop_reason": None}
    out = [_sse({"type": "message_start", "message": start}, "message_start")]
    if a.tool:
        out.append(_sse({"type": "content_block_start", "index": 0,
                         "content_block": {"type": "tool_use", "id": "toolu_1", "name": a.tool, "input": {}}},
                        "content_block_start"))
        out.append(_sse({"type": "content_block_delta", "index": 0,
                         "delta": {"type": "input_json_delta", "partial_json": json.dumps(a.args)}},
                        "content_block_delta"))
    else:
        out.append(_sse({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                        "content_block_start"))
        for i, w in enumerate(a.text.split(" ")):
            out.append(_sse({"type": "content_block_delta", "index": 0,
                             "delta": {"type": "text_delta", "text": w if i == 0 else " " + w}},
                            "content_block_delta"))
    out.append(_sse({"type": "content_block_stop", "index": 0}, "content_block_stop"))
    out.append(_sse({"type": "message_delta", "delta": {"stop_reason": "tool_use" if a.tool else "end_turn",
                                                        "stop_sequence": None},
                     "usage": {"output_tokens": 2}}, "message_delta"))
    out.append(_sse({"type": "message_stop"}, "message_stop"))
    return out
