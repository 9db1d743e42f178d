"""Sending to an uploaded list: upload and check (streaming, rows stored in batches, a channel planned per
person), the report, submit, approval by another person, cancel, progress. Sending itself is
``broadcasts.personal.dispatch`` (chunk tasks over the list's notifications)."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from types import SimpleNamespace

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, CharField, Count, F, Max, Q, Sum, Value, When, Window
from django.db.models.functions import Concat, RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from broadcasts.personal import dispatch, materialize, recipients, selectors, sending
from broadcasts.personal.models import (
    CHANNEL_INAPP,
    CHANNEL_SMS,
    CHANNEL_WECHAT,
    CHANNEL_ZALO,
    ListRow,
    Notification,
    RecipientList,
    StatusEvent,
)
from broadcasts.personal.plan import DEFAULT_ORDER, Recipient, choose
from broadcasts.personal.rendering import placeholders, sms_length
from broadcasts.personal.services import (
    SCOPE_APPROVE,
    SCOPE_WRITE,
    WRITERS,
    _audit,
    _require,
    approved_version_require,
)
from broadcasts.services import Actor, is_own_notice, quiet_hours_dispatch_at
from broadcasts.services import settings_for as broadcast_settings_for
from oa_platform.errors import Conflict, Forbidden, ValidationFailed
from oa_platform.models import Citizen, Conversation, Membership, OfficialAccount

# Rows checked, planned and stored together: one COPY and three lookups per batch (a batch of 2,000 rows is
# ~1 MB of Python objects, and the lookups stay small; 5,000 measured no faster on 300,000 rows).
ROW_BATCH = 2000
PREVIEW_ROWS = 5


def _inapp_phones(account: OfficialAccount, phones: set[str], refs: set[str]) -> set[str]:
    """Phones (of ``phones``, or of the citizens ``refs``) with a conversation on the account's web page."""
    web = Conversation.objects.filter(account=account, citizen__channel=Citizen.CHANNEL_WEB)
    if connection.vendor == "postgresql":  # one array parameter instead of 2,000 (the query text stays short)
        return set(
            web.extra(
                where=["(oa_platform_citizen.phone = ANY(%s) OR oa_platform_citizen.external_id = ANY(%s))"],
                params=[list(phones), list(refs)],
            ).values_list("citizen__phone", flat=True)
        )
    return set(
        web.filter(Q(citizen__phone__in=phones) | Q(citizen__external_id__in=refs)).values_list(
            "citizen__phone", flat=True
        )
    )


def _reach(account: OfficialAccount, rows: list[recipients.CheckedRow], available: set[str]) -> dict[str, Recipient]:
    """What the planner knows about the people of a batch, by phone (or "id:<citizen id>"): a few queries."""
    refs = {r.citizen_ref for r in rows if r.citizen_ref}
    by_ref = dict(Citizen.objects.filter(account=account, external_id__in=refs).values_list("external_id", "phone"))
    phones = {r.phone or by_ref.get(r.citizen_ref, "") for r in rows} - {""}
    inapp = _inapp_phones(account, phones, refs)
    last: dict[str, dict[str, dt.datetime]] = {}
    chat_channels = [c for c in (CHANNEL_ZALO, CHANNEL_WECHAT) if c in available]
    if chat_channels and phones:
        chat = (
            Citizen.objects.filter(account=account, channel__in=chat_channels, phone__in=phones)
            .annotate(
                last=Max(
                    "conversations__messages__created_at",
                    filter=Q(conversations__account=account, conversations__messages__direction="in"),
                )
            )
            .values_list("phone", "channel", "last")
        )
        for phone, channel, at in chat:
            if at is not None:
                last.setdefault(phone, {})[channel] = at
    found = {}
    for row in rows:
        phone = row.phone or by_ref.get(row.citizen_ref, "")
        key = row.phone or f"id:{row.citizen_ref}"
        found[key] = Recipient(
            phone=phone, follows_inapp=bool(phone) and phone in inapp, last_inbound=last.get(phone, {})
        )
    return found


def _plan_rows(account, version, rows, *, policy, available, used, segments, now) -> list[str]:
    reach = _reach(account, [r for r in rows if not r.problems], available)
    quotas = selectors.channel_quotas(account)  # the account's own daily quotas (ChannelConfig.daily_quota)
    channels = []
    for row in rows:
        if row.problems:
            channels.append("")
            continue
        choice = choose(
            reach[row.phone or f"id:{row.citizen_ref}"],
            order=policy.channel_order or DEFAULT_ORDER,
            available=available,
            used_today=used,
            caps=policy.daily_caps or {},
            segments=segments,
            now=now,
            quotas=quotas,
        )
        if choice.channel:
            used[choice.channel] = used.get(choice.channel, 0) + 1
        channels.append(choice.channel or "")
    return channels


