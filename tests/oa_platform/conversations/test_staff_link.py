"""A staff member links their chat identity by themselves: a one-time code from the console, sent to the account
in chat on any channel ("liên kết …", "link …", "绑定 …" or the code alone), makes that identity the one staff
audiences reach them through; the bot confirms in the person's language. Wrong, expired, used and other
accounts' codes are refused with a clear answer; attempts are rate-limited by the one limiter."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
import time_machine

from oa_platform.collect.audience import audience_citizens
from oa_platform.collect.models import Dialogue, Form
from oa_platform.conversations.engine import chat_receive
from oa_platform.conversations.staff_link import (
    CITIZEN_ATTEMPTS,
    LinkAttempt,
    link_attempt_parse,
    staff_link_code_issue,
)
from oa_platform.models import AuditLog, Citizen, Membership, StaffLinkCode
from tests import factories
from tests.collect.builders import make_form

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("liên kết 12345678", LinkAttempt("12345678", True, "vi")),
        ("Liên Kết: 1234 5678", LinkAttempt("12345678", True, "vi")),
        ("lien ket 1234-5678", LinkAttempt("12345678", True, "vi")),
        ("LINK 12345678", LinkAttempt("12345678", True, "en")),
        ("绑定 12345678", LinkAttempt("12345678", True, "zh-hans")),
        ("绑定12345678。", LinkAttempt("12345678", True, "zh-hans")),
        ("  12345678 ", LinkAttempt("12345678", False, None)),
        ("0912345678", None),  # a phone
        ("1234567", None),
        ("link abc", None),
        ("liên kết tài khoản giúp tôi", None),
        ("tôi có 12345678 đồng", None),
    ],
)
def test_a_link_message_is_recognised_in_three_languages(text, expected):
    assert link_attempt_parse(text) == expected


def membership_of(user, account) -> Membership:
    return Membership.objects.get(user=user, account=account)


def say(account, citizen, text):
    return chat_receive(account=account, citizen=citizen, text=text).payload


CHANNELS = ["web", "zalo", "wechat", "generic"]


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_code_sent_in_chat_links_that_identity_and_the_staff_audience_reaches_it(tenant_a, channel):
    # given: an editor with no chat identity, and a code from the console
    a = tenant_a.account
    citizen = factories.make_citizen_of(a, channel=channel)
    membership = membership_of(tenant_a.editor, a)
    code, _expires = staff_link_code_issue(membership=membership)
    # when: they send it from their chat identity
    reply = say(a, citizen, f"liên kết {code}")
    # then: linked, confirmed, audited; the code is spent; a staff form's audience holds that identity
    membership.refresh_from_db()
    assert membership.test_citizen_id == citizen.pk
    assert reply["intent"] == "staff_link" and "Đã liên kết" in reply["text"]
    assert not StaffLinkCode.objects.filter(membership=membership).exists()
    assert AuditLog.objects.filter(action="staff_chat_link", account=a).count() == 1
    form = make_form(a, audience={"kind": Form.AUDIENCE_STAFF})
    assert list(audience_citizens(form)) == [citizen]
    # and the same code again is refused
    again = say(a, factories.make_citizen_of(a, channel=channel), f"liên kết {code}")
    assert "không đúng hoặc đã hết hạn" in again["text"]


@pytest.mark.parametrize(
    ("keyword", "language", "linked", "refused"),
    [
        ("liên kết", "vi", "Đã liên kết", "không đúng hoặc đã hết hạn"),
        ("link", "en", "Linked", "wrong or has expired"),
        ("绑定", "zh-hans", "已绑定", "错误或已过期"),
    ],
)
def test_the_bot_answers_in_the_persons_language(tenant_a, keyword, language, linked, refused):
    a = tenant_a.account
    citizen = factories.make_citizen_of(a, channel="zalo")
    code, _expires = staff_link_code_issue(membership=membership_of(tenant_a.manager, a))
    wrong = "00000000" if code != "00000000" else "11111111"
    assert refused in say(a, citizen, f"{keyword} {wrong}")["text"]
    assert linked in say(a, citizen, f"{keyword} {code}")["text"]


def test_the_code_alone_links_and_a_number_alone_is_no_code_when_none_waits(tenant_a):
    a = tenant_a.account
    citizen = factories.make_citizen_of(a, channel="generic")
    # a number alone, no code waiting: the chat goes on as usual
    assert say(a, citizen, "12345678").get("intent") != "staff_link"
    code, _expires = staff_link_code_issue(membership=membership_of(tenant_a.approver, a))
    reply = say(a, citizen, f"{code[:4]} {code[4:]}")
    assert reply["intent"] == "staff_link"
    assert membership_of(tenant_a.approver, a).test_citizen_id == citizen.pk


def test_an_expired_code_is_refused(tenant_a):
    a = tenant_a.account
    citizen = factories.make_citizen_of(a, channel="zalo")
    membership = membership_of(tenant_a.editor, a)
    with time_machine.travel(NOW, tick=False):
        code, expires = staff_link_code_issue(membership=membership)
    assert expires == NOW + dt.timedelta(minutes=30)
    with time_machine.travel(NOW + dt.timedelta(minutes=29), tick=False):
        other, _ = staff_link_code_issue(membership=membership_of(tenant_a.manager, a))
    with time_machine.travel(NOW + dt.timedelta(minutes=31), tick=False):
        reply = say(a, citizen, f"link {code}")
        assert "wrong or has expired" in reply["text"]
        membership.refresh_from_db()
        assert membership.test_citizen_id is None
        # the other code, still within its 30 minutes, works
        assert "Linked" in say(a, citizen, f"link {other}")["text"]


def test_a_code_of_one_account_never_links_on_another(tenant_a, tenant_b):
    # given: a code of A's editor; someone on B's Zalo who learnt it
    code, _expires = staff_link_code_issue(membership=membership_of(tenant_a.editor, tenant_a.account))
    on_b = factories.make_citizen_of(tenant_b.account, channel="zalo")
    # when: it is sent to B
    reply = say(tenant_b.account, on_b, f"liên kết {code}")
    # then: refused there, nobody of B or A linked to B's identity
    assert "không đúng hoặc đã hết hạn" in reply["text"]
    assert not Membership.objects.filter(test_citizen=on_b).exists()
    # and the code still links on A
    on_a = factories.make_citizen_of(tenant_a.account, channel="zalo")
    assert "Đã liên kết" in say(tenant_a.account, on_a, f"liên kết {code}")["text"]
    assert membership_of(tenant_a.editor, tenant_a.account).test_citizen_id == on_a.pk


def test_guessing_is_rate_limited_even_with_the_right_code_next(tenant_a):
    a = tenant_a.account
    citizen = factories.make_citizen_of(a, channel="wechat")
    code, _expires = staff_link_code_issue(membership=membership_of(tenant_a.editor, a))
    wrongs = [f"{n:08d}" for n in range(CITIZEN_ATTEMPTS + 1) if f"{n:08d}" != code][:CITIZEN_ATTEMPTS]
    for wrong in wrongs:
        assert "không đúng" in say(a, citizen, f"liên kết {wrong}")["text"]
    reply = say(a, citizen, f"liên kết {code}")
    assert "quá nhiều lần" in reply["text"] and re.search(r"\d+ phút", reply["text"])
    assert membership_of(tenant_a.editor, a).test_citizen_id is None
    # another identity (the real staff member's phone) is not blocked by this one's guesses
    mine = factories.make_citizen_of(a, channel="wechat")
    assert "Đã liên kết" in say(a, mine, f"liên kết {code}")["text"]


def test_the_code_is_stored_only_as_an_hmac_and_a_new_one_replaces_the_old(tenant_a):
    membership = membership_of(tenant_a.editor, tenant_a.account)
    first, _ = staff_link_code_issue(membership=membership)
    second, _ = staff_link_code_issue(membership=membership)
    stored = StaffLinkCode.objects.get(membership=membership)
    assert len(stored.code_hash) == 64 and first not in stored.code_hash and second not in stored.code_hash
    citizen = factories.make_citizen_of(tenant_a.account, channel="zalo")
    if first != second:
        assert "không đúng" in say(tenant_a.account, citizen, f"liên kết {first}")["text"]
    assert "Đã liên kết" in say(tenant_a.account, citizen, f"liên kết {second}")["text"]


def test_one_identity_is_one_staff_member(tenant_a):
    a = tenant_a.account
    citizen = factories.make_citizen_of(a, channel="zalo")
    for user in (tenant_a.editor, tenant_a.manager):
        code, _ = staff_link_code_issue(membership=membership_of(user, a))
        say(a, citizen, f"link {code}")
    assert membership_of(tenant_a.manager, a).test_citizen_id == citizen.pk
    assert membership_of(tenant_a.editor, a).test_citizen_id is None


def test_a_link_message_during_a_form_dialogue_links_and_a_code_alone_answers_the_form(tenant_a):
    # given: a follower answering a number question in chat, and a code waiting
    a = tenant_a.account
    citizen = factories.make_follower(a, channel="generic")
    questions = [{"key": "amount", "type": "number", "label_vi": "Số tiền", "required": True}]
    form = make_form(a, questions=questions)
    Dialogue.objects.create(account=a, citizen=citizen, round=form.rounds.get())
    code, _ = staff_link_code_issue(membership=membership_of(tenant_a.editor, a))
    # when: the code alone: an answer to the form (eight digits are a number)
    reply = say(a, citizen, code)
    assert reply.get("intent") != "staff_link"
    assert membership_of(tenant_a.editor, a).test_citizen_id is None
    # when: with the keyword: a link
    code, _ = staff_link_code_issue(membership=membership_of(tenant_a.editor, a))
    assert say(a, citizen, f"liên kết {code}")["intent"] == "staff_link"
    assert membership_of(tenant_a.editor, a).test_citizen_id == citizen.pk


def test_the_console_page_gives_a_code_shows_the_link_and_unlinks(client, tenant_a):
    a = tenant_a.account
    client.force_login(tenant_a.broadcaster)  # any member, whatever their role
    url = f"/staff/{a.slug}/me/chat/"
    page = client.get(url).content.decode()
    assert "Chưa liên kết" in page and 'value="code"' in page
    issued = client.post(url, {"action": "code"})
    html = issued.content.decode()
    code = re.search(r"<code lang=\"vi\">liên kết (\d{8})</code>", html).group(1)
    assert f"{code[:4]} {code[4:]}" in html and "绑定 " in html and ">link " in html
    assert "no-store" in issued["Cache-Control"]
    assert code not in StaffLinkCode.objects.get().code_hash
    citizen = factories.make_citizen_of(a, channel="zalo")
    chat_receive(account=a, citizen=citizen, text=f"liên kết {code}")
    page = client.get(url).content.decode()
    assert "Đã liên kết một tài khoản chat qua kênh" in page
    client.post(url, {"action": "unlink"})
    assert membership_of(tenant_a.broadcaster, a).test_citizen_id is None


def test_the_schedule_page_points_staff_without_an_identity_to_the_link_page(client, tenant_a):
    form = make_form(tenant_a.account, audience={"kind": Form.AUDIENCE_STAFF})
    client.force_login(tenant_a.editor)
    html = client.get(f"/staff/{tenant_a.account.slug}/forms/{form.pk}/schedule/").content.decode()
    assert 'id="staff-missing"' in html and f'href="/staff/{tenant_a.account.slug}/me/chat/"' in html


def test_web_page_identity_links_too(tenant_a):
    a = tenant_a.account
    browser = factories.make_citizen(f"browser-{uuid.uuid4()}", channel=Citizen.CHANNEL_WEB)
    code, _ = staff_link_code_issue(membership=membership_of(tenant_a.editor, a))
    assert "Đã liên kết" in say(a, browser, code)["text"]
    assert membership_of(tenant_a.editor, a).test_citizen_id == browser.pk
