"""Where a list's rows live (rowstore): a table per list on PostgreSQL, read through ListRow, dropped by the purge
even when the parent is busy; the migration that moved the rows into that shape; one E.164 reading of a phone."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection

from broadcasts.personal import rowstore
from broadcasts.personal.models import E164_SQL, ListRow, RecipientList, e164, to_e164
from tests.factories import migrate_to
from tests.personal.conftest import approved_template, empty_list

pytestmark = pytest.mark.django_db

BEFORE = [("personal", "0008_list_schedule_severity_expiry")]
AFTER = [("personal", "0009_list_rows_file_shape")]

PHONES = {
    "": "",
    "+84912345678": "+84912345678",
    "0912345678": "+84912345678",
    "84912345678": "+84912345678",
    "912345678": "+84912345678",
    "+14155550100": "+14155550100",
    "0912 345 678": "+84912345678",
    "+84 912.345-678": "+84912345678",
}


def test_a_phone_reads_as_the_same_e164_in_python_the_orm_and_raw_sql(tenant_a):
    recipient_list = empty_list(tenant_a)
    for number, phone in enumerate(PHONES, start=2):
        ListRow.objects.create(recipient_list=recipient_list, number=number, phone=phone)
    rows = ListRow.objects.filter(recipient_list=recipient_list).order_by("number")
    by_orm = list(rows.annotate(e=e164()).values_list("e", flat=True))
    assert [to_e164(p) for p in PHONES] == by_orm == list(PHONES.values())
    if connection.vendor == "postgresql":  # the raw SQL of materialize (PostgreSQL only)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {E164_SQL} FROM {ListRow._meta.db_table} r WHERE recipient_list_id = %s ORDER BY number",
                [recipient_list.pk],
            )
            assert [phone for (phone,) in cursor.fetchall()] == by_orm


@pytest.mark.postgres
def test_each_list_has_a_table_of_its_own_that_the_orm_reads(tenant_a, tenant_b):
    mine, theirs = empty_list(tenant_a), empty_list(tenant_b)
    ListRow.objects.create(recipient_list=mine, number=2, phone="0912345678", v0="An")
    ListRow.objects.create(recipient_list=theirs, number=2, phone="0912345679", v0="Bình")
    assert {mine.pk, theirs.pk} <= set(rowstore.lists_stored())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT v0 FROM {rowstore.name(mine.pk)}")
        assert cursor.fetchall() == [("An",)]
    assert [r.personalisation for r in mine.rows.all()] == [{"name": "An"}]


@pytest.mark.postgres
def test_the_purge_empties_a_table_at_once_and_drops_it_when_the_parent_is_free(tenant_a):
    recipient_list = empty_list(tenant_a)
    ListRow.objects.create(recipient_list=recipient_list, number=2, phone="0912345678")
    db = connection.settings_dict
    other = psycopg.connect(
        host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], password=db["PASSWORD"], dbname=db["NAME"]
    )
    try:
        with other.transaction():  # a reader of the parent (LOCK ... ONLY: not the lists' tables)
            other.execute(f"LOCK TABLE ONLY {rowstore.PARENT} IN ACCESS SHARE MODE")
            assert rowstore.drop(recipient_list.pk) is False  # within DROP_LOCK_TIMEOUT
            assert not recipient_list.rows.exists()  # the rows are gone all the same
        assert rowstore.drop(recipient_list.pk) is True
    finally:
        other.close()
    assert recipient_list.pk not in rowstore.lists_stored()


def _immediate():
    """Check the deferred foreign keys now: PostgreSQL alters no table with checks pending."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.mark.postgres
def test_the_rows_of_existing_lists_move_into_the_new_shape_and_back(tenant_a):
    version = approved_template(tenant_a)  # its placeholders, in order: name, date, place
    _immediate()
    old = migrate_to(BEFORE)
    OldList, OldRow = old.get_model("personal", "RecipientList"), old.get_model("personal", "ListRow")
    listed = OldList.objects.create(account_id=tenant_a.account.pk, version_id=version.pk, file_name="l.csv")
    OldRow.objects.create(
        recipient_list_id=listed.pk,
        number=2,
        phone="+84912345678",
        personalisation={"place": "Trạm 1", "name": "An", "date": "05/12"},
        problems=[],
        channel="sms",
        cost=800,
    )
    OldRow.objects.create(
        recipient_list_id=listed.pk, number=3, phone="", personalisation={"name": "B"}, problems=["no_recipient"]
    )
    _immediate()
    migrate_to(AFTER)
    moved = RecipientList.objects.get(pk=listed.pk)
    assert moved.columns == ["name", "date", "place"]
    rows = list(moved.rows.order_by("number"))
    assert [(r.number, r.e164_phone, r.personalisation, r.problems, r.channel, r.cost) for r in rows] == [
        (2, "+84912345678", {"name": "An", "date": "05/12", "place": "Trạm 1"}, None, "sms", 800),
        (3, "", {"name": "B"}, ["no_recipient"], "", 0),
    ]
    assert moved.pk in rowstore.lists_stored()
    _immediate()
    back = migrate_to(BEFORE).get_model("personal", "ListRow")
    assert sorted(back.objects.values_list("number", "personalisation", "problems")) == [
        (2, {"name": "An", "date": "05/12", "place": "Trạm 1"}, []),
        (3, {"name": "B"}, ["no_recipient"]),
    ]
    migrate_to(AFTER)
