"""Sending to an uploaded list: upload and check (streaming, rows stored in batches, a channel planned per
person), the report, submit, approval by another person, cancel, progress. Sending itself is
``broadcasts.personal.dispatch`` (chunk tasks over the list's notifications)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from types import SimpleNamespace

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, CharField, Count, F, Q, Sum, Value, When, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import Concat, RowNumber
from django.db.models.lookups import In, StartsWith
from django.utils import timezone
from django.utils.translation import gettext as _

from broadcasts.models import Notice
from broadcasts.personal import copy_check, dispatch, materialize, recipients, rowstore, selectors, sending
from broadcasts.personal.models import (
    CHANNEL_INAPP,
    CHANNEL_SMS,
    VALUE_COLUMNS,
    ListRow,
    Notification,
    RecipientList,
    StatusEvent,
    e164,
)
from broadcasts.personal.plan import CHANNELS, DEFAULT_ORDER, daily_limit
from broadcasts.personal.rendering import GSM7_BASIC, GSM7_EXTENDED, PLACEHOLDER_RE, placeholders, sms_length
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
from oa_platform.channel_types.base import (
    REACH_ANY_PHONE,
    REACH_FOLLOWERS,
    REACH_FOLLOWERS_IN_WINDOW,
    REACH_VN_PHONE,
)
from oa_platform.errors import Conflict, Forbidden, ValidationFailed
from oa_platform.models import Citizen, Conversation, Membership, Message, OfficialAccount

# Rows checked, planned and stored together: one COPY and three lookups per batch (a batch of 2,000 rows is
# ~1 MB of Python objects, and the lookups stay small; 5,000 measured no faster on 300,000 rows).
ROW_BATCH = 2000
PREVIEW_ROWS = 5


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
    """Check an uploaded list row by row, store it with its report and plan a channel per valid row
    (``list_check`` then ``list_plan``). A file refused as a whole (empty, not UTF-8, unknown column, too
    large) stores nothing: ValidationFailed with the reason."""
    recipient_list = list_check(
        account=account,
        actor=actor,
        template_key=template_key,
        fileobj=fileobj,
        file_name=file_name,
        max_bytes=max_bytes,
    )
    return list_plan(recipient_list=recipient_list, actor=actor)


@transaction.atomic
def list_check(
    *,
    account: OfficialAccount,
    actor: Actor,
    template_key: str,
    fileobj,
    file_name: str,
    max_bytes: int | None = None,
) -> RecipientList:
    """Check an uploaded list and store its rows and the count per problem, no channel planned yet. A CSV file
    on PostgreSQL is checked in a few set-based statements (``copy_check``); XLSX, SQLite and the CSV files
    PostgreSQL would read differently are read as a stream in Python, rows stored in batches of ROW_BATCH."""
    _require(actor, account, WRITERS, SCOPE_WRITE)
    version = approved_version_require(account=account, template_key=template_key)
    size = getattr(fileobj, "size", None)
    if max_bytes is not None and size is not None and size > max_bytes:
        raise ValidationFailed(_("The file is larger than %(n)s MB.") % {"n": max_bytes // (1024 * 1024)})
    names = placeholders(version.body_vi, version.body_en, version.body_zh, version.sms_text)
    policy = selectors.settings_for(account)
    recipient_list = RecipientList.objects.create(
        account=account,
        version=version,
        file_name=file_name[:200],
        author=actor.user,
        author_token=actor.token,
        columns=names,
    )
    checked = None
    try:
        if connection.vendor == "postgresql" and recipients.is_csv(fileobj, file_name):
            checked = copy_check.check_and_store(
                list_id=recipient_list.pk, fileobj=fileobj, placeholders=names, vietnam_only=policy.vietnam_only
            )
            fileobj.seek(0)
        if checked is None:
            checked = _check_in_python(recipient_list.pk, fileobj, file_name, names, vietnam_only=policy.vietnam_only)
        total, invalid, problems = checked
        if total > settings.PERSONAL_LIST_MAX_ROWS:
            raise recipients.FileRefused(
                _("The list has more than %(n)s rows.") % {"n": settings.PERSONAL_LIST_MAX_ROWS}
            )
    except recipients.FileRefused as exc:
        raise ValidationFailed(str(exc), code="file_refused", fields={"file": str(exc)}) from exc
    if total == 0:
        raise ValidationFailed(_("The list has no rows."), code="file_refused", fields={"file": _("no rows")})
    recipient_list.rows_total = total
    recipient_list.rows_invalid = invalid
    recipient_list.problems = dict(problems)
    recipient_list.save(update_fields=["rows_total", "rows_invalid", "problems"])
    _audit("upload", recipient_list, account, actor, {"rows": total, "invalid": recipient_list.rows_invalid})
    return recipient_list


def _check_in_python(list_id: int, fileobj, file_name: str, names: list[str], *, vietnam_only: bool):
    """The Python path: the rows of the file one by one (recipients.check_row), stored in batches, then the
    duplicates marked in SQL. Returns the number of rows, of invalid rows and the count per problem."""
    problems: Counter[str] = Counter()
    total = 0
    table = recipients.read_table(fileobj, file_name)
    header = recipients.check_header(next(table, None) or [], names)
    batch: list[tuple] = []
    # the header is row 1, as the spreadsheet numbers it
    for number, cells in enumerate(table, start=2):
        if not any(cell.strip() for cell in cells):
            continue  # blank lines
        # duplicates are found afterwards in SQL (_mark_duplicates): no set of every recipient in memory
        row = recipients.check_row(cells, header, placeholders=names, vietnam_only=vietnam_only, seen=None)
        total += 1
        if total > settings.PERSONAL_LIST_MAX_ROWS:
            return total, 0, problems  # refused by the caller
        if row.problems:
            problems.update(p.split(":")[0] for p in row.problems)
        batch.append((number, row.phone, row.citizen_ref, row.problems or None, *(row.values.get(n) for n in names)))
        if len(batch) >= ROW_BATCH:
            _store_rows(list_id, batch)
            batch.clear()
    if batch:
        _store_rows(list_id, batch)
    rowstore.index_create(list_id)  # for the lookups by number below
    duplicates = _mark_duplicates(list_id)
    if duplicates:
        problems[recipients.DUPLICATE] = duplicates
    invalid = ListRow.objects.filter(recipient_list_id=list_id, problems__isnull=False).count()
    return total, invalid, problems


@transaction.atomic
def list_plan(*, recipient_list: RecipientList, actor: Actor) -> RecipientList:
    """Plan a channel and its cost for each valid row of a checked list: one UPDATE per channel of the account's
    order, never a loop per row. Channel by channel, the rows no earlier channel took that this channel reaches
    get it, in row order, as many as its daily limit leaves (the same answer as ``plan.choose`` row after row: a
    row takes the first channel that reaches it and has room). SMS is priced per segment: its rows' texts are
    measured afterwards, ROW_BATCH at a time. Then the report's counts per channel and the estimated cost."""
    account = recipient_list.account
    _require(actor, account, WRITERS, SCOPE_WRITE)
    version = recipient_list.version
    policy = selectors.settings_for(account)
    now = timezone.now()
    available = sending.available_channels(account=account, zns_template_id=version.zns_template_id)
    used = selectors.used_today(account=account, now=now)
    caps = policy.daily_caps or {}
    quotas = selectors.channel_quotas(account)  # the account's own daily quotas (ChannelConfig.daily_quota)
    rowstore.index_create(recipient_list.pk)  # rows stored without one (copy_check): the plan looks up by number
    valid = ListRow.objects.filter(recipient_list=recipient_list, problems__isnull=True)
    for name in policy.channel_order or DEFAULT_ORDER:
        reach = CHANNELS.get(name)
        if reach is None or name not in available:
            continue
        reached = _reached(account, reach, now=now)
        if reached is None:
            continue
        limit = daily_limit(reach, caps, quotas)
        free = valid.filter(reached, channel="").order_by("number")
        if limit is not None:
            room = max(limit - used.get(name, 0), 0)
            if not room:
                continue
            free = valid.filter(number__in=free.values("number")[:room])
        cost = reach.price  # per message; per segment: each row's own text measured in SQL, or below in Python
        if reach.per_segment:
            cost = _sms_cost_sql(recipient_list, reach) or cost
        used[name] = used.get(name, 0) + free.update(channel=name, cost=cost)
    sms = CHANNELS.get(CHANNEL_SMS)
    if sms is not None and sms.per_segment:
        _price_sms(recipient_list, version, sms)
    per_channel = valid.exclude(channel="").values("channel").annotate(n=Count("*"), cost=Sum("cost")).order_by()
    recipient_list.planned = {row["channel"]: row["n"] for row in per_channel}
    recipient_list.estimated_cost = sum(row["cost"] for row in per_channel)
    recipient_list.save(update_fields=["planned", "estimated_cost"])
    return recipient_list


