"""Every write of personal notices: templates and their versions, approval by a second person, notifications
(idempotent on the client's reference), sending one with the channel plan and one fallback, provider receipts,
status callbacks, and deleting personal data after the retention period or on erasure.

Sending goes through ``broadcasts.personal.sending`` only. Personal data (phones, personalisation, rendered text)
is never logged: log lines name notification ids.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext as _

from broadcasts.personal import dispatch, rendering, rowstore, selectors
from broadcasts.personal.models import ListRow, Notification, RecipientList, Template, TemplateVersion, e164
from broadcasts.services import Actor, is_own_notice
from broadcasts.services import actor_role_require as _require
from oa_platform.errors import Conflict, Forbidden, NotFound, ValidationFailed
from oa_platform.models import ApiToken, Citizen, Membership, OfficialAccount, Topic
from oa_platform.phones import InvalidPhone, normalize_phone
from oa_platform.services import audit_record
from oa_platform.url_policy import validate_web_url

logger = logging.getLogger(__name__)

SCOPE_WRITE = ApiToken.SCOPE_NOTIFICATIONS_WRITE
SCOPE_APPROVE = ApiToken.SCOPE_NOTIFICATIONS_APPROVE
WRITERS = (Membership.ROLE_BROADCASTER, Membership.ROLE_APPROVER)


def approved_version_require(*, account: OfficialAccount, template_key: str) -> TemplateVersion:
    """The version of the account's template ``template_key`` that sending uses: NotFound for an unknown
    template, Conflict while no version is approved. One query when there is one."""
    version = selectors.approved_version_by_key(account=account, key=template_key)
    if version is not None:
        return version
    if selectors.template_by_key(account=account, key=template_key) is None:
        raise NotFound(_("No such template."), code="unknown_template")
    raise Conflict(_("This template has not been approved yet."), code="template_not_approved")


def _audit(action: str, obj, account: OfficialAccount, actor: Actor, changes: dict | None = None) -> None:
    audit_record(
        action=action,
        obj=obj,
        account=account,
        actor=actor.user,
        actor_label=actor.label,
        object_type=f"personal.{obj._meta.model_name}",
        changes=changes or {},
    )


# --- templates  ---
def _clean_template(account: OfficialAccount, values: dict) -> dict:
    errors = {}
    for key in ("body_vi", "body_en", "body_zh", "sms_text"):
        text = values.get(key) or ""
        if len(text) > rendering.BODY_MAX:
            errors[key] = _("At most %(n)s characters.") % {"n": rendering.BODY_MAX}
    if not (values.get("body_vi") or "").strip():
        errors["body_vi"] = _("The Vietnamese text is required.")
    link = values.get("link") or ""
    try:
        validate_web_url(link)
    except ValidationError:
        errors["link"] = _("Only http and https links are allowed.")
    category = values.get("category") or ""
    if category and not Topic.objects.filter(account=account, key=category).exists():
        errors["category"] = _("Unknown topic: %(key)s") % {"key": category}
    names = rendering.placeholders(*(values.get(k) or "" for k in ("body_vi", "body_en", "body_zh", "sms_text")))
    if len(names) > rendering.MAX_PLACEHOLDERS:
        errors["body_vi"] = _("At most %(n)s placeholders.") % {"n": rendering.MAX_PLACEHOLDERS}
    params = values.get("zns_params") or {}
    if not isinstance(params, dict) or any(not isinstance(v, str) for v in params.values()):
        errors["zns_params"] = _("A mapping of ZNS parameter names to placeholder names is expected.")
    else:
        unknown = sorted({v.strip().lower() for v in params.values()} - set(names))
        if unknown:
            errors["zns_params"] = _("Not a placeholder of the template: %(names)s") % {"names": ", ".join(unknown)}
        values["zns_params"] = {str(k): v.strip().lower() for k, v in params.items()}
    if params and not values.get("zns_template_id"):
        errors["zns_template_id"] = _("The ZNS template id is required with ZNS parameters.")
    if errors:
        raise ValidationFailed(_("The template is not valid."), fields=errors)
    return values


VERSION_FIELDS = ("body_vi", "body_en", "body_zh", "link", "zns_template_id", "zns_params", "sms_text")


@transaction.atomic
def template_save(
    *,
    account: OfficialAccount,
    actor: Actor,
    key: str,
    name: str,
    body_vi: str,
    body_en: str = "",
    body_zh: str = "",
    link: str = "",
    category: str = "",
    zns_template_id: str = "",
    zns_params: dict | None = None,
    sms_text: str = "",
) -> TemplateVersion:
    """Create the template ``key`` or, when it exists, add a new version of it. Either way the new version waits
    for a second person's approval; until then the newest approved version (if any) is the one sent."""
    _require(actor, account, WRITERS, SCOPE_WRITE)
    values = _clean_template(
        account,
        {
            "body_vi": body_vi,
            "body_en": body_en,
            "body_zh": body_zh,
            "link": link,
            "category": category,
            "zns_template_id": zns_template_id,
            "zns_params": zns_params or {},
            "sms_text": sms_text,
        },
    )
    template, created = Template.objects.select_for_update().get_or_create(
        account=account, key=key, defaults={"name": name, "category": category}
    )
    if not created:
        template.name, template.category = name, category
        template.save(update_fields=["name", "category"])
    number = (template.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    version = TemplateVersion.objects.create(
        template=template,
        number=number,
        author=actor.user,
        author_token=actor.token,
        **{k: values[k] for k in VERSION_FIELDS},
    )
    _audit("create" if created else "new_version", template, account, actor, {"version": number})
    return version


@transaction.atomic
def template_approve(*, template: Template, actor: Actor) -> TemplateVersion:
    """Approve the newest version waiting for approval. Two-person rule per person (as notices: a token speaks
    for the user who created it), no exception for managers."""
    template = Template.objects.select_for_update().select_related("account").get(pk=template.pk)
    _require(actor, template.account, (Membership.ROLE_APPROVER,), SCOPE_APPROVE)
    if actor.user is None and actor.token is None:
        raise Forbidden(_("An approval needs a person or a token."))
    version = template.versions.select_related("author_token").order_by("-number").first()
    if version is None or version.status != TemplateVersion.STATUS_PENDING:
        raise Conflict(_("This template has no version waiting for approval."), code="wrong_status")
    if is_own_notice(notice=version, actor=actor):
        raise Forbidden(_("You cannot approve your own template."), code="same_person")
    version.status = TemplateVersion.STATUS_APPROVED
    version.approver, version.approver_token, version.approved_at = actor.user, actor.token, timezone.now()
    version.save(update_fields=["status", "approver", "approver_token", "approved_at"])
    _audit("approve", template, template.account, actor, {"version": version.number})
    return version


def _personalisation(version: TemplateVersion, raw) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise ValidationFailed(_("personalisation must be an object."), fields={"personalisation": _("invalid")})
    try:
        values = rendering.normalise_values(raw)
    except ValueError as exc:
        raise ValidationFailed(_("Placeholder values must be text."), fields={"personalisation": str(exc)}) from exc
    too_long = sorted(k for k, v in values.items() if len(v) > rendering.VALUE_MAX)
    if too_long:
        raise ValidationFailed(
            _("A value is longer than %(n)s characters.") % {"n": rendering.VALUE_MAX},
            fields={"personalisation": ", ".join(too_long)[:200]},
        )
    needed = rendering.placeholders(version.body_vi, version.body_en, version.body_zh, version.sms_text)
    missing = [name for name in needed if not values.get(name, "").strip()]
    if missing:
        raise ValidationFailed(
            _("Missing values for: %(names)s") % {"names": ", ".join(missing)},
            code="missing_personalisation",
            fields={"personalisation": ", ".join(missing)},
        )
    return {name: values[name] for name in needed}  # only what the template uses is stored


def phone_for(account: OfficialAccount, raw: str) -> str:
    """E.164 of ``raw``; a foreign number only when the account allows it. Raises InvalidPhone."""
    e164 = normalize_phone(raw)
    if not e164:
        raise InvalidPhone("empty")
    if selectors.settings_for(account).vietnam_only and not e164.startswith("+84"):
        raise InvalidPhone("foreign")
    return e164


def _fingerprint(**fields) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()


def notification_create(
    *,
    account: OfficialAccount,
    actor: Actor,
    template_key: str,
    phone: str = "",
    citizen_id: str = "",
    personalisation: dict | None = None,
    reference: str = "",
    scheduled_for: dt.datetime | None = None,
) -> tuple[Notification, bool]:
    """One message to one person, queued. Returns (notification, created): the same ``reference`` with the
    same content gives back the first notification and sends nothing; with other content it is a Conflict.
    Everything is checked before anything is stored."""
    _require(actor, account, WRITERS, SCOPE_WRITE)
    version = approved_version_require(account=account, template_key=template_key)
    if bool(phone) == bool(citizen_id):
        raise ValidationFailed(_("Give either phone or citizen_id."), fields={"phone": _("phone or citizen_id")})
    values = _personalisation(version, personalisation or {})
    citizen = None
    e164 = ""
    if phone:
        try:
            e164 = phone_for(account, phone)
        except InvalidPhone as exc:
            message = (
                _("Only Vietnamese phone numbers are allowed for this account.")
                if str(exc) == "foreign"
                else _("Not a valid phone number.")
            )
            raise ValidationFailed(message, code="invalid_phone", fields={"phone": message}) from exc
    else:
        citizen = Citizen.objects.filter(account=account, external_id=citizen_id).order_by("pk").first()
        if citizen is None:
            raise NotFound(_("No such citizen in this account."), code="unknown_citizen")
    now = timezone.now()
    if scheduled_for is not None and scheduled_for <= now:
        scheduled_for = None
    fingerprint = _fingerprint(
        template=template_key, phone=e164, citizen_id=citizen_id, values=values, scheduled_for=scheduled_for
    )
    language = citizen.language if citizen is not None else "vi"
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                account=account,
                version=version,
                citizen=citizen,
                token=actor.token,
                phone=e164,
                citizen_ref=citizen_id,
                language=language,
                personalisation=values,
                body=dispatch.text_for(version, channel="", language=language, values=values),
                reference=reference,
                fingerprint=fingerprint,
                scheduled_for=scheduled_for,
                created_at=now,
            )
            dispatch.status_event(notification, Notification.STATUS_QUEUED)
            if scheduled_for is None:
                transaction.on_commit(lambda: dispatch.send_notification.delay(notification.pk))
    except IntegrityError:
        # The reference is not looked up first (a query per request for the rare repeat): its unique constraint
        # refuses the repeat, or the same reference raced in twice and the other request stored it.
        existing = (
            Notification.objects.filter(account=account, reference=reference)
            .select_related("version__template")
            .first()
            if reference
            else None
        )
        if existing is None:
            raise
        return _same_reference(existing, fingerprint), False
    return notification, True


