"""LangChain integration: ``HeadroomChatModel(model=<any chat model>)``.

It is itself a ``BaseChatModel``, so invoke/ainvoke/stream/astream/batch and everything built on
them work. Each call compresses the conversation through the daemon, calls the wrapped model,
and when the model only calls Headroom's tools (``headroom_retrieve``; ``memory_save`` and
``memory_search`` with ``memory=``) answers them through the daemon and calls the model again,
so the application never sees those calls. ``bind_tools`` keeps your tools and passes them (plus
Headroom's tools when offered) to the wrapped model's own ``bind_tools``;
``with_structured_output`` is the wrapped model's, behind compression.

The reply counts every round: its ``usage_metadata`` (and the provider's ``token_usage`` /
``usage`` in ``response_metadata``) add up all the model calls, and
``response_metadata["headroom"]`` holds the savings (``headroom.loop.savings_of``). A stream
passes text on as it arrives and holds the rest of a round — tool-call chunks and metadata
chunks (finish reason, model name, usage) — until the round is over, so that an answered round
leaves no trace but its usage.
"""

from __future__ import annotations

import json
from typing import Any, AsyncIterator, Generator, Iterator, NamedTuple, Optional, Sequence

from langchain_core.callbacks import AsyncCallbackManager, AsyncCallbackManagerForLLMRun, CallbackManager
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    message_chunk_to_message,
)
from langchain_core.messages.ai import add_usage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import RunnableLambda
from pydantic import ConfigDict, PrivateAttr

from . import tools
from .client import default_client
from .loop import drive, savings_of, sum_usage
from .memory import loop_options
from .wire import ProviderFormat

_TOOLS = "headroom_tools"
_TOOL_KWARGS = "headroom_tool_kwargs"


def _as_dict(m: BaseMessage) -> dict:
    """One OpenAI chat dict per message (1:1, so compressed content maps back by index)."""
    if isinstance(m, ToolMessage):
        return {"role": "tool", "tool_call_id": m.tool_call_id, "content": m.content}
    if isinstance(m, AIMessage):
        out = {"role": "assistant", "content": m.content}
        if m.tool_calls:
            out["tool_calls"] = [{"id": c.get("id"), "type": "function",
                                  "function": {"name": c["name"], "arguments": json.dumps(c.get("args", {}))}}
                                 for c in m.tool_calls]
        return out
    role = {HumanMessage: "user", SystemMessage: "system"}.get(type(m), getattr(m, "role", m.type))
    return {"role": role, "content": m.content}


def _ours(calls: Sequence[dict], names: frozenset) -> list:
    return [c for c in calls if c.get("name") in names]


def _saves(calls: list) -> list:
    """The ``memory_save`` calls among ``calls``: carried out even when the reply is returned
    without them, so that the fact is kept."""
    return [c for c in calls if c.get("name") == tools.MEMORY_SAVE_TOOL_NAME]


def _without_ours(message: AIMessage, names: frozenset) -> AIMessage:
    """``message`` with its calls of Headroom's tools taken out (when it also calls the
    application's tools, or the rounds ran out)."""
    calls = [c for c in message.tool_calls if c.get("name") not in names]
    ids = {c.get("id") for c in _ours(message.tool_calls, names)}
    content = message.content
    if isinstance(content, list):
        content = [b for b in content if not (isinstance(b, dict) and b.get("type") == "tool_use" and b.get("id") in ids)]
    extra = dict(message.additional_kwargs)
    if "tool_calls" in extra:
        extra["tool_calls"] = [c for c in extra["tool_calls"] if c.get("id") not in ids]
        if not extra["tool_calls"]:
            del extra["tool_calls"]
    return message.model_copy(update={"tool_calls": calls, "content": content, "additional_kwargs": extra})


