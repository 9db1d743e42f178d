import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import translation
from openpyxl import Workbook

from broadcasts.personal import dispatch, lists, recipients, rowstore, services
from broadcasts.personal.models import ListRow, Notification, PersonalSettings, RecipientList
from broadcasts.personal.tasks import send_due
from broadcasts.services import Actor
from oa_platform.errors import Conflict, Forbidden, ValidationFailed
from oa_platform.phones import InvalidPhone, normalize_phone
from tests.factories import set_quiet_hours
from tests.fakes.fake_provider import FakeProvider
from tests.personal.conftest import approved_template, provider, web_person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """The messages are checked in English (outside a request the site's default language would apply)."""
    with translation.override("en"):
        yield


HEADER = "phone,name,date,place\n"


def rows(text: str) -> list[list[str]]:
    return list(recipients.read_table(io.BytesIO(text.encode("utf-8")), "list.csv"))


# --- reading  ---
def test_csv_with_and_without_bom():
    plain = list(recipients.read_table(io.BytesIO("phone,tên\n0912,Ân\n".encode()), "a.csv"))
    bom = list(recipients.read_table(io.BytesIO("\ufeffphone,tên\n0912,Ân\n".encode()), "a.csv"))
    assert plain == bom == [["phone", "tên"], ["0912", "Ân"]]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty"),
        ("phone,tên\n0912,Lê Văn Ân\n".encode("cp1258"), "not UTF-8 (it may be Windows-1258"),
        ("phone,name\n".encode("utf-16"), "UTF-16"),
        (b"PK\x03\x04garbage", "not a valid XLSX"),
    ],
)
def test_files_refused_as_a_whole_say_why(raw, message):
    with pytest.raises(recipients.FileRefused, match=message.replace("(", r"\(")):
        list(recipients.read_table(io.BytesIO(raw), "list.csv"))


def test_xlsx_is_read_row_by_row():
    book = Workbook()
    sheet = book.active
    sheet.append(["phone", "name"])
    sheet.append([84912345678, "An"])
    sheet.append(["0912345679", None])
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    assert list(recipients.read_table(data, "list.xlsx")) == [
        ["phone", "name"],
        ["84912345678", "An"],
        ["0912345679", ""],
    ]


def test_header_needs_a_recipient_and_every_placeholder_and_nothing_unknown():
    assert recipients.check_header(["Phone", " name "], ["name"]).recipient == "phone"
    for header, message in (
        (["name"], "phone or a citizen_id"),
        (["phone", "name", "note"], "Unknown column: note"),
        (["phone"], "No column for the placeholder: name"),
        (["phone", "name", "name"], "appears twice"),
    ):
        with pytest.raises(recipients.FileRefused, match=message):
            recipients.check_header(header, ["name"])


def test_row_problems():
    header = recipients.check_header(["phone", "name"], ["name"])
    seen: set[str] = set()

    def check(phone, name, vietnam_only=True):
        return recipients.check_row([phone, name], header, placeholders=["name"], vietnam_only=vietnam_only, seen=seen)

    assert check("0912345678", "An").phone == "+84912345678"
    assert check("+84 912 345 678", "An").problems == ["duplicate"]
    assert check("12", "An").problems == ["invalid_phone"]
    assert check("+14155550100", "An").problems == ["foreign_phone"]
    assert check("+14155550100", "An", vietnam_only=False).problems == []
    assert check("0912345670", "").problems == ["missing_value:name"]
    assert check("0912345671", "x" * 10_000).problems == ["too_long:name"]
    assert check("", "An").problems == ["no_recipient"]


def test_cells_that_look_like_formulas_are_prefixed_in_exports():
    assert [recipients.safe_cell(v) for v in ("=1+1", "+84", "-2", "@SUM(A1)", "An")] == [
        "'=1+1",
        "'+84",
        "'-2",
        "'@SUM(A1)",
        "An",
    ]


# --- upload, report, approval, sending  ---
def upload(tenant, text: str, name: str = "list.csv"):
    return lists.list_upload(
        account=tenant.account,
        actor=Actor(user=tenant.broadcaster),
        template_key="vaccination",
        fileobj=SimpleUploadedFile(name, text.encode("utf-8")),
        file_name=name,
        max_bytes=1024 * 1024,
    )


