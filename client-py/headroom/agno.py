"""Agno integration: ``HeadroomAgnoModel(model=OpenAIChat(...))`` is that model (any Agno
``Model``) with every provider call of Agno's tool loop compressed, sync, async and streaming.

Agno's ``Model.response`` (and ``aresponse``, ``response_stream``, ``aresponse_stream``) runs
the agent's tool loop and calls the model through ``invoke`` / ``ainvoke`` / ``invoke_stream`` /
``ainvoke_stream`` once per step, with the whole conversation as Agno ``Message`` objects in
its canonical shape (OpenAI chat roles, ``tool_calls`` dicts, ``role="tool"`` results). Those
four are overridden: the conversation is compressed as OpenAI chat, the messages whose text
changed are replaced by copies (Agno's own history keeps the originals), and
``headroom_retrieve`` is offered when a marker was emitted. A reply that calls only Headroom's
tools is answered through the daemon and the model called again inside the same step (at most
``max_retrieve_rounds`` times), so the agent never sees those calls; on a stream, text passes
through as it arrives and only the tool-call deltas of a round are held back until it ends.

The wrapped model keeps its class, settings and overrides: ``HeadroomAgnoModel`` builds an
instance of a subclass of the model's own class. Savings are added up per run in
``RunOutput.metrics.additional_metrics`` (``headroom_tokens_before``, ``headroom_tokens_after``,
``headroom_retrieve_rounds``). Agno is imported only when a model is wrapped. Fails open: with
the daemon unavailable, or anything unexpected in Headroom's part, the step is sent as Agno
built it.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from . import tools
from .client import CompressResult, HeadroomClient, default_client
from .memory import loop_options
from .wire import ProviderFormat

logger = logging.getLogger("headroom")

#: The Headroom subclass made for each wrapped model class.
_CLASSES: dict = {}


class _Settings:
    """Headroom's settings on one wrapped model. Agno deep-copies models; the settings (and the
    client's connections) are shared by the copies, not copied."""

    def __init__(self, client: Optional[HeadroomClient], rounds: int, options: dict):
        self._client = client
        self.rounds = rounds
        self.options = loop_options(options)
        self.memory = self.options.get("memory")

    def client(self) -> HeadroomClient:
        return self._client or default_client()

    def __deepcopy__(self, memo: dict) -> "_Settings":
        return self


class _Parsed(dict):
    """A complete tool call the stream wrapper assembled from a round's deltas (the agent's own
    ``parse_tool_calls`` reads these as they are)."""


def _subclass(model_class: type) -> type:
    """``HeadroomAgnoModel`` over ``model_class``, made once per class."""
    if model_class not in _CLASSES:
        _CLASSES[model_class] = type(f"Headroom{model_class.__name__}", (HeadroomAgnoModel, model_class), {})
    return _CLASSES[model_class]