class HeadroomChatModel(BaseChatModel):
    """Wraps ``model`` (any ``BaseChatModel``) with Headroom compression, retrieval and memory.

    ``options``: ``headroom.compress`` options; ``memory``: a ``MemoryScope`` or dict whose
    remembered facts join the latest user message and whose ``memory_save`` / ``memory_search``
    calls are answered here (``options={"memory_tools": False}`` offers no tools); ``client``: a
    ``HeadroomClient`` (default: the process-wide one); ``max_retrieve_rounds``: how many times
    one call may answer Headroom's tools before returning. Fails open: without the daemon, calls
    go through uncompressed.
    """

    model: BaseChatModel
    options: dict = {}
    memory: Optional[Any] = None
    client: Optional[Any] = None
    max_retrieve_rounds: int = 3

    model_config = ConfigDict(arbitrary_types_allowed=True)
    _compress_options: dict = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any) -> None:
        """Checks the memory scope now, so that a mistake fails here and not inside a call."""
        super().model_post_init(context)
        self._compress_options = loop_options(
            self.options if self.memory is None else {**self.options, "memory": self.memory})

    @property
    def _llm_type(self) -> str:
        return f"headroom-{self.model._llm_type}"

    @property
    def _identifying_params(self) -> dict:
        return {"wrapped": self.model._identifying_params}

    def _client(self, asynchronous: bool = False) -> Any:
        """The ``HeadroomClient`` to use, or its asyncio side."""
        client = self.client or default_client()
        return client.aio if asynchronous else client

    def _model_name(self) -> Optional[str]:
        for attr in ("model_name", "model", "model_id"):
            name = getattr(self.model, attr, None)
            if isinstance(name, str):
                return name
        return None

    # --- pieces shared by the four entry points -----------------------------------------------
    #
    # Each is a generator that yields every client or model call it makes and is sent the result
    # back (``headroom.loop.drive``): the calls are blocking or coroutines, the logic is the same.

    @staticmethod
    def _apply(messages: list, sent: list, result) -> tuple:
        """The messages with compressed content (and remembered facts) put back, and the result
        (``None`` when the call failed open)."""
        if result.error is not None or not isinstance(result.messages, list) or len(result.messages) != len(messages):
            return messages, None
        out = []
        for m, before, after in zip(messages, sent, result.messages):
            changed = isinstance(after, dict) and after.get("content") != before.get("content")
            out.append(m.model_copy(update={"content": after["content"]}) if changed else m)
        return out, result

    def _compressed(self, messages: list, asynchronous: bool) -> Generator:
        dicts = [_as_dict(m) for m in messages]
        options = {"app": "langchain", **self._compress_options}
        result = yield self._client(asynchronous).compress(dicts, model=self._model_name(),
                                                           format=ProviderFormat.OpenAiChat, **options)
        return self._apply(messages, dicts, result)

    def _runnable(self, kwargs: dict, result) -> tuple:
        """The wrapped model with the application's tools plus the Headroom tools ``result``
        offers (only if the model can bind tools), and the names of Headroom's tools it answers."""
        app_tools = kwargs.pop(_TOOLS, None)
        tool_kwargs = kwargs.pop(_TOOL_KWARGS, None) or {}
        if result is not None:
            offered, names = tools.offer(app_tools, result)
            if offered is not app_tools:
                try:
                    return self.model.bind_tools(offered, **tool_kwargs), names
                except NotImplementedError:
                    pass
        names = frozenset((tools.RETRIEVE_TOOL_NAME,))
        if app_tools is not None:
            return self.model.bind_tools(app_tools, **tool_kwargs), names
        return self.model, names

    def _answered(self, calls: list, asynchronous: bool) -> Generator:
        """The tool messages that answer calls of Headroom's tools."""
        answers = []
        for call in calls:
            text = yield self._client(asynchronous).answer_tool(call["name"], call.get("args"),
                                                                self._compress_options.get("memory"))
            answers.append(ToolMessage(content=text, tool_call_id=call["id"]))
        return answers

    @staticmethod
    def _config(run_manager) -> Optional[dict]:
        """Runs the wrapped model as a child of this run, as a chain runs its steps."""
        if run_manager is None:
            return None
        kind = AsyncCallbackManager if isinstance(run_manager, AsyncCallbackManagerForLLMRun) else CallbackManager
        manager = kind(handlers=[], parent_run_id=run_manager.run_id)
        manager.set_handlers(run_manager.inheritable_handlers)
        manager.add_tags(run_manager.inheritable_tags)
        manager.add_metadata(run_manager.inheritable_metadata)
        return {"callbacks": manager}

    def _last_round(self, round_: int) -> bool:
        return round_ >= self.max_retrieve_rounds

    def _generation(self, messages: list, stop: Optional[list], run_manager, kwargs: dict,
                    asynchronous: bool) -> Generator:
        history, results, replies = list(messages), [], []
        for round_ in range(self.max_retrieve_rounds + 1):
            sent, result = yield from self._compressed(history, asynchronous)
            results.append(result)
            runnable, names = self._runnable(dict(kwargs), result)
            invoke = runnable.ainvoke if asynchronous else runnable.invoke
            ai = yield invoke(sent, config=self._config(run_manager), stop=stop, **_call_kwargs(kwargs))
            replies.append(ai)
            ours = _ours(ai.tool_calls, names)
            if not ours or len(ours) != len(ai.tool_calls) or self._last_round(round_):
                break
            history += [ai] + (yield from self._answered(ours, asynchronous))
        yield from self._answered(_saves(ours), asynchronous)
        message = _counted(_without_ours(ai, names) if ours else ai, replies, savings_of(results))
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _streaming(self, messages: list, stop: Optional[list], run_manager, kwargs: dict,
                   asynchronous: bool) -> Generator:
        # Text streams through as it comes (yielded as ``ChatGenerationChunk``s); chunks that
        # build tool calls or carry metadata are held until the reply is complete, so that a
        # reply calling only Headroom's tools can be answered unseen (only its usage is kept).
        # ``_Next(stream)`` asks for the stream's next chunk (``None`` at its end).
        history, results, earlier = list(messages), [], None
        for round_ in range(self.max_retrieve_rounds + 1):
            sent, result = yield from self._compressed(history, asynchronous)
            results.append(result)
            runnable, names = self._runnable(dict(kwargs), result)
            stream = (runnable.astream if asynchronous else runnable.stream)(
                sent, config=self._config(run_manager), stop=stop, **_call_kwargs(kwargs))
            held, total = [], None
            while (chunk := (yield _Next(stream))) is not None:
                total = chunk if total is None else total + chunk
                text, rest = _split(chunk)
                if text is not None:
                    yield ChatGenerationChunk(message=text)
                if rest is not None:
                    held.append(rest)
            message, ours, answer = self._settle(total, round_, names)
            if not answer:
                yield from self._answered(_saves(ours), asynchronous)
                for c in _finished(_released(held, message, names, ours), earlier, savings_of(results)):
                    yield ChatGenerationChunk(message=c)
                return
            if total.usage_metadata:
                earlier = add_usage(earlier, total.usage_metadata)
            history += [message] + (yield from self._answered(ours, asynchronous))

    # --- entry points: LangChain calls each of the four; they only run the generators above ----

    def _generate(self, messages: list, stop: Optional[list] = None, run_manager=None, **kwargs) -> ChatResult:
        return drive(self._generation(messages, stop, run_manager, kwargs, asynchronous=False))

    async def _agenerate(self, messages: list, stop: Optional[list] = None, run_manager=None, **kwargs) -> ChatResult:
        return await drive(self._generation(messages, stop, run_manager, kwargs, asynchronous=True), asynchronous=True)

    def _stream(self, messages: list, stop: Optional[list] = None, run_manager=None,
                **kwargs) -> Iterator[ChatGenerationChunk]:
        steps, value = self._streaming(messages, stop, run_manager, kwargs, asynchronous=False), None
        while True:
            try:
                step = steps.send(value)
            except StopIteration:
                return
            if isinstance(step, ChatGenerationChunk):
                yield step
                value = None
            else:
                value = next(step.stream, None) if isinstance(step, _Next) else step

    async def _astream(self, messages: list, stop: Optional[list] = None, run_manager=None,
                       **kwargs) -> AsyncIterator[ChatGenerationChunk]:
        steps, value = self._streaming(messages, stop, run_manager, kwargs, asynchronous=True), None
        while True:
            try:
                step = steps.send(value)
            except StopIteration:
                return
            if isinstance(step, ChatGenerationChunk):
                yield step
                value = None
            else:
                value = await (anext(step.stream, None) if isinstance(step, _Next) else step)

    def _settle(self, total: Optional[AIMessageChunk], round_: int, names: frozenset) -> tuple:
        """``(the completed reply, its calls of Headroom's tools, whether to answer them and
        call again)`` for a streamed reply."""
        if total is None:
            return None, [], False
        message = message_chunk_to_message(total)
        ours = _ours(message.tool_calls, names)
        return message, ours, bool(ours) and len(ours) == len(message.tool_calls) and not self._last_round(round_)

    # --- tools and structured output ----------------------------------------------------------

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: Optional[Any] = None, **kwargs):
        """Keeps ``tools`` and the wrapped model's ``bind_tools`` arguments for each call, where
        Headroom's tools join them when offered."""
        tool_kwargs = dict(kwargs)
        if tool_choice is not None:
            tool_kwargs["tool_choice"] = tool_choice
        return self.bind(**{_TOOLS: list(tools), _TOOL_KWARGS: tool_kwargs})

    def with_structured_output(self, schema: Any, *, include_raw: bool = False, **kwargs):
        """The wrapped model's structured output, fed compressed messages."""
        structured = self.model.with_structured_output(schema, include_raw=include_raw, **kwargs)

        # RunnableLambda takes the blocking and the asyncio function apart.
        def compress(model_input: Any) -> list:
            return drive(self._compressed(self._convert_input(model_input).to_messages(), False))[0]

        async def acompress(model_input: Any) -> list:
            return (await drive(self._compressed(self._convert_input(model_input).to_messages(), True), True))[0]

        return RunnableLambda(compress, afunc=acompress, name="headroom_compress") | structured


