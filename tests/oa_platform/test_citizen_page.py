"""The citizen page's server side (issue 14): area names and their order, the favicon, home cards, the empty
chat's starter questions, the hand-off status and withdrawn notices in the page's data."""

from __future__ import annotations

import json
from importlib import import_module

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone

from broadcasts.models import Delivery, Notice
from oa_platform.areas import AREAS_FILE
from oa_platform.collation import vietnamese_key
from oa_platform.models import Area, Conversation
from tests import factories
from tests.oa_platform.web_support import citizen_client, make_faq_account

pytestmark = pytest.mark.django_db


def boot_of(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="oa-boot" type="application/json">') + len(
        '<script id="oa-boot" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


# --- area names  ---
def test_vietnamese_key_orders_letters_tones_and_words():
    names = ["Đắk Lắk", "Cao Bằng", "Cà Mau", "An Giang", "Ăn", "Ân", "Da", "Dạ", "Dà", "Đà", "Ea", "Ô", "Ơ", "O"]
    assert sorted(names, key=vietnamese_key) == [
        "An Giang", "Ăn", "Ân", "Cà Mau", "Cao Bằng", "Da", "Dà", "Dạ", "Đà", "Đắk Lắk", "Ea", "O", "Ô", "Ơ",
    ]  # fmt: skip


def test_shipped_area_names_have_single_spaces():
    rows = json.loads(AREAS_FILE.read_text(encoding="utf-8"))["rows"]
    assert [name for _code, name, _level, _parent in rows if "  " in name or name != name.strip()] == []
    assert not Area.objects.filter(name__contains="  ").exists()  # the migrated test database


def test_migration_normalises_stored_names():
    # given rows stored before the fix
    Area.objects.filter(code="24163").update(name="Phường  Tân An", name_ascii="phuong  tan an")
    Area.objects.filter(code="12745").update(name=" Xã  Bắc Đông Quan ")
    migration = import_module("oa_platform.migrations.0012_area_names")
    # when
    migration.forwards(apps, None)
    # then
    assert Area.objects.get(code="24163").name == "Phường Tân An"
    assert Area.objects.get(code="24163").name_ascii == "phuong tan an"
    assert Area.objects.get(code="12745").name == "Xã Bắc Đông Quan"


def test_provinces_and_wards_sort_in_vietnamese_order():
    account = make_faq_account()
    client = Client()
    provinces = [a["name"] for a in client.get(f"/oa/{account.slug}/areas/").json()["areas"]]
    assert provinces.index("Đắk Lắk") == provinces.index("Cao Bằng") + 1  # not last (code point order)
    assert provinces.index("Cà Mau") < provinces.index("Cao Bằng") < provinces.index("Điện Biên")
    assert provinces == sorted(provinces, key=vietnamese_key)
    wards = [a["name"] for a in client.get(f"/oa/{account.slug}/areas/?parent=66").json()["areas"]]
    assert wards == sorted(wards, key=vietnamese_key)
    assert wards[0].startswith("Phường ") and "  " not in wards[0]
    page = client.get(f"/oa/{account.slug}/").content.decode()
    assert page.index(">Cao Bằng<") < page.index(">Đắk Lắk<") < page.index(">Gia Lai<")


# --- favicon and home  ---
def test_favicon_is_served_and_linked():
    response = Client().get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert response.content.startswith(b"<svg")
    home = Client().get("/").content.decode()
    assert 'rel="icon"' in home and "oa/favicon.svg" in home


def test_home_cards_have_a_description_and_an_open_button():
    factories.make_account("with-desc", name="Có mô tả", description="Giải đáp thủ tục hộ tịch.")
    factories.make_account("no-desc", name="Không mô tả", description="")
    html = Client().get("/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert "Giải đáp thủ tục hộ tịch." in html
    assert html.count('class="card-desc"') == 2  # an account without one gets a line saying what it offers
    assert html.count(">Mở</span>") == 2
    assert ">Theo dõi</span>" not in html  # no pill that reads "follow" but only opens the page


# --- the account page's data  ---
def test_empty_chat_gets_starter_questions_of_the_account():
    account = make_faq_account()
    other = make_faq_account("other-agency")
    other.faq_entries.update(question="Câu hỏi của cơ quan khác?")
    boot = boot_of(Client().get(f"/oa/{account.slug}/"))
    questions = set(account.faq_entries.values_list("question", flat=True))
    assert 2 <= len(boot["starters"]) <= 4
    assert set(boot["starters"]) <= questions


def test_page_tells_the_status_of_a_hand_off():
    account = make_faq_account()
    client, cid = citizen_client()
    assert boot_of(client.get(f"/oa/{account.slug}/"))["conversation"] == "bot"
    reply = client.post(f"/oa/{account.slug}/messages/", {"text": "gặp cán bộ"}, content_type="application/json")
    assert reply.status_code == 200 and reply.json()["reply"]["intent"] == "human"
    assert Conversation.objects.get(account=account).status == Conversation.STATUS_WAITING
    assert boot_of(client.get(f"/oa/{account.slug}/"))["conversation"] == "waiting"


def test_inbox_marks_withdrawn_notices():
    account = make_faq_account()
    client, cid = citizen_client()
    citizen = factories.make_citizen(external_id=cid, channel="web")
    now = timezone.now()

    def sent(title, **kw):
        notice = Notice.objects.create(
            account=account, category="general", title_vi=title, body_vi=title, started_at=now, **kw
        )
        Delivery.objects.create(
            notice=notice, citizen=citizen, channel="inapp", status=Delivery.STATUS_SENT, created_at=now
        )
        return notice

    plain = sent("Bình thường", status=Notice.STATUS_SENT)
    stopped = sent("Đã dừng", status=Notice.STATUS_CANCELLED)
    corrected = sent("Có huỷ", status=Notice.STATUS_SENT)
    sent("HỦY: Có huỷ", status=Notice.STATUS_SENT, kind=Notice.KIND_CANCEL, references=corrected)
    drafted = sent("Huỷ chưa gửi", status=Notice.STATUS_SENT)
    Notice.objects.create(
        account=account, category="general", title_vi="x", body_vi="x", kind=Notice.KIND_CANCEL, references=drafted
    )  # a cancel still in draft withdraws nothing
    notices = {n["id"]: n for n in client.get(f"/oa/{account.slug}/inbox/").json()["notices"]}
    assert notices[plain.pk]["withdrawn"] is False
    assert notices[stopped.pk]["withdrawn"] is True
    assert notices[corrected.pk]["withdrawn"] is True
    assert notices[drafted.pk]["withdrawn"] is False


def test_citizen_goes_back_to_the_bot_while_waiting():
    account = make_faq_account()
    other = make_faq_account("other-agency")
    client, cid = citizen_client()
    url = f"/oa/{account.slug}/handoff/withdraw/"
    # nothing to withdraw yet: a clear 409, nothing stored
    assert client.post(url, {}, content_type="application/json").status_code == 409
    client.post(f"/oa/{account.slug}/messages/", {"text": "gặp cán bộ"}, content_type="application/json")
    client.post(f"/oa/{other.slug}/messages/", {"text": "gặp cán bộ"}, content_type="application/json")
    # when
    response = client.post(url, {}, content_type="application/json")
    # then
    assert response.status_code == 200, response.content
    assert response.json()["conversation"] == {"status": "bot"}
    assert response.json()["message"]["sender"] == "system"
    assert Conversation.objects.get(account=account).status == Conversation.STATUS_BOT
    assert Conversation.objects.get(account=other).status == Conversation.STATUS_WAITING  # the other agency's stays
    answer = client.post(
        f"/oa/{account.slug}/messages/", {"text": "Đổi căn cước hết bao nhiêu tiền?"}, content_type="application/json"
    )
    assert answer.json()["reply"]["decision"] == "answer"  # the bot answers again
    # once staff took the conversation over, only staff hand it back
    client.post(f"/oa/{account.slug}/messages/", {"text": "gặp cán bộ"}, content_type="application/json")
    Conversation.objects.filter(account=account).update(status=Conversation.STATUS_OPEN)
    assert client.post(url, {}, content_type="application/json").status_code == 409
    assert Conversation.objects.get(account=account).status == Conversation.STATUS_OPEN
