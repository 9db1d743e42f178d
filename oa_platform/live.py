"""Live pushes through the Channels layer. Group names are built here and nowhere else."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

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


def group_send_many(sends: list[tuple[str, dict]]) -> int:
    """Send each (group, event) in one hop to the event loop (a chunk of a large audience: one async_to_sync per
    event costs about a millisecond). Best effort like group_send; returns how many were sent."""
    layer = get_channel_layer()
    if layer is None or not sends:
        return 0

    async def send_all() -> int:
        sent = 0
        for group, event in sends:
            try:
                await layer.group_send(group, event)
            except Exception:  # noqa: BLE001 - live push is best effort; pages catch up when they reconnect
                logger.warning("live push to %s failed", group, exc_info=True)
            else:
                sent += 1
        return sent

    return async_to_sync(send_all)()


def conversation_changed(*, conversation_id: int) -> None:
    """Tell the conversation's open pages (citizen and staff) that it has new messages."""

    conversation = Conversation.objects.filter(pk=conversation_id).only("account_id", "citizen_id").first()
    if conversation is None:
        return
    event = {"type": "conversation.changed", "conversation_id": conversation_id}
    group_send(citizen_group(conversation.account_id, conversation.citizen_id), event)
    group_send(staff_group(conversation.account_id), event)
