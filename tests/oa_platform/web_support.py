"""Shared builders for the citizen-web tests (page, JSON endpoints, WebSocket, browser)."""

from __future__ import annotations

import pytest
from django.test import Client

from oa_platform import web_identity
from tests import factories

# A small FAQ set; the questions are ones a citizen would type, the answers are recognisable in assertions.
FAQS = [
    (
        "cccd-le-phi",
        "Lệ phí cấp đổi thẻ căn cước là bao nhiêu?",
        "Lệ phí cấp đổi thẻ căn cước là 50.000 đồng.",
        ["Đổi căn cước hết bao nhiêu tiền?", "Phí làm lại thẻ căn cước"],
    ),
    (
        "ho-chieu-noi-lam",
        "Làm hộ chiếu ở đâu?",
        "Bạn nộp hồ sơ hộ chiếu tại Phòng Quản lý xuất nhập cảnh hoặc trên Cổng dịch vụ công.",
        ["Nộp hồ sơ hộ chiếu phổ thông tại đâu?", "Cấp hộ chiếu ở cơ quan nào?"],
    ),
    (
        "dang-ky-xe",
        "Thủ tục đăng ký xe máy mới mua?",
        "Mang giấy tờ xe và căn cước đến công an xã để đăng ký xe máy.",
        ["Đăng ký biển số xe máy thế nào?"],
    ),
]


def make_faq_account(slug: str = "congan-demo", **kwargs):
    from faq.services import faq_entry_create

    account = factories.make_account(slug, **kwargs)
    for key, question, answer, variants in FAQS:
        faq_entry_create(account=account, key=key, question=question, answer=answer, variants=variants)
    return account


ANSWERS = {key: answer for key, _question, answer, _variants in FAQS}
# Short or off-topic messages; the matcher's tuning decides which of them give suggestions.
VAGUE = ("xe", "thẻ", "thủ tục", "hồ sơ", "làm ở đâu", "giá vàng hôm nay thế nào", "Thời tiết ở Paris ngày mai")


def vague_question(account):
    """A message the matcher answers with suggestions for ``account``, and its first suggestion."""
    from faq.services import faq_match

    for text in VAGUE:
        result = faq_match(account=account, text=text)
        if result.decision == "suggest" and result.suggestions:
            return text, result.suggestions[0]
    pytest.fail("no vague question gives suggestions with this FAQ set")


def areas_ensure() -> None:
    """Transactional tests flush every table, the shipped areas included; load them again when missing."""
    from oa_platform.areas import load_areas
    from oa_platform.models import Area

    if not Area.objects.filter(code="79").exists():
        load_areas(Area)


@pytest.fixture
def faq_account(db):
    return make_faq_account()


def citizen_client(cid: str | None = None) -> tuple[Client, str]:
    """A browser with its own signed ``oa_cid`` cookie (as the page would set) and CSRF checks on."""
    cid = cid or web_identity.new_cid()
    client = Client(enforce_csrf_checks=False)
    client.cookies[web_identity.COOKIE_NAME] = web_identity.signed_cookie_value(cid)
    return client, cid


def cookie_header(cid: str) -> bytes:
    return f"{web_identity.COOKIE_NAME}={web_identity.signed_cookie_value(cid)}".encode()