def _reached(account: OfficialAccount, reach, *, now: dt.datetime) -> Q | None:
    """The rows ``reach`` can reach, as a filter (``plan.can_reach`` in SQL): by the row's phone, or for a row
    with a citizen id, by the phone of that citizen of the account. None: nobody."""
    citizens = Citizen.objects.filter(account=account)
    if reach.reaches == REACH_FOLLOWERS:
        phones = Conversation.objects.filter(account=account, citizen__channel=Citizen.CHANNEL_WEB).exclude(
            citizen__phone=""
        )
        phones = phones.values("citizen__phone")
    elif reach.reaches == REACH_FOLLOWERS_IN_WINDOW:
        if reach.per_window <= 0:
            return None
        phones = (
            Message.objects.filter(
                conversation__account=account,
                conversation__citizen__account=account,
                conversation__citizen__channel=reach.channel,
                direction=Message.DIRECTION_IN,
                created_at__gte=now - dt.timedelta(hours=reach.window_hours),
            )
            .exclude(conversation__citizen__phone="")
            .values("conversation__citizen__phone")
        )
    elif reach.reaches == REACH_VN_PHONE:
        return Q(StartsWith(e164(), Value("+84"))) | Q(
            phone="", citizen_ref__in=citizens.filter(phone__startswith="+84").values("external_id")
        )
    elif reach.reaches == REACH_ANY_PHONE:
        return ~Q(phone="") | Q(citizen_ref__in=citizens.exclude(phone="").values("external_id"))
    else:
        return None
    by_ref = citizens.filter(phone__in=phones).values("external_id")
    return Q(In(e164(), phones)) | Q(phone="", citizen_ref__in=by_ref)


