"""Every write of information collection: forms and their questions (with the rules that protect answers
already given), rounds, submissions (idempotent by client id, one response per person per round) and the
running tallies the results read."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import math
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, NotSupportedError, connections, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from oa_platform import live
from oa_platform.collect import announce
from oa_platform.collect.answers import answer_buckets, answers_clean
from oa_platform.collect.audience import (
    answering_as,
    audience_citizens,
    audience_clean,
    audience_has,
    non_responders,
)
from oa_platform.collect.models import AnswerLink, Dialogue, Form, Question, Response, Round, Submission, Tally
from oa_platform.compiled_queries import CompiledInsert, CompiledQuery, writes_together
from oa_platform.errors import Conflict, ValidationFailed
from oa_platform.models import Area, Citizen, OfficialAccount
from oa_platform.services import audit_record

# A form is read on a phone: more questions than this is a different tool.
MAX_QUESTIONS = 100
MAX_OPTIONS = 50
QUESTION_FIELDS = ("label_vi", "label_en", "label_zh", "help_vi", "help_en", "help_zh")


def area_path(code: str) -> str | None:
    """The stored area's path ("province/ward"), None for an unknown code."""
    return Area.objects.filter(code=code).values_list("path", flat=True).first()


# A round's live results page is told at most this often by each server process (the page's socket itself
# pushes at most every 0.5 s, oa_platform.collect.consumers): a burst costs a few Redis sends a second, not one
# per submission, and the last change is still told at most this late.
LIVE_PUSH_EVERY_S = 0.25


def live_group(round_id: int) -> str:
    return f"collect.r{round_id}"


# --- forms and questions  ---
def _options_clean(raw, where: str) -> list[dict]:
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_OPTIONS:
        raise ValidationFailed(
            _("Invalid options."), fields={where: _("A list of at most %(n)s options.") % {"n": MAX_OPTIONS}}
        )
    options, seen = [], set()
    for index, option in enumerate(raw, 1):
        if isinstance(option, str):
            option = {"label_vi": option}
        if not isinstance(option, dict) or not str(option.get("label_vi") or "").strip():
            raise ValidationFailed(
                _("Invalid options."), fields={where: _("Option %(n)s needs a label_vi.") % {"n": index}}
            )
        label_vi = str(option["label_vi"]).strip()[:200]
        key = str(option.get("key") or slugify(label_vi) or f"o{index}")[:60]
        if key in seen:
            key = f"{key[:55]}-{index}"
        if key in seen:
            raise ValidationFailed(
                _("Invalid options."), fields={where: _("Two options have the key %(key)s.") % {"key": key}}
            )
        seen.add(key)
        options.append(
            {
                "key": key,
                "label_vi": label_vi,
                "label_en": str(option.get("label_en") or "").strip()[:200],
                "label_zh": str(option.get("label_zh") or "").strip()[:200],
            }
        )
    return options


def _question_build(spec: dict, index: int) -> Question:
    where = f"questions.{index}"
    kind = spec.get("type")
    if kind not in Question.TYPES:
        raise ValidationFailed(
            _("Unknown question type."), fields={where: _("Unknown type: %(type)s") % {"type": kind}}
        )
    options = _options_clean(spec.get("options"), where)
    if kind in (Question.TYPE_CHOICE, Question.TYPE_MULTIPLE) and len(options) < 2:
        raise ValidationFailed(
            _("A choice needs options."), fields={where: _("A choice question needs at least two options.")}
        )
    if kind not in (Question.TYPE_CHOICE, Question.TYPE_MULTIPLE) and options:
        raise ValidationFailed(_("Options only for choices."), fields={where: _("Only choice questions have options.")})
    low, high = spec.get("min"), spec.get("max")
    if any(v is not None and (not isinstance(v, int | float) or not math.isfinite(v)) for v in (low, high)):
        raise ValidationFailed(_("min and max are numbers."), fields={where: _("min and max must be finite numbers.")})
    if kind != Question.TYPE_NUMBER and (low is not None or high is not None):
        raise ValidationFailed(
            _("min/max only for numbers."), fields={where: _("Only number questions have min and max.")}
        )
    if low is not None and high is not None and low > high:
        raise ValidationFailed(_("min above max."), fields={where: _("min is above max.")})
    question = Question(
        key=spec["key"],
        position=index,
        type=kind,
        required=bool(spec.get("required", False)),
        options=options,
        min_value=low,
        max_value=high,
        **{name: str(spec.get(name) or "").strip() for name in QUESTION_FIELDS},
    )
    if not question.label_vi:
        raise ValidationFailed(_("A question needs a label."), fields={where: _("label_vi is required.")})
    return question