def test_the_report_counts_problems_plans_channels_and_estimates_the_cost(tenant_a):
    approved_template(tenant_a, sms_text="Lich tiem ((date)) tai ((place))")
    web_person(tenant_a.account, phone="+84912345678")
    with FakeProvider() as sms:
        provider(tenant_a, "sms", sms.url)
        checked = upload(
            tenant_a,
            HEADER
            + "0912345678,An,05/12,Trạm 1\n"  # in-app: a web-page follower
            + "0912345679,<script>x</script>,05/12,Trạm 1\n"  # SMS
            + "0912345679,Bình,05/12,Trạm 1\n"  # duplicate
            + "12,Chi,05/12,Trạm 1\n"  # invalid phone
            + "+14155550100,Dũng,05/12,Trạm 1\n"  # foreign
            + "0912345677,,05/12,Trạm 1\n"  # missing value
            + f"0912345676,{'x' * 10_000},05/12,Trạm 1\n"  # too long
            + "\n"
            + '0912345675,=HYPERLINK("http://x"),05/12,Trạm 1\n',  # a formula: stored as text
        )
    assert (checked.rows_total, checked.rows_invalid) == (8, 5)
    assert checked.problems == {
        "duplicate": 1,
        "invalid_phone": 1,
        "foreign_phone": 1,
        "missing_value": 1,
        "too_long": 1,
    }
    assert checked.planned == {"inapp": 1, "sms": 2}
    assert checked.estimated_cost == 2 * 800
    assert list(checked.rows.values_list("number", flat=True)) == [2, 3, 4, 5, 6, 7, 8, 10]
    preview = lists.list_preview(recipient_list=checked)
    assert [p["channel"] for p in preview] == ["inapp", "sms", "sms"]
    assert preview[0]["text"].startswith("Chào An")
    assert preview[1]["text"] == "Lich tiem 05/12 tai Trạm 1"


def test_a_refused_file_stores_nothing(tenant_a):
    approved_template(tenant_a)
    for text in ("", "phone,name,date,place,note\n0912345678,a,b,c,d\n", "phone,name,date,place\n"):
        with pytest.raises(ValidationFailed):
            upload(tenant_a, text)
    assert not RecipientList.objects.exists() and not ListRow.objects.exists()
    with pytest.raises(ValidationFailed, match="larger than"):
        lists.list_upload(
            account=tenant_a.account,
            actor=Actor(user=tenant_a.broadcaster),
            template_key="vaccination",
            fileobj=SimpleUploadedFile("big.csv", b"x" * 2000),
            file_name="big.csv",
            max_bytes=1000,
        )


def test_nothing_is_sent_while_a_row_is_invalid_unless_skipped_then_another_person_approves(
    tenant_a, django_capture_on_commit_callbacks
):
    approved_template(tenant_a)
    web_person(tenant_a.account, phone="+84912345678", external_id="w1")
    web_person(tenant_a.account, phone="+84912345679", external_id="w2")
    checked = upload(tenant_a, HEADER + "0912345678,An,05/12,T1\n0912345679,Bình,06/12,T2\n12,Chi,07/12,T3\n")
    author, approver = Actor(user=tenant_a.broadcaster), Actor(user=tenant_a.approver)
    with pytest.raises(Conflict):
        lists.list_submit(recipient_list=checked, actor=author)
    lists.list_submit(recipient_list=checked, actor=author, skip_invalid=True)
    with pytest.raises(Forbidden):
        lists.list_approve(recipient_list=checked, actor=author)
    assert not Notification.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        lists.list_approve(recipient_list=checked, actor=approver)
    checked.refresh_from_db()
    assert checked.status == "sent"
    progress = lists.list_progress(recipient_list=checked)
    assert progress == {"status": {"sent": 2}, "channel": {"inapp": 2}, "cost": 0, "total": 2}
    bodies = sorted(Notification.objects.values_list("body", flat=True))
    assert bodies[0].startswith("Chào An, lịch tiêm của ông/bà: 05/12 tại T1")


def test_cancel_stops_the_queued_ones(tenant_a, django_capture_on_commit_callbacks):
    approved_template(tenant_a)
    checked = upload(tenant_a, HEADER + "0912345678,An,05/12,T1\n0912345679,Bình,06/12,T2\n")
    lists.list_submit(recipient_list=checked, actor=Actor(user=tenant_a.broadcaster))
    lists.list_approve(recipient_list=checked, actor=Actor(user=tenant_a.approver))  # on-commit not run: queued
    lists.list_cancel(recipient_list=checked, actor=Actor(user=tenant_a.broadcaster))
    assert set(Notification.objects.values_list("status", flat=True)) == {"cancelled"}
    first, last = Notification.objects.order_by("id").values_list("id", flat=True)
    assert dispatch.send_list_chunk(checked.pk, first, last) == {"list": checked.pk, "sent": 0, "failed": 0}
    assert set(Notification.objects.values_list("status", flat=True)) == {"cancelled"}
    with pytest.raises(Conflict):
        lists.list_cancel(recipient_list=checked, actor=Actor(user=tenant_a.broadcaster))