@transaction.atomic
def list_upload(
    *,
    account: OfficialAccount,
    actor: Actor,
    template_key: str,
    fileobj,
    file_name: str,
    max_bytes: int | None = None,
) -> RecipientList:
    """Check an uploaded list row by row and store it with its report. The file is read as a stream; rows
    are stored in batches of ROW_BATCH. A file refused as a whole (empty, not UTF-8, unknown column, too
    large) stores nothing: ValidationFailed with the reason."""
    _require(actor, account, WRITERS, SCOPE_WRITE)
    version = approved_version_require(account=account, template_key=template_key)
    size = getattr(fileobj, "size", None)
    if max_bytes is not None and size is not None and size > max_bytes:
        raise ValidationFailed(_("The file is larger than %(n)s MB.") % {"n": max_bytes // (1024 * 1024)})
    names = placeholders(version.body_vi, version.body_en, version.body_zh, version.sms_text)
    policy = selectors.settings_for(account)
    now = timezone.now()
    available = sending.available_channels(account=account, zns_template_id=version.zns_template_id)
    used = selectors.used_today(account=account, now=now)
    recipient_list = RecipientList.objects.create(
        account=account, version=version, file_name=file_name[:200], author=actor.user, author_token=actor.token
    )
    problems: Counter[str] = Counter()
    total = 0
    try:
        table = recipients.read_table(fileobj, file_name)
        header = recipients.check_header(next(table, None) or [], names)
        batch: list[tuple[int, recipients.CheckedRow]] = []

        def flush():
            rows = [row for _number, row in batch]
            channels = _plan_rows(
                account, version, rows, policy=policy, available=available, used=used, segments=1, now=now
            )
            stored = []
            for (number, row), channel in zip(batch, channels, strict=True):
                cost = 0
                if channel:
                    segments = 1
                    if channel == CHANNEL_SMS:
                        text = dispatch.text_for(version, channel=CHANNEL_SMS, language="vi", values=row.values)
                        segments = sms_length(text).segments
                    cost = dispatch.CHANNELS[channel].cost(segments)
                stored.append((number, row.phone, row.citizen_ref, row.values, row.problems, channel, cost))
            _store_rows(recipient_list.pk, stored)
            batch.clear()

        # the header is row 1, as the spreadsheet numbers it
        for number, cells in enumerate(table, start=2):
            if not any(cell.strip() for cell in cells):
                continue  # blank lines
            # duplicates are found afterwards in SQL (_mark_duplicates): no set of every recipient in memory
            row = recipients.check_row(cells, header, placeholders=names, vietnam_only=policy.vietnam_only, seen=None)
            total += 1
            if total > settings.PERSONAL_LIST_MAX_ROWS:
                raise recipients.FileRefused(
                    _("The list has more than %(n)s rows.") % {"n": settings.PERSONAL_LIST_MAX_ROWS}
                )
            if row.problems:
                problems.update(p.split(":")[0] for p in row.problems)
            batch.append((number, row))
            if len(batch) >= ROW_BATCH:
                flush()
        if batch:
            flush()
    except recipients.FileRefused as exc:
        raise ValidationFailed(str(exc), code="file_refused", fields={"file": str(exc)}) from exc
    if total == 0:
        raise ValidationFailed(_("The list has no rows."), code="file_refused", fields={"file": _("no rows")})
    duplicates = _mark_duplicates(recipient_list.pk)
    if duplicates:
        problems[recipients.DUPLICATE] = duplicates
    valid = ListRow.objects.filter(recipient_list=recipient_list, problems=[])
    per_channel = valid.exclude(channel="").values("channel").annotate(n=Count("id"), cost=Sum("cost")).order_by()
    invalid = total - valid.count()
    recipient_list.rows_total, recipient_list.rows_invalid = total, invalid
    recipient_list.problems = dict(problems)
    recipient_list.planned = {row["channel"]: row["n"] for row in per_channel}
    recipient_list.estimated_cost = sum(row["cost"] for row in per_channel)
    recipient_list.save(update_fields=["rows_total", "rows_invalid", "problems", "planned", "estimated_cost"])
    _audit("upload", recipient_list, account, actor, {"rows": total, "invalid": invalid})
    return recipient_list


ROW_COLUMNS = ("number", "phone", "citizen_ref", "personalisation", "problems", "channel", "cost")
# Duplicate rows marked per UPDATE (ids in one IN list).
DUPLICATE_BATCH = 5000


def _mark_duplicates(list_id: int) -> int:
    """Mark each valid row whose recipient appeared in an earlier valid row a duplicate (not sent, not costed):
    one window query over the stored rows, so memory does not grow with the list."""
    key = Case(
        When(phone="", then=Concat(Value("id:"), F("citizen_ref"))), default=F("phone"), output_field=CharField()
    )
    ranked = ListRow.objects.filter(recipient_list_id=list_id, problems=[]).annotate(
        n=Window(RowNumber(), partition_by=[key], order_by=F("number").asc())
    )
    ids = list(ranked.filter(n__gt=1).values_list("id", flat=True))
    for start in range(0, len(ids), DUPLICATE_BATCH):
        ListRow.objects.filter(id__in=ids[start : start + DUPLICATE_BATCH]).update(
            problems=[recipients.DUPLICATE], channel="", cost=0
        )
    return len(ids)


def _store_rows(list_id: int, rows: list[tuple]) -> None:
    """Insert checked rows: one COPY per batch on PostgreSQL (several times faster than INSERT for a large
    list), bulk_create elsewhere (SQLite in tests)."""
    if connection.vendor == "postgresql":
        table = ListRow._meta.db_table
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY {table} (recipient_list_id, {', '.join(ROW_COLUMNS)}) FROM STDIN") as copy,
        ):
            for number, phone, ref, values, problems, channel, cost in rows:
                copy.write_row(
                    (
                        list_id,
                        number,
                        phone,
                        ref,
                        json.dumps(values, ensure_ascii=False),
                        json.dumps(problems) if problems else "[]",
                        channel,
                        cost,
                    )
                )
        return
    ListRow.objects.bulk_create(
        ListRow(recipient_list_id=list_id, **dict(zip(ROW_COLUMNS, row, strict=True))) for row in rows
    )


def _locked(recipient_list: RecipientList) -> RecipientList:
    return RecipientList.objects.select_for_update().select_related("account", "version").get(pk=recipient_list.pk)


@transaction.atomic
def list_submit(*, recipient_list: RecipientList, actor: Actor, skip_invalid: bool = False) -> RecipientList:
    """Ask for approval. Refused while a row is invalid, unless the sender chose to skip those rows."""
    recipient_list = _locked(recipient_list)
    _require(actor, recipient_list.account, WRITERS, SCOPE_WRITE)
    if recipient_list.status != RecipientList.STATUS_CHECKED:
        raise Conflict(_("Only a checked list can be submitted."), code="wrong_status")
    if recipient_list.rows_invalid and not skip_invalid:
        raise Conflict(
            _("%(n)s rows are invalid: correct the file, or choose to skip them.") % {"n": recipient_list.rows_invalid},
            code="invalid_rows",
        )
    if recipient_list.rows_invalid == recipient_list.rows_total:
        raise Conflict(_("No row is valid."), code="invalid_rows")
    recipient_list.skip_invalid = bool(recipient_list.rows_invalid)
    recipient_list.status = RecipientList.STATUS_PENDING
    recipient_list.save(update_fields=["skip_invalid", "status"])
    _audit("submit", recipient_list, recipient_list.account, actor)
    return recipient_list


@transaction.atomic
def list_approve(*, recipient_list: RecipientList, actor: Actor) -> RecipientList:
    """Approve (never one's own list) and start sending: one notification per valid row, created in batches,
    sent by chunk tasks after the commit. Moved past the account's quiet hours like a moderate notice."""
    recipient_list = _locked(recipient_list)
    account = recipient_list.account
    _require(actor, account, (Membership.ROLE_APPROVER,), SCOPE_APPROVE)
    if actor.user is None and actor.token is None:
        raise Forbidden(_("An approval needs a person or a token."))
    if is_own_notice(notice=recipient_list, actor=actor):
        raise Forbidden(_("You cannot approve your own list."), code="same_person")
    if recipient_list.status != RecipientList.STATUS_PENDING:
        raise Conflict(_("Only a list waiting for approval can be approved."), code="wrong_status")
    now = timezone.now()
    at = quiet_hours_dispatch_at(
        notice=SimpleNamespace(severity="moderate", account=account), policy=broadcast_settings_for(account), at=now
    )
    scheduled_for = at if at > now else None
    version = recipient_list.version
    refs = Citizen.objects.filter(account=account)
    rows = ListRow.objects.filter(recipient_list=recipient_list, problems=[]).order_by("number")
    created = 0
    batch = []
    if connection.vendor == "postgresql":  # one INSERT ... SELECT (materialize); the loop below elsewhere
        created = materialize.list_notifications_create(
            recipient_list=recipient_list, now=now, scheduled_for=scheduled_for
        )
        rows = rows.none()
    for row in rows.iterator(chunk_size=ROW_BATCH):
        citizen = refs.filter(external_id=row.citizen_ref).first() if row.citizen_ref else None
        language = citizen.language if citizen is not None else "vi"
        batch.append(
            Notification(
                account=account,
                version=version,
                recipient_list=recipient_list,
                citizen=citizen,
                phone=row.phone,
                citizen_ref=row.citizen_ref,
                language=language,
                personalisation=row.personalisation,
                body=dispatch.text_for(version, channel="", language=language, values=row.personalisation),
                scheduled_for=scheduled_for,
                created_at=now,
            )
        )
        if len(batch) >= ROW_BATCH:
            created += _insert(batch, now)
    created += _insert(batch, now)
    recipient_list.status = RecipientList.STATUS_SENDING
    recipient_list.approver, recipient_list.approver_token, recipient_list.approved_at = actor.user, actor.token, now
    recipient_list.save(update_fields=["status", "approver", "approver_token", "approved_at"])
    _audit("approve", recipient_list, account, actor, {"notifications": created})
    if scheduled_for is None:
        list_id = recipient_list.pk
        transaction.on_commit(lambda: dispatch.list_enqueue(list_id=list_id))
    return recipient_list


def _insert(batch: list[Notification], now: dt.datetime) -> int:
    if not batch:
        return 0
    made = Notification.objects.bulk_create(batch)
    StatusEvent.objects.bulk_create(
        StatusEvent(notification=n, status=Notification.STATUS_QUEUED, at=now) for n in made
    )
    count = len(batch)
    batch.clear()
    return count


@transaction.atomic
def list_cancel(*, recipient_list: RecipientList, actor: Actor) -> RecipientList:
    """Stop a list before or while it is sent: its queued notifications are cancelled at once (one UPDATE);
    a chunk task re-checks the list between messages."""
    recipient_list = _locked(recipient_list)
    _require(actor, recipient_list.account, WRITERS, SCOPE_WRITE)
    if recipient_list.status in (RecipientList.STATUS_SENT, RecipientList.STATUS_CANCELLED):
        raise Conflict(_("This list was already sent or cancelled."), code="wrong_status")
    recipient_list.status = RecipientList.STATUS_CANCELLED
    recipient_list.save(update_fields=["status"])
    stopped = Notification.objects.filter(recipient_list=recipient_list, status=Notification.STATUS_QUEUED).update(
        status=Notification.STATUS_CANCELLED, reason="cancelled"
    )
    _audit("cancel", recipient_list, recipient_list.account, actor, {"stopped": stopped})
    return recipient_list


def list_progress(*, recipient_list: RecipientList) -> dict:
    """Counts per status and per channel, and the actual cost so far."""
    notifications = Notification.objects.filter(recipient_list=recipient_list)
    by_status = dict(notifications.values_list("status").annotate(n=Count("id")).order_by())
    by_channel = dict(notifications.exclude(channel="").values_list("channel").annotate(n=Count("id")).order_by())
    cost = notifications.aggregate(total=Sum("cost"))["total"] or 0
    return {"status": by_status, "channel": by_channel, "cost": cost, "total": sum(by_status.values())}


def list_preview(*, recipient_list: RecipientList, n: int = PREVIEW_ROWS) -> list[dict]:
    """The first valid rows as each will be seen on its planned channel (plain text; templates escape it)."""
    version = recipient_list.version
    rows = ListRow.objects.filter(recipient_list=recipient_list, problems=[]).order_by("number")[:n]
    return [
        {
            "row": row,
            "channel": row.channel,
            "text": dispatch.text_for(
                version, channel=row.channel or CHANNEL_INAPP, language="vi", values=row.personalisation
            ),
        }
        for row in rows
    ]


def lists_for_account(*, account: OfficialAccount):
    return RecipientList.objects.filter(account=account).select_related("version", "version__template")
