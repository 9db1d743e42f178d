"""The results page's SVG bars: coordinates are plain numbers in every language (Vietnamese formats 340.5 as
"340,5", which SVG cannot read: the bars vanished and every count fell onto its label), and yes/no answers are
labelled in the page's language, not by their stored values."""

from __future__ import annotations

import re
import uuid

import pytest

from oa_platform.collect.services import response_submit
from tests import factories
from tests.collect.builders import GOOD, make_form

pytestmark = pytest.mark.django_db

NUMBER = re.compile(r"\d+(\.\d+)?")


def results_page(client, tenant, language: str) -> str:
    account = tenant.account
    form = make_form(account, key="flood")
    for i in range(3):
        answers = GOOD | {"injured": i == 0, "people": 3 + i}
        response_submit(form=form, citizen=factories.make_follower(account), client_id=uuid.uuid4(), answers=answers)
    client.force_login(tenant.editor)
    client.cookies["django_language"] = language
    return client.get(f"/staff/{account.slug}/forms/{form.pk}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()


@pytest.mark.parametrize("language", ["vi", "en", "zh-hans"])
def test_every_bar_coordinate_is_a_plain_number(client, tenant_a, language):
    html = results_page(client, tenant_a, language)
    svg = "".join(re.findall(r"<svg class=\"bars\".*?</svg>", html, flags=re.S))
    attributes = re.findall(r'\s(x|y|width|height)="([^"]*)"', svg)
    assert len(attributes) > 20  # the charts are there
    assert [value for _, value in attributes if not NUMBER.fullmatch(value)] == []
    # some bar is wider than nothing: a count of 2 out of 3 is drawn
    assert any(float(value) > 0 for name, value in attributes if name == "width")


@pytest.mark.parametrize(("language", "yes", "no"), [("vi", "Có", "Không"), ("en", "Yes", "No")])
def test_yes_no_bars_are_labelled_in_the_pages_language(client, tenant_a, language, yes, no):
    html = results_page(client, tenant_a, language)
    chart = re.search(r'data-question="injured".*?</svg>', html, flags=re.S).group(0)
    labels = re.findall(r'<text class="bar-label"[^>]*>([^<]*)</text>', chart)
    assert labels == [yes, no]


def test_number_bars_are_labelled_by_their_range(client, tenant_a):
    # people 3, 4 and 5 on a 1..20 question: ten bins 1.9 wide
    html = results_page(client, tenant_a, "en")
    chart = re.search(r'data-question="people".*?</svg>', html, flags=re.S).group(0)
    labels = re.findall(r'<text class="bar-label"[^>]*>([^<]*)</text>', chart)
    assert labels == ["2.9–4.8", "4.8–6.7"]