def test_foreign_rows_are_valid_when_the_account_allows_them(tenant_a):
    approved_template(tenant_a)
    PersonalSettings.objects.create(account=tenant_a.account, vietnam_only=False)
    assert upload(tenant_a, HEADER + "+14155550100,An,05/12,T1\n").rows_invalid == 0


def test_uploaded_rows_lose_personal_data_after_the_retention_period(tenant_a, settings, time_machine):
    settings.PERSONAL_RETENTION_DAYS = 7
    time_machine.move_to("2026-12-01 10:00:00+07:00", tick=False)
    approved_template(tenant_a)
    checked = upload(tenant_a, HEADER + "0912345678,An,05/12,T1\n")
    time_machine.move_to("2026-12-08 09:00:00+07:00", tick=False)
    recent = upload(tenant_a, HEADER + "0912345679,Bình,05/12,T1\n")
    time_machine.move_to("2026-12-08 11:00:00+07:00", tick=False)
    services.personal_data_purge()
    assert not checked.rows.exists() and recent.rows.count() == 1
    checked.refresh_from_db()
    assert checked.rows_total == 1  # the report's counts stay
    assert checked.status == RecipientList.STATUS_EXPIRED  # never approved: it cannot be any more
    recent.refresh_from_db()
    assert recent.status == RecipientList.STATUS_CHECKED
    if rowstore.partitioned():  # its table is gone too
        assert checked.pk not in rowstore.lists_stored() and recent.pk in rowstore.lists_stored()


def test_rows_of_a_list_deleted_behind_djangos_back_are_purged(tenant_a):
    """ListRow has no database foreign key (COPY speed): the purge removes rows whose list is gone."""
    approved_template(tenant_a)
    kept = upload(tenant_a, HEADER + "0912345678,An,05/12,T1\n")
    gone = upload(tenant_a, HEADER + "0912345679,Bình,06/12,T2\n")
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {RecipientList._meta.db_table} WHERE id = %s", [gone.pk])
    assert ListRow.objects.filter(recipient_list_id=gone.pk).count() == 1
    services.personal_data_purge()
    assert not ListRow.objects.filter(recipient_list_id=gone.pk).exists()
    assert kept.rows.count() == 1


def test_the_fast_path_for_vietnamese_mobiles_agrees_with_phonenumbers():
    for prefix in range(300, 1000):
        for raw in (f"0{prefix}123456", f"+84 {prefix} 123 456", f"84-{prefix}-123-456"):
            try:
                expected = normalize_phone(raw)
            except InvalidPhone:
                expected = None
            try:
                found = recipients.phone_e164(raw)
            except InvalidPhone:
                found = None
            assert found == expected, raw


def test_the_benchmark_refuses_a_database_not_meant_for_it(settings):
    settings.DATABASES = {**settings.DATABASES, "default": {**settings.DATABASES["default"], "NAME": "oa_live"}}
    with pytest.raises(CommandError, match="bench"):
        call_command("bench_personal", rows=10)


def test_a_list_approved_in_the_quiet_hours_waits_for_their_end(
    tenant_a, time_machine, django_capture_on_commit_callbacks
):
    # given: quiet hours 21:00-06:00 in the account's time zone (Asia/Ho_Chi_Minh), approval at 22:00
    set_quiet_hours(tenant_a.account, dt.time(21, 0), dt.time(6, 0))
    time_machine.move_to("2026-12-01 22:00:00+07:00", tick=False)
    approved_template(tenant_a)
    web_person(tenant_a.account, phone="+84912345678")
    checked = upload(tenant_a, HEADER + "0912345678,An,05/12,T1\n")
    lists.list_submit(recipient_list=checked, actor=Actor(user=tenant_a.broadcaster))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        lists.list_approve(recipient_list=checked, actor=Actor(user=tenant_a.approver))
    # then: nothing is sent now; the sweep sends it once the quiet hours end
    assert callbacks == []
    notification = Notification.objects.get()
    assert notification.scheduled_for == dt.datetime(2026, 12, 2, 6, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    assert send_due() == {"enqueued": 0}
    time_machine.move_to("2026-12-02 06:00:30+07:00", tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert send_due() == {"enqueued": 1}
    notification.refresh_from_db()
    checked.refresh_from_db()
    assert (notification.status, notification.channel, checked.status) == ("sent", "inapp", "sent")
