"""Live pushes through the Channels layer. Group names are built here and nowhere else."""

from __future__ import annotations

import asyncio
import logging
import math

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from oa_platform.asgi_limit import server_loop
from oa_platform.models import Conversation

logger = logging.getLogger(__name__)


def citizen_group(account_id: int, citizen_id: int) -> str:
    return f"oa{account_id}.c{citizen_id}"


def account_group(account_id: int) -> str:
    return f"oa{account_id}.all"


def staff_group(account_id: int) -> str:
    return f"oa{account_id}.staff"


def staff_user_group(user_id: int) -> str:
    """Every staff inbox socket of one user (to recheck their access when it is taken away)."""
    return f"staff.u{user_id}"


def group_send(group: str, event: dict) -> bool:
    """Send to a group; a layer outage is logged and reported, never raised into the caller's request."""
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        async_to_sync(layer.group_send)(group, event)
    except Exception:  # noqa: BLE001 - live push is best effort; pages catch up when they reconnect
        logger.warning("live push to %s failed", group, exc_info=True)
        return False
    return True


# Per group, in the server's event loop only (one thread: no lock): when it was last sent, and the groups whose
# next send is already scheduled; the sends under way (a task nobody holds may be collected before it ends).
_last_sent: dict[str, float] = {}
_due: set[str] = set()
_sending: set[asyncio.Task] = set()


def group_send_coalesced(group: str, event: dict, *, every_s: float) -> None:
    """Send ``event`` to ``group`` at most once per ``every_s`` seconds from this process: the first change at
    once, later ones in the window by one send at its end (so the last change is always told, at most
    ``every_s`` late). For events that say only "something changed" (each carries the same content). In a
    server process the caller does not wait for Redis (the send runs in the server's event loop); elsewhere it
    is group_send, at once and every time. Best effort like group_send."""
    loop = server_loop()
    if loop is None or loop.is_closed() or not loop.is_running():
        group_send(group, event)
        return
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        _coalesce(loop, group, event, every_s)
    else:
        loop.call_soon_threadsafe(_coalesce, loop, group, event, every_s)


def _coalesce(loop: asyncio.AbstractEventLoop, group: str, event: dict, every_s: float) -> None:
    """In the server loop: send now, or make sure one send follows at the end of the window."""
    if group in _due:
        return  # the send already scheduled tells this change too
    wait = _last_sent.get(group, -math.inf) + every_s - loop.time()
    if wait <= 0:
        _send_now(loop, group, event)
    else:
        _due.add(group)
        loop.call_later(wait, _send_due, loop, group, event)


def _send_due(loop: asyncio.AbstractEventLoop, group: str, event: dict) -> None:
    _due.discard(group)
    _send_now(loop, group, event)


def _send_now(loop: asyncio.AbstractEventLoop, group: str, event: dict) -> None:
    _last_sent[group] = loop.time()
    if len(_last_sent) > 10_000:  # groups of rounds long closed: forget those not sent to within a minute
        for name, at in list(_last_sent.items()):
            if at < loop.time() - 60:
                del _last_sent[name]
    task = loop.create_task(_send_async(group, event))
    _sending.add(task)
    task.add_done_callback(_sending.discard)


async def _send_async(group: str, event: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        await layer.group_send(group, event)
    except Exception:  # noqa: BLE001 - live push is best effort; pages catch up when they reconnect
        logger.warning("live push to %s failed", group, exc_info=True)


# Which of KEYS exist, as their positions (1-based): channels-redis keeps a group as a sorted set of its members'
# channels, which Redis deletes with its last member, so an existing key is a group someone has joined.
_JOINED_LUA = """
local found = {}
for i = 1, #KEYS do
    if redis.call('EXISTS', KEYS[i]) == 1 then found[#found + 1] = i end
end
return found
"""


async def _joined(layer, sends: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    """The sends whose group has a member. On channels-redis: ONE Redis call per layer shard for the whole batch
    (a group send costs two round trips even to an empty group: 5,000 of them take about a second of a worker).
    A member may be stale (a server that died without leaving: it ages out after the layer's group expiry); a
    group joined after this check is not sent to, which is fine for pages that sync when their socket opens."""
    if hasattr(layer, "_group_key") and hasattr(layer, "consistent_hash") and hasattr(layer, "connection"):
        by_shard: dict[int, list[int]] = {}
        for position, (group, _event) in enumerate(sends):
            by_shard.setdefault(layer.consistent_hash(group), []).append(position)
        found: list[int] = []
        for shard, positions in by_shard.items():
            keys = [layer._group_key(sends[p][0]) for p in positions]
            hits = await layer.connection(shard).eval(_JOINED_LUA, len(keys), *keys)
            found += [positions[int(h) - 1] for h in hits]
        return [sends[p] for p in sorted(found)]
    groups = getattr(layer, "groups", None)  # channels' in-memory layer (tests and the embedded server)
    if isinstance(groups, dict):
        return [(group, event) for group, event in sends if groups.get(group)]
    return sends


def group_send_many(sends: list[tuple[str, dict]], *, joined_only: bool = False) -> int:
    """Send each (group, event) in one hop to the event loop (a chunk of a large audience: one async_to_sync per
    event costs about a millisecond). Best effort like group_send; returns how many were sent.
    ``joined_only``: for a large batch most of whose groups nobody has joined (the citizens of a list, few with
    the page open): one call finds the groups that have a member and only those are sent to."""
    layer = get_channel_layer()
    if layer is None or not sends:
        return 0

    async def send_all() -> int:
        todo = sends
        if joined_only:
            try:
                todo = await _joined(layer, sends)
            except Exception:  # noqa: BLE001 - live push is best effort; pages catch up when they reconnect
                logger.warning("live push: finding the open groups of %s failed", len(sends), exc_info=True)
                return 0
        sent = 0
        for group, event in todo:
            try:
                await layer.group_send(group, event)
            except Exception:  # noqa: BLE001 - live push is best effort; pages catch up when they reconnect
                logger.warning("live push to %s failed", group, exc_info=True)
            else:
                sent += 1
        return sent

    return async_to_sync(send_all)()


def citizens_conversations_changed(*, account_id: int, conversations: dict[int, int]) -> int:
    """Tell the open chat pages of many citizens of one account (citizen id -> their conversation id) that their
    conversations have new messages, each page fetching only its own (``conversation.changed``, as a staff
    reply). For a batch (a list chunk of 5,000): one Redis call finds the citizens with a page open, then one group
    send each; the staff inbox is not woken once per person. Returns how many groups were sent to."""
    sends = [
        (citizen_group(account_id, citizen_id), {"type": "conversation.changed", "conversation_id": conversation_id})
        for citizen_id, conversation_id in conversations.items()
    ]
    return group_send_many(sends, joined_only=True)


def conversation_changed(*, conversation_id: int) -> None:
    """Tell the conversation's open pages (citizen and staff) that it has new messages."""

    conversation = Conversation.objects.filter(pk=conversation_id).only("account_id", "citizen_id").first()
    if conversation is None:
        return
    event = {"type": "conversation.changed", "conversation_id": conversation_id}
    group_send(citizen_group(conversation.account_id, conversation.citizen_id), event)
    group_send(staff_group(conversation.account_id), event)
