"""Headroom's Python client: compress what an LLM reads through the local ``headroomd``.

Layout:

- ``wire``: frames and the bincode envelope, by hand (protocol/README.md).
- ``client``: sync and asyncio connections, reconnects, timeouts, fail-open ``compress``.
- ``retrieval``: the ``headroom_retrieve`` tool in each provider's shape.
- ``litellm``, ``langchain``, ``sdk``: integrations; each imports its framework only when used.

The functions here use one process-wide ``Client`` (see ``configure``)::

    import headroom
    result = headroom.compress(messages, model="gpt-4o")
    result.messages, result.tokens_before, result.tokens_after, result.ccr_keys, result.retrieve_tool
"""

from typing import Any, Optional

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
from .retrieval import TOOL_NAME
from .wire import ErrorCode, MetricsReply, ProviderFormat, RetrieveReply, StatsReply

__all__ = [
    "Client", "CompressResult", "DEFAULT_TIMEOUT", "ErrorCode", "HeadroomError", "MetricsReply",
    "ProviderFormat", "RetrieveReply", "StatsReply", "TOOL_NAME", "__version__", "acompress",
    "aanswer_retrieve", "ametrics", "answer_retrieve", "aretrieve", "astats", "compress", "configure",
    "default_client", "default_socket_path", "metrics", "retrieve", "stats",
]


def compress(messages: Any, model: Optional[str] = None, **options) -> CompressResult:
    """Compresses a messages list (OpenAI chat, Responses input items or Anthropic messages) or a
    whole request body dict. Options: ``format``, ``query``, ``protect_recent``, ``frozen``,
    ``target_ratio``, ``compress_user_messages``. Never raises because of the daemon: without
    it, the result holds the original messages."""
    return default_client().compress(messages, model, **options)


async def acompress(messages: Any, model: Optional[str] = None, **options) -> CompressResult:
    """``compress`` for asyncio."""
    return await default_client().acompress(messages, model, **options)


def retrieve(key: str, query: Optional[str] = None) -> RetrieveReply:
    """The original behind a marker (``.content``, ``.whole``). Raises ``HeadroomError``."""
    return default_client().retrieve(key, query)


async def aretrieve(key: str, query: Optional[str] = None) -> RetrieveReply:
    return await default_client().aretrieve(key, query)


def stats() -> StatsReply:
    """The daemon's counters. Raises ``HeadroomError``."""
    return default_client().stats()


async def astats() -> StatsReply:
    return await default_client().astats()


def metrics() -> MetricsReply:
    """Per-compressor totals, retrieval hits, latency percentiles. Raises ``HeadroomError``."""
    return default_client().metrics()


async def ametrics() -> MetricsReply:
    return await default_client().ametrics()


def answer_retrieve(arguments: Any) -> str:
    """The tool result for a ``headroom_retrieve`` call in your own tool loop; never raises."""
    return default_client().answer(arguments)


async def aanswer_retrieve(arguments: Any) -> str:
    return await default_client().aanswer(arguments)
