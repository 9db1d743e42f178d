"""Beyond every anchor: a message out of scope for this account but answered by another active account of the
platform in the same language gets a fallback that names that account and links to its page, and the
unanswered-question log records it as "belongs to another agency".

Accounts from the shipped sample corpus: sogtvt-hn (Hà Nội transport), soyte-dn (Đà Nẵng health),
gov-services-en (English city desk).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from faq.models import UnansweredQuestion
from faq.services import faq_match
from oa_platform.conversations.engine import chat_receive
from oa_platform.models import Membership, OfficialAccount
from tests import factories

pytestmark = pytest.mark.django_db
CORPUS = Path(settings.BASE_DIR) / "oa_platform" / "fixtures" / "faq_corpus.json"
FLU_PRICE = "Giá tiêm vắc xin cúm"  # a health question (a variant in soyte-dn's FAQ)


@pytest.fixture
def corpus(db):
    call_command("import_faqs", str(CORPUS), verbosity=0)
    return {a.slug: a for a in OfficialAccount.objects.all()}


def ask(account, text, language="vi"):
    citizen = factories.make_citizen(language=language)
    return chat_receive(account=account, citizen=citizen, text=text).payload


def test_a_health_question_asked_of_transport_points_to_the_health_department(corpus):
    transport, health = corpus["sogtvt-hn"], corpus["soyte-dn"]
    # precondition: transport has no answer, the health department has one
    assert faq_match(account=transport, text=FLU_PRICE).decision == "fallback"
    assert faq_match(account=health, text=FLU_PRICE).decision == "answer"
    # when
    reply = ask(transport, FLU_PRICE)
    # then: the fallback names the account that handles it and links to its page
    assert reply["decision"] == "fallback" and reply["faq"] is None
    assert health.name in reply["text"] and "/oa/soyte-dn/" in reply["text"]
    assert reply["referral"] == {"account": "soyte-dn", "name": health.name, "url": "/oa/soyte-dn/"}
    # and the review queue of transport records it as belonging to another agency
    item = UnansweredQuestion.objects.get(account=transport)
    assert (item.decision, item.referred_to, item.sample_text) == ("other_agency", health, FLU_PRICE)
    assert not UnansweredQuestion.objects.filter(account=health).exists()


def test_the_issues_example_a_flu_question_asked_of_the_police_points_to_the_health_department(corpus):
    police, health = corpus["congan-hcm"], corpus["soyte-dn"]
    reply = ask(police, "tiêm vắc xin cúm ở đâu")
    assert reply["decision"] == "fallback"
    assert reply["referral"] == {"account": "soyte-dn", "name": health.name, "url": "/oa/soyte-dn/"}
    item = UnansweredQuestion.objects.get(account=police)
    assert (item.decision, item.referred_to) == ("other_agency", health)


def test_the_referral_is_in_the_citizens_language(corpus):
    reply = ask(corpus["sogtvt-hn"], FLU_PRICE, language="en")
    assert (
        reply["text"] == f"This question is handled by {corpus['soyte-dn'].name}. Please ask them here: /oa/soyte-dn/"
    )


def test_gibberish_is_never_referred(corpus):
    reply = ask(corpus["sogtvt-hn"], "qwxz blorp zzkq")
    assert reply["decision"] == "fallback" and "referral" not in reply
    assert UnansweredQuestion.objects.get(account=corpus["sogtvt-hn"]).referred_to is None


def test_an_inactive_account_is_not_referred_to(corpus):
    health = corpus["soyte-dn"]
    health.is_active = False
    health.save(update_fields=["is_active"])
    reply = ask(corpus["sogtvt-hn"], FLU_PRICE)
    assert "referral" not in reply and health.name not in reply["text"]
    assert UnansweredQuestion.objects.get(account=corpus["sogtvt-hn"]).decision == "fallback"


def test_only_accounts_of_the_same_language_are_asked(corpus):
    # given: an English question the English desk answers, asked of a Vietnamese account
    question = "I lost my ID card. How do I get a replacement?"
    transport, english = corpus["sogtvt-hn"], corpus["gov-services-en"]
    assert faq_match(account=transport, text=question).decision == "fallback"
    assert faq_match(account=english, text=question).decision == "answer"
    # when / then: the Vietnamese account does not point to an account of another language
    reply = ask(transport, question)
    assert "referral" not in reply and english.name not in reply["text"]


def test_a_suggestion_is_not_a_referral(corpus):
    # only a fallback asks the other accounts: a message the account half-knows gets its own suggestions
    police = corpus["congan-hcm"]
    text = "thẻ"
    assert faq_match(account=police, text=text).decision == "suggest"
    reply = ask(police, text)
    assert reply["decision"] == "suggest" and "referral" not in reply


def test_the_admin_lists_and_filters_questions_of_another_agency(client, corpus):
    # given: one referred and one plain fallback in transport's queue
    transport = corpus["sogtvt-hn"]
    ask(transport, FLU_PRICE)
    ask(transport, "qwxz blorp zzkq")
    editor = factories.make_staff(transport, Membership.ROLE_EDITOR)
    client.force_login(editor)
    url = reverse("admin:faq_unansweredquestion_changelist")
    # when / then: the filter by decision shows only the referred one, with the account it belongs to
    page = client.get(url, {"decision__exact": "other_agency"}).content.decode()
    assert FLU_PRICE in page and corpus["soyte-dn"].name in page and "qwxz blorp" not in page
    assert "thuộc cơ quan khác" in client.get(url).content.decode()  # "belongs to another agency", translated


def test_the_api_schema_describes_the_referral(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    reply = schema["components"]["schemas"]["ReplyOut"]["properties"]
    assert "referral" in reply
    assert set(schema["components"]["schemas"]["ReferralOut"]["properties"]) == {"account", "name", "url"}


def test_the_chat_api_returns_the_referral(api_client, corpus):
    token = factories.make_token(corpus["sogtvt-hn"])
    response = api_client.post(
        "/api/v1/accounts/sogtvt-hn/messages/",
        {"citizen_id": "c-ref", "text": FLU_PRICE},
        format="json",
        HTTP_AUTHORIZATION=f"Token {token}",
    )
    reply = response.json()["reply"]
    assert (reply["decision"], reply["referral"]["url"]) == ("fallback", "/oa/soyte-dn/")
    assert reply["text"].startswith("Câu hỏi này thuộc phạm vi của Sở Y tế thành phố Đà Nẵng.")
