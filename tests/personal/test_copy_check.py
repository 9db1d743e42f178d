"""The set-based check of a CSV list on PostgreSQL (copy_check) gives the report of the Python path row by row."""

import io
import sys
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone, translation

from broadcasts.personal import copy_check, lists, models, plan, recipients, rendering
from broadcasts.personal.management.commands.bench_personal import write_csv
from broadcasts.personal.models import ListRow, PersonalSettings, RecipientList
from broadcasts.services import Actor
from oa_platform.errors import ValidationFailed
from tests.personal.conftest import approved_template, empty_list, provider, web_person

pytestmark = pytest.mark.django_db

TRICKY = (
    "\ufeffphone,name,date,place\r\n"
    "0912345678,An,05/12,Trạm 1\r\n"  # valid
    "+84 912-345.678,Bình,05/12,Trạm 1\r\n"  # the same phone spelt otherwise: a duplicate
    "(091) 234 5679,<script>alert(1)</script>,05/12,Trạm 1\r\n"  # HTML kept as text (escaped where shown)
    "12,Chi,05/12,Trạm 1\r\n"  # invalid phone
    "0112345678,Chi,05/12,Trạm 1\r\n"  # a mobile-looking number with an invalid prefix
    "+14155550100,Dũng,05/12,Trạm 1\r\n"  # foreign
    "0241234567,Đào,05/12,Trạm 1\r\n"  # a Hanoi landline: phonenumbers decides
    "0912345677,,05/12,Trạm 1\r\n"  # missing value
    ",Én,05/12,Trạm 1\r\n"  # no recipient
    f"0912345676,{'x' * 10_000},05/12,Trạm 1\r\n"  # too long
    '0912345675,"=HYPERLINK(""http://x"")",05/12,Trạm 1\r\n'  # a formula, as typed: kept as text
    '0912345674,"Phạm, Giang",05/12,"Trạm 1\r\nLầu 2"\r\n'  # quoted comma and newline
    "  0912345673  ,  Hà  ,05/12,+84 đường\r\n"  # spaces trimmed; a value starting with +
    "0912345674,Giang,05/12,Trạm 1\r\n"  # duplicate of a valid row
    "0912345677,Ích,05/12,Trạm 1\r\n"  # not a duplicate: the earlier row with this phone is invalid
    ",,,\r\n"  # a row of empty cells: skipped, numbered
    "0912345672,\u00a0Khoa\u3000,05/12,@SUM(A1)\r\n"  # Unicode spaces trimmed as str.strip() does
    "\r\n\r\n"  # trailing blank lines
)


def report(list_id):
    """The stored rows as a reader sees them: number, E.164 phone, citizen id, values, problems."""
    rows = ListRow.objects.filter(recipient_list_id=list_id).select_related("recipient_list").order_by("number")
    return [(r.number, r.e164_phone, r.citizen_ref, r.personalisation, r.problems or []) for r in rows]


def upload(tenant, text: str | bytes, *, python: bool = False, sql: bool = True):
    """Upload through list_upload: by the Python path (as SQLite and XLSX take it) when ``python``; else check
    that the file took the SQL path (``sql``) or fell back to the Python path (not ``sql``)."""
    fileobj = SimpleUploadedFile("list.csv", text if isinstance(text, bytes) else text.encode("utf-8"))
    real = copy_check.check_and_store
    called = []

    def spy(**kwargs):
        called.append(result := None if python else real(**kwargs))
        return result

    with translation.override("en"), mock.patch.object(copy_check, "check_and_store", spy):
        checked = lists.list_upload(
            account=tenant.account,
            actor=Actor(user=tenant.broadcaster),
            template_key="vaccination",
            fileobj=fileobj,
            file_name="list.csv",
        )
    if not python and connection.vendor == "postgresql":
        assert (called[0] is not None) == sql
    return checked


def test_the_whitespace_trimmed_is_what_str_strip_removes():
    assert set(copy_check.WHITESPACE) == {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}


@pytest.mark.postgres
@pytest.mark.parametrize("vietnam_only", [True, False])
def test_the_sql_path_and_the_python_path_give_the_same_report(tenant_a, vietnam_only):
    # given
    approved_template(tenant_a)
    PersonalSettings.objects.create(account=tenant_a.account, vietnam_only=vietnam_only)
    web_person(tenant_a.account, phone="+84912345678")
    # when
    by_sql = upload(tenant_a, TRICKY)
    by_python = upload(tenant_a, TRICKY, python=True)
    # then
    rows = report(by_sql.pk)
    assert rows == report(by_python.pk)
    assert [r[0] for r in rows] == [*range(2, 17), 18]
    assert (by_sql.rows_total, by_sql.rows_invalid, by_sql.problems) == (
        by_python.rows_total,
        by_python.rows_invalid,
        by_python.problems,
    )
    assert (by_sql.planned, by_sql.estimated_cost) == (by_python.planned, by_python.estimated_cost)
    problems = {number: found for number, _p, _r, _v, found in rows}
    assert problems[3] == problems[15] == ["duplicate"]
    assert problems[16] == problems[14] == []
    assert problems[7] == (["foreign_phone"] if vietnam_only else [])
    assert problems[5] == problems[6] == ["invalid_phone"]
    assert rows[11][3] == {"name": "Phạm, Giang", "date": "05/12", "place": "Trạm 1\r\nLầu 2"}
    assert rows[10][3]["name"] == '=HYPERLINK("http://x")'
    assert recipients.safe_cell(rows[10][3]["name"]).startswith("'=")
    assert by_sql.planned == {"inapp": 1}


