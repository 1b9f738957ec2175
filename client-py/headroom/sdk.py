"""``with_headroom``: the OpenAI or Anthropic SDK client given, with its messages compressed.

It picks the wrapper by the client's shape: ``headroom.openai`` (``chat.completions.create``,
``responses.create``) or ``headroom.anthropic`` (``messages.create``). Everything else is the
wrapped client's own attribute. Streaming calls are passed through with compressed messages;
other calls answer the model's calls of Headroom's tools (``headroom_retrieve``, and
``memory_save`` / ``memory_search`` with ``memory=``) themselves through the daemon and call the
model again (``headroom.loop``), so the application never sees them.
"""

from __future__ import annotations

from typing import Any, Optional

from .anthropic import is_anthropic, wrap_anthropic
from .client import HeadroomClient
from .loop import Loop
from .openai import is_openai, wrap_openai


def with_headroom(sdk_client: Any, *, headroom_client: Optional[HeadroomClient] = None, max_retrieve_rounds: int = 3,
                  **options) -> Any:
    """``sdk_client`` (an OpenAI, AsyncOpenAI, Anthropic or AsyncAnthropic client) with its
    messages compressed. ``options`` are ``headroom.compress`` options, ``memory=`` included: a
    ``MemoryScope`` or dict whose remembered facts join the latest user message and whose
    ``memory_save`` / ``memory_search`` calls the wrapper answers (``memory_tools=False`` offers
    no tools). ``headroom_client`` is a ``HeadroomClient`` (default: the process-wide one);
    ``max_retrieve_rounds`` bounds how often one call answers Headroom's tools. Wrapping is
    cheap: wrap once per conversation to give each its session. Fails open."""
    loop = Loop(headroom_client, max_retrieve_rounds, options)
    # AsyncOpenAI, AsyncAzureOpenAI, AsyncAnthropic... (their methods are wrapped, so the class
    # says it, not inspect.iscoroutinefunction).
    asynchronous = any(cls.__name__.startswith("Async") for cls in type(sdk_client).__mro__)
    if is_openai(sdk_client):
        return wrap_openai(sdk_client, loop, asynchronous)
    if is_anthropic(sdk_client):
        return wrap_anthropic(sdk_client, loop, asynchronous)
    raise TypeError(f"with_headroom: {type(sdk_client).__name__} is not an OpenAI or Anthropic client")
