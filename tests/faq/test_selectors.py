"""faq.selectors.other_account_for: which other agency clearly covers a message this account cannot answer."""

from faq.selectors import other_account_for
from tests import factories
from tests.faq.conftest import add_faqs

HEALTH = [
    (
        "tiem-cum",
        "Tiêm vắc xin cúm ở đâu?",
        "Trung tâm y tế quận tiêm vắc xin cúm mỗi ngày trong tuần.",
        ["chỗ nào tiêm phòng cúm", "tiêm cúm cho người lớn"],
    ),
    ("bhyt-gia-han", "Gia hạn thẻ bảo hiểm y tế ở đâu?", "Tại bưu điện.", ["bhyt hết hạn"]),
]
POLICE = [
    ("tam-tru", "Đăng ký tạm trú như thế nào?", "Khai báo trên VNeID.", ["khai báo tạm trú"]),
    ("ho-chieu", "Làm hộ chiếu lần đầu ở đâu?", "Phòng xuất nhập cảnh.", ["xin cấp passport"]),
]


def test_a_question_of_another_agency_points_to_it(db):
    # given a police and a health account in Vietnamese, and an English one and an inactive one with the same FAQ
    police, health = factories.make_account("police-x"), factories.make_account("health-x")
    english = factories.make_account("desk-en", default_language="en")
    closed = factories.make_account("health-closed")
    closed.is_active = False
    closed.save(update_fields=["is_active"])
    add_faqs(police, POLICE)
    add_faqs(health, HEALTH)
    add_faqs(english, HEALTH)
    add_faqs(closed, HEALTH)
    # when the police is asked about flu vaccines, then the health department is the one that covers it
    assert other_account_for(account=police, text="tiêm vắc xin cúm ở đâu") == health
    # and a question the police answers itself, or nobody answers, points nowhere
    assert other_account_for(account=police, text="đăng ký tạm trú như thế nào") is None
    assert other_account_for(account=police, text="giá vàng hôm nay") is None
    assert other_account_for(account=health, text="tiêm vắc xin cúm ở đâu") is None
    assert other_account_for(account=police, text="") is None


def test_two_agencies_covering_it_is_not_clear(db):
    police, health, clinic = (factories.make_account(s) for s in ("police-y", "health-y", "clinic-y"))
    add_faqs(police, POLICE)
    add_faqs(health, HEALTH)
    add_faqs(clinic, HEALTH)
    assert other_account_for(account=police, text="tiêm vắc xin cúm ở đâu") is None
