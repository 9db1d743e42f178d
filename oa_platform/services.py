"""Writes of the core app: accounts, tokens, audit, citizens, follows, subscriptions (erasure: erasure.py)."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, NotSupportedError, connections, transaction
from django.db.models import F, FilteredRelation, Model, Q
from django.utils import timezone

from oa_platform.compiled_queries import CompiledInsert, CompiledQuery, writes_together
from oa_platform.errors import Forbidden, NotFound, ValidationFailed
from oa_platform.models import (
    LANGUAGE_CHOICES,
    Agency,
    ApiToken,
    Area,
    AuditLog,
    Citizen,
    Conversation,
    Follow,
    FollowEvent,
    OfficialAccount,
    Topic,
    TopicSubscription,
)
from oa_platform.phones import InvalidPhone, normalize_phone

LANGUAGES = {code for code, _ in LANGUAGE_CHOICES}
MAX_EXTERNAL_ID = 128
MAX_DISPLAY_NAME = 120


# --- audit  ---
def audit_record(
    *,
    action: str,
    obj: Model | None = None,
    account: OfficialAccount | None = None,
    actor: AbstractBaseUser | None = None,
    actor_label: str = "",
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    changes: dict | None = None,
) -> AuditLog:
    """Append one audit entry. ``actor`` is a staff user; ``actor_label`` names a token or the system."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
    if actor is not None and getattr(actor, "is_authenticated", False):
        actor_label = actor_label or actor.get_username()
    else:
        actor = None
    return AuditLog.objects.create(
        account=account,
        actor=actor,
        actor_label=actor_label[:150],
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:200],
        changes=changes or {},
    )


# --- accounts and tokens  ---
def topics_ensure_defaults(*, account: OfficialAccount) -> None:
    for position, (key, name, name_en, name_zh) in enumerate(Topic.DEFAULT_TOPICS):
        Topic.objects.get_or_create(
            account=account,
            key=key,
            defaults={"name": name, "name_en": name_en, "name_zh": name_zh, "position": position},
        )


@transaction.atomic
def account_create(
    *,
    slug: str,
    name: str,
    agency_name: str | None = None,
    default_language: str = "vi",
    timezone_name: str = "Asia/Ho_Chi_Minh",
    description: str = "",
    welcome_message: str = "",
    actor: AbstractBaseUser | None = None,
) -> OfficialAccount:
    """Create an agency with its one Official Account and the default topics."""
    if OfficialAccount.objects.filter(slug=slug).exists():
        raise ValidationFailed(f"An account with slug {slug!r} exists already.", fields={"slug": "taken"})
    agency = Agency.objects.create(name=agency_name or name, code=slug)
    account = OfficialAccount(
        agency=agency,
        slug=slug,
        name=name,
        default_language=default_language,
        timezone=timezone_name,
        description=description,
        welcome_message=welcome_message,
    )
    account.full_clean(exclude=["agency"])
    account.save()
    topics_ensure_defaults(account=account)
    audit_record(action="create", obj=account, account=account, actor=actor)
    return account


def account_get_or_create(*, slug: str, name: str, default_language: str = "vi") -> tuple[OfficialAccount, bool]:
    account = OfficialAccount.objects.filter(slug=slug).first()
    if account is not None:
        return account, False
    return account_create(slug=slug, name=name, default_language=default_language), True


