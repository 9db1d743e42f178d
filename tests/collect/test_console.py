"""The console's collection pages: forms, live results (progress, SVG bars, who has not answered with masked
phones, remind them now), the export (manager only, formulas never run), the results socket."""

from __future__ import annotations

import csv
import io
import re
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.template.loader import get_template
from openpyxl import load_workbook

from oa_platform.collect.services import response_submit
from oa_platform.models import AuditLog, Citizen, Message
from oa_platform.routing import websocket_urlpatterns
from tests import factories
from tests.collect.builders import GOOD, make_form
from tests.oa_platform.test_csp import assert_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered(tenant_a):
    """A form of A with an audience of three followers, two of whom answered."""
    form = make_form(tenant_a.account, key="flood")
    people = [
        factories.make_follower(tenant_a.account, channel="generic", display_name=f"Người {i}", phone=f"091234567{i}")
        for i in range(3)
    ]
    form.rounds.update(audience_count=3)
    response_submit(form=form, citizen=people[0], client_id=uuid.uuid4(), answers=GOOD | {"name": "=HYPERLINK(1)"})
    response_submit(form=form, citizen=people[1], client_id=uuid.uuid4(), answers=GOOD | {"damage": "total"})
    return form, people


def test_editors_see_progress_bars_and_who_has_not_answered_with_masked_phones(client, tenant_a, answered):
    form, people = answered
    client.force_login(tenant_a.editor)
    page = client.get(f"/staff/{tenant_a.account.slug}/forms/{form.pk}/")
    assert_policy(page, "results page")
    html = page.content.decode()
    assert 'id="collect-responded">2<' in html and 'max="3"' in html
    assert html.count('<rect class="bar"') >= 3 + 2 + 3  # damage options, yes/no, needs options
    assert 'data-count="1"' in html
    assert "Người 2" in html and "0912345672" not in html and "+84912345672" not in html
    assert "******672" in html
    assert "Người 0" not in html  # answered
    assert "form-export" not in html and "?format=csv" not in html  # editors do not export
    listing = client.get(f"/staff/{tenant_a.account.slug}/forms/").content.decode()
    assert f"/staff/{tenant_a.account.slug}/forms/{form.pk}/" in listing and "2 / 3" in listing
    live = client.get(f"/staff/{tenant_a.account.slug}/forms/{form.pk}/live/").content.decode()
    assert "<html" not in live and 'id="collect-responded">2<' in live


def test_roles_without_forms_are_refused(client, tenant_a, answered):
    form, _people = answered
    client.force_login(tenant_a.broadcaster)
    assert client.get(f"/staff/{tenant_a.account.slug}/forms/{form.pk}/").status_code == 403
    client.force_login(tenant_a.editor)
    assert client.get(f"/staff/{tenant_a.account.slug}/forms/{form.pk}/export/").status_code == 403


def test_managers_export_csv_and_xlsx_with_formulas_defused(client, tenant_a, answered):
    form, _people = answered
    client.force_login(tenant_a.manager)
    url = f"/staff/{tenant_a.account.slug}/forms/{form.pk}/export/"
    response = client.get(url + "?format=csv")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 3 and rows[0][4] == "Họ tên"
    assert rows[1][4] == "'=HYPERLINK(1)"
    assert rows[1][2] == "+84******670".replace("+84", "'+84")  # a masked phone starts with +: defused too
    assert "Toàn bộ" in rows[2]
    book = load_workbook(io.BytesIO(client.get(url + "?format=xlsx").content))
    sheet = book.worksheets[0]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert len(values) == 3 and values[1][4] == "'=HYPERLINK(1)"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_remind_now_writes_to_each_person_who_has_not_answered(client, tenant_a, answered):
    form, people = answered
    client.force_login(tenant_a.editor)
    response = client.post(f"/staff/{tenant_a.account.slug}/forms/{form.pk}/remind/")
    assert response.status_code == 302
    reminders = Message.objects.filter(sender=Message.SENDER_SYSTEM)
    assert [m.conversation.citizen_id for m in reminders] == [people[2].pk]
    message = reminders.get()
    assert message.delivery_status == Message.DELIVERY_QUEUED  # the generic channel sends it
    assert f"/f/{tenant_a.account.slug}/{form.pk}/" in message.text and "biểu mẫu flood" in message.text
    assert AuditLog.objects.filter(action="form_remind", account=tenant_a.account).exists()


async def _socket(user, slug, pk):
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/staff/{slug}/forms/{pk}/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    return communicator


@pytest.mark.django_db(transaction=True)
async def test_the_results_socket_says_when_answers_arrive_and_refuses_others(tenant_a, tenant_b):
    form = await database_sync_to_async(make_form)(tenant_a.account)
    editor = await _socket(tenant_a.editor, tenant_a.account.slug, form.pk)

    def answer(n: int) -> None:
        citizen = factories.make_citizen(account=tenant_a.account, channel=Citizen.CHANNEL_GENERIC)
        for _ in range(n):
            response_submit(form=form, citizen=citizen, client_id=uuid.uuid4(), answers=GOOD)

    # a burst of answers gives one push (coalesced), not one per answer
    await database_sync_to_async(answer)(3)
    assert await editor.receive_json_from(timeout=3) == {"type": "results.changed"}
    assert await editor.receive_nothing(timeout=0.8)
    await editor.disconnect()
    # another agency's manager, and a broadcaster of A, are refused
    for user, slug in ((tenant_b.manager, tenant_a.account.slug), (tenant_a.broadcaster, tenant_a.account.slug)):
        refused = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/staff/{slug}/forms/{form.pk}/")
        refused.scope["user"] = user
        assert await refused.connect() == (False, 4403)


@pytest.mark.parametrize(
    "name", ["collect/console/forms.html", "collect/console/results.html", "collect/console/_results.html"]
)
def test_console_templates_have_no_inline_script_style_or_handler(name):
    source = open(get_template(name).origin.name, encoding="utf-8").read()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", source)
    assert "<style" not in source and not re.search(r"\sstyle\s*=", source)
    assert not re.search(r"\son[a-z]+\s*=", source)