def _questions_build(specs) -> list[Question]:
    if not specs or len(specs) > MAX_QUESTIONS:
        raise ValidationFailed(
            _("A form needs 1 to %(n)s questions.") % {"n": MAX_QUESTIONS},
            fields={"questions": _("1 to %(n)s questions.") % {"n": MAX_QUESTIONS}},
        )
    questions = [_question_build(spec, index) for index, spec in enumerate(specs)]
    keys = [q.key for q in questions]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise ValidationFailed(
            _("Two questions have the same key."),
            fields={"questions": _("Repeated keys: %(keys)s") % {"keys": ", ".join(duplicates)}},
        )
    return questions


@transaction.atomic
def form_create(
    *,
    account: OfficialAccount,
    key: str,
    title_vi: str,
    questions: list[dict],
    title_en: str = "",
    title_zh: str = "",
    late_policy: str = Form.LATE_ACCEPT,
    retention_days: int | None = None,
    round: dict | None = None,
    schedule: dict | None = None,
    audience: dict | None = None,
    open_first: bool = True,
    actor=None,
    actor_label: str = "",
) -> Form:
    """Create a form with its questions and its first round (``round``: opens_at / closes_at / remind_at; without
    dates it is open now). ``schedule`` ({repeat: daily|weekdays, weekdays: [0..6], open_time, window_minutes,
    remind_time}) makes it recurring: the beat opens a round at open_time (local), and without ``round`` that is
    the first one. ``audience``: {kind: followers|staff|list, topic, area, phones} (audience_clean). A key the
    account already uses is a conflict. ``open_first`` False (the console): no round yet, and nobody is told, until
    staff open one or set a schedule, once the questions and the audience are ready."""
    if Form.objects.filter(account=account, key=key).exists():
        raise Conflict(_("The account already has a form with this key."), code="form_exists", fields={"key": key})
    built = _questions_build(questions)
    recurrence = _schedule_clean(schedule)
    audience_fields = audience_clean(account=account, audience=audience)
    form = Form.objects.create(
        account=account,
        key=key,
        title_vi=title_vi.strip(),
        title_en=title_en.strip(),
        title_zh=title_zh.strip(),
        late_policy=late_policy,
        retention_days=retention_days,
        **audience_fields,
        **recurrence,
    )
    for question in built:
        question.form = form
    Question.objects.bulk_create(built)
    if round or (not recurrence and open_first):
        round = round or {}
        round_open(
            form=form,
            opens_at=round.get("opens_at"),
            closes_at=round.get("closes_at"),
            remind_at=round.get("remind_at"),
        )
    audit_record(action="form_create", obj=form, account=account, actor=actor, actor_label=actor_label)
    return form


def _schedule_clean(schedule: dict | None) -> dict:
    """The Form fields of a recurrence, checked: a repeat needs its open time, weekdays need their days."""
    if not schedule or schedule.get("repeat", Form.REPEAT_NONE) == Form.REPEAT_NONE:
        return {}
    repeat = schedule["repeat"]
    if schedule.get("open_time") is None:
        raise ValidationFailed(
            _("A repeated form needs its open time."), fields={"schedule": _("open_time is required.")}
        )
    if repeat not in (Form.REPEAT_DAILY, Form.REPEAT_WEEKDAYS):
        raise ValidationFailed(_("Unknown repeat."), fields={"schedule": _("none, daily or weekdays.")})
    weekdays = sorted(set(schedule.get("weekdays") or []))
    if repeat == Form.REPEAT_WEEKDAYS and not weekdays:
        raise ValidationFailed(_("Which weekdays?"), fields={"schedule": _("weekdays is required (0 = Monday).")})
    if any(not isinstance(d, int) or not 0 <= d <= 6 for d in weekdays):
        raise ValidationFailed(_("Which weekdays?"), fields={"schedule": _("weekdays are 0 (Monday) to 6 (Sunday).")})
    window = schedule.get("window_minutes") or 24 * 60
    if not isinstance(window, int) or not 1 <= window <= WINDOW_MAX_MINUTES:
        raise ValidationFailed(
            _("The open window is too long."),
            fields={"schedule": _("window_minutes is 1 to %(n)s.") % {"n": WINDOW_MAX_MINUTES}},
        )
    opens, remind = schedule["open_time"], schedule.get("remind_time")
    if remind is not None:
        # minutes after opening, the reminder of a round opened at 8:00 may be at 7:00 the next morning
        after = (remind.hour * 60 + remind.minute - opens.hour * 60 - opens.minute) % (24 * 60)
        if after == 0 or after >= window:
            raise ValidationFailed(
                _("The reminder must fall while the round is open."),
                fields={"schedule": _("remind_time must be after open_time and before the round closes.")},
            )
    return {
        "repeat": repeat,
        "repeat_weekdays": ",".join(str(d) for d in weekdays) if repeat == Form.REPEAT_WEEKDAYS else "",
        "open_time": opens,
        "window_minutes": window,
        "remind_time": remind,
    }