@pytest.mark.postgres
def test_a_file_quoting_every_cell_takes_the_sql_path(tenant_a):
    approved_template(tenant_a)
    text = '"phone","name","date","place"\n"0912345678","An","05/12","Trạm 1, Lầu 2"\n"0912345678","Bình","05/12","T"\n'
    rows = report(upload(tenant_a, text).pk)
    assert rows == report(upload(tenant_a, text, python=True).pk)
    assert [r[4] for r in rows] == [[], ["duplicate"]]


@pytest.mark.postgres
@pytest.mark.parametrize(
    "text",
    [
        "phone,name,date,place\n0912345678,An,05/12,T\n\n0912345679,Bình,05/12,T\n",  # a blank line inside
        'phone,name,date,place\n0912345678,A"n,05/12,T\n',  # a quote inside an unquoted cell
        "phone,name,date,place\n0912345678,An,05/12\n",  # a short row
        '"phone\n",name,date,place\n0912345678,An,05/12,T\n',  # a newline in a quoted header cell
        'phone,name,date,place\n0912345678,"An"x,05/12,T\n',  # text after a closing quote
        "phone,name,date,place\n0912345678,An,05/12,T\n\\.\n0912345679,Bình,05/12,T\n",  # COPY's end marker
    ],
)
def test_files_postgresql_reads_otherwise_take_the_python_path_with_the_same_report(tenant_a, text):
    list_id = empty_list(tenant_a).pk
    assert (
        copy_check.check_and_store(
            list_id=list_id,
            fileobj=io.BytesIO(text.encode()),
            placeholders=["name", "date", "place"],
            vietnam_only=True,
        )
        is None
    )
    assert not ListRow.objects.filter(recipient_list_id=list_id).exists()  # nothing stored
    assert report(upload(tenant_a, text, sql=False).pk) == report(upload(tenant_a, text, python=True).pk)


@pytest.mark.postgres
def test_another_encoding_is_refused_and_named(tenant_a):
    # COPY refuses the bytes (the regular expressions do not read them); the Python path names the encoding
    approved_template(tenant_a)
    data = ("phone,name,date,place\n" + "0912345678,Lê Văn Ân,05/12,T\n" * 3).encode("cp1258")
    with pytest.raises(ValidationFailed, match="not UTF-8"):
        upload(tenant_a, data, sql=False)
    assert not RecipientList.objects.exists()


@pytest.mark.postgres
@pytest.mark.parametrize("chunk", [40, 64, 257])  # the header line fits in the first
def test_rows_cut_anywhere_by_the_chunks_give_the_same_report(tenant_a, chunk):
    # every row, quoted cell, line ending and repeated phone of the tricky file split across the blocks read
    approved_template(tenant_a)
    PersonalSettings.objects.create(account=tenant_a.account, vietnam_only=True)
    rows = "".join(f"09{i:08d},Người {i},05/12,T\r\n" for i in range(300)) + "0900000007,Lặp,05/12,T\r\n"
    text = TRICKY.rstrip() + "\r\n" + rows + "\r\n\r\n"
    with mock.patch.object(copy_check, "COPY_CHUNK", chunk):
        by_sql = upload(tenant_a, text)
    by_python = upload(tenant_a, text, python=True)
    assert report(by_sql.pk) == report(by_python.pk)
    assert (by_sql.rows_total, by_sql.rows_invalid, by_sql.problems) == (
        by_python.rows_total,
        by_python.rows_invalid,
        by_python.problems,
    )
    assert report(by_sql.pk)[-1][4] == ["duplicate"]


@pytest.mark.postgres
@pytest.mark.parametrize("chunk", [64, 1 << 20])
def test_phones_written_with_spaces_dots_or_hyphens_are_stored_as_written(tenant_a, chunk):
    approved_template(tenant_a)
    phones = ["0912 345 678", "0912.345.679", "+84 912-345-670", "0912 345 678", "0112 345 678", "0912  345 671"]
    text = "phone,name,date,place\n" + "".join(f"{p},An,05/12,T\n" for p in phones)
    with mock.patch.object(copy_check, "COPY_CHUNK", chunk):
        by_sql = upload(tenant_a, text)
    assert report(by_sql.pk) == report(upload(tenant_a, text, python=True).pk)
    stored = list(ListRow.objects.filter(recipient_list=by_sql).order_by("number").values_list("phone", flat=True))
    assert stored[:3] == phones[:3]  # valid and new: kept as written, read as E.164
    assert [row[1] for row in report(by_sql.pk)][:3] == ["+84912345678", "+84912345679", "+84912345670"]
    assert [row[4] for row in report(by_sql.pk)][3:5] == [["duplicate"], ["invalid_phone"]]


