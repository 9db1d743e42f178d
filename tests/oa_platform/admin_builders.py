"""One builder per model registered in the admin: ``BUILDERS[label](account)`` returns a saved row that
belongs to ``account``. The generic isolation test (test_isolation_admin.py) builds one row for agency A and
one for agency B with it and fails loudly for a tenant-scoped admin model that has no builder here.

When you register a new model in the admin, add its builder here (keyed by ``model._meta.label_lower``).
Builders may create related rows too (a message needs a conversation and a citizen): the more related rows
exist, the more dropdowns and foreign-key posts the isolation test can attack.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from django.db.models import Model

from oa_platform import services
from oa_platform.models import (
    ApiToken,
    ChannelConfig,
    Conversation,
    Follow,
    Membership,
    Message,
    OfficialAccount,
    Topic,
    WebhookEvent,
)
from tests import factories

_seq = itertools.count(1)

Builder = Callable[[OfficialAccount], Model]
BUILDERS: dict[str, Builder] = {}


def builder(label: str):
    def register(func: Builder) -> Builder:
        BUILDERS[label] = func
        return func

    return register


def _conversation(account: OfficialAccount) -> Conversation:
    citizen = factories.make_follower(account, display_name=f"Công dân {account.slug} {next(_seq)}", phone="0912345678")
    conversation = Conversation.objects.create(account=account, citizen=citizen, assigned_to=None)
    Message.objects.create(conversation=conversation, direction=Message.DIRECTION_IN, text=f"hỏi {account.slug}")
    return conversation


# --- core (oa_platform)  ---
@builder("oa_platform.agency")
def build_agency(account):
    return account.agency


@builder("oa_platform.officialaccount")
def build_account(account):
    return account


@builder("oa_platform.membership")
def build_membership(account):
    user = factories.make_staff(account, Membership.ROLE_EDITOR, f"{account.slug}-staff-{next(_seq)}")
    return Membership.objects.get(user=user, account=account)


@builder("oa_platform.apitoken")
def build_token(account):
    token, _raw = services.token_issue(account=account, name=f"tok {account.slug} {next(_seq)}")
    return token


@builder("oa_platform.auditlog")
def build_audit(account):
    return services.audit_record(action="test", account=account, object_type="x", object_repr=f"{account.slug}")


@builder("oa_platform.citizen")
def build_citizen(account):
    return _conversation(account).citizen


@builder("oa_platform.topic")
def build_topic(account):
    return Topic.objects.create(account=account, key=f"t{next(_seq)}", name=f"Chủ đề {account.slug}")


@builder("oa_platform.follow")
def build_follow(account):
    return Follow.objects.get(account=account, citizen=_conversation(account).citizen)


@builder("oa_platform.conversation")
def build_conversation(account):
    return _conversation(account)


@builder("oa_platform.message")
def build_message(account):
    return _conversation(account).messages.first()


@builder("oa_platform.channelconfig")
def build_channel_config(account):
    return ChannelConfig.objects.create(
        account=account, kind="zalo", app_id=f"app-{account.slug}", secret=f"s3cret-{account.slug}-value"
    )


@builder("oa_platform.webhookevent")
def build_webhook_event(account):
    return WebhookEvent.objects.create(
        account=account, channel="zalo", dedup_key=f"k{next(_seq)}", event_type="user_send_text", payload={}
    )


# --- faq  ---
@builder("faq.faqentry")
def build_faq_entry(account):
    from faq.services import faq_entry_create

    n = next(_seq)
    return faq_entry_create(
        account=account,
        key=f"cau-hoi-{n}",
        question=f"Làm thế nào để đăng ký {account.slug} {n}?",
        answer=f"Trả lời của {account.slug}.",
        variants=[f"đăng ký {account.slug} {n} thế nào"],
    )


@builder("faq.synonym")
def build_synonym(account):
    from faq.services import synonym_create

    return synonym_create(account=account, term=f"viettat{next(_seq)}", expansion=f"viết tắt {account.slug}")


@builder("faq.unansweredquestion")
def build_unanswered(account):
    from faq.services import unanswered_record

    item = unanswered_record(
        account=account, text=f"câu hỏi chưa trả lời {account.slug} {next(_seq)}", decision="fallback"
    )
    item.resolved_entry = build_faq_entry(account)
    item.save(update_fields=["resolved_entry"])
    return item


# --- broadcasts  ---
def _notice(account, **kwargs):
    from broadcasts.models import Notice

    author = Membership.objects.filter(account=account).select_related("user").first()
    n = next(_seq)
    return Notice.objects.create(
        account=account,
        category="general",
        title_vi=f"Thông báo {account.slug} {n}",
        body_vi=f"Nội dung {account.slug} {n}",
        author=author.user if author else None,
        author_token=ApiToken.objects.filter(account=account).first(),
        **kwargs,
    )


@builder("broadcasts.notice")
def build_notice(account):
    original = _notice(account)
    return _notice(account, references=original, kind="update")


@builder("broadcasts.broadcastsettings")
def build_broadcast_settings(account):
    from broadcasts.models import BroadcastSettings

    return BroadcastSettings.objects.get_or_create(account=account)[0]


@builder("broadcasts.delivery")
def build_delivery(account):
    from django.utils import timezone

    from broadcasts.models import Delivery

    citizen = _conversation(account).citizen
    return Delivery.objects.create(notice=_notice(account), citizen=citizen, channel="inapp", created_at=timezone.now())


@builder("broadcasts.chunk")
def build_chunk(account):
    from broadcasts.models import Chunk

    delivery = build_delivery(account)
    return Chunk.objects.create(notice=delivery.notice, channel="inapp", first_id=delivery.pk, last_id=delivery.pk)
