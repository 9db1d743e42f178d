"""Give every citizen an agency integration named its account, so no two accounts share one.

A citizen of the Zalo, WeChat or generic channel, or of the chat API (web channel, an id that is not a
browser cookie id), goes to the first account it relates to (follow, conversation, notice delivery, a staff
member's test citizen). Every further account gets a copy of the citizen, and that account's rows are
re-pointed to the copy: nothing is lost and nothing stays shared. Browser identities (``w_`` + 22 URL-safe
characters, web_identity.new_cid) stay shared. A citizen nothing relates to keeps an empty account (no lookup
finds it any more). Going back keeps the copies: 0009's reverse then fails where two accounts hold one id.
"""

from django.db import migrations
from django.db.models import Q

SCOPED_CHANNELS = ("zalo", "wechat", "generic")
# web_identity.new_cid: "w_" + secrets.token_urlsafe(16), frozen here as it was when this migration was written.
BROWSER_ID = r"^w_[A-Za-z0-9_-]{22}$"
# Citizens updated per statement.
BATCH = 1000


def _to_scope(prefix: str = "") -> Q:
    """Citizens (through the relation ``prefix``) that an account's integration named and none owns yet."""
    return Q(**{f"{prefix}account__isnull": True}) & (
        Q(**{f"{prefix}channel__in": SCOPED_CHANNELS})
        | (Q(**{f"{prefix}channel": "web"}) & ~Q(**{f"{prefix}external_id__regex": BROWSER_ID}))
    )


def _related_accounts(apps) -> dict[int, set[int]]:
    """citizen id -> ids of the accounts whose rows point at it, for the citizens to scope."""
    Follow = apps.get_model("oa_platform", "Follow")
    Conversation = apps.get_model("oa_platform", "Conversation")
    Membership = apps.get_model("oa_platform", "Membership")
    Delivery = apps.get_model("broadcasts", "Delivery")
    sources = [
        Follow.objects.filter(_to_scope("citizen__")).values_list("citizen_id", "account_id"),
        Conversation.objects.filter(_to_scope("citizen__")).values_list("citizen_id", "account_id"),
        Membership.objects.filter(_to_scope("test_citizen__")).values_list("test_citizen_id", "account_id"),
        Delivery.objects.filter(_to_scope("citizen__")).values_list("citizen_id", "notice__account_id"),
    ]
    related: dict[int, set[int]] = {}
    for rows in sources:
        for citizen_id, account_id in rows.distinct().iterator():
            related.setdefault(citizen_id, set()).add(account_id)
    return related


def _copy_for(apps, citizen, account_id: int) -> None:
    """A copy of ``citizen`` for ``account_id``, and that account's rows pointed at it."""
    Citizen = apps.get_model("oa_platform", "Citizen")
    Follow = apps.get_model("oa_platform", "Follow")
    Conversation = apps.get_model("oa_platform", "Conversation")
    Membership = apps.get_model("oa_platform", "Membership")
    Delivery = apps.get_model("broadcasts", "Delivery")
    values = {f.attname: getattr(citizen, f.attname) for f in Citizen._meta.concrete_fields if not f.primary_key}
    values["account_id"] = account_id
    copy = Citizen.objects.create(**values)
    Citizen.objects.filter(pk=copy.pk).update(created_at=citizen.created_at)  # auto_now_add set it to now
    Follow.objects.filter(citizen_id=citizen.pk, account_id=account_id).update(citizen_id=copy.pk)
    Conversation.objects.filter(citizen_id=citizen.pk, account_id=account_id).update(citizen_id=copy.pk)
    Membership.objects.filter(test_citizen_id=citizen.pk, account_id=account_id).update(test_citizen_id=copy.pk)
    Delivery.objects.filter(citizen_id=citizen.pk, notice__account_id=account_id).update(citizen_id=copy.pk)


def citizens_scope(apps, schema_editor):
    Citizen = apps.get_model("oa_platform", "Citizen")
    related = _related_accounts(apps)
    by_first: dict[int, list[int]] = {}
    for citizen_id, account_ids in related.items():
        first, *further = sorted(account_ids)
        by_first.setdefault(first, []).append(citizen_id)
        if further:
            citizen = Citizen.objects.get(pk=citizen_id)
            for account_id in further:
                _copy_for(apps, citizen, account_id)
    for account_id, citizen_ids in by_first.items():
        for start in range(0, len(citizen_ids), BATCH):
            Citizen.objects.filter(pk__in=citizen_ids[start : start + BATCH]).update(account_id=account_id)


class Migration(migrations.Migration):
    dependencies = [
        ("oa_platform", "0009_citizen_account"),
        ("broadcasts", "0004_delivery_sending"),
    ]

    operations = [migrations.RunPython(citizens_scope, migrations.RunPython.noop)]