def token_issue(
    *,
    account: OfficialAccount,
    name: str,
    scopes: Iterable[str] | None = None,
    created_by: AbstractBaseUser | None = None,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its raw value, which is shown once and never stored."""
    scopes = list(scopes) if scopes is not None else [ApiToken.SCOPE_CHAT, ApiToken.SCOPE_READ]
    unknown = set(scopes) - set(ApiToken.ALL_SCOPES)
    if unknown:
        raise ValidationFailed(f"Unknown scopes: {', '.join(sorted(unknown))}")
    if not name.strip():
        raise ValidationFailed("A token needs a name.")
    raw = ApiToken.generate()
    token = ApiToken.objects.create(
        account=account,
        name=name.strip()[:100],
        prefix=raw[:10],
        key_hash=ApiToken.hash(raw),
        scopes=scopes,
        created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
    )
    audit_record(action="token_issue", obj=token, account=account, actor=created_by, changes={"scopes": scopes})
    return token, raw


def token_revoke(*, token: ApiToken, actor: AbstractBaseUser | None = None) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(action="token_revoke", obj=token, account=token.account, actor=actor)
    return token


# --- citizens  ---
def _clean_language(language: str | None) -> str | None:
    if not language:
        return None
    language = language.lower()
    if language.startswith("zh"):
        return "zh-hans"
    return language if language in LANGUAGES else None


def _citizen_clean(
    *,
    channel: str,
    external_id: str,
    display_name: str,
    language: str | None,
    phone: str | None,
    default_language: str | None = None,
) -> tuple[str, str | None, dict]:
    """Validate a citizen's identity and profile: (external id, phone in E.164 or None, create defaults).

    A new citizen who sent no language gets ``default_language`` (the account they first wrote to), so the
    bot does not answer a citizen of an English or Chinese account in Vietnamese."""
    external_id = (external_id or "").strip()
    if not external_id:
        raise ValidationFailed("citizen_id is required.", fields={"citizen_id": "required"})
    if len(external_id) > MAX_EXTERNAL_ID:
        raise ValidationFailed("citizen_id is too long.", fields={"citizen_id": f"at most {MAX_EXTERNAL_ID}"})
    if channel not in dict(Citizen.CHANNEL_CHOICES):
        raise ValidationFailed(f"Unknown channel {channel!r}.")
    e164 = None
    if phone is not None:
        try:
            e164 = normalize_phone(phone)
        except InvalidPhone as exc:
            raise ValidationFailed("Invalid phone number.", fields={"phone": str(exc)}) from exc
    defaults = {
        "display_name": (display_name or "")[:MAX_DISPLAY_NAME],
        "language": _clean_language(language) or _clean_language(default_language) or "vi",
    }
    if e164:
        defaults["phone"] = e164
    return external_id, e164, defaults


def _citizen_refresh(citizen: Citizen, *, e164: str | None, display_name: str) -> None:
    """A known citizen: take a new phone number, and a display name when none was stored yet."""
    changed = []
    if e164 and citizen.phone != e164:
        citizen.phone = e164
        changed.append("phone")
    if display_name and not citizen.display_name:
        citizen.display_name = display_name[:MAX_DISPLAY_NAME]
        changed.append("display_name")
    if changed:
        citizen.save(update_fields=changed)


def citizen_account_check(*, account: OfficialAccount, citizen: Citizen) -> None:
    """Refuse to relate ``citizen`` to ``account`` when another account owns it (browser identities, with no
    account, relate to any)."""
    if citizen.account_id is not None and citizen.account_id != account.pk:
        raise Forbidden("This citizen belongs to another account.")


def citizen_get_or_create(
    *,
    account: OfficialAccount | None,
    channel: str,
    external_id: str,
    display_name: str = "",
    language: str | None = None,
    phone: str | None = None,
    default_language: str | None = None,
) -> tuple[Citizen, bool]:
    """Find the citizen of (account, channel, external id) or create one. Validates before writing anything.

    ``account``: the account whose integration (API, webhook, Official Account) named the id; the citizen is
    that account's alone. None only for the web page's browser identity, one person across accounts.
    ``default_language``: a new citizen's language when ``language`` is not given (the account's)."""
    external_id, e164, defaults = _citizen_clean(
        channel=channel,
        external_id=external_id,
        display_name=display_name,
        language=language,
        phone=phone,
        default_language=default_language,
    )
    if account is None and channel != Citizen.CHANNEL_WEB:
        raise ValueError(f"A {channel} citizen belongs to the account that received it.")
    found = None
    if connections["default"].vendor == "postgresql":
        # A compiled read, then an insert that cannot fail on a concurrent first write: two round trips for a new
        # citizen (get_or_create: four, with its savepoint), one for a known one.
        try:
            found = _citizen_find_or_insert(
                Citizen(account=account, channel=channel, external_id=external_id, **defaults)
            )
        except NotSupportedError:  # signal listeners on Citizen: the ORM below
            pass
    if found is not None:
        citizen, created = found
    else:
        # get_or_create reads first, creates in a savepoint, and re-reads when a concurrent first message won.
        citizen, created = Citizen.objects.get_or_create(
            account=account, channel=channel, external_id=external_id, defaults=defaults
        )
    if not created:
        _citizen_refresh(citizen, e164=e164, display_name=display_name)
    return citizen, created


_CITIZEN_COLUMNS = [f.attname for f in Citizen._meta.concrete_fields]
_citizen_insert = CompiledInsert(Citizen)
# A citizen by its identity, compiled once per process: an account's own (API, webhooks) and a browser's (no
# account, which compiles to IS NULL, hence a query of its own). Form submissions and follows run it per request.
_account_citizen = CompiledQuery(
    lambda account_id, channel, external_id: (
        Citizen.objects.filter(account_id=account_id, channel=channel, external_id=external_id)
        .order_by("pk")
        .values_list(*_CITIZEN_COLUMNS)[:1]
    ),
    account_id=-730_002,
    channel="\x00channel",
    external_id="\x00external_id",
)
_shared_citizen = CompiledQuery(
    lambda channel, external_id: (
        Citizen.objects.filter(account__isnull=True, channel=channel, external_id=external_id)
        .order_by("pk")
        .values_list(*_CITIZEN_COLUMNS)[:1]
    ),
    channel="\x00channel",
    external_id="\x00external_id",
)


def _citizen_find(*, account: OfficialAccount | None, channel: str, external_id: str) -> Citizen | None:
    if account is None:
        row = _shared_citizen.first(channel=channel, external_id=external_id)
    else:
        row = _account_citizen.first(account_id=account.pk, channel=channel, external_id=external_id)
    if row is None:
        return None
    citizen = Citizen.from_db("default", _CITIZEN_COLUMNS, row)
    if account is not None:
        citizen.account = account
    return citizen


def _citizen_find_or_insert(new: Citizen) -> tuple[Citizen, bool] | None:
    """The citizen of ``new``'s identity, else ``new`` inserted (PostgreSQL: ON CONFLICT DO NOTHING, so a
    concurrent first write of the same citizen needs no savepoint and aborts nothing: the row it stored is read
    then). (citizen, created). Raises NotSupportedError where the compiled INSERT cannot be used."""
    identity = {"account": new.account, "channel": new.channel, "external_id": new.external_id}
    citizen = _citizen_find(**identity)
    if citizen is not None:
        return citizen, False
    sql, params = _citizen_insert.statement(new)
    head, returning, tail = sql.rpartition(" RETURNING ")
    with connections["default"].cursor() as cursor:
        cursor.execute(f"{head} ON CONFLICT DO NOTHING{returning}{tail}", params)
        row = cursor.fetchone()
    if row is not None:
        return _citizen_insert.stored(new, row), True
    citizen = _citizen_find(**identity)
    return None if citizen is None else (citizen, False)  # None: gone again meanwhile, the ORM's way decides


_CONVERSATION_COLUMNS = [f.attname for f in Conversation._meta.concrete_fields]
# An account's citizen LEFT JOIN their conversation with that account, compiled once per process (the chat API
# runs it for every message). Conversation columns are all NULL when the citizen has not written yet.
_citizen_with_conversation = CompiledQuery(
    lambda account_id, channel, external_id: (
        Citizen.objects.filter(account_id=account_id, channel=channel, external_id=external_id)
        .annotate(
            _conversation=FilteredRelation("conversations", condition=Q(conversations__account_id=F("account_id")))
        )
        .order_by("pk")
        .values_list(*_CITIZEN_COLUMNS, *(f"_conversation__{name}" for name in _CONVERSATION_COLUMNS))[:1]
    ),
    account_id=-730_001,
    channel="\x00channel",
    external_id="\x00external_id",
)
_conversation_insert = CompiledInsert(Conversation)


def _citizen_conversation_insert(*, account: OfficialAccount, citizen: Citizen) -> tuple[Citizen, Conversation]:
    """Insert a new citizen and their conversation with ``account``: one statement on PostgreSQL, else a
    transaction. Raises IntegrityError when the citizen exists already (nothing is stored then)."""
    conversation = Conversation(account=account, citizen=citizen)
    if connections["default"].vendor == "postgresql":
        try:
            parts = [
                ("citizen", _citizen_insert.statement(citizen)),
                (
                    "conversation",
                    _conversation_insert.statement(conversation, exprs={"citizen_id": "(SELECT id FROM citizen)"}),
                ),
            ]
        except NotSupportedError:  # signal listeners: save() below
            pass
        else:
            citizen_id, conversation_id = writes_together(
                parts, "(SELECT id FROM citizen), (SELECT id FROM conversation)"
            )
            _citizen_insert.stored(citizen, (citizen_id,))
            conversation.citizen = citizen
            return citizen, _conversation_insert.stored(conversation, (conversation_id,))
    with transaction.atomic():
        _citizen_insert.insert(citizen)
        conversation.citizen = citizen
        return citizen, _conversation_insert.insert(conversation)


def citizen_conversation_get_or_create(
    *,
    account: OfficialAccount,
    channel: str,
    external_id: str,
    display_name: str = "",
    language: str | None = None,
    phone: str | None = None,
) -> tuple[Citizen, Conversation]:
    """``account``'s own citizen of (channel, external id) and their conversation, created when missing.

    Same validation and profile rules as ``citizen_get_or_create`` (a new citizen's language defaults to the
    account's). The chat's hot path: one query (the
    citizen LEFT JOIN their conversation with this account) for a citizen who wrote before; a new citizen and
    their conversation are inserted in one transaction. A concurrent first message of the same citizen falls
    back to the read-first path (``get_or_create`` on both)."""
    external_id, e164, defaults = _citizen_clean(
        channel=channel,
        external_id=external_id,
        display_name=display_name,
        language=language,
        phone=phone,
        default_language=account.default_language,
    )
    row = _citizen_with_conversation.first(account_id=account.pk, channel=channel, external_id=external_id)
    citizen = Citizen.from_db("default", _CITIZEN_COLUMNS, row[: len(_CITIZEN_COLUMNS)]) if row else None
    if citizen is None:
        try:
            return _citizen_conversation_insert(
                account=account,
                citizen=Citizen(account=account, channel=channel, external_id=external_id, **defaults),
            )
        except IntegrityError:  # the same citizen's first message raced in twice: the other one created it
            citizen, _created = citizen_get_or_create(
                account=account,
                channel=channel,
                external_id=external_id,
                display_name=display_name,
                language=language,
                phone=phone,
                default_language=account.default_language,
            )
    else:
        _citizen_refresh(citizen, e164=e164, display_name=display_name)
        values = row[len(_CITIZEN_COLUMNS) :]
        if values[_CONVERSATION_COLUMNS.index("id")] is not None:
            conversation = Conversation.from_db("default", _CONVERSATION_COLUMNS, values)
            conversation.account, conversation.citizen = account, citizen
            return citizen, conversation
    conversation, _created = Conversation.objects.get_or_create(account=account, citizen=citizen)
    return citizen, conversation


def citizen_update_profile(
    *,
    citizen: Citizen,
    language: str | None = None,
    phone: str | None = None,
    home_area_code: str | None = None,
    display_name: str | None = None,
) -> Citizen:
    changed = []
    if language is not None:
        cleaned = _clean_language(language)
        if cleaned is None:
            raise ValidationFailed("Unknown language.", fields={"language": language})
        citizen.language = cleaned
        changed.append("language")
    if phone is not None:
        try:
            citizen.phone = normalize_phone(phone)
        except InvalidPhone as exc:
            raise ValidationFailed("Invalid phone number.", fields={"phone": str(exc)}) from exc
        changed.append("phone")
    if home_area_code is not None:
        if home_area_code == "":
            citizen.home_area = None
        else:
            area = Area.objects.filter(code=home_area_code).first()
            if area is None:
                raise ValidationFailed("Unknown area.", fields={"home_area": home_area_code})
            citizen.home_area = area
        changed.append("home_area")
    if display_name is not None:
        citizen.display_name = display_name[:MAX_DISPLAY_NAME]
        changed.append("display_name")
    if changed:
        citizen.save(update_fields=changed)
    return citizen


# --- follows and subscriptions  ---
@transaction.atomic
def follow_create(*, account: OfficialAccount, citizen: Citizen, channel: str = "") -> Follow:
    """Follow (or follow again). A new follow subscribes to the account's default topics."""
    citizen_account_check(account=account, citizen=citizen)
    follow, created = Follow.objects.select_for_update().get_or_create(account=account, citizen=citizen)
    if created:
        topics = account.topics.filter(subscribed_by_default=True)
        TopicSubscription.objects.bulk_create([TopicSubscription(follow=follow, topic=t) for t in topics])
    elif follow.is_active:
        return follow
    else:
        follow.is_active = True
        follow.followed_at = timezone.now()
        follow.unfollowed_at = None
        follow.save(update_fields=["is_active", "followed_at", "unfollowed_at"])
    FollowEvent.objects.create(follow=follow, kind=FollowEvent.KIND_FOLLOW, channel=channel or citizen.channel)
    return follow


@transaction.atomic
def follow_remove(*, account: OfficialAccount, citizen: Citizen, channel: str = "") -> Follow | None:
    """Unfollow. The follow row, its subscriptions and the conversation stay as history."""
    follow = Follow.objects.select_for_update().filter(account=account, citizen=citizen).first()
    if follow is None or not follow.is_active:
        return follow
    follow.is_active = False
    follow.unfollowed_at = timezone.now()
    follow.save(update_fields=["is_active", "unfollowed_at"])
    FollowEvent.objects.create(follow=follow, kind=FollowEvent.KIND_UNFOLLOW, channel=channel or citizen.channel)
    return follow


@transaction.atomic
def subscriptions_set(
    *, follow: Follow, topic_keys: Iterable[str] | None = None, area_codes: Iterable[str] | None = None
) -> Follow:
    """Replace the follow's topics and/or areas. Unknown keys or codes are refused before anything changes."""
    if topic_keys is not None:
        topic_keys = list(dict.fromkeys(topic_keys))
        topics = list(Topic.objects.filter(account_id=follow.account_id, key__in=topic_keys))
        unknown = set(topic_keys) - {t.key for t in topics}
        if unknown:
            raise ValidationFailed("Unknown topic.", fields={"topics": sorted(unknown)})
    if area_codes is not None:
        area_codes = list(dict.fromkeys(area_codes))
        areas = list(Area.objects.filter(code__in=area_codes))
        unknown = set(area_codes) - {a.code for a in areas}
        if unknown:
            raise ValidationFailed("Unknown area.", fields={"areas": sorted(unknown)})
    if topic_keys is not None:
        TopicSubscription.objects.filter(follow=follow).exclude(topic__in=topics).delete()
        TopicSubscription.objects.bulk_create(
            [TopicSubscription(follow=follow, topic=t) for t in topics], ignore_conflicts=True
        )
    if area_codes is not None:
        follow.areas.set(areas)
    return follow


def subscription_toggle(*, follow: Follow, topic_key: str, subscribed: bool) -> Follow:
    topic = Topic.objects.filter(account_id=follow.account_id, key=topic_key).first()
    if topic is None:
        raise NotFound("Unknown topic.", fields={"topic": topic_key})
    if subscribed:
        TopicSubscription.objects.get_or_create(follow=follow, topic=topic)
    else:
        TopicSubscription.objects.filter(follow=follow, topic=topic).delete()
    return follow


def subscriptions_clear(*, follow: Follow) -> Follow:
    TopicSubscription.objects.filter(follow=follow).delete()
    return follow
