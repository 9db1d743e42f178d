"""Responses are personal data: erased with the citizen (and taken out of the counts), the other agency's
untouched; a form being answered in chat goes too."""

from __future__ import annotations

import uuid

import pytest

from oa_platform import erasure
from oa_platform.collect.models import Dialogue, Response, Round, Tally
from oa_platform.collect.services import response_submit
from oa_platform.models import Citizen
from tests import factories
from tests.collect.builders import GOOD, make_form

pytestmark = pytest.mark.django_db


def test_erasure_removes_the_citizens_responses_and_their_counts_only(tenant_a, tenant_b):
    # given: the citizen answered a form of A, another citizen too, and B has a response of its own
    form_a, form_b = make_form(tenant_a.account), make_form(tenant_b.account)
    mine = factories.make_citizen(account=tenant_a.account, external_id="x-1")
    other = factories.make_citizen(account=tenant_a.account, external_id="x-2")
    theirs = factories.make_citizen(account=tenant_b.account, external_id="x-1")
    response_submit(form=form_a, citizen=mine, client_id=uuid.uuid4(), answers=GOOD | {"damage": "total"})
    response_submit(form=form_a, citizen=other, client_id=uuid.uuid4(), answers=GOOD)
    response_submit(form=form_b, citizen=theirs, client_id=uuid.uuid4(), answers=GOOD)
    Dialogue.objects.create(account=tenant_a.account, citizen=mine, round=form_a.rounds.get())
    # when
    counts = erasure.citizen_erase(account=tenant_a.account, citizen=mine)
    # then
    assert counts["form_responses"] == 1
    assert not Response.objects.filter(citizen_id=mine.pk).exists() and not Dialogue.objects.exists()
    assert not Citizen.objects.filter(pk=mine.pk).exists()
    round_a = Round.objects.get(form=form_a)
    assert round_a.responded == 1
    damage = {t.bucket: t.count for t in Tally.objects.filter(round=round_a, question__key="damage")}
    assert damage == {"": 1, "partial": 1, "total": 0}
    assert Response.objects.filter(citizen=theirs).count() == 1
    assert Round.objects.get(form=form_b).responded == 1


def test_a_browser_identity_that_answered_another_agencys_form_keeps_its_row(tenant_a, tenant_b):
    citizen = factories.make_citizen()  # a web browser identity, shared across accounts
    form_b = make_form(tenant_b.account)
    response_submit(form=form_b, citizen=citizen, client_id=uuid.uuid4(), answers=GOOD)
    response_submit(form=make_form(tenant_a.account), citizen=citizen, client_id=uuid.uuid4(), answers=GOOD)
    erasure.citizen_erase(account=tenant_a.account, citizen=citizen)
    assert Citizen.objects.filter(pk=citizen.pk).exists()
    assert list(Response.objects.values_list("form_id", flat=True)) == [form_b.pk]
