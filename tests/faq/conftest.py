"""FAQ fixtures: a few entries in tenant A and B, and a clean per-process index cache for every test."""

from __future__ import annotations

import pytest

from faq import index
from faq.services import faq_entry_create


@pytest.fixture(autouse=True)
def _fresh_index_cache():
    index.index_forget()
    yield
    index.index_forget()


def add_faqs(account, rows):
    return [
        faq_entry_create(account=account, key=key, question=question, answer=answer, variants=variants)
        for key, question, answer, variants in rows
    ]


FAQ_A = [
    (
        "cccd-cap-lan-dau",
        "Thủ tục làm căn cước công dân lần đầu như thế nào?",
        "Mang giấy khai sinh đến công an phường.\nXem https://dichvucong.gov.vn",
        ["làm cccd lần đầu cần gì", "cấp căn cước lần đầu"],
    ),
    (
        "gplx-mat",
        "Mất giấy phép lái xe thì cấp lại thế nào?",
        "Nộp đơn đề nghị cấp lại tại Sở GTVT.",
        ["mất bằng lái xe làm lại ở đâu"],
    ),
    (
        "tiem-chung-tre-em",
        "Tiêm chủng cho trẻ em ở đâu?",
        "Trạm y tế phường tiêm chủng mở rộng vào ngày 15 hằng tháng.",
        ["cho bé đi tiêm vắc xin ở đâu"],
    ),
]

FAQ_B = [
    (
        "dang-ky-tam-tru",
        "Đăng ký tạm trú như thế nào?",
        "Khai báo trên VNeID hoặc tại công an xã.",
        ["khai báo tạm trú"],
    ),
]


@pytest.fixture
def faqs_a(tenant_a):
    return add_faqs(tenant_a.account, FAQ_A)


@pytest.fixture
def faqs_b(tenant_b):
    return add_faqs(tenant_b.account, FAQ_B)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Tenants create four staff users each; the default PBKDF2 makes that the slowest part of these tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
