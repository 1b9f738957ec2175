"""Headroom's own tools as the integrations meet them, in the three provider shapes:
``headroom_retrieve`` (offered whenever a compressed block carries a marker) and ``memory_save``
/ ``memory_search`` (offered when a call names a memory scope with memory tools). Here: which of
them to offer next to the application's tools, finding the model's calls to them, and the
follow-up turns that carry the answers back, and the text that answers ``headroom_retrieve``
(the memory tools' texts are in ``memory``). The answers themselves come from
``HeadroomClient.answer_tool``.

It also shields earlier retrieve answers from compression: the answer to a retrieve call is the
exact original of a compressed block, so compressing it again would re-emit the same marker (the
daemon's replay store knows those bytes) and the model would ask for it forever. ``shield``
swaps every such answer for a short placeholder before the messages go to the daemon, and
``restore`` puts the answers back afterwards.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Optional

from .wire import ErrorCode, RetrieveReply

#: The tool that fetches the original behind a compression marker.
RETRIEVE_TOOL_NAME = "headroom_retrieve"
#: The memory tool that remembers a fact (``{text, key?}``).
MEMORY_SAVE_TOOL_NAME = "memory_save"
#: The memory tool that searches remembered facts (``{query}``).
MEMORY_SEARCH_TOOL_NAME = "memory_search"
#: Every tool Headroom answers itself.
NAMES = frozenset((RETRIEVE_TOOL_NAME, MEMORY_SAVE_TOOL_NAME, MEMORY_SEARCH_TOOL_NAME))

#: What the daemon sees in place of an earlier retrieve answer: shorter than anything it
#: compresses.
_PLACEHOLDER = "[headroom: retrieved content]"


def get(obj: Any, key: str) -> Any:
    """``obj[key]`` for dicts, ``obj.key`` for SDK objects, else ``None``."""
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, key, None)


def message_list(messages: Any) -> Optional[list]:
    """The list of messages/items inside a bare list or a whole request body."""
    if isinstance(messages, list):
        return messages
    if isinstance(messages, dict):
        for key in ("messages", "input"):
            if isinstance(messages.get(key), list):
                return messages[key]
    return None


def _with_list(messages: Any, items: list) -> Any:
    if isinstance(messages, list):
        return items
    key = "messages" if isinstance(messages.get("messages"), list) else "input"
    return {**messages, key: items}


def _id(obj: Any, key: str) -> Optional[str]:
    """The call id under ``key``, or ``None`` when it is missing or not a string (a malformed
    id matches nothing instead of breaking the call)."""
    value = get(obj, key)
    return value if isinstance(value, str) else None


def retrieve_call_ids(items: Iterable[Any]) -> set:
    """Ids of every ``headroom_retrieve`` call in OpenAI chat, Responses or Anthropic shape
    (string ids only)."""
    ids = set()
    for m in items:
        for call in get(m, "tool_calls") or ():
            if get(get(call, "function"), "name") == RETRIEVE_TOOL_NAME:
                ids.add(_id(call, "id"))
        if get(m, "type") == "function_call" and get(m, "name") == RETRIEVE_TOOL_NAME:
            ids.add(_id(m, "call_id"))
        content = get(m, "content")
        if isinstance(content, list):
            for block in content:
                if get(block, "type") == "tool_use" and get(block, "name") == RETRIEVE_TOOL_NAME:
                    ids.add(_id(block, "id"))
    ids.discard(None)
    return ids


def shield(messages: Any):
    """``(messages to send, saved answers)``: a shallow copy of ``messages`` whose retrieve
    answers are placeholders (``saved`` is empty and ``messages`` itself is returned when there
    are none). The caller's objects are never modified."""
    items = message_list(messages)
    if not items:
        return messages, []
    ids = retrieve_call_ids(items)
    if not ids:
        return messages, []
    saved = []
    out = list(items)
    for i, m in enumerate(items):
        if not isinstance(m, dict):
            continue
        if m.get("role") in ("tool", "function") and _id(m, "tool_call_id") in ids and "content" in m:
            out[i] = {**m, "content": _PLACEHOLDER}
            saved.append((i, None, "content", m["content"]))
        elif m.get("type") == "function_call_output" and _id(m, "call_id") in ids and "output" in m:
            out[i] = {**m, "output": _PLACEHOLDER}
            saved.append((i, None, "output", m["output"]))
        elif m.get("role") == "user" and isinstance(m.get("content"), list):
            blocks = list(m["content"])
            for j, b in enumerate(blocks):
                if isinstance(b, dict) and b.get("type") == "tool_result" and _id(b, "tool_use_id") in ids:
                    blocks[j] = {**b, "content": _PLACEHOLDER}
                    saved.append((i, j, "content", b.get("content")))
            if blocks != m["content"]:
                out[i] = {**m, "content": blocks}
    return _with_list(messages, out), saved