class _Next(NamedTuple):
    """A request, from ``_streaming``, for the next chunk of the model's stream."""

    stream: Any


#: Metadata that every chunk of a stream carries alike (merging keeps one copy).
_SHARED_METADATA = frozenset(("model_provider", "output_version"))

#: What a finish reason says when the reply called tools, and what it says once none is left.
_TOOL_FINISH = {"finish_reason": ("tool_calls", "stop"), "stop_reason": ("tool_use", "end_turn")}


def _split(chunk: AIMessageChunk) -> tuple:
    """``(text to stream now, the rest to hold)`` of one chunk, either ``None``: text passes at
    once; tool-call chunks, chunks without text and a chunk's usage and metadata (finish reason,
    model name...) are held, so that those of an answered round can be dropped."""
    if chunk.tool_call_chunks or not chunk.content:
        return None, chunk
    if not chunk.usage_metadata and set(chunk.response_metadata) <= _SHARED_METADATA and not chunk.chunk_position:
        return chunk, None
    shared = {k: v for k, v in chunk.response_metadata.items() if k in _SHARED_METADATA}
    text = AIMessageChunk(content=chunk.content, id=chunk.id, response_metadata=shared)
    return text, chunk.model_copy(update={"content": ""})


def _released(held: list, message: Optional[AIMessage], names: frozenset, ours: list) -> list:
    """The held chunks to stream when the reply is not answered here: as they came, or when they
    include Headroom's calls, without their tool-call chunks and with one chunk for the
    application's calls (when it made any) in front."""
    if not ours:
        return held
    calls = _without_ours(message, names).tool_calls
    kept = [c for c in held if not c.tool_call_chunks]
    if calls:
        return [AIMessageChunk(content="", tool_call_chunks=[
            {"name": c["name"], "args": json.dumps(c["args"]), "id": c["id"], "index": i}
            for i, c in enumerate(calls)])] + kept
    out = []
    for c in kept:
        metadata = {k: (_TOOL_FINISH[k][1] if k in _TOOL_FINISH and v == _TOOL_FINISH[k][0] else v)
                    for k, v in c.response_metadata.items()}
        out.append(c.model_copy(update={"response_metadata": metadata}))
    return out


