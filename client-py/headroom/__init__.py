"""Headroom's Python client: compress what an LLM reads through the local ``headroomd``.

Layout (the same modules as client-ts):

- ``wire``: frames and the bincode primitives; ``wire_types``, generated from
  protocol/schema.json by protocol/generate.py: every message and its codec.
- ``client``: the connection (per thread, and per event loop on the asyncio side), reconnects,
  timeouts, fail-open ``compress``, ``retrieve`` / ``stats`` / ``metrics``, the answers to
  Headroom's tools and the memory operations; each operation written once for both sides.
- ``breaker``: after a timeout, calls skip the daemon for a growing interval.
- ``trust``: the socket's directory and the daemon's uid must be this user's.
- ``memory``: memory scopes and times as callers give them, the ``Memory`` namespace, the texts
  that answer the memory tools.
- ``tools``: Headroom's own tools (``headroom_retrieve``, ``memory_save``, ``memory_search``)
  in each provider's shape, the retrieve answer texts, and earlier retrieve answers shielded from
  compression.
- ``loop``: the loop that answers Headroom's own tools inside one provider call.
- ``openai``, ``anthropic``: the SDK wrappers; ``sdk``: ``with_headroom``, which picks one.
- ``litellm``, ``langchain``: integrations; each imports its framework only when used.

The functions here use one process-wide ``HeadroomClient`` (see ``configure``); ``aio`` is the
same for asyncio::

    import headroom
    result = headroom.compress(messages, model="gpt-4o")
    result.messages, result.tokens_before, result.tokens_after, result.ccr_keys, result.retrieve_tool
    headroom.memory.add("The deploy target is eu-west-1.", user="ada", agent="billing-bot")
    result = await headroom.aio.compress(messages, model="gpt-4o")
"""

from typing import Any, Optional

from .breaker import Breaker
from .client import (
    DEFAULT_TIMEOUT,
    AsyncHeadroomClient,
    CompressResult,
    HeadroomClient,
    HeadroomError,
    __version__,
    configure,
    default_client,
    default_socket_path,
)
from .memory import Memory, ScopeLike
from .tools import MEMORY_SAVE_TOOL_NAME, MEMORY_SEARCH_TOOL_NAME, RETRIEVE_TOOL_NAME
from .wire import (ErrorCode, MemoryAddReply, MemoryFact, MemoryScope, MetricsReply, ProviderFormat, RetrieveReply,
                   StatsReply)

__all__ = [
    "AsyncHeadroomClient", "Breaker", "CompressResult", "DEFAULT_TIMEOUT", "ErrorCode", "HeadroomClient",
    "HeadroomError", "MEMORY_SAVE_TOOL_NAME", "MEMORY_SEARCH_TOOL_NAME", "Memory", "MemoryAddReply", "MemoryFact",
    "MemoryScope", "MetricsReply", "ProviderFormat", "RETRIEVE_TOOL_NAME", "RetrieveReply", "StatsReply",
    "__version__", "aio", "answer_retrieve", "answer_tool", "compress", "configure", "default_client",
    "default_socket_path", "memory", "metrics", "retrieve", "stats",
]

#: Remembered facts through the process-wide client: ``headroom.memory.add(text, user=...)``,
#: ``.search``, ``.list``, ``.forget``. (It shadows the ``headroom.memory`` module as an attribute;
#: ``from headroom.memory import ...`` still reaches the module.)
memory = Memory(default_client)

#: The process-wide client for asyncio: ``await headroom.aio.compress(messages)``, ``.retrieve``,
#: ``.stats``, ``.metrics``, ``.answer_retrieve``, ``.answer_tool``, ``.memory.add`` ...
aio = AsyncHeadroomClient(default_client)


def compress(messages: Any, model: Optional[str] = None, **options) -> CompressResult:
    """Compresses a messages list (OpenAI chat, Responses input items or Anthropic messages) or a
    whole request body dict. Options: ``format``, ``query``, ``protect_recent``, ``frozen``,
    ``target_ratio``, ``compress_user_messages``, ``memory`` (a ``MemoryScope`` or dict: add its
    remembered facts), ``memory_budget_tokens``, ``memory_tools``. Never raises because of the
    daemon: without it, the result holds the original messages."""
    return default_client().compress(messages, model, **options)


def retrieve(key: str, query: Optional[str] = None) -> RetrieveReply:
    """The original behind a marker (``.content``, ``.whole``). Raises ``HeadroomError``."""
    return default_client().retrieve(key, query)


def stats() -> StatsReply:
    """The daemon's counters. Raises ``HeadroomError``."""
    return default_client().stats()


def metrics() -> MetricsReply:
    """Per-compressor totals, retrieval hits, latency percentiles. Raises ``HeadroomError``."""
    return default_client().metrics()


def answer_retrieve(arguments: Any) -> str:
    """The tool result for a ``headroom_retrieve`` call in your own tool loop; never raises."""
    return default_client().answer_retrieve(arguments)


def answer_tool(name: str, arguments: Any, memory: ScopeLike = None) -> str:
    """The tool result for a call of any of Headroom's tools in your own tool loop:
    ``headroom_retrieve``, or ``memory_save`` / ``memory_search`` made in the ``memory`` scope
    (the scope the call's messages were compressed with). Never raises because of the daemon."""
    return default_client().answer_tool(name, arguments, memory)