# Form fields that any editor may change at any time (typos in a title, how long answers are kept).
DETAIL_FIELDS = ("title_vi", "title_en", "title_zh", "late_policy", "retention_days")


@transaction.atomic
def form_details_update(*, form: Form, actor=None, actor_label: str = "", **values) -> Form:
    """Change the form's titles, its late-answer policy and its retention (``values``: any of DETAIL_FIELDS).
    A Vietnamese title is required; retention is 1 to 3650 days or None (kept until erased)."""
    unknown = sorted(set(values) - set(DETAIL_FIELDS))
    if unknown:
        raise ValidationFailed(_("Unknown fields."), fields={name: _("unknown") for name in unknown})
    form = Form.objects.select_for_update().get(pk=form.pk)
    errors = {}
    for name in ("title_vi", "title_en", "title_zh"):
        if name in values:
            values[name] = str(values[name] or "").strip()
            if len(values[name]) > 200:
                errors[name] = _("At most 200 characters.")
    if "title_vi" in values and not values["title_vi"]:
        errors["title_vi"] = _("A Vietnamese title is required.")
    if "late_policy" in values and values["late_policy"] not in dict(Form.LATE_CHOICES):
        errors["late_policy"] = _("accept or refuse.")
    retention = values.get("retention_days")
    if retention is not None and (
        isinstance(retention, bool) or not isinstance(retention, int) or not 1 <= retention <= 3650
    ):
        errors["retention_days"] = _("1 to 3650 days, or empty.")
    if errors:
        raise ValidationFailed(_("Invalid form details."), fields=errors)
    changes = {name: str(value) for name, value in values.items() if getattr(form, name) != value}
    for name, value in values.items():
        setattr(form, name, value)
    form.save(update_fields=list(values) or None)
    audit_record(
        action="form_details_update",
        obj=form,
        account=form.account,
        actor=actor,
        actor_label=actor_label,
        changes=changes,
    )
    return form


# A recurring round stays open at most a week (the API's limit too).
WINDOW_MAX_MINUTES = 7 * 24 * 60
NO_SCHEDULE = {"repeat": Form.REPEAT_NONE, "repeat_weekdays": "", "open_time": None, "remind_time": None}


@transaction.atomic
def form_settings_update(
    *, form: Form, schedule: dict | None, audience: dict | None, actor=None, actor_label: str = ""
) -> Form:
    """Set the form's recurrence (as form_create's ``schedule``; None or repeat "none": rounds by hand only) and
    its audience (audience_clean). Rounds already open keep their times; their audience count follows the new
    audience, and so do their "not answered" list and their reminders. Rounds to come open on the new schedule."""
    form = Form.objects.select_for_update().get(pk=form.pk)
    fields = (_schedule_clean(schedule) or NO_SCHEDULE) | audience_clean(account=form.account, audience=audience)
    changes = {}
    for name, value in fields.items():
        if getattr(form, name) != value:
            changes[name] = "…" if name == "audience_phones" else str(value)
            setattr(form, name, value)
    form.save()
    now = timezone.now()
    count = audience_citizens(form).count()
    open_rounds = form.rounds.exclude(closes_at__lte=now)
    open_rounds.update(audience_count=count)
    _rounds_recount_in_audience(form, open_rounds)
    audit_record(
        action="form_settings_update",
        obj=form,
        account=form.account,
        actor=actor,
        actor_label=actor_label,
        changes=changes,
    )
    return form