def _finished(chunks: list, earlier: Optional[dict], saved: Optional[dict]) -> list:
    """The last round's held chunks with the usage of the answered rounds (``earlier``) added to
    the first that has usage, and the savings on the last (streamed chunks are summed, so each
    is counted once)."""
    out = list(chunks)
    if earlier:
        for i, c in enumerate(out):
            if c.usage_metadata:
                out[i] = c.model_copy(update={"usage_metadata": add_usage(c.usage_metadata, earlier)})
                break
    if saved is not None:
        last = out.pop() if out else AIMessageChunk(content="")
        out.append(last.model_copy(update={"response_metadata": {**last.response_metadata, "headroom": saved}}))
    return out


def _counted(message: AIMessage, replies: list, saved: Optional[dict]) -> AIMessage:
    """``message`` with the usage of every reply in ``replies`` (one per model call) and the
    savings in its metadata."""
    update: dict = {}
    metadata = dict(message.response_metadata)
    if len(replies) > 1:
        usage = None
        for reply in replies:
            if reply.usage_metadata:
                usage = add_usage(usage, reply.usage_metadata)
        if usage is not None:
            update["usage_metadata"] = usage
        for key in ("token_usage", "usage"):  # the provider's own count (OpenAI, Anthropic)
            if all(isinstance(r.response_metadata.get(key), dict) for r in replies):
                total = None
                for reply in replies:
                    total = sum_usage(total, reply.response_metadata[key])
                metadata[key] = total
    if saved is not None:
        metadata["headroom"] = saved
    update["response_metadata"] = metadata
    return message.model_copy(update=update)


def _call_kwargs(kwargs: dict) -> dict:
    """Keyword arguments for the wrapped model's call: ours removed."""
    return {k: v for k, v in kwargs.items() if k not in (_TOOLS, _TOOL_KWARGS)}