def _price_sms(recipient_list: RecipientList, version, sms) -> None:
    """The cost of the SMS rows that SQL did not measure (_sms_cost_sql): the price per segment of each row's
    own text, ROW_BATCH rows at a time; one UPDATE per batch for the rows of more than one segment."""
    columns = recipient_list.columns
    value_columns = VALUE_COLUMNS[: len(columns)]
    rows = ListRow.objects.filter(recipient_list=recipient_list, channel=CHANNEL_SMS)
    if _sms_cost_sql(recipient_list, sms) is not None:  # the rows SQL left: a character outside the BMP
        if not value_columns:
            return
        rows = rows.alias(text=Concat(*value_columns, Value(""), output_field=CharField())).filter(
            text__regex=NON_BMP_SQL
        )
    last = 0
    while found := list(
        rows.filter(number__gt=last).order_by("number").values_list("number", *value_columns)[:ROW_BATCH]
    ):
        last = found[-1][0]
        priced = []
        for number, *values in found:
            text = dispatch.text_for(
                version, channel=CHANNEL_SMS, language="vi", values=dict(zip(columns, values, strict=True))
            )
            segments = sms_length(text).segments
            if segments > 1:
                priced.append((number, CHANNEL_SMS, sms.cost(segments)))
        _store_plan(recipient_list.pk, priced)