def _rounds_recount_in_audience(form: Form, rounds) -> None:
    """After the audience changed: who of the rounds' respondents is in it now, and the rounds' counts of them.
    Two set-based statements (run when staff save the audience, never per submission)."""
    inside = audience_citizens(form).filter(pk=OuterRef("citizen_id"))
    Response.objects.filter(round__in=rounds).update(in_audience=Exists(inside))
    in_audience = (
        Response.objects.filter(round=OuterRef("pk"), in_audience=True)
        .order_by()
        .values("round")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rounds.update(responded_in_audience=Coalesce(Subquery(in_audience), 0))


def _answered_buckets(form: Form, question: Question) -> set[str]:
    return set(Tally.objects.filter(round__form=form, question=question, count__gt=0).values_list("bucket", flat=True))


@transaction.atomic
def form_questions_update(*, form: Form, questions: list[dict], actor=None, actor_label: str = "") -> Form:
    """Replace the form's questions with ``questions`` (the whole list, in order). Once a question has answers
    its type stays, it stays on the form, and none of its options that have answers may go; labels, help
    texts, required, new options and new questions may change at any time."""
    form = Form.objects.select_for_update().get(pk=form.pk)
    built = _questions_build(questions)
    existing = {q.key: q for q in form.questions.all()}
    wanted = {q.key for q in built}
    for key, old in existing.items():
        answered = _answered_buckets(form, old)
        if key not in wanted:
            if answered:
                raise Conflict(
                    _("A question with answers cannot be removed."),
                    code="question_has_answers",
                    fields={key: _("has answers")},
                )
            old.delete()
    for question in built:
        old = existing.get(question.key)
        if old is None:
            question.form = form
            question.save()
            continue
        answered = _answered_buckets(form, old)
        if answered and question.type != old.type:
            raise Conflict(
                _("The type of a question with answers cannot change."),
                code="question_has_answers",
                fields={question.key: _("type %(type)s is fixed") % {"type": old.type}},
            )
        removed = {o["key"] for o in old.options} - {o["key"] for o in question.options}
        lost = sorted(removed & answered)
        if lost:
            raise Conflict(
                _("An option with answers cannot be removed."),
                code="option_has_answers",
                fields={question.key: ", ".join(lost)},
            )
        for name in ("position", "type", "required", "options", "min_value", "max_value", *QUESTION_FIELDS):
            setattr(old, name, getattr(question, name))
        old.save()
    audit_record(action="form_questions_update", obj=form, account=form.account, actor=actor, actor_label=actor_label)
    return form


# --- rounds  ---
def round_open(
    *,
    form: Form,
    opens_at: dt.datetime | None = None,
    closes_at: dt.datetime | None = None,
    remind_at: dt.datetime | None = None,
) -> Round:
    """A new round of ``form`` (now when ``opens_at`` is None); its audience is counted as it is created and told
    (oa_platform.collect.announce) once it has opened."""
    opens_at = opens_at or timezone.now()
    if closes_at is not None and closes_at <= opens_at:
        raise ValidationFailed(
            _("A round closes after it opens."), fields={"round": _("closes_at must be after opens_at.")}
        )
    round_ = Round.objects.create(
        form=form,
        opens_at=opens_at,
        closes_at=closes_at,
        remind_at=remind_at,
        audience_count=audience_citizens(form).count(),
    )
    if opens_at <= timezone.now():
        # Open now: its audience is told after commit; a round to come is told by the beat when it opens.
        announce.tell_on_commit(round_, announce.OPEN)
    return round_


def _local_slot(form: Form, day: dt.date) -> tuple[dt.datetime, dt.datetime, dt.datetime | None]:
    tz = form.account.tzinfo
    opens = dt.datetime.combine(day, form.open_time, tzinfo=tz)
    closes = opens + dt.timedelta(minutes=form.window_minutes)
    remind = None
    if form.remind_time is not None:
        remind = dt.datetime.combine(day, form.remind_time, tzinfo=tz)
        if remind < opens:
            remind += dt.timedelta(days=1)
    return opens, closes, remind


def rounds_open_due(*, now: dt.datetime | None = None) -> int:
    """Open today's round of every recurring form whose open time has come (account's local day) and tell its
    audience (oa_platform.collect.announce: a message with the link on the channel they follow on). Running it
    twice does nothing more: (form, opens_at) is unique. Returns the number of rounds opened."""
    now = now or timezone.now()
    opened = 0
    forms = Form.objects.exclude(repeat=Form.REPEAT_NONE).filter(open_time__isnull=False).select_related("account")
    for form in forms:
        day = now.astimezone(form.account.tzinfo).date()
        if form.repeat == Form.REPEAT_WEEKDAYS and str(day.weekday()) not in form.repeat_weekdays.split(","):
            continue
        opens, closes, remind = _local_slot(form, day)
        if opens > now or closes <= now or Round.objects.filter(form=form, opens_at=opens).exists():
            continue
        try:
            with transaction.atomic():
                round_open(form=form, opens_at=opens, closes_at=closes, remind_at=remind)
        except IntegrityError:  # another beat tick opened it meanwhile
            continue
        opened += 1
    # The rounds just opened (and any whose telling stopped half way) are told now, in chunks.
    announce.rounds_tell_due(now=now)
    return opened


_ROUND_COLUMNS = [f.attname for f in Round._meta.concrete_fields]
_QUESTION_COLUMNS = [f.attname for f in Question._meta.concrete_fields]
_SUBMISSION_COLUMNS = [f.attname for f in Submission._meta.concrete_fields]
_RESPONSE_COLUMNS = [f.attname for f in Response._meta.concrete_fields]
# The reads every submission makes, compiled once per process on PostgreSQL (oa_platform.compiled_queries: the
# ORM's SQL building cost more CPU than PostgreSQL's answer); the ORM elsewhere (markers of dates and UUIDs
# stay as they are in PostgreSQL's parameters only).
_current_round = CompiledQuery(
    lambda form_id, now: (
        Round.objects.filter(form_id=form_id, opens_at__lte=now)
        .order_by("-opens_at", "-id")
        .values_list(*_ROUND_COLUMNS)[:1]
    ),
    form_id=-730_101,
    now=dt.datetime(1901, 2, 3, 4, 5, 6, 730_101, tzinfo=dt.UTC),
)
_form_questions = CompiledQuery(
    lambda form_id: Question.objects.filter(form_id=form_id).values_list(*_QUESTION_COLUMNS),
    form_id=-730_102,
)
_submission_with_response = CompiledQuery(
    lambda client_id: (
        Submission.objects.filter(client_id=client_id)
        .order_by("pk")
        .values_list(*_SUBMISSION_COLUMNS, *(f"response__{name}" for name in _RESPONSE_COLUMNS))[:1]
    ),
    client_id=uuid.UUID(int=730_103),
)


def _compiled_reads() -> bool:
    return connections["default"].vendor == "postgresql"


def current_round(form: Form, now: dt.datetime | None = None) -> Round | None:
    """The round answers go to: the latest one that has opened."""
    now = now or timezone.now()
    if not _compiled_reads():
        return form.rounds.filter(opens_at__lte=now).order_by("-opens_at", "-id").first()
    row = _current_round.first(form_id=form.pk, now=now)
    if row is None:
        return None
    round_ = Round.from_db("default", _ROUND_COLUMNS, row)
    round_.form = form
    return round_


def form_questions(form: Form) -> list[Question]:
    """The form's questions in their order."""
    if not _compiled_reads():
        return list(form.questions.all())
    questions = [Question.from_db("default", _QUESTION_COLUMNS, row) for row in _form_questions.rows(form_id=form.pk)]
    for question in questions:
        question.form = form
    return questions


def _submission_seen(client_id: uuid.UUID) -> Submission | None:
    """The submission stored under ``client_id``, its response loaded with it."""
    if not _compiled_reads():
        return Submission.objects.filter(client_id=client_id).select_related("response").first()
    row = _submission_with_response.first(client_id=client_id)
    if row is None:
        return None
    submission = Submission.from_db("default", _SUBMISSION_COLUMNS, row[: len(_SUBMISSION_COLUMNS)])
    submission.response = Response.from_db("default", _RESPONSE_COLUMNS, row[len(_SUBMISSION_COLUMNS) :])
    return submission


# --- submissions  ---
@dataclass
class SubmitResult:
    response: Response
    status: str  # "created", "updated" (the person's earlier answers replaced) or "duplicate" (client id seen)


def _digest(answers) -> str:
    canonical = json.dumps(answers, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(submission: Submission, form: Form, digest: str) -> SubmitResult:
    if submission.response.form_id != form.pk:
        raise Conflict(
            _("This client id was used for another form."),
            code="client_id_reused",
            fields={"client_id": str(submission.client_id)},
        )
    if submission.digest != digest:
        raise Conflict(
            _("This client id was already used with other answers: the first submission stands."),
            code="client_id_reused",
            fields={"client_id": str(submission.client_id)},
        )
    return SubmitResult(response=submission.response, status="duplicate")


def _tally_upsert(round_id: int, counts: dict[tuple[int, str], int], *, only_if: str = "") -> tuple[str, list] | None:
    """The upsert adding ``counts`` ((question id, bucket) -> delta) to the round's tallies as (sql, params), None
    when nothing moves. Rows in a fixed order so that concurrent submissions lock them in the same order (no
    deadlock). ``only_if``: an SQL condition (trusted, from the code) the rows are added under."""
    rows = sorted((key, delta) for key, delta in counts.items() if delta)
    if not rows:
        return None
    qn = connections["default"].ops.quote_name
    table = qn(Tally._meta.db_table)
    values = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
    params = [p for (question_id, bucket), delta in rows for p in (round_id, question_id, bucket, delta)]
    source = f"VALUES {values}"
    if only_if:
        source = f"SELECT * FROM ({source}) AS v WHERE {only_if}"
    sql = (
        f"INSERT INTO {table} ({qn('round_id')}, {qn('question_id')}, {qn('bucket')}, {qn('count')}) "
        f"{source} ON CONFLICT ({qn('round_id')}, {qn('question_id')}, {qn('bucket')}) "
        f"DO UPDATE SET {qn('count')} = {table}.{qn('count')} + excluded.{qn('count')}"
    )
    return sql, params


def _tally_add(round_id: int, counts: dict[tuple[int, str], int]) -> None:
    """Add ``counts`` ((question id, bucket) -> delta) to the round's tallies: one upsert statement."""
    statement = _tally_upsert(round_id, counts)
    if statement is not None:
        with connections["default"].cursor() as cursor:
            cursor.execute(*statement)


def _bucket_counts(questions: list[Question], answers: dict, sign: int, into: dict, paths=area_path) -> None:
    for question in questions:
        for bucket in answer_buckets(question, answers.get(question.key), area_path=paths):
            into[(question.pk, bucket[:80])] = into.get((question.pk, bucket[:80]), 0) + sign


def response_submit(
    *,
    form: Form,
    citizen: Citizen,
    client_id: uuid.UUID | str,
    answers,
    channel: str = Response.CHANNEL_API,
    now: dt.datetime | None = None,
    citizen_created: bool = False,
) -> SubmitResult:
    """Store ``citizen``'s answers to the form's current round, once per ``client_id``.

    The same client id again: the stored response ("duplicate"), or a conflict when its answers differ (the
    first stands). A second submission of the same person in an open round replaces their answers
    ("updated"). Raises ValidationFailed naming each invalid answer, Conflict when no round is open (after
    closing: refused, or stored as late when the form accepts late answers). All or nothing; the tallies move
    by the difference, in the same transaction. ``citizen_created``: the caller created ``citizen`` in this
    transaction (nothing can name them yet: no follow, no staff membership, no personal link), which spares
    the audience and personal-link lookups."""
    now = now or timezone.now()
    try:
        client_id = uuid.UUID(str(client_id))
    except ValueError:
        raise ValidationFailed(_("Invalid client id."), fields={"client_id": _("Must be a UUID.")}) from None
    digest = _digest(answers)
    seen = _submission_seen(client_id)
    if seen is not None:
        return _replay(seen, form, digest)
    if not citizen_created:
        citizen = answering_as(account=form.account, citizen=citizen)
    questions = form_questions(form)
    paths = functools.cache(area_path)  # an area answer is looked up once, to check it and to count it
    clean, errors = answers_clean(questions, answers, area_path=paths)
    if errors:
        raise ValidationFailed(_("Some answers are invalid."), fields={"answers": errors})
    round_ = current_round(form, now)
    if round_ is None:
        raise Conflict(_("This form is not open yet."), code="round_closed")
    late = not round_.is_open(now)
    if late and form.late_policy == Form.LATE_REFUSE:
        raise Conflict(_("This round is closed."), code="round_closed")
    # One indexed lookup of this person (used only if their first answer is stored): never a re-scan.
    in_audience = audience_has(form, citizen, created=citizen_created)
    args = (form, round_, citizen, questions, clean, client_id, digest, channel, late, now, in_audience)
    try:
        with transaction.atomic():
            result = _store_first(*args, paths=paths) or _store(*args)
    except IntegrityError:
        # The same client id (or the same person's first answer) raced in: what won is the answer.
        seen = _submission_seen(client_id)
        if seen is not None:
            return _replay(seen, form, digest)
        with transaction.atomic():
            result = _store(*args)
    round_id = round_.pk
    transaction.on_commit(
        lambda: live.group_send_coalesced(
            live_group(round_id), {"type": "collect.changed", "round": round_id}, every_s=LIVE_PUSH_EVERY_S
        )
    )
    return result


_response_insert = CompiledInsert(Response)


def _new_response(form, round_, citizen, clean, channel, late, now, in_audience) -> Response:
    """A person's first response in the round, not yet stored."""
    return Response(
        form=form,
        round=round_,
        citizen=citizen,
        answers=clean,
        channel=channel,
        is_late=late,
        in_audience=in_audience,
        created_at=now,
        updated_at=now,
    )


def _store_first(form, round_, citizen, questions, clean, client_id, digest, channel, late, now, in_audience, paths):
    """The person's first answer in the round (the usual case) in one PostgreSQL statement, run in the caller's
    savepoint: the response (unless they answered the round already), its submission, the tallies and the
    round's counters, each write only when the response was stored. Returns the SubmitResult, or None when the
    person has a response in the round already (nothing written: ``_store`` replaces their answers) or where
    the statement cannot be composed (another database, signal listeners). Raises IntegrityError when the
    client id was stored meanwhile, as ``_store`` does."""
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return None
    response = _new_response(form, round_, citizen, clean, channel, late, now, in_audience)
    try:
        insert, params = _response_insert.statement(response)
    except NotSupportedError:
        return None
    qn = connection.ops.quote_name
    head, returning, tail = insert.rpartition(" RETURNING ")
    stored = "EXISTS (SELECT 1 FROM response)"
    received = Submission._meta.get_field("received_at").get_db_prep_save(now, connection)
    uuid_field = Submission._meta.get_field("client_id")
    parts = [
        ("response", (f"{head} ON CONFLICT DO NOTHING{returning}{tail}", params)),
        (
            "submission",
            (
                f"INSERT INTO {qn(Submission._meta.db_table)} ({qn('client_id')}, {qn('response_id')}, "
                f"{qn('digest')}, {qn('received_at')}) SELECT %s, {qn('id')}, %s, %s FROM response",
                [uuid_field.get_db_prep_save(client_id, connection), digest, received],
            ),
        ),
    ]
    counts: dict[tuple[int, str], int] = {}
    _bucket_counts(questions, clean, +1, counts, paths)
    tallies = _tally_upsert(round_.pk, counts, only_if=stored)
    if tallies is not None:
        parts.append(("tally", tallies))
    # Last: the round's row is the one every submission of the round updates.
    parts.append(
        (
            "counted",
            (
                f"UPDATE {qn(Round._meta.db_table)} SET {qn('responded')} = {qn('responded')} + 1, "
                f"{qn('responded_in_audience')} = {qn('responded_in_audience')} + %s WHERE {qn('id')} = %s "
                f"AND {stored}",
                [int(in_audience), round_.pk],
            ),
        )
    )
    (response_id,) = writes_together(parts, "(SELECT id FROM response)", savepoint=False)
    if response_id is None:
        return None
    return SubmitResult(response=_response_insert.stored(response, (response_id,)), status="created")


def _store(form, round_, citizen, questions, clean, client_id, digest, channel, late, now, in_audience) -> SubmitResult:
    counts: dict[tuple[int, str], int] = {}
    response = Response.objects.select_for_update().filter(round=round_, citizen=citizen).first()
    if response is None:
        response = _new_response(form, round_, citizen, clean, channel, late, now, in_audience)
        response.save(force_insert=True)
        status = "created"
    else:
        if late:
            raise Conflict(_("This round is closed: answers can no longer change."), code="round_closed")
        _bucket_counts(questions, response.answers, -1, counts)
        response.answers, response.updated_at, response.channel = clean, now, channel
        response.save(update_fields=["answers", "updated_at", "channel"])
        status = "updated"
    Submission.objects.create(client_id=client_id, response=response, digest=digest, received_at=now)
    _bucket_counts(questions, clean, +1, counts)
    _tally_add(round_.pk, counts)
    if status == "created":
        # Last: the round's row is the one every submission of the round updates, so hold its lock shortest.
        Round.objects.filter(pk=round_.pk).update(
            responded=F("responded") + 1, responded_in_audience=F("responded_in_audience") + int(in_audience)
        )
    return SubmitResult(response=response, status=status)


# --- reminders  ---
@transaction.atomic
def round_remind(*, form: Form, round_: Round, actor=None, base_url: str = "") -> int:
    """Remind the round's audience who have not answered yet ("remind them now"): the first chunk at once, the
    rest by a task (and the beat, should it stop). ``base_url``: the site's address as the staff member's
    request saw it, for the first chunk's links. A reminder still under way is not started again (conflict).
    Returns how many are being reminded."""
    round_ = Round.objects.select_for_update().get(pk=round_.pk)
    if not round_.is_open():
        raise Conflict(_("This round is closed."), code="round_closed")
    if round_.nudge_requested_at is not None and round_.nudged_at is None:
        raise Conflict(_("A reminder is already being sent."), code="reminder_under_way")
    waiting = non_responders(form=form, round_=round_).count()
    Round.objects.filter(pk=round_.pk).update(nudge_requested_at=timezone.now(), nudge_cursor=0, nudged_at=None)
    audit_record(action="form_remind", obj=form, account=form.account, actor=actor, changes={"reminded": waiting})
    _told, finished = announce.round_tell_chunk(round_id=round_.pk, kind=announce.NUDGE, base_url=base_url)
    if not finished:
        announce.tell_on_commit(round_, announce.NUDGE)
    return waiting


def rounds_remind_due(*, now: dt.datetime | None = None) -> int:
    """Send the reminders whose time has come (open rounds with a remind_at passed and no reminder yet), in
    chunks under the round's row lock, so that two beat ticks never remind anyone twice. Returns the rounds
    whose reminding finished."""
    return announce.rounds_tell_due(now=now)["reminded"]


# --- privacy  ---
def responses_erase_for_citizen(*, account: OfficialAccount, citizen: Citizen) -> int:
    """Delete ``citizen``'s responses to ``account``'s forms (and their chat dialogue), taking their answers
    out of the tallies. Returns the number of responses deleted."""
    responses = list(Response.objects.filter(form__account=account, citizen=citizen).select_related("round"))
    for response in responses:
        _response_uncount(response)
    Dialogue.objects.filter(account=account, citizen=citizen).delete()
    AnswerLink.objects.filter(Q(citizen=citizen) | Q(web_citizen=citizen), account=account).delete()
    Response.objects.filter(pk__in=[r.pk for r in responses]).delete()
    return len(responses)


def _response_uncount(response: Response) -> None:
    questions = list(Question.objects.filter(form_id=response.form_id))
    counts: dict[tuple[int, str], int] = {}
    _bucket_counts(questions, response.answers, -1, counts)
    _tally_add(response.round_id, counts)
    Round.objects.filter(pk=response.round_id).update(
        responded=F("responded") - 1,
        responded_in_audience=F("responded_in_audience") - int(response.in_audience),
    )


def responses_purge_expired(*, now: dt.datetime | None = None) -> int:
    """Delete responses older than their form's retention_days (answers and who gave them). The rounds' counts
    stay: they are statistics about no one. Returns the number deleted."""
    now = now or timezone.now()
    deleted = 0
    for form in Form.objects.filter(retention_days__isnull=False):
        cutoff = now - dt.timedelta(days=form.retention_days)
        expired = Response.objects.filter(form=form, created_at__lt=cutoff)
        count = expired.count()
        expired.delete()
        deleted += count
    return deleted
