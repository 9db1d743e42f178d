"""Reads of information collection, scoped to an account: forms, the counts of a round, who has not answered."""

from __future__ import annotations

from django.db import connections
from django.db.models import QuerySet
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext as _

from oa_platform.collect.answers import number_bin_label
from oa_platform.collect.models import Form, Round, Tally, option_label
from oa_platform.collect.services import current_round, non_responders
from oa_platform.compiled_queries import CompiledQuery
from oa_platform.models import Area, OfficialAccount


def forms_for_account(*, account: OfficialAccount) -> QuerySet[Form]:
    return Form.objects.filter(account=account)


_FORM_COLUMNS = [f.attname for f in Form._meta.concrete_fields]
# The API reads a form of the token's account on every call (each submission): compiled once per process.
_account_form = CompiledQuery(
    lambda account_id, pk: Form.objects.filter(account_id=account_id, pk=pk).values_list(*_FORM_COLUMNS)[:1],
    account_id=-730_104,
    pk=-730_105,
)


def form_of_account(*, account: OfficialAccount, pk: int) -> Form | None:
    """The account's form ``pk``, or None (another account's form does not exist for this one). Its
    ``account`` is the one given (reading it costs no query)."""
    if connections["default"].vendor == "postgresql" and type(pk) is int:
        row = _account_form.first(account_id=account.pk, pk=pk)
        form = None if row is None else Form.from_db("default", _FORM_COLUMNS, row)
    else:
        form = forms_for_account(account=account).filter(pk=pk).first()
    if form is not None:
        form.account = account
    return form


def form_of_account_or_404(*, account: OfficialAccount, pk: int) -> Form:
    """form_of_account for a page: Http404 when the account has no such form."""
    form = form_of_account(account=account, pk=pk)
    if form is None:
        raise Http404(_("Không tìm thấy biểu mẫu."))
    return form


def round_for(form: Form, round_id: int | None = None) -> Round | None:
    """The round asked for (of this form only), else the latest that has opened (else the first to come)."""
    rounds = form.rounds.all()
    if round_id is not None:
        return rounds.filter(pk=round_id).first()
    return current_round(form) or rounds.order_by("opens_at").first()


def _bucket_label(question, bucket: str, language: str, areas: dict) -> str:
    if question.type in ("choice", "multiple"):
        option = next((o for o in question.options if o["key"] == bucket), None)
        return option_label(option, language) if option else bucket
    if question.type == "area":
        return areas.get(bucket, bucket)
    if question.type == "number":
        return number_bin_label(question, bucket)
    if question.type == "yes_no":
        with translation.override(language):
            return _("Có") if bucket == "yes" else _("Không")
    return bucket


def round_results(*, form: Form, round_: Round, language: str = "vi") -> dict:
    """audience, responded and per question its answered count and its buckets (options in the form's order,
    numbers by bin, areas by province), read from the tallies: a few rows per question, whatever the number of
    responses."""
    counts: dict[int, dict[str, int]] = {}
    for question_id, bucket, count in Tally.objects.filter(round=round_).values_list("question_id", "bucket", "count"):
        counts.setdefault(question_id, {})[bucket] = count
    round_.refresh_from_db(fields=["responded", "responded_in_audience", "audience_count"])
    questions = list(form.questions.all())
    province_codes = {b for q in questions if q.type == "area" for b in counts.get(q.pk, {})}
    areas = dict(Area.objects.filter(code__in=province_codes).values_list("code", "name"))
    out = []
    for question in questions:
        tally = counts.get(question.pk, {})
        if question.type in ("choice", "multiple"):
            order = [o["key"] for o in question.options]
            order += sorted(k for k in tally if k and k not in order)
        elif question.type == "yes_no":
            order = ["yes", "no"]
        elif question.type == "number":
            order = sorted((k for k in tally if k), key=float)
        else:
            order = sorted(k for k in tally if k)
        out.append(
            {
                "key": question.key,
                "type": question.type,
                "label": question.label(language),
                "answered": tally.get("", 0),
                "counts": [
                    {"value": key, "label": _bucket_label(question, key, language, areas), "count": tally.get(key, 0)}
                    for key in order
                ],
            }
        )
    return {
        "form": form.pk,
        "round": {"id": round_.pk, "opens_at": round_.opens_at, "closes_at": round_.closes_at},
        "audience": round_.audience_count,
        "responded": round_.responded,
        **round_progress(round_),
        "questions": out,
    }


def round_progress(round_: Round) -> dict:
    """responded_in_audience (never above the audience: someone who joined it after the round opened is not in
    its count), responded_outside (answers from people outside the audience, e.g. a shared link) and the
    percent of the audience who answered (0 to 100)."""
    audience = round_.audience_count
    inside = min(round_.responded_in_audience, audience)
    return {
        "responded_in_audience": inside,
        "responded_outside": max(round_.responded - round_.responded_in_audience, 0),
        "percent": round(100 * inside / audience) if audience else 0,
    }


__all__ = ["forms_for_account", "round_for", "round_progress", "round_results", "non_responders"]
