"""Losing staff access takes effect at once on open staff inbox sockets, not at their next connect.

The HTTP side needs nothing here: every staff page and service reads ``is_staff`` and the memberships again
on each request (``selectors.accounts_for_user``). A socket stays open for hours, so when a user is no longer
staff (``is_staff`` or ``is_active`` cleared, user deleted) or loses a membership, their sockets are told to
check again; each one closes if it lost its account (``StaffInboxConsumer.staff_recheck``). A change that
sends no signal (a queryset ``update``) is still caught: the socket also rechecks before every push.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from oa_platform import live
from oa_platform.models import Membership

User = get_user_model()


def staff_recheck_send(user_id: int) -> None:
    """After the current transaction commits (the sockets re-read the database), tell ``user_id``'s staff
    sockets to recheck their access."""
    event = {"type": "staff.recheck"}
    transaction.on_commit(lambda: live.group_send(live.staff_user_group(user_id), event))


@receiver(post_save, sender=User, dispatch_uid="oa_staff_access_user_saved")
def _user_saved(sender, instance, created, **kwargs):
    if not created and not (instance.is_staff and instance.is_active):
        staff_recheck_send(instance.pk)


@receiver(post_delete, sender=User, dispatch_uid="oa_staff_access_user_deleted")
def _user_deleted(sender, instance, **kwargs):
    staff_recheck_send(instance.pk)


@receiver(post_delete, sender=Membership, dispatch_uid="oa_staff_access_membership_deleted")
def _membership_deleted(sender, instance, **kwargs):
    staff_recheck_send(instance.user_id)
