"""Every write of the broadcasts app: notices through their status flow, the two-person rule, quiet hours,
cancel and correct, settings, erasure. Fan-out itself lives in ``broadcasts.fanout``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from broadcasts.cap import cap_parse
from broadcasts.models import BroadcastSettings, Chunk, Delivery, Notice
from broadcasts.selectors import notice_counts
from oa_platform.errors import Conflict, Forbidden, ValidationFailed
from oa_platform.models import LANGUAGE_CHOICES, ApiToken, Area, Membership, OfficialAccount, Topic
from oa_platform.selectors import user_role
from oa_platform.services import audit_record
from oa_platform.url_policy import validate_web_url

LANGUAGES = {code for code, _label in LANGUAGE_CHOICES}
# Bounds on an audience so one request cannot ask for an unbounded IN list.
MAX_AUDIENCE_ITEMS = 200
TITLE_MAX = 200
BODY_MAX = 4000

EDITABLE_FIELDS = (
    "category",
    "severity",
    "title_vi",
    "body_vi",
    "title_en",
    "body_en",
    "title_zh",
    "body_zh",
    "link",
    "audience_all",
    "audience_topics",
    "audience_areas",
    "audience_languages",
    "send_at",
    "expires_at",
    "mode",
)

# Allowed transitions of the status flow; everything else is refused with Conflict.
TRANSITIONS = {
    Notice.STATUS_DRAFT: {Notice.STATUS_PENDING, Notice.STATUS_SCHEDULED, Notice.STATUS_CANCELLED},
    Notice.STATUS_PENDING: {Notice.STATUS_SCHEDULED, Notice.STATUS_DRAFT, Notice.STATUS_CANCELLED},
    Notice.STATUS_SCHEDULED: {Notice.STATUS_SENDING, Notice.STATUS_CANCELLED, Notice.STATUS_EXPIRED},
    Notice.STATUS_SENDING: {Notice.STATUS_SENT, Notice.STATUS_CANCELLED, Notice.STATUS_EXPIRED},
    Notice.STATUS_SENT: set(),
    Notice.STATUS_CANCELLED: set(),
    Notice.STATUS_EXPIRED: set(),
}


@dataclass
class Actor:
    """Who acts: a staff user (admin) or an account API token (REST API)."""

    user: AbstractBaseUser | None = None
    token: ApiToken | None = None

    @property
    def label(self) -> str:
        if self.user is not None:
            return self.user.get_username()
        if self.token is not None:
            return f"token:{self.token.name}"
        return "system"


SYSTEM = Actor()


def _person(*, user_id: int | None, token: ApiToken | None) -> set[tuple[str, int]]:
    """The people behind an identity, for the two-person rule: a user is themself; a token acts for the user who
    created it (in the admin); a token with no creator (``issue_token``) is its own identity."""
    people = set()
    if user_id is not None:
        people.add(("user", user_id))
    if token is not None:
        people.add(("user", token.created_by_id) if token.created_by_id is not None else ("token", token.pk))
    return people


def actor_people(actor: Actor) -> set[tuple[str, int]]:
    return _person(user_id=actor.user.pk if actor.user is not None else None, token=actor.token)


def notice_author_people(notice: Notice) -> set[tuple[str, int]]:
    return _person(user_id=notice.author_id, token=notice.author_token)


def approver_people(notice) -> set[tuple[str, int]]:
    """The people behind whoever approved ``notice`` (or any row with ``approver``/``approver_token``)."""
    return _person(user_id=notice.approver_id, token=notice.approver_token)


def is_own_notice(*, notice: Notice, actor: Actor) -> bool:
    """True when the person behind ``actor`` wrote ``notice`` themself or through one of their tokens."""
    return bool(actor_people(actor) & notice_author_people(notice))


@dataclass
class Outcome:
    notice: Notice
    notes: list[str] = field(default_factory=list)


def _audit(action: str, notice: Notice, actor: Actor, changes: dict | None = None) -> None:
    audit_record(
        action=action,
        obj=notice,
        account=notice.account,
        actor=actor.user,
        actor_label=actor.label,
        object_type="broadcasts.notice",
        changes=changes or {},
    )


def _transition(notice: Notice, to: str) -> None:
    if to not in TRANSITIONS[notice.status]:
        raise Conflict(
            _("A notice in status %(from)s cannot become %(to)s.") % {"from": notice.status, "to": to},
            code="wrong_status",
        )
    notice.status = to


def actor_role_require(actor: Actor, account: OfficialAccount, roles: tuple[str, ...], scope: str) -> None:
    if actor.token is not None:
        if actor.token.account_id != account.pk:
            raise Forbidden(_("This token belongs to another account."))
        if not actor.token.has_scope(scope):
            raise Forbidden(_("This token lacks the scope %(scope)s.") % {"scope": scope})
        return
    if actor.user is None:
        return  # the system (dispatcher, CAP import run by a command)
    role = user_role(actor.user, account)
    if role is None or (role not in roles and role != Membership.ROLE_MANAGER):
        raise Forbidden(_("Your role in this account does not allow this."))


# --- settings  ---
def settings_for(account: OfficialAccount) -> BroadcastSettings:
    obj, _created = BroadcastSettings.objects.get_or_create(account=account)
    return obj


def needs_approval(notice: Notice, policy: BroadcastSettings) -> bool:
    if policy.approval_policy == BroadcastSettings.APPROVAL_ALL:
        return True
    return notice.severity in Notice.URGENT_SEVERITIES


def quiet_hours_dispatch_at(*, notice: Notice, policy: BroadcastSettings, at: dt.datetime) -> dt.datetime:
    """When a notice due at ``at`` may go: moderate and minor notices falling inside the account's quiet hours
    (local time of the account) wait for their end; severe and extreme go at once."""
    if notice.severity in Notice.URGENT_SEVERITIES or policy.quiet_start == policy.quiet_end:
        return at
    tz = notice.account.tzinfo
    local = at.astimezone(tz)
    start, end, now_t = policy.quiet_start, policy.quiet_end, local.time()
    if start > end:  # the window crosses midnight, e.g. 21:00-06:00
        inside = now_t >= start or now_t < end
        end_date = local.date() + dt.timedelta(days=1) if now_t >= start else local.date()
    else:
        inside = start <= now_t < end
        end_date = local.date()
    if not inside:
        return at
    return dt.datetime.combine(end_date, end, tzinfo=tz)


# --- validation  ---
def _clean(account: OfficialAccount, values: dict, *, now: dt.datetime) -> list[str]:
    """Check and normalise notice fields in place; returns notes for the caller. Raises ValidationFailed."""
    notes: list[str] = []
    errors: dict[str, object] = {}
    for key in ("title_vi", "body_vi", "title_en", "body_en", "title_zh", "body_zh", "link"):
        if key in values:
            values[key] = (values[key] or "").strip()
    if not values.get("title_vi"):
        errors["title_vi"] = _("A Vietnamese title is required.")
    if not values.get("body_vi"):
        errors["body_vi"] = _("A Vietnamese body is required.")
    for lang in ("en", "zh"):
        if bool(values.get(f"title_{lang}")) != bool(values.get(f"body_{lang}")):
            errors[f"body_{lang}"] = _("Give both a title and a body for this language, or neither.")
    for key in ("title_vi", "title_en", "title_zh"):
        if len(values.get(key) or "") > TITLE_MAX:
            errors[key] = _("Too long.")
    for key in ("body_vi", "body_en", "body_zh"):
        if len(values.get(key) or "") > BODY_MAX:
            errors[key] = _("Too long.")
    if values.get("link"):
        try:
            validate_web_url(values["link"])
        except ValidationError as exc:
            errors["link"] = exc.messages[0]
    severity = values.get("severity") or Notice.SEVERITY_MODERATE
    if severity not in dict(Notice.SEVERITY_CHOICES):
        errors["severity"] = _("Unknown severity.")
    values["severity"] = severity
    if values.get("mode", Notice.MODE_LIVE) not in dict(Notice.MODE_CHOICES):
        errors["mode"] = _("Unknown mode.")
    topic_keys = set(Topic.objects.filter(account=account).values_list("key", flat=True))
    category = values.get("category") or ""
    if category not in topic_keys:
        errors["category"] = _("Unknown topic: %(key)s") % {"key": category}
    for key, known in (("audience_topics", None), ("audience_areas", None), ("audience_languages", LANGUAGES)):
        items = values.get(key) or []
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            errors[key] = _("A list of strings is expected.")
            continue
        if len(items) > MAX_AUDIENCE_ITEMS:
            errors[key] = _("Too many items.")
            continue
        values[key] = list(dict.fromkeys(i.strip() for i in items if i.strip()))
        if known is not None and set(values[key]) - known:
            errors[key] = _("Unknown: %(items)s") % {"items": ", ".join(sorted(set(values[key]) - known))}
    if values.get("audience_all") and "audience_topics" not in errors and values.get("audience_topics"):
        # "All followers" means every topic; naming topics as well is a contradiction, not a filter to drop.
        errors["audience_topics"] = _("Leave the topics empty when the notice goes to all followers.")
    unknown_topics = set(values.get("audience_topics") or []) - topic_keys
    if "audience_topics" not in errors and unknown_topics:
        errors["audience_topics"] = _("Unknown topic: %(key)s") % {"key": ", ".join(sorted(unknown_topics))}
    areas = values.get("audience_areas") or []
    if "audience_areas" not in errors and areas:
        found = set(Area.objects.filter(code__in=areas).values_list("code", flat=True))
        if set(areas) - found:
            errors["audience_areas"] = _("Unknown area: %(codes)s") % {"codes": ", ".join(sorted(set(areas) - found))}
    send_at, expires_at = values.get("send_at"), values.get("expires_at")
    for key in ("send_at", "expires_at"):
        value = values.get(key)
        if value is not None and (not isinstance(value, dt.datetime) or timezone.is_naive(value)):
            errors[key] = _("A date and time with a time zone is expected.")
    if errors:
        raise ValidationFailed(_("The notice is not valid."), fields=errors)
    if send_at is not None and send_at <= now:
        values["send_at"] = None
        notes.append(_("send_at is in the past: the notice will be sent as soon as it is approved."))
        send_at = None
    if expires_at is not None:
        if expires_at <= (send_at or now):
            raise ValidationFailed(
                _("expires_at must be after send_at (or after now)."),
                fields={"expires_at": _("expires_at must be after send_at.")},
            )
    return notes


# --- notices  ---
@transaction.atomic
def notice_create(*, account: OfficialAccount, actor: Actor, **values) -> Outcome:
    """Create a draft. Unknown fields are refused; audience and texts are validated before anything is stored."""
    actor_role_require(
        actor, account, (Membership.ROLE_BROADCASTER, Membership.ROLE_APPROVER), ApiToken.SCOPE_BROADCAST_WRITE
    )
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(_("Unknown fields."), fields={k: _("unknown field") for k in sorted(unknown)})
    notes = _clean(account, values, now=timezone.now())
    notice = Notice.objects.create(account=account, author=actor.user, author_token=actor.token, **values)
    _audit("create", notice, actor, {"severity": notice.severity, "category": notice.category})
    return Outcome(notice, notes)


@transaction.atomic
def notice_update(*, notice: Notice, actor: Actor, **values) -> Outcome:
    notice = Notice.objects.select_for_update().select_related("account").get(pk=notice.pk)
    actor_role_require(
        actor, notice.account, (Membership.ROLE_BROADCASTER, Membership.ROLE_APPROVER), ApiToken.SCOPE_BROADCAST_WRITE
    )
    if notice.status != Notice.STATUS_DRAFT:
        raise Conflict(_("Only a draft can be edited."), code="wrong_status")
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(_("Unknown fields."), fields={k: _("unknown field") for k in sorted(unknown)})
    merged = {key: getattr(notice, key) for key in EDITABLE_FIELDS} | values
    notes = _clean(notice.account, merged, now=timezone.now())
    for key, value in merged.items():
        setattr(notice, key, value)
    notice.save()
    _audit("update", notice, actor, {"fields": sorted(values)})
    return Outcome(notice, notes)


def _schedule(notice: Notice, policy: BroadcastSettings, now: dt.datetime) -> list[str]:
    notes = []
    if notice.expires_at is not None and notice.expires_at <= now:
        raise ValidationFailed(_("The notice has already expired."), fields={"expires_at": _("in the past")})
    if notice.send_at is not None and notice.send_at <= now:
        notes.append(_("send_at is in the past: the notice is sent now."))
    base = max(notice.send_at or now, now)
    notice.dispatch_at = quiet_hours_dispatch_at(notice=notice, policy=policy, at=base)
    if notice.dispatch_at != base:
        notes.append(
            _("Quiet hours: the notice will be sent at %(when)s.")
            % {"when": timezone.localtime(notice.dispatch_at, notice.account.tzinfo).strftime("%Y-%m-%d %H:%M")}
        )
    if notice.expires_at is not None and notice.dispatch_at >= notice.expires_at:
        raise ValidationFailed(
            _("The notice would expire before it can be sent (quiet hours)."), fields={"expires_at": _("too early")}
        )
    _transition(notice, Notice.STATUS_SCHEDULED)
    return notes


@transaction.atomic
def notice_submit(*, notice: Notice, actor: Actor, send_at: dt.datetime | None = None) -> Outcome:
    """Ask for the notice to be sent (at send_at, if given). It waits for approval when the account's policy
    needs a second person for it; otherwise it is scheduled at once."""
    notice = Notice.objects.select_for_update().select_related("account").get(pk=notice.pk)
    actor_role_require(
        actor, notice.account, (Membership.ROLE_BROADCASTER, Membership.ROLE_APPROVER), ApiToken.SCOPE_BROADCAST_WRITE
    )
    now = timezone.now()
    notes: list[str] = []
    if send_at is not None:
        if notice.status != Notice.STATUS_DRAFT:
            raise Conflict(_("Only a draft can be rescheduled."), code="wrong_status")
        values = {key: getattr(notice, key) for key in EDITABLE_FIELDS} | {"send_at": send_at}
        notes += _clean(notice.account, values, now=now)
        notice.send_at = values["send_at"]
    if notice.status != Notice.STATUS_DRAFT:
        raise Conflict(_("Only a draft can be submitted."), code="wrong_status")
    policy = settings_for(notice.account)
    notice.submitted_at = now
    if needs_approval(notice, policy):
        _transition(notice, Notice.STATUS_PENDING)
    else:
        notes += _schedule(notice, policy, now)
    notice.save()
    _audit("submit", notice, actor, {"status": notice.status})
    return Outcome(notice, notes)


@transaction.atomic
def notice_approve(*, notice: Notice, actor: Actor) -> Outcome:
    """Two-person rule, per person: the approver is not the author, and a token counts as the user who created
    it (``is_own_notice``), so nobody approves their own notice through a token. No exception for superusers."""
    notice = Notice.objects.select_for_update(of=("self",)).select_related("account", "author_token").get(pk=notice.pk)
    actor_role_require(actor, notice.account, (Membership.ROLE_APPROVER,), ApiToken.SCOPE_BROADCAST_APPROVE)
    if actor.user is None and actor.token is None:
        raise Forbidden(_("An approval needs a person or a token."))
    if is_own_notice(notice=notice, actor=actor):
        # One message for every case: a token speaks for the person who created it.
        raise Forbidden(_("You cannot approve your own notice."), code="same_person")
    if notice.status != Notice.STATUS_PENDING:
        raise Conflict(_("Only a notice waiting for approval can be approved."), code="wrong_status")
    now = timezone.now()
    notes = _schedule(notice, settings_for(notice.account), now)
    notice.approver, notice.approver_token, notice.approved_at = actor.user, actor.token, now
    notice.save()
    _audit("approve", notice, actor, {"dispatch_at": notice.dispatch_at.isoformat()})
    return Outcome(notice, notes)


@transaction.atomic
def notice_reject(*, notice: Notice, actor: Actor, reason: str = "") -> Outcome:
    notice = Notice.objects.select_for_update().select_related("account").get(pk=notice.pk)
    actor_role_require(actor, notice.account, (Membership.ROLE_APPROVER,), ApiToken.SCOPE_BROADCAST_APPROVE)
    _transition(notice, Notice.STATUS_DRAFT)
    notice.save()
    _audit("reject", notice, actor, {"reason": reason[:200]})
    return Outcome(notice)


@transaction.atomic
def notice_cancel(*, notice: Notice, actor: Actor) -> Outcome:
    """Stop a notice before or while it is sent: every still-queued delivery is skipped at once (one UPDATE),
    and chunk tasks re-check the status between batches, so sending stops within seconds."""
    notice = Notice.objects.select_for_update().select_related("account").get(pk=notice.pk)
    actor_role_require(
        actor, notice.account, (Membership.ROLE_BROADCASTER, Membership.ROLE_APPROVER), ApiToken.SCOPE_BROADCAST_WRITE
    )
    was = notice.status
    if was == Notice.STATUS_SENT:
        raise Conflict(_("This notice was sent: send a cancellation instead (cancel / correct)."), code="already_sent")
    _transition(notice, Notice.STATUS_CANCELLED)
    now = timezone.now()
    notice.cancelled_at = now
    skipped = deliveries_stop(notice=notice, reason="cancelled")
    notice.finished_at = now if was == Notice.STATUS_SENDING else None
    notice.save()
    if was == Notice.STATUS_SENDING:
        Notice.objects.filter(pk=notice.pk).update(counts=notice_counts(notice.pk))
    _audit("cancel", notice, actor, {"was": was, "skipped": skipped})
    return Outcome(notice)


def deliveries_stop(*, notice: Notice, reason: str) -> int:
    skipped = Delivery.objects.filter(notice=notice, status=Delivery.STATUS_QUEUED).update(
        status=Delivery.STATUS_SKIPPED, last_error=reason
    )
    # Rows a dead worker left mid-post; a live worker still posting them writes its result over this.
    Delivery.objects.filter(notice=notice, status=Delivery.STATUS_SENDING).update(
        status=Delivery.STATUS_UNKNOWN, last_error=Delivery.UNKNOWN_ERROR
    )
    Chunk.objects.filter(notice=notice).exclude(status=Chunk.STATUS_DONE).update(status=Chunk.STATUS_DONE)
    return skipped


@transaction.atomic
def notice_expire(*, notice_id: int) -> bool:
    """Mark a scheduled or sending notice expired; nothing more is delivered. Idempotent."""
    notice = Notice.objects.select_for_update().filter(pk=notice_id).first()
    if notice is None or notice.status not in (Notice.STATUS_SCHEDULED, Notice.STATUS_SENDING):
        return False
    was = notice.status
    _transition(notice, Notice.STATUS_EXPIRED)
    skipped = deliveries_stop(notice=notice, reason="expired")
    notice.finished_at = timezone.now()
    notice.save()
    if was == Notice.STATUS_SENDING:
        Notice.objects.filter(pk=notice.pk).update(counts=notice_counts(notice.pk))
    audit_record(
        action="expire",
        obj=notice,
        account=notice.account,
        actor_label="system",
        object_type="broadcasts.notice",
        changes={"skipped": skipped},
    )
    return True


PREFIX = {
    Notice.KIND_UPDATE: ("CẬP NHẬT: ", "UPDATE: ", "更新："),
    Notice.KIND_CANCEL: ("HỦY: ", "CANCELLED: ", "取消："),
}


@transaction.atomic
def notice_follow_up_create(*, notice: Notice, kind: str, actor: Actor) -> Outcome:
    """The "cancel / correct" action on a sent (or sending) notice: a draft pre-filled from the original,
    addressed at send time to exactly the citizens who received it (see fanout), ready for a fast approval."""
    original = Notice.objects.select_related("account").get(pk=notice.pk)
    actor_role_require(
        actor,
        original.account,
        (Membership.ROLE_BROADCASTER, Membership.ROLE_APPROVER),
        ApiToken.SCOPE_BROADCAST_WRITE,
    )
    if kind not in PREFIX:
        raise ValidationFailed(_("kind must be update or cancel."), fields={"kind": kind})
    if original.status not in (Notice.STATUS_SENT, Notice.STATUS_SENDING, Notice.STATUS_EXPIRED):
        raise Conflict(_("Only a notice that was sent can be corrected or cancelled this way."), code="wrong_status")
    vi, en, zh = PREFIX[kind]
    body_vi = original.body_vi if kind == Notice.KIND_UPDATE else _cancel_body(original)
    follow_up = Notice.objects.create(
        account=original.account,
        category=original.category,
        severity=original.severity,
        title_vi=(vi + original.title_vi)[:TITLE_MAX],
        body_vi=body_vi,
        title_en=(en + original.title_en)[:TITLE_MAX] if original.title_en else "",
        body_en=original.body_en if kind == Notice.KIND_UPDATE else (original.body_en and "This notice is withdrawn."),
        title_zh=(zh + original.title_zh)[:TITLE_MAX] if original.title_zh else "",
        body_zh=original.body_zh if kind == Notice.KIND_UPDATE else (original.body_zh and "此通知已撤销。"),
        link=original.link,
        audience_all=original.audience_all,
        audience_topics=original.audience_topics,
        audience_areas=original.audience_areas,
        audience_languages=original.audience_languages,
        mode=original.mode,
        kind=kind,
        references=original,
        author=actor.user,
        author_token=actor.token,
    )
    _audit(f"create_{kind}", follow_up, actor, {"references": original.pk})
    return Outcome(follow_up)


def _cancel_body(original: Notice) -> str:
    return f"Thông báo «{original.title_vi}» đã bị hủy. Xin bỏ qua thông báo trước."


# --- settings write  ---
@transaction.atomic
def broadcast_settings_update(*, account: OfficialAccount, actor: Actor, **values) -> BroadcastSettings:
    actor_role_require(actor, account, (), ApiToken.SCOPE_BROADCAST_WRITE)
    obj = settings_for(account)
    for key, value in values.items():
        setattr(obj, key, value)
    obj.full_clean()
    obj.save()
    audit_record(action="update", obj=obj, account=account, actor=actor.user, actor_label=actor.label)
    return obj


# --- erasure  ---
def deliveries_erase_for_citizen(*, account, citizen) -> int:
    """Remove every delivery of ``account``'s notices to ``citizen`` (right to erasure). Returns the count."""
    return Delivery.objects.filter(notice__account=account, citizen=citizen).delete()[0]


# --- CAP import  ---
@transaction.atomic
def notice_import_cap(*, account: OfficialAccount, actor: Actor, data: bytes) -> Outcome:
    """A CAP 1.2 alert as a draft notice (an Update/Cancel of one of the account's notices becomes its
    follow-up). Malformed, oversize or entity-declaring XML is refused before anything is stored."""
    actor_role_require(
        actor, account, (Membership.ROLE_BROADCASTER, Membership.ROLE_APPROVER), ApiToken.SCOPE_BROADCAST_WRITE
    )
    parsed = cap_parse(account=account, data=data)
    outcome = notice_create(account=account, actor=actor, **parsed["values"])
    if parsed["references"] is not None:
        notice = outcome.notice
        notice.kind, notice.references = parsed["kind"], parsed["references"]
        notice.save(update_fields=["kind", "references", "updated_at"])
    _audit("import_cap", outcome.notice, actor)
    return outcome
