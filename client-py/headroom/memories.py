"""Memory: facts that outlive a conversation, kept by the daemon (``docs/memory.md``).

``Memory`` is the namespace behind ``headroom.memory`` and ``Client.memory``. The functions turn
what callers write (a ``MemoryScope``, a dict or keyword arguments; datetimes or milliseconds)
into wire requests, and the daemon's replies into the text the model reads when it calls
``memory_save`` or ``memory_search``.

The client rule for ``memory_save`` (docs/memory.md, "On the request path"): a fact the model
saves goes to the request scope's agent level when it names an agent, else to its user level,
never to its session, because a fact the model chooses to remember is meant for later
conversations. Its source is ``conversation <session>`` when the scope names a session.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional, Union

from . import tools
from .wire import (
    MemoryAddReply,
    MemoryAddRequest,
    MemoryFact,
    MemoryFactsReply,
    MemoryForgetRequest,
    MemoryListRequest,
    MemoryScope,
    MemorySearchRequest,
)

if TYPE_CHECKING:
    from .client import Client, HeadroomError

#: A scope as callers may give it: a ``MemoryScope``, a dict with ``user`` and optionally
#: ``agent`` and ``session``, or ``None`` when keyword arguments name it.
ScopeLike = Union[MemoryScope, Mapping[str, Optional[str]], None]

#: A moment as callers may give it: a ``datetime`` (naive ones are local time, as in
#: ``datetime.timestamp``) or milliseconds since the Unix epoch.
TimeLike = Union[datetime.datetime, int, None]

_FIELDS = ("user", "agent", "session")


def scope_of(scope: ScopeLike = None, *, user: Optional[str] = None, agent: Optional[str] = None,
             session: Optional[str] = None) -> MemoryScope:
    """The ``MemoryScope`` meant by ``scope`` and the keyword arguments, which override its
    fields. An empty agent or session means none. Raises ``TypeError`` or ``ValueError`` for a
    scope without a user, unknown keys or values that are not strings."""
    if scope is None:
        fields: dict = {}
    elif isinstance(scope, MemoryScope):
        fields = {"user": scope.user, "agent": scope.agent, "session": scope.session}
    elif isinstance(scope, Mapping):
        fields = dict(scope)
        unknown = set(fields) - set(_FIELDS)
        if unknown:
            raise TypeError(f"a memory scope has user, agent and session, not {', '.join(sorted(unknown))}")
    else:
        raise TypeError(f"a memory scope is a MemoryScope or a dict, not {type(scope).__name__}")
    for name, value in zip(_FIELDS, (user, agent, session)):
        if value is not None:
            fields[name] = value
    for name in _FIELDS:
        value = fields.get(name)
        if value is not None and not isinstance(value, str):
            raise TypeError(f"a memory scope's {name} is a string, not {type(value).__name__}")
    if not fields.get("user"):
        raise ValueError("a memory scope needs a user")
    return MemoryScope(fields["user"], fields.get("agent") or None, fields.get("session") or None)


def ms_of(moment: TimeLike) -> Optional[int]:
    """Milliseconds since the Unix epoch for a ``datetime`` or a number of milliseconds."""
    if moment is None:
        return None
    if isinstance(moment, datetime.datetime):
        return round(moment.timestamp() * 1000)
    if isinstance(moment, int) and not isinstance(moment, bool) and moment >= 0:
        return moment
    raise TypeError(f"a time is a datetime or milliseconds since the epoch, not {moment!r}")


def add_request(text: str, scope: ScopeLike, user: Optional[str], agent: Optional[str], session: Optional[str],
                key: Optional[str], source: Optional[str], valid_from: TimeLike) -> MemoryAddRequest:
    """The wire request behind ``Client.memory_add``."""
    return MemoryAddRequest(scope_of(scope, user=user, agent=agent, session=session), text, source, key,
                            ms_of(valid_from))


def search_request(query: str, scope: ScopeLike, user: Optional[str], agent: Optional[str], session: Optional[str],
                   as_of: TimeLike, limit: int, budget_tokens: int) -> MemorySearchRequest:
    """The wire request behind ``Client.memory_search``."""
    return MemorySearchRequest(scope_of(scope, user=user, agent=agent, session=session), query, ms_of(as_of), limit,
                               budget_tokens)


def list_request(scope: ScopeLike, user: Optional[str], agent: Optional[str], session: Optional[str],
                 as_of: TimeLike, include_superseded: bool, include_narrower: bool) -> MemoryListRequest:
    """The wire request behind ``Client.memory_list``."""
    return MemoryListRequest(scope_of(scope, user=user, agent=agent, session=session), ms_of(as_of),
                             include_superseded, include_narrower)


def forget_request(scope: ScopeLike, user: Optional[str], agent: Optional[str], session: Optional[str],
                   fact_id: Optional[str]) -> MemoryForgetRequest:
    """The wire request behind ``Client.memory_forget``."""
    return MemoryForgetRequest(scope_of(scope, user=user, agent=agent, session=session), fact_id)


# --- the memory tools -------------------------------------------------------------------------


def loop_options(options: dict) -> dict:
    """Compress options for an integration that answers Headroom's tools itself: a ``memory``
    scope is checked now (a mistake fails at set-up, not inside a model call) and the memory
    tools are offered unless the caller set ``memory_tools``."""
    if options.get("memory") is None:
        return options
    return {"memory_tools": True, **options, "memory": scope_of(options["memory"])}


def tool_request(name: str, arguments: Any, memory: ScopeLike) -> Union[MemoryAddRequest, MemorySearchRequest, str]:
    """The request that answers a ``memory_save`` or ``memory_search`` call made in the
    ``memory`` scope, or the answer itself when the call is unusable (a save without text).
    Raises ``ValueError`` for any other tool."""
    if name not in (tools.MEMORY_SAVE, tools.MEMORY_SEARCH):
        raise ValueError(f"{name!r} is not one of Headroom's tools")
    scope = scope_of(memory)
    args = tools.arguments_of(arguments)
    if name == tools.MEMORY_SEARCH:
        query = args.get("query")
        return MemorySearchRequest(scope, query if isinstance(query, str) else "")
    text, key = args.get("text"), args.get("key")
    if not isinstance(text, str) or not text.strip():
        return f'{tools.MEMORY_SAVE} needs a "text": the fact to remember.'
    return MemoryAddRequest(MemoryScope(scope.user, scope.agent), text,
                            f"conversation {scope.session}" if scope.session else None,
                            key if isinstance(key, str) and key.strip() else None)


def tool_text(reply: Union[MemoryAddReply, MemoryFactsReply]) -> str:
    """What the model reads in answer to ``memory_save`` or ``memory_search``."""
    if isinstance(reply, MemoryAddReply):
        done = "already remembered as" if reply.duplicate else "saved as"
        text = f"{done} fact {reply.fact.id}"
        if reply.superseded:
            text += f"; it replaces {len(reply.superseded)} earlier fact(s)"
        return text
    if not reply.facts:
        return "no remembered fact matches"
    return "\n".join(f"- {f.text} (since {f.valid_from:%Y-%m-%d})" for f in reply.facts)


def tool_failure(name: str, error: "HeadroomError") -> str:
    """What the model reads when the daemon could not answer a memory tool call."""
    return f"Headroom could not answer {name} ({error}); go on without it."


# --- the namespace ----------------------------------------------------------------------------


class Memory:
    """``headroom.memory`` (the process-wide client) and ``Client.memory``: remembered facts.

    Every method takes the scope as a ``MemoryScope``, a dict, or the keyword arguments ``user``,
    ``agent`` and ``session`` (which override a given scope's fields), and raises
    ``HeadroomError`` when the daemon is unreachable or refuses. See ``Client.memory_add``,
    ``memory_search``, ``memory_list`` and ``memory_forget`` for the options.
    """

    def __init__(self, client: Callable[[], "Client"]):
        self._client = client

    def add(self, text: str, scope: ScopeLike = None, **options: Any) -> MemoryAddReply:
        """Remembers ``text``; the reply holds the stored fact (or the one it duplicates) and the
        ids of the facts it superseded."""
        return self._client().memory_add(text, scope, **options)

    def search(self, query: str, scope: ScopeLike = None, **options: Any) -> "list[MemoryFact]":
        """The facts the scope sees that best match ``query``, most relevant first."""
        return self._client().memory_search(query, scope, **options)

    def list(self, scope: ScopeLike = None, **options: Any) -> "list[MemoryFact]":
        """The facts the scope sees (or holds, with ``include_narrower``), newest first."""
        return self._client().memory_list(scope, **options)

    def forget(self, scope: ScopeLike = None, **options: Any) -> int:
        """Deletes fact ``id``, or every fact in the scope and the scopes under it; returns how
        many were deleted."""
        return self._client().memory_forget(scope, **options)

    async def aadd(self, text: str, scope: ScopeLike = None, **options: Any) -> MemoryAddReply:
        """``add`` for asyncio."""
        return await self._client().amemory_add(text, scope, **options)

    async def asearch(self, query: str, scope: ScopeLike = None, **options: Any) -> "list[MemoryFact]":
        """``search`` for asyncio."""
        return await self._client().amemory_search(query, scope, **options)

    async def alist(self, scope: ScopeLike = None, **options: Any) -> "list[MemoryFact]":
        """``list`` for asyncio."""
        return await self._client().amemory_list(scope, **options)

    async def aforget(self, scope: ScopeLike = None, **options: Any) -> int:
        """``forget`` for asyncio."""
        return await self._client().amemory_forget(scope, **options)