# A character outside the Basic Multilingual Plane (an emoji) takes two UTF-16 units in a UCS-2 SMS: the rows
# holding one are measured in Python, the others in SQL.
NON_BMP_RE = re.compile("[\U00010000-\U0010ffff]")
NON_BMP_SQL = "[\\U00010000-\\U0010FFFF]"
# The GSM 03.38 alphabet as a regular expression class (a text of these characters only is sent as GSM-7).
_GSM7_CLASS = "".join("\\" + c if c in "\\]^-[" else c for c in sorted(GSM7_BASIC | GSM7_EXTENDED))


def _sms_cost_sql(recipient_list: RecipientList, sms) -> RawSQL | None:
    """A row's SMS cost as an SQL expression over its values (``rendering.sms_length`` in SQL): the
    text built from the template's pieces and the row's values, GSM-7 when every character is in the alphabet
    (extension characters count two), UCS-2 otherwise. A row with a character outside the BMP gets the price of
    one segment here (``_price_sms`` measures it). None: not on PostgreSQL, or such a character in the
    template itself."""
    version = recipient_list.version
    template = version.sms_text or version.body_vi
    if connection.vendor != "postgresql" or NON_BMP_RE.search(template + version.link):
        return None
    pieces = PLACEHOLDER_RE.split(template)
    parts, params = [], []
    for i, piece in enumerate(pieces):
        if i % 2:
            name = piece.strip().lower()
            parts.append(VALUE_COLUMNS[recipient_list.columns.index(name)] if name in recipient_list.columns else "''")
        elif piece:
            parts.append("%s")
            params.append(piece)
    if version.link:
        parts.append("%s")
        params.append(f"\n{version.link}")
    text = f"concat({', '.join(parts)})"
    return RawSQL(
        f"""(SELECT %s * CASE WHEN r ~ %s THEN 1
                WHEN r ~ %s THEN CASE WHEN 2 * length(r) - length(translate(r, %s, '')) <= 160 THEN 1
                    ELSE ceil((2 * length(r) - length(translate(r, %s, ''))) / 153.0) END
                ELSE CASE WHEN length(r) <= 70 THEN 1 ELSE ceil(length(r) / 67.0) END END
            FROM (SELECT {text} AS r) AS sms)""",
        [sms.price, NON_BMP_SQL, f"^[{_GSM7_CLASS}]*$", *[("".join(sorted(GSM7_EXTENDED)))] * 2, *params],
    )


def _store_plan(list_id: int, planned: list[tuple[int, str, int]]) -> None:
    """Write (row number, channel, cost) of a list's rows: one UPDATE from arrays on PostgreSQL, an UPDATE per
    row elsewhere (the embedded SQLite default)."""
    if not planned:
        return
    if connection.vendor == "postgresql":
        numbers, channels, costs = zip(*planned, strict=True)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {ListRow._meta.db_table} r SET channel = u.channel, cost = u.cost "
                "FROM unnest(%s::int[], %s::text[], %s::int[]) AS u(number, channel, cost) "
                "WHERE r.recipient_list_id = %s AND r.number = u.number",
                [list(numbers), list(channels), list(costs), list_id],
            )
        return
    for number, channel, cost in planned:
        ListRow.objects.filter(recipient_list_id=list_id, number=number).update(channel=channel, cost=cost)


ROW_COLUMNS = ("number", "phone", "citizen_ref", "problems")
# Duplicate rows marked per UPDATE (row numbers in one IN list).
DUPLICATE_BATCH = 5000


def _mark_duplicates(list_id: int) -> int:
    """Mark each valid row whose recipient appeared in an earlier valid row a duplicate (not sent, not costed):
    one window query over the stored rows, so memory does not grow with the list."""
    key = Case(When(phone="", then=Concat(Value("id:"), F("citizen_ref"))), default=e164(), output_field=CharField())
    ranked = ListRow.objects.filter(recipient_list_id=list_id, problems__isnull=True).annotate(
        n=Window(RowNumber(), partition_by=[key], order_by=F("number").asc())
    )
    numbers = list(ranked.filter(n__gt=1).values_list("number", flat=True))
    for start in range(0, len(numbers), DUPLICATE_BATCH):
        ListRow.objects.filter(recipient_list_id=list_id, number__in=numbers[start : start + DUPLICATE_BATCH]).update(
            problems=[recipients.DUPLICATE], channel="", cost=0
        )
    return len(numbers)