@pytest.mark.postgres
def test_plain_rows_are_stored_as_written_and_read_as_e164(tenant_a):
    approved_template(tenant_a)
    text = "phone,name,date,place\n0912345678,An,05/12,T\n84912345679,B,05/12,T\n+84912345670,C,05/12,T\n"
    checked = upload(tenant_a, text)
    stored = list(ListRow.objects.filter(recipient_list=checked).order_by("number").values_list("phone", "v0"))
    assert stored == [("0912345678", "An"), ("84912345679", "B"), ("+84912345670", "C")]
    assert [row[1] for row in report(checked.pk)] == ["+84912345678", "+84912345679", "+84912345670"]
    e164 = ListRow.objects.filter(recipient_list=checked).annotate(e=models.e164()).order_by("number")
    assert list(e164.values_list("e", flat=True)) == ["+84912345678", "+84912345679", "+84912345670"]


@pytest.mark.parametrize("python", [False, True])
def test_the_set_based_plan_is_what_choose_gives_row_after_row(tenant_a, python):
    # given: in-app, ZNS capped at 2 a day by the account, SMS; a web-page follower, Vietnamese and foreign phones
    approved_template(tenant_a, zns_template_id="zns-1", sms_text="Lich tiem ((date)) tai ((place))")
    PersonalSettings.objects.create(account=tenant_a.account, vietnam_only=False, daily_caps={"zns": 2})
    web_person(tenant_a.account, phone="+84912345673")
    for kind in ("zns", "sms"):
        provider(tenant_a, kind, "http://127.0.0.1:9")
    phones = ["0912345671", "+14155550100", "0912345672", "0912345673", "0912345674", "0912345675"]
    text = "phone,name,date,place\n" + "".join(
        f"{p},An,05/12,{'x' * 200 if i == 5 else 'T'}\n" for i, p in enumerate(phones)
    )
    # when
    checked = upload(tenant_a, text, python=python)
    # then
    now = timezone.now()
    used: dict[str, int] = {}
    expected = []
    for raw in phones:
        phone = recipients.phone_e164(raw)
        choice = plan.choose(
            plan.Recipient(phone=phone, follows_inapp=phone == "+84912345673"),
            order=plan.DEFAULT_ORDER,
            available={"inapp", "zns", "sms"},
            used_today=used,
            caps={"zns": 2},
            now=now,
        )
        used[choice.channel] = used.get(choice.channel, 0) + 1
        expected.append(choice.channel)
    rows = list(ListRow.objects.filter(recipient_list=checked).order_by("number").values_list("channel", "cost"))
    assert [channel for channel, _cost in rows] == expected == ["zns", "sms", "zns", "inapp", "sms", "sms"]
    assert [cost for _channel, cost in rows] == [300, 800, 300, 0, 800, 2 * 800]  # a 2-segment SMS
    assert checked.planned == {"zns": 2, "sms": 3, "inapp": 1}
    assert checked.estimated_cost == 2 * 300 + 4 * 800


@pytest.mark.postgres
def test_the_benchmark_file_gets_the_same_rows_by_sql_and_by_python(tenant_a, tmp_path):
    approved_template(tenant_a)
    path = tmp_path / "bench.csv"
    write_csv(path, 300)
    text = path.read_text(encoding="utf-8")
    by_sql, by_python = upload(tenant_a, text), upload(tenant_a, text, python=True)
    assert by_sql.rows_total == by_python.rows_total == 300 and by_sql.rows_invalid == 0
    assert report(by_sql.pk) == report(by_python.pk)


@pytest.mark.parametrize(
    "value",
    [
        "x" * 140,  # GSM-7, one segment
        "x" * 150,  # GSM-7, two segments
        "x" * 272,  # GSM-7, 310 septets: three segments of 153
        "{" * 75,  # extension characters count two: two segments
        "Nguyễn Văn An",  # UCS-2, one segment
        "Nguyễn " * 10,  # UCS-2, two segments
        "ễ" * 100,  # UCS-2, 138 units: three segments of 67
        "😀" * 30 + "x",  # outside the BMP: two UTF-16 units each (measured in Python)
        "100% ((x))",  # not a placeholder of the template
    ],
)
def test_sms_costs_in_sql_are_what_sms_length_says(tenant_a, value):
    approved_template(tenant_a, sms_text="Lich tiem ((date)) tai ((place)): ((name))", link="https://x.vn/a")
    PersonalSettings.objects.create(account=tenant_a.account, channel_order=["sms"])
    provider(tenant_a, "sms", "http://127.0.0.1:9")
    checked = upload(tenant_a, f"phone,name,date,place\n0912345678,{value},05/12,T\n", python=True)
    text = f"Lich tiem 05/12 tai T: {value}\nhttps://x.vn/a"
    assert checked.estimated_cost == 800 * rendering.sms_length(text).segments
