"""The shipped decision (faq/data/calibration.json) on the shipped sample corpus: what a citizen meets.

None of these messages is a dev line; the decision is fitted on generated messages (faq.lab.fit) and the
coefficients file is what the fit writes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings

from faq.bench import build_matchers, load_corpus
from faq.calibration import CALIBRATION_PATH
from faq.intents import detect_intent
from faq.lab import fit

CORPUS = Path(settings.BASE_DIR) / "oa_platform" / "fixtures" / "faq_corpus.json"


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(CORPUS)


@pytest.fixture(scope="module")
def matchers(corpus):
    return build_matchers(corpus)  # the shipped calibration, as faq.index injects it


def test_a_near_verbatim_listed_question_is_answered(matchers):
    result = matchers["gov-services-en"].match("how much does an id card cost")
    assert (result.decision, result.faq) == ("answer", "id-fees")


def test_listed_questions_typed_as_listed_are_answered_by_their_entry(corpus, matchers):
    asked = answered = 0
    for account in corpus["accounts"]:
        m = matchers[account["slug"]]
        for entry in account["faqs"]:
            for text in (entry["question"], *entry.get("variants", ())):
                text = text.lower().rstrip("?？")
                if detect_intent(text, language=account["language"]) is not None:
                    continue
                result = m.match(text)
                asked += 1
                answered += result.decision == "answer" and result.faq == entry["key"]
    assert asked > 500 and answered >= 0.99 * asked


@pytest.mark.parametrize(
    ("slug", "text"),
    [
        ("congan-hcm", "giá vàng hôm nay thế nào"),  # "vàng" (gold) is not "vắng" (absent) of "tạm vắng"
        ("sogtvt-hn", "thời tiết hà nội mai thế nào"),
        ("congan-hcm", "tiêm vắc xin cúm ở đâu"),
        ("gov-services-en", "how do I renew my passport"),
    ],
)
def test_a_message_the_account_does_not_explain_is_not_answered(matchers, slug, text):
    assert matchers[slug].match(text).decision != "answer"


def test_the_health_department_answers_the_flu_question_the_police_cannot(matchers):
    result = matchers["soyte-dn"].match("tiêm vắc xin cúm ở đâu")
    assert (result.decision, result.faq) == ("answer", "tiem-cum")
    assert [s for s, m in matchers.items() if m.match("tiêm vắc xin cúm ở đâu").decision == "answer"] == ["soyte-dn"]


def test_the_shipped_coefficients_are_what_the_fit_writes(corpus):
    shipped = json.loads(CALIBRATION_PATH.read_text(encoding="utf-8"))
    # json round trip: the file holds what `fit.save` wrote
    assert json.loads(json.dumps(fit.fit(fit.training_lines(corpus)))) == shipped