def _store_rows(list_id: int, rows: list[tuple]) -> None:
    """Insert checked rows (ROW_COLUMNS, then the values in the list's columns): one COPY per batch on
    PostgreSQL (several times faster than INSERT for a large list), bulk_create elsewhere (SQLite)."""
    if not rows:
        return
    values = VALUE_COLUMNS[: len(rows[0]) - len(ROW_COLUMNS)]
    if connection.vendor == "postgresql":
        columns = ", ".join(("recipient_list_id", *ROW_COLUMNS, *values))
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY {ListRow._meta.db_table} ({columns}) FROM STDIN") as copy,
        ):
            for number, phone, ref, problems, *cells in rows:
                copy.write_row((list_id, number, phone, ref, json.dumps(problems) if problems else None, *cells))
        return
    ListRow.objects.bulk_create(
        ListRow(recipient_list_id=list_id, **dict(zip((*ROW_COLUMNS, *values), row, strict=True))) for row in rows
    )


def _locked(recipient_list: RecipientList) -> RecipientList:
    return RecipientList.objects.select_for_update().select_related("account", "version").get(pk=recipient_list.pk)


# How far ahead a list may be scheduled (and its expiry set): an appointment list older than a month is stale,
# and a later date is more likely a typo (a year or a month swapped) than a plan.
MAX_SCHEDULE_AHEAD = dt.timedelta(days=30)


def _clean_schedule(*, severity: str, send_at: dt.datetime | None, expires_at: dt.datetime | None, now: dt.datetime):
    """Check the sender's choice of severity, time and expiry; raise ValidationFailed naming each bad field."""
    errors = {}
    if severity not in dict(Notice.SEVERITY_CHOICES):
        errors["severity"] = _("Unknown severity.")
    for key, value in (("send_at", send_at), ("expires_at", expires_at)):
        if value is not None and (not isinstance(value, dt.datetime) or timezone.is_naive(value)):
            errors[key] = _("A date and time with a time zone is expected.")
    if errors:
        raise ValidationFailed(_("The list's schedule is not valid."), fields=errors)
    limit = now + MAX_SCHEDULE_AHEAD
    if send_at is not None and send_at <= now:
        errors["send_at"] = _("This time has passed. Choose a time after now.")
    elif send_at is not None and send_at > limit:
        errors["send_at"] = _("At most %(days)s days ahead.") % {"days": MAX_SCHEDULE_AHEAD.days}
    if expires_at is not None and expires_at <= (send_at or now):
        errors["expires_at"] = _("The expiry must be after the sending time.")
    elif expires_at is not None and expires_at > limit:
        errors["expires_at"] = _("At most %(days)s days ahead.") % {"days": MAX_SCHEDULE_AHEAD.days}
    if errors:
        raise ValidationFailed(_("The list's schedule is not valid."), fields=errors)