def _same_reference(existing: Notification, fingerprint: str) -> Notification:
    if existing.fingerprint != fingerprint:
        raise Conflict(_("This reference was already used for another message."), code="reference_reused")
    return existing


# --- privacy  ---
def personal_data_purge(*, now: dt.datetime | None = None) -> int:
    """Delete the personalisation and rendered text of notifications sent (or failed) more than
    PERSONAL_RETENTION_DAYS ago; the row stays (status, channel, cost) for the account's figures."""
    now = now or timezone.now()
    before = now - dt.timedelta(days=settings.PERSONAL_RETENTION_DAYS)
    final = (
        Notification.STATUS_SENT,
        Notification.STATUS_DELIVERED,
        Notification.STATUS_FAILED,
        Notification.STATUS_CANCELLED,
    )
    # Uploaded rows go too once their list is that old (the list keeps its report counts), and the rows of
    # lists deleted since: on PostgreSQL each list's table is emptied and dropped (rowstore). A list still waiting
    # for approval by then expires: approving it would send nothing (an approved list's notifications are made).
    RecipientList.objects.filter(
        created_at__lt=before, status__in=(RecipientList.STATUS_CHECKED, RecipientList.STATUS_PENDING)
    ).update(status=RecipientList.STATUS_EXPIRED)
    if rowstore.partitioned():
        stored = rowstore.lists_stored()  # first: a list created meanwhile is not among them
        kept = set(RecipientList.objects.filter(pk__in=stored, created_at__gte=before).values_list("pk", flat=True))
        for list_id in stored:
            if list_id not in kept:
                rowstore.drop(list_id)
    else:
        ListRow.objects.filter(recipient_list__created_at__lt=before).delete()
        ListRow.objects.filter(~Exists(RecipientList.objects.filter(pk=OuterRef("recipient_list_id")))).delete()
    return Notification.objects.filter(status__in=final, purged_at=None, created_at__lt=before).update(
        personalisation={}, body="", purged_at=now
    )


def notifications_erase_for_citizen(*, account: OfficialAccount, citizen: Citizen) -> int:
    """Right to erasure: ``account``'s notifications to ``citizen`` (by the citizen or their phone) go."""
    people = Q(citizen=citizen)
    rows = Q(recipient_list__account=account, citizen_ref=citizen.external_id) if citizen.account_id else Q(pk__in=[])
    if citizen.phone:
        people |= Q(phone=citizen.phone)
        rows |= Q(Exact(e164(), citizen.phone), recipient_list__account=account)
    ListRow.objects.filter(rows).delete()
    return Notification.objects.filter(account=account).filter(people).delete()[1].get(Notification._meta.label, 0)