def restore(messages: Any, saved: list) -> Any:
    """Puts the answers ``shield`` saved back into ``messages`` (which must be the client's own
    objects: the shielded copy or the daemon's parsed reply)."""
    items = message_list(messages)
    for i, j, key, value in saved:
        target = items[i] if j is None else items[i]["content"][j]
        target[key] = value
    return messages


def arguments_of(raw: Any) -> dict:
    """Tool-call arguments as a dict, whether the SDK gives a JSON string or a mapping."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw or "{}")
        except ValueError:
            return {}
    return dict(raw) if isinstance(raw, dict) else {}


def answer_text(key: str, reply: Optional[RetrieveReply] = None, error: Optional[Exception] = None) -> str:
    """What the model reads in answer to ``headroom_retrieve(hash=key)``: the original (or the
    matching lines), or why it is not available. ``expired`` is terminal: re-run the tool."""
    if reply is not None:
        return reply.content
    code = getattr(error, "code", None)
    if code == ErrorCode.expired:
        return f"[headroom: {error}. Re-run the tool that produced this content to see it again.]"
    if code == ErrorCode.not_found:
        return f"[headroom: nothing is stored under hash={key}; that content is not available.]"
    if code == ErrorCode.bad_request:
        return f"[headroom: {key!r} is not a retrieve key; pass the 24-character hash from the marker.]"
    return "[headroom: the original content is not available right now; continue without it.]"


# --- which tools a call offers -----------------------------------------------------------------


def tool_name(tool: Any) -> Optional[str]:
    """The name of a tool definition in any provider's shape."""
    return get(tool, "name") or get(get(tool, "function"), "name")


def offer(tools: Any, result: Any) -> tuple[Any, frozenset]:
    """``(tools to send, names to answer)`` for one compressed call: the application's ``tools``
    plus the retrieve tool and memory tools of ``result`` (a ``CompressResult``), and the names of
    Headroom's tools whose calls the loop answers. A tool the application already offers under
    the same name is neither added again nor answered by Headroom (``headroom_retrieve`` excepted:
    it is always Headroom's)."""
    present = {tool_name(t) for t in tools or ()}
    extra, names = [], {RETRIEVE_TOOL_NAME}
    if result.retrieve_tool is not None and RETRIEVE_TOOL_NAME not in present:
        extra.append(result.retrieve_tool)
    for tool in result.memory_tools or ():
        name = tool_name(tool)
        if name not in present:
            extra.append(tool)
            names.add(name)
    return (list(tools or ()) + extra if extra else tools), frozenset(names)


def offered_names(tools: Any) -> frozenset:
    """Names of Headroom's tools among ``tools`` (any provider's shape)."""
    return frozenset(tool_name(t) for t in tools or ()) & NAMES


# --- OpenAI chat ------------------------------------------------------------------------------


def chat_calls(message: Any, names: Iterable[str]) -> tuple[list, bool]:
    """``([(call id, tool name, arguments dict)], only)`` for the calls of an assistant message to
    the tools in ``names``; ``only`` is true when every tool call in it is one of them."""
    calls = list(get(message, "tool_calls") or ())
    ours = [(get(c, "id"), get(get(c, "function"), "name"), arguments_of(get(get(c, "function"), "arguments")))
            for c in calls if get(get(c, "function"), "name") in names]
    return ours, bool(ours) and len(ours) == len(calls)


def chat_followup(assistant: dict, answers: list) -> list:
    """The assistant turn and one ``role: tool`` message per ``(call id, text)`` answer."""
    return [assistant] + [{"role": "tool", "tool_call_id": cid, "content": text} for cid, text in answers]


# --- OpenAI Responses -------------------------------------------------------------------------


def responses_calls(output: list, names: Iterable[str]) -> tuple[list, bool]:
    """``chat_calls`` for the output items of a Responses reply."""
    calls = [item for item in output if get(item, "type") == "function_call"]
    ours = [(get(c, "call_id"), get(c, "name"), arguments_of(get(c, "arguments")))
            for c in calls if get(c, "name") in names]
    return ours, bool(ours) and len(ours) == len(calls)


def responses_followup(output_items: list, answers: list) -> list:
    """The reply's output items and one ``function_call_output`` item per answer."""
    return list(output_items) + [
        {"type": "function_call_output", "call_id": cid, "output": text} for cid, text in answers
    ]


# --- Anthropic Messages -----------------------------------------------------------------------


def anthropic_calls(content: list, names: Iterable[str]) -> tuple[list, bool]:
    """``chat_calls`` for the content blocks of an Anthropic reply."""
    uses = [b for b in content if get(b, "type") == "tool_use"]
    ours = [(get(b, "id"), get(b, "name"), arguments_of(get(b, "input"))) for b in uses if get(b, "name") in names]
    return ours, bool(ours) and len(ours) == len(uses)


def anthropic_followup(assistant_blocks: list, answers: list) -> list:
    """The assistant turn and a user turn with one ``tool_result`` block per answer."""
    return [
        {"role": "assistant", "content": list(assistant_blocks)},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": cid, "content": text} for cid, text in answers
        ]},
    ]
