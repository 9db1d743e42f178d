"""The personal link in a form's message: a Zalo follower (or a staff member) who opens it in a browser answers
as themselves, so they leave the "not answered" list and are not reminded; a tampered, another form's or another
account's link answers as the browser, as before; erasure takes the link away."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from oa_platform.collect import announce
from oa_platform.collect.link_tokens import link_token
from oa_platform.collect.models import AnswerLink, Response
from oa_platform.collect.services import non_responders, responses_erase_for_citizen
from oa_platform.models import Message
from tests import factories
from tests.collect.builders import GOOD, make_form

pytestmark = pytest.mark.django_db


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def told_link(citizen) -> str:
    text = Message.objects.get(conversation__citizen=citizen, sender=Message.SENDER_SYSTEM).text
    return re.search(r"/f/[^ ]+/p/[^ /]+/", text).group(0)


def test_a_zalo_follower_answering_on_the_web_page_leaves_the_waiting_list(client, tenant_a):
    # given: two Zalo followers told of the round, each with a personal link
    people = [factories.make_follower(tenant_a.account, channel="zalo") for _ in range(2)]
    form = make_form(tenant_a.account, key="flood")
    round_ = form.rounds.get()
    assert announce.rounds_tell_due()["announced"] == 1
    link = told_link(people[0])
    # when: the first opens it in a browser and answers on the page
    opened = client.get(link)
    assert opened.status_code == 302 and opened["Location"] == f"/f/{tenant_a.account.slug}/{form.pk}/"
    assert opened["Cache-Control"] == "no-store"
    answered = post(
        client, f"/f/{tenant_a.account.slug}/{form.pk}/responses/", {"client_id": str(uuid.uuid4()), "answers": GOOD}
    )
    assert answered.status_code == 201
    # then: the answer is theirs; only the other is waiting
    assert Response.objects.get().citizen == people[0]
    assert list(non_responders(form=form, round_=round_)) == [people[1]]


@pytest.mark.parametrize("bad", ["tampered", "other-form", "other-account"])
def test_a_bad_link_answers_as_the_browser(client, tenant_a, tenant_b, bad):
    person = factories.make_follower(tenant_a.account, channel="zalo")
    form = make_form(tenant_a.account, key="flood")
    other = make_form(tenant_a.account, key="other")
    slug, token = tenant_a.account.slug, link_token(form_id=form.pk, citizen_id=person.pk)
    if bad == "tampered":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    elif bad == "other-form":
        token = link_token(form_id=other.pk, citizen_id=person.pk)
    else:
        stranger = factories.make_follower(tenant_b.account, channel="zalo")
        token = link_token(form_id=form.pk, citizen_id=stranger.pk)
    assert client.get(f"/f/{slug}/{form.pk}/p/{token}/").status_code == 302
    assert not AnswerLink.objects.exists()
    post(client, f"/f/{slug}/{form.pk}/responses/", {"client_id": str(uuid.uuid4()), "answers": GOOD})
    assert Response.objects.get().citizen.account is None  # the browser's own identity


def test_another_accounts_slug_or_an_unknown_form_is_404(client, tenant_a, tenant_b):
    person = factories.make_follower(tenant_a.account, channel="zalo")
    form = make_form(tenant_a.account, key="flood")
    token = link_token(form_id=form.pk, citizen_id=person.pk)
    assert client.get(f"/f/{tenant_b.account.slug}/{form.pk}/p/{token}/").status_code == 404
    assert client.get(f"/f/{tenant_a.account.slug}/99999999999999999999/p/{token}/").status_code == 404
    assert not AnswerLink.objects.exists()


def test_erasing_the_person_takes_their_link_away(client, tenant_a):
    person = factories.make_follower(tenant_a.account, channel="zalo")
    form = make_form(tenant_a.account, key="flood")
    client.get(f"/f/{tenant_a.account.slug}/{form.pk}/p/{link_token(form_id=form.pk, citizen_id=person.pk)}/")
    assert AnswerLink.objects.filter(citizen=person).exists()
    responses_erase_for_citizen(account=tenant_a.account, citizen=person)
    assert not AnswerLink.objects.exists()