@transaction.atomic
def list_submit(
    *,
    recipient_list: RecipientList,
    actor: Actor,
    skip_invalid: bool = False,
    severity: str = Notice.SEVERITY_MODERATE,
    send_at: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
) -> RecipientList:
    """Ask for approval, with the sender's severity (quiet hours as notices), sending time (None: as soon as
    approved; at most MAX_SCHEDULE_AHEAD ahead) and expiry ("do not send after", optional). Refused while a row
    is invalid, unless the sender chose to skip those rows; nothing is stored when any choice is refused."""
    recipient_list = _locked(recipient_list)
    _require(actor, recipient_list.account, WRITERS, SCOPE_WRITE)
    if recipient_list.status != RecipientList.STATUS_CHECKED:
        raise Conflict(_("Only a checked list can be submitted."), code="wrong_status")
    _clean_schedule(severity=severity, send_at=send_at, expires_at=expires_at, now=timezone.now())
    if recipient_list.rows_invalid and not skip_invalid:
        raise Conflict(
            _("%(n)s rows are invalid: correct the file, or choose to skip them.") % {"n": recipient_list.rows_invalid},
            code="invalid_rows",
        )
    if recipient_list.rows_invalid == recipient_list.rows_total:
        raise Conflict(_("No row is valid."), code="invalid_rows")
    recipient_list.skip_invalid = bool(recipient_list.rows_invalid)
    recipient_list.status = RecipientList.STATUS_PENDING
    recipient_list.severity, recipient_list.send_at, recipient_list.expires_at = severity, send_at, expires_at
    recipient_list.save(update_fields=["skip_invalid", "status", "severity", "send_at", "expires_at"])
    _audit("submit", recipient_list, recipient_list.account, actor, _schedule_audit(recipient_list))
    return recipient_list


def _schedule_audit(recipient_list: RecipientList) -> dict:
    """What the sender chose and the approver approved, as the audit records it (ISO times, UTC)."""
    return {
        "severity": recipient_list.severity,
        "send_at": _utc(recipient_list.send_at),
        "expires_at": _utc(recipient_list.expires_at),
    }


def _utc(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value is not None else None


@transaction.atomic
def list_approve(*, recipient_list: RecipientList, actor: Actor) -> RecipientList:
    """Approve (never one's own list) what the list page shows (severity, sending time, expiry) and start sending:
    one notification per valid row, created in batches, sent by chunk tasks after the commit, or held until the
    sending time (the due sweep, tasks.send_due, hands them on). A time inside the account's quiet hours moves to
    their end for a moderate or minor list, as for a notice; a severe or extreme list goes at once. A sending time
    already passed means now; an expiry already passed is refused (the sender cancels or submits again)."""
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
    if recipient_list.expires_at is not None and recipient_list.expires_at <= now:
        raise Conflict(_("This list's expiry has passed: it can no longer be approved."), code="expired")
    at = quiet_hours_dispatch_at(
        notice=SimpleNamespace(severity=recipient_list.severity, account=account),
        policy=broadcast_settings_for(account),
        at=max(now, recipient_list.send_at or now),
    )
    scheduled_for = at if at > now else None
    if (
        scheduled_for is not None
        and recipient_list.expires_at is not None
        and scheduled_for >= recipient_list.expires_at
    ):
        raise Conflict(
            _("The quiet hours hold this list until after its expiry: nothing would be sent."), code="expired"
        )
    version = recipient_list.version
    columns = recipient_list.columns
    refs = Citizen.objects.filter(account=account)
    rows = ListRow.objects.filter(recipient_list=recipient_list, problems__isnull=True).order_by("number")
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
                phone=row.e164_phone,
                citizen_ref=row.citizen_ref,
                language=language,
                personalisation=row.values(columns),
                body=dispatch.text_for(version, channel="", language=language, values=row.values(columns)),
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
    _audit(
        "approve",
        recipient_list,
        account,
        actor,
        {
            "notifications": created,
            **_schedule_audit(recipient_list),
            "scheduled_for": _utc(scheduled_for),
        },
    )
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
    if recipient_list.status in RecipientList.FINAL_STATUSES:
        raise Conflict(_("This list was already sent, cancelled or expired."), code="wrong_status")
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
    rows = ListRow.objects.filter(recipient_list=recipient_list, problems__isnull=True).order_by("number")[:n]
    return [
        {
            "row": row,
            "channel": row.channel,
            "text": dispatch.text_for(
                version, channel=row.channel or CHANNEL_INAPP, language="vi", values=row.values(recipient_list.columns)
            ),
        }
        for row in rows
    ]


def lists_for_account(*, account: OfficialAccount):
    return RecipientList.objects.filter(account=account).select_related("version", "version__template")
