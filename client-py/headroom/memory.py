"""Memory: facts that outlive a conversation, kept by the daemon (``docs/memory.md``).

``Memory`` is the namespace behind ``headroom.memory`` and ``HeadroomClient.memory``: it turns
what callers write (a ``MemoryScope``, a dict or keyword arguments; datetimes or milliseconds)
into wire requests. The functions below turn the model's ``memory_save`` and ``memory_search``
calls into requests, and the daemon's replies into the text the model reads.

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
    MemoryForgetReply,
    MemoryForgetRequest,
    MemoryListRequest,
    MemoryScope,
    MemorySearchRequest,
)

if TYPE_CHECKING:
    from .client import HeadroomError, _Operations

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
    if name not in (tools.MEMORY_SAVE_TOOL_NAME, tools.MEMORY_SEARCH_TOOL_NAME):
        raise ValueError(f"{name!r} is not one of Headroom's tools")
    scope = scope_of(memory)
    args = tools.arguments_of(arguments)
    if name == tools.MEMORY_SEARCH_TOOL_NAME:
        query = args.get("query")
        return MemorySearchRequest(scope, query if isinstance(query, str) else "")
    text, key = args.get("text"), args.get("key")
    if not isinstance(text, str) or not text.strip():
        return f'{tools.MEMORY_SAVE_TOOL_NAME} needs a "text": the fact to remember.'
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
    """Remembered facts: ``headroom.memory`` (the process-wide client), ``client.memory``, and on
    asyncio ``headroom.aio.memory`` / ``client.aio.memory``, whose methods return coroutines.

    Every method takes the scope as a ``MemoryScope``, a dict, or the keyword arguments ``user``,
    ``agent`` and ``session`` (which override a given scope's fields), and raises
    ``HeadroomError`` when the daemon is unreachable or refuses (``code`` is the daemon's
    ``ErrorCode``, e.g. ``not_found`` for an unknown fact id). ``client`` gives the client to ask,
    at each call (so ``headroom.memory`` follows ``headroom.configure``).
    """

    def __init__(self, client: Callable[[], "_Operations"]):
        self._client = client

    def add(self, text: str, scope: ScopeLike = None, *, user: Optional[str] = None, agent: Optional[str] = None,
            session: Optional[str] = None, key: Optional[str] = None, source: Optional[str] = None,
            valid_from: TimeLike = None) -> MemoryAddReply:
        """Remembers ``text`` in the scope. ``key`` says what the fact is about: a new fact with
        the key of a current one in the same scope supersedes it (derived from the text when
        absent); ``source`` says where it came from; ``valid_from`` (datetime or ms) is when it
        became true, now by default. Returns the stored fact, or with ``duplicate`` the current
        fact it repeats, and the ids it ``superseded``."""
        request = MemoryAddRequest(scope_of(scope, user=user, agent=agent, session=session), text, source, key,
                                   ms_of(valid_from))
        return self._client()._ask(request, MemoryAddReply)

    def search(self, query: str, scope: ScopeLike = None, *, user: Optional[str] = None, agent: Optional[str] = None,
               session: Optional[str] = None, as_of: TimeLike = None, limit: int = 10,
               budget_tokens: int = 0) -> "list[MemoryFact]":
        """The facts the scope sees (its own, its agent's, its user's) that best match ``query``,
        most relevant first: at most ``limit`` facts and ``budget_tokens`` tokens of text (0: no
        bound). ``as_of`` (datetime or ms) searches what was true then. An empty query gives the
        newest facts."""
        request = MemorySearchRequest(scope_of(scope, user=user, agent=agent, session=session), query, ms_of(as_of),
                                      limit, budget_tokens)
        return self._client()._ask(request, MemoryFactsReply, lambda reply: reply.facts)

    def list(self, scope: ScopeLike = None, *, user: Optional[str] = None, agent: Optional[str] = None,
             session: Optional[str] = None, as_of: TimeLike = None, include_superseded: bool = False,
             include_narrower: bool = False) -> "list[MemoryFact]":
        """The facts the scope sees, newest first: those true now or at ``as_of``, or with
        ``include_superseded`` every version. ``include_narrower`` lists every fact in the scope
        and the scopes under it instead."""
        request = MemoryListRequest(scope_of(scope, user=user, agent=agent, session=session), ms_of(as_of),
                                    include_superseded, include_narrower)
        return self._client()._ask(request, MemoryFactsReply, lambda reply: reply.facts)

    def forget(self, scope: ScopeLike = None, *, user: Optional[str] = None, agent: Optional[str] = None,
               session: Optional[str] = None, id: Optional[str] = None) -> int:
        """Deletes fact ``id`` (which must lie in the scope or under it), or without ``id`` every
        fact in the scope and the scopes under it, for good. Returns how many were deleted."""
        request = MemoryForgetRequest(scope_of(scope, user=user, agent=agent, session=session), id)
        return self._client()._ask(request, MemoryForgetReply, lambda reply: reply.removed)
