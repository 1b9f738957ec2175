"""Headroom's Python client: compress what an LLM reads through the local ``headroomd``.

Layout:

- ``wire``: frames and the bincode envelope, by hand (protocol/README.md).
- ``client``: sync and asyncio connections, reconnects, timeouts, fail-open ``compress``, the
  memory operations.
- ``breaker``: after a timeout, calls skip the daemon for a growing interval.
- ``trust``: the socket's directory and the daemon's uid must be this user's.
- ``memories``: memory scopes and times as callers give them, the ``memory`` namespace, the
  texts that answer the memory tools.
- ``tools``: Headroom's own tools (``headroom_retrieve``, ``memory_save``, ``memory_search``)
  in each provider's shape.
- ``litellm``, ``langchain``, ``sdk``: integrations; each imports its framework only when used.

The functions here use one process-wide ``Client`` (see ``configure``)::

    import headroom
    result = headroom.compress(messages, model="gpt-4o")
    result.messages, result.tokens_before, result.tokens_after, result.ccr_keys, result.retrieve_tool
    headroom.memory.add("The deploy target is eu-west-1.", user="ada", agent="billing-bot")
"""

from typing import Any, Optional

from .breaker import Breaker
from .client import (
    DEFAULT_TIMEOUT,
    Client,
    CompressResult,
    HeadroomError,
    __version__,
    configure,
    default_client,
    default_socket_path,
)
from .memories import Memory, ScopeLike
from .tools import MEMORY_SAVE, MEMORY_SEARCH, TOOL_NAME
from .wire import (ErrorCode, MemoryAddReply, MemoryFact, MemoryScope, MetricsReply, ProviderFormat, RetrieveReply,
                   StatsReply)

__all__ = [
    "Breaker", "Client", "CompressResult", "DEFAULT_TIMEOUT", "ErrorCode", "HeadroomError", "MEMORY_SAVE",
    "MEMORY_SEARCH", "Memory", "MemoryAddReply", "MemoryFact", "MemoryScope", "MetricsReply", "ProviderFormat",
    "RetrieveReply", "StatsReply", "TOOL_NAME", "__version__", "aanswer_retrieve", "aanswer_tool", "acompress", "ametrics",
    "answer_retrieve", "answer_tool", "aretrieve", "astats", "compress", "configure", "default_client",
    "default_socket_path", "memory", "metrics", "retrieve", "stats",
]

#: Remembered facts through the process-wide client: ``headroom.memory.add(text, user=...)``,
#: ``.search``, ``.list``, ``.forget`` and ``.aadd``, ``.asearch``, ``.alist``, ``.aforget``.
memory = Memory(default_client)


def compress(messages: Any, model: Optional[str] = None, **options) -> CompressResult:
    """Compresses a messages list (OpenAI chat, Responses input items or Anthropic messages) or a
    whole request body dict. Options: ``format``, ``query``, ``protect_recent``, ``frozen``,
    ``target_ratio``, ``compress_user_messages``, ``memory`` (a ``MemoryScope`` or dict: add its
    remembered facts), ``memory_budget_tokens``, ``memory_tools``. Never raises because of the
    daemon: without it, the result holds the original messages."""
    return default_client().compress(messages, model, **options)


async def acompress(messages: Any, model: Optional[str] = None, **options) -> CompressResult:
    """``compress`` for asyncio."""
    return await default_client().acompress(messages, model, **options)


def retrieve(key: str, query: Optional[str] = None) -> RetrieveReply:
    """The original behind a marker (``.content``, ``.whole``). Raises ``HeadroomError``."""
    return default_client().retrieve(key, query)


async def aretrieve(key: str, query: Optional[str] = None) -> RetrieveReply:
    """``retrieve`` for asyncio."""
    return await default_client().aretrieve(key, query)


def stats() -> StatsReply:
    """The daemon's counters. Raises ``HeadroomError``."""
    return default_client().stats()


async def astats() -> StatsReply:
    """``stats`` for asyncio."""
    return await default_client().astats()


def metrics() -> MetricsReply:
    """Per-compressor totals, retrieval hits, latency percentiles. Raises ``HeadroomError``."""
    return default_client().metrics()


async def ametrics() -> MetricsReply:
    """``metrics`` for asyncio."""
    return await default_client().ametrics()


def answer_retrieve(arguments: Any) -> str:
    """The tool result for a ``headroom_retrieve`` call in your own tool loop; never raises."""
    return default_client().answer(arguments)


async def aanswer_retrieve(arguments: Any) -> str:
    """``answer_retrieve`` for asyncio."""
    return await default_client().aanswer(arguments)


def answer_tool(name: str, arguments: Any, memory: ScopeLike = None) -> str:
    """The tool result for a call of any of Headroom's tools in your own tool loop:
    ``headroom_retrieve``, or ``memory_save`` / ``memory_search`` made in the ``memory`` scope
    (the scope the call's messages were compressed with). Never raises because of the daemon."""
    return default_client().answer_tool(name, arguments, memory)


async def aanswer_tool(name: str, arguments: Any, memory: ScopeLike = None) -> str:
    """``answer_tool`` for asyncio."""
    return await default_client().aanswer_tool(name, arguments, memory)
