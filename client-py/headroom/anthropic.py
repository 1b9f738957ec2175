"""The Anthropic SDK wrapper behind ``with_headroom(Anthropic())`` and
``with_headroom(AsyncAnthropic())``: ``messages.create`` sends its content blocks to the daemon
as they are (no conversion) and answers the model's calls of Headroom's tools through ``Loop``.
The ``anthropic`` package is never imported: the wrapper reads the client's shape.
"""

from __future__ import annotations

from typing import Any

from . import tools
from .loop import Api, Loop, Overlay, dump, item_calls, item_strip
from .wire import ProviderFormat


def _anthropic_followup(response: Any, answers: list) -> list:
    return tools.anthropic_followup([dump(block) for block in response.content], answers)


#: Anthropic Messages.
ANTHROPIC = Api("messages", ProviderFormat.Anthropic, item_calls("content", tools.anthropic_calls),
                _anthropic_followup, item_strip("content", "tool_use", "id", "input"))


def is_anthropic(sdk_client: Any) -> bool:
    """Whether ``sdk_client`` has the Anthropic client's shape (``messages.create``)."""
    return hasattr(getattr(sdk_client, "messages", None), "create")


def wrap_anthropic(sdk_client: Any, loop: Loop, asynchronous: bool) -> Overlay:
    """``sdk_client`` with ``messages.create`` run through ``loop``."""
    messages = sdk_client.messages
    return Overlay(sdk_client, {"messages": Overlay(messages, {"create": loop.wrap(messages.create, ANTHROPIC,
                                                                                   asynchronous)})})