class HeadroomAgnoModel:
    """``HeadroomAgnoModel(model=OpenAIChat(id="gpt-4o"))``: the same model, compressing every
    step of Agno's tool loop (``Agent(model=HeadroomAgnoModel(model=...), tools=[...])``).
    ``client``: a ``HeadroomClient`` (default: the process-wide one); ``max_retrieve_rounds``:
    how many times one step may answer Headroom's tools and call the model again; ``options``:
    ``headroom.compress`` options, ``memory`` included (its memory tools are then offered and
    answered unless ``memory_tools=False``). The result is an instance of the model's own class
    (``isinstance(m, OpenAIChat)``) and of this one."""

    def __new__(cls, model: Any = None, *args, client: Optional[HeadroomClient] = None,
                max_retrieve_rounds: int = 3, **options):
        if cls is not HeadroomAgnoModel:
            return super().__new__(cls)  # Agno building or copying an already wrapped model
        from agno.models.base import Model

        if not isinstance(model, Model):
            raise TypeError(f"HeadroomAgnoModel(model=...) takes an Agno Model, not {type(model).__name__}")
        wrapped = object.__new__(_subclass(type(model)))
        wrapped.__dict__.update(model.__dict__)
        wrapped._headroom = _Settings(client, max_retrieve_rounds, options)
        return wrapped

    def __init__(self, *args, **kwargs):
        if "_headroom" in self.__dict__:
            return  # made by __new__ from a configured model
        super().__init__(*args, **kwargs)  # the model class's own constructor (Agno's from_dict, replace)
        self._headroom = _Settings(None, 3, {})

    # --- one round: what to send -------------------------------------------------------------

    def _view(self, messages: list, kwargs: dict) -> list:
        """The conversation as OpenAI chat dicts for the daemon (text content only)."""
        compressed = bool(kwargs.get("compress_tool_results"))
        view = []
        for m in messages:
            content = m.get_content(use_compressed_content=compressed)
            item = {"role": m.role, "content": content if isinstance(content, str) else None}
            if m.tool_calls:
                item["tool_calls"] = m.tool_calls
            if m.tool_call_id:
                item["tool_call_id"] = m.tool_call_id
            view.append(item)
        return view

    def _round(self, messages: list, view: list, kwargs: dict, result: CompressResult) -> tuple:
        """``(keyword arguments of the model call, names of Headroom's tools offered)``: the
        messages whose text the daemon changed replaced by copies, Headroom's tools added, and
        the savings added to the run's metrics."""
        out = list(messages)
        if result.error is None and isinstance(result.messages, list) and len(result.messages) == len(messages):
            for i, (sent, back) in enumerate(zip(view, result.messages)):
                text = back.get("content") if isinstance(back, dict) else None
                if isinstance(sent["content"], str) and isinstance(text, str) and text != sent["content"]:
                    out[i] = messages[i].model_copy(update={"content": text, "compressed_content": None})
            self._count(kwargs, headroom_tokens_before=result.tokens_before, headroom_tokens_after=result.tokens_after)
        offered, names = tools.offer(kwargs.get("tools"), result)
        return {**kwargs, "messages": out, "tools": offered}, names

    def _compress_args(self) -> dict:
        return {"model": self.id, "format": ProviderFormat.OpenAiChat, "app": "agno", **self._headroom.options}

    def _fallback(self, kwargs: dict, error: Exception) -> tuple:
        """The step as Agno built it, when Headroom's own part failed."""
        logger.warning("headroom: Agno step sent uncompressed: %s", error)
        return dict(kwargs), frozenset()

    @staticmethod
    def _count(kwargs: dict, **amounts: int) -> None:
        """Adds to the run's ``metrics.additional_metrics`` (summed over the run's model calls,
        as Agno sums tokens)."""
        metrics = getattr(kwargs.get("run_response"), "metrics", None)
        if metrics is None:
            return
        extra = dict(metrics.additional_metrics or {})
        for key, value in amounts.items():
            extra[key] = extra.get(key, 0) + value
        metrics.additional_metrics = extra

    @staticmethod
    def _split(calls: list, names: frozenset) -> tuple:
        """``([(call id, name, arguments)] of Headroom's tools, the other calls)`` of one reply's
        complete tool calls."""
        ours, _ = tools.chat_calls({"tool_calls": calls}, names)
        return ours, [c for c in calls if (c.get("function") or {}).get("name") not in names]

    def _again(self, ours: list, theirs: list, round_: int) -> bool:
        """Whether Headroom answers its calls and calls the model again: they are the reply's
        only calls and rounds are left. (Beside the application's calls, or after the last
        round, Headroom's calls are dropped from the reply; ``memory_save`` ones are carried
        out.)"""
        return bool(ours) and not theirs and round_ < self._headroom.rounds

    @staticmethod
    def _kept(ours: list) -> list:
        return [c for c in ours if c[1] == tools.MEMORY_SAVE_TOOL_NAME]

    def _followup(self, call: dict, assistant: Any, answers: list) -> dict:
        """The next model call of the same step: the messages sent so far (compressed once, so
        the provider's prompt cache keeps hitting, and the retrieved originals never compressed),
        the assistant turn that called Headroom's tools and one tool result per answer."""
        from agno.models.message import Message

        self._count(call, headroom_retrieve_rounds=1)
        results = [Message(role=self.tool_message_role, content=text, tool_call_id=cid, tool_name=name)
                   for cid, name, text in answers]
        return {**call, "messages": call["messages"] + [assistant] + results}

    def _new_turn(self) -> Any:
        from agno.models.message import Message

        return Message(role=self.assistant_message_role)

    def parse_tool_calls(self, tool_calls_data):
        if tool_calls_data and all(isinstance(c, _Parsed) for c in tool_calls_data):
            return [dict(c) for c in tool_calls_data]
        return super().parse_tool_calls(tool_calls_data)

    # --- the four ways Agno calls a model ------------------------------------------------------

    def invoke(self, *args, **kwargs):
        if args or not isinstance(kwargs.get("messages"), list):
            return super().invoke(*args, **kwargs)
        hr = self._headroom
        client = hr.client()
        try:
            view = self._view(kwargs["messages"], kwargs)
            call, names = self._round(kwargs["messages"], view, kwargs, client.compress(view, **self._compress_args()))
        except Exception as e:  # Headroom never fails the step
            call, names = self._fallback(kwargs, e)
        usage = None
        for round_ in range(hr.rounds + 1):
            response = super().invoke(**call)
            if usage is not None and response.response_usage is not None:
                response.response_usage = usage + response.response_usage
            usage = response.response_usage or usage
            ours, theirs = self._split(response.tool_calls or [], names)
            if not self._again(ours, theirs, round_):
                break
            answers = [(cid, name, client.answer_tool(name, args, hr.memory)) for cid, name, args in ours]
            call = self._followup(call, self._populate_assistant_message(self._new_turn(), response), answers)
        for _, name, args in self._kept(ours):
            client.answer_tool(name, args, hr.memory)
        response.tool_calls = theirs
        return response

    async def ainvoke(self, *args, **kwargs):
        if args or not isinstance(kwargs.get("messages"), list):
            return await super().ainvoke(*args, **kwargs)
        hr = self._headroom
        client = hr.client().aio
        try:
            view = self._view(kwargs["messages"], kwargs)
            call, names = self._round(kwargs["messages"], view, kwargs,
                                      await client.compress(view, **self._compress_args()))
        except Exception as e:
            call, names = self._fallback(kwargs, e)
        usage = None
        for round_ in range(hr.rounds + 1):
            response = await super().ainvoke(**call)
            if usage is not None and response.response_usage is not None:
                response.response_usage = usage + response.response_usage
            usage = response.response_usage or usage
            ours, theirs = self._split(response.tool_calls or [], names)
            if not self._again(ours, theirs, round_):
                break
            answers = [(cid, name, await client.answer_tool(name, args, hr.memory)) for cid, name, args in ours]
            call = self._followup(call, self._populate_assistant_message(self._new_turn(), response), answers)
        for _, name, args in self._kept(ours):
            await client.answer_tool(name, args, hr.memory)
        response.tool_calls = theirs
        return response

    def _hold(self, data: Any, delta: Any) -> Any:
        """One delta of a streamed round: recorded whole in ``data`` (the round as one turn), and
        returned without its tool-call pieces, which are settled when the round ends."""
        for _ in self._populate_stream_data(data, delta):
            pass
        if delta.tool_calls:
            delta.tool_calls = []
        return delta

    def _round_end(self, data: Any) -> tuple:
        """``(the round's assistant turn, its complete tool calls)``."""
        assistant = self._new_turn()
        self._populate_assistant_message_from_stream_data(assistant, data)
        return assistant, assistant.tool_calls or []

    @staticmethod
    def _calls_delta(theirs: list) -> Any:
        """The delta that hands the step's remaining tool calls to Agno."""
        from agno.models.response import ModelResponse

        return ModelResponse(tool_calls=[_Parsed(c) for c in theirs])

    def invoke_stream(self, *args, **kwargs):
        if args or not isinstance(kwargs.get("messages"), list):
            yield from super().invoke_stream(*args, **kwargs)
            return
        from agno.models.base import MessageData

        hr = self._headroom
        client = hr.client()
        try:
            view = self._view(kwargs["messages"], kwargs)
            call, names = self._round(kwargs["messages"], view, kwargs, client.compress(view, **self._compress_args()))
        except Exception as e:
            call, names = self._fallback(kwargs, e)
        for round_ in range(hr.rounds + 1):
            data = MessageData()
            for delta in super().invoke_stream(**call):
                yield self._hold(data, delta)  # text, usage and the rest pass through as they arrive
            assistant, calls = self._round_end(data)
            ours, theirs = self._split(calls, names)
            if not self._again(ours, theirs, round_):
                break
            answers = [(cid, name, client.answer_tool(name, args, hr.memory)) for cid, name, args in ours]
            call = self._followup(call, assistant, answers)
        for _, name, args in self._kept(ours):
            client.answer_tool(name, args, hr.memory)
        if theirs:
            yield self._calls_delta(theirs)

    async def ainvoke_stream(self, *args, **kwargs):
        if args or not isinstance(kwargs.get("messages"), list):
            async for delta in super().ainvoke_stream(*args, **kwargs):
                yield delta
            return
        from agno.models.base import MessageData

        hr = self._headroom
        client = hr.client().aio
        try:
            view = self._view(kwargs["messages"], kwargs)
            call, names = self._round(kwargs["messages"], view, kwargs,
                                      await client.compress(view, **self._compress_args()))
        except Exception as e:
            call, names = self._fallback(kwargs, e)
        for round_ in range(hr.rounds + 1):
            data = MessageData()
            async for delta in super().ainvoke_stream(**call):
                yield self._hold(data, delta)
            assistant, calls = self._round_end(data)
            ours, theirs = self._split(calls, names)
            if not self._again(ours, theirs, round_):
                break
            answers = [(cid, name, await client.answer_tool(name, args, hr.memory)) for cid, name, args in ours]
            call = self._followup(call, assistant, answers)
        for _, name, args in self._kept(ours):
            await client.answer_tool(name, args, hr.memory)
        if theirs:
            yield self._calls_delta(theirs)


__all__ = ["HeadroomAgnoModel"]
