from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from django.conf import settings

from faq.interchange import (
    InterchangeError,
    faq_export,
    faq_export_csv,
    faq_import,
    faq_import_csv,
    parse_csv,
    parse_json,
)
from faq.models import FaqEntry, FaqIndexVersion, FaqVariant
from faq.services import faq_entry_update
from oa_platform.errors import Forbidden
from oa_platform.models import AuditLog, OfficialAccount

pytestmark = pytest.mark.django_db

CORPUS = Path(settings.BASE_DIR) / "oa_platform" / "fixtures" / "faq_corpus.json"


def small_doc() -> dict:
    return {
        "accounts": [
            {
                "slug": "so-tu-phap",
                "name": "Sở Tư pháp",
                "language": "vi",
                "faqs": [
                    {
                        "key": "ly-lich-tu-phap",
                        "question": "Xin phiếu lý lịch tư pháp ở đâu?",
                        "variants": ["làm lý lịch tư pháp", "xin llpt"],
                        "answer": "Nộp hồ sơ tại Sở Tư pháp.\nhttps://lltptructuyen.moj.gov.vn",
                        "tags": ["lý lịch"],
                    },
                    {"key": "chung-thuc", "question": "Chứng thực bản sao ở đâu?", "answer": "UBND xã.", "tags": []},
                ],
            },
            {
                "slug": "gaj-test",
                "name": "公安局",
                "language": "zh",
                "faqs": [
                    {"key": "sfz", "question": "怎么办身份证？", "variants": [], "answer": "派出所。", "tags": []}
                ],
            },
        ]
    }


def test_import_creates_accounts_and_entries(db):
    report = faq_import(document=small_doc())
    assert report.accounts_created == ["so-tu-phap", "gaj-test"]
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    assert OfficialAccount.objects.get(slug="gaj-test").default_language == "zh-hans"
    entry = FaqEntry.objects.get(account__slug="so-tu-phap", key="ly-lich-tu-phap")
    assert list(entry.variants.values_list("text", flat=True)) == ["làm lý lịch tư pháp", "xin llpt"]
    assert entry.answer.endswith("moj.gov.vn")
    assert entry.language == "vi"


def test_reimport_is_idempotent_and_does_not_bump(db):
    faq_import(document=small_doc())
    versions = dict(FaqIndexVersion.objects.values_list("account_id", "version"))
    variant_ids = set(FaqVariant.objects.values_list("pk", flat=True))
    report = faq_import(document=small_doc())
    assert (report.created, report.updated, report.unchanged, report.accounts_created) == (0, 0, 3, [])
    assert dict(FaqIndexVersion.objects.values_list("account_id", "version")) == versions
    assert set(FaqVariant.objects.values_list("pk", flat=True)) == variant_ids
    assert OfficialAccount.objects.filter(slug="so-tu-phap").count() == 1


def test_import_updates_by_key_and_leaves_missing_entries_alone(db):
    faq_import(document=small_doc())
    doc = small_doc()
    doc["accounts"][0]["faqs"] = [dict(doc["accounts"][0]["faqs"][0], answer="Mới.", variants=["xin llpt"])]
    report = faq_import(document=doc)
    assert (report.created, report.updated) == (0, 1)
    entry = FaqEntry.objects.get(key="ly-lich-tu-phap")
    assert entry.answer == "Mới."
    assert list(entry.variants.values_list("text", flat=True)) == ["xin llpt"]
    other = FaqEntry.objects.get(key="chung-thuc")
    assert other.is_active  # not in the file: untouched
    assert AuditLog.objects.filter(action="faq_import", account=entry.account).count() == 2


def test_existing_account_keeps_its_name_and_language(tenant_a):
    doc = small_doc()
    doc["accounts"][0]["slug"] = tenant_a.account.slug
    doc["accounts"][0]["language"] = "en"
    faq_import(document=doc)
    tenant_a.account.refresh_from_db()
    assert (tenant_a.account.name, tenant_a.account.default_language) == ("Agency agency-a", "vi")
    assert FaqEntry.objects.filter(account=tenant_a.account).count() == 2


@pytest.mark.parametrize(
    "mutate, where",
    [
        (lambda d: d["accounts"][1]["faqs"][0].update(answer=""), "account 'gaj-test', faq 'sfz'"),
        (lambda d: d["accounts"][0]["faqs"][1].update(key="Chứng Thực"), "account 'so-tu-phap', faq 'Chứng Thực'"),
        (lambda d: d["accounts"][0]["faqs"][1].update(variants="not a list"), "faq 'chung-thuc'"),
        (lambda d: d["accounts"][0]["faqs"][1].update(key="ly-lich-tu-phap"), "faq 'ly-lich-tu-phap'"),
        (lambda d: d["accounts"][0]["faqs"][1].pop("question"), "faq 'chung-thuc'"),
        (lambda d: d["accounts"][0]["faqs"][1].update(valid_until="31/12/2025"), "faq 'chung-thuc'"),
        (lambda d: d["accounts"][0]["faqs"].append("oops"), "account 'so-tu-phap', faq '#3'"),
        (lambda d: d["accounts"][1].update(language="fr"), "account 'gaj-test'"),
        (lambda d: d["accounts"][1].update(slug="Bad Slug"), "account 'Bad Slug'"),
        (lambda d: d["accounts"].append(copy.deepcopy(d["accounts"][0])), "account 'so-tu-phap'"),
    ],
)
def test_malformed_file_is_rejected_whole_naming_account_and_key(db, mutate, where):
    doc = small_doc()
    mutate(doc)
    with pytest.raises(InterchangeError) as exc:
        faq_import(document=doc)
    assert where in exc.value.message
    assert not OfficialAccount.objects.exists()
    assert not FaqEntry.objects.exists()


def test_rejected_update_keeps_previous_content(db):
    faq_import(document=small_doc())
    doc = small_doc()
    doc["accounts"][0]["faqs"][0]["answer"] = "Đã đổi"
    doc["accounts"][1]["faqs"][0]["question"] = ""
    with pytest.raises(InterchangeError):
        faq_import(document=doc)
    assert FaqEntry.objects.get(key="ly-lich-tu-phap").answer.startswith("Nộp hồ sơ")


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe\x00", b"[]", b'{"accounts": {}}', b"null"])
def test_bad_json_files(db, raw):
    with pytest.raises(InterchangeError):
        faq_import(document=parse_json(raw))


def test_staff_import_limited_to_allowed_accounts(tenant_a, tenant_b):
    doc = small_doc()
    doc["accounts"] = [doc["accounts"][0]]
    doc["accounts"][0]["slug"] = tenant_b.account.slug
    with pytest.raises(Forbidden) as exc:
        faq_import(document=doc, allowed_accounts=[tenant_a.account])
    assert tenant_b.account.slug in exc.value.message
    assert not FaqEntry.objects.exists()


def test_corpus_imports_and_round_trips_through_json_export(db):
    corpus = json.loads(CORPUS.read_text(encoding="utf-8"))
    report = faq_import(document=corpus)
    assert report.created == sum(len(a["faqs"]) for a in corpus["accounts"])
    accounts = list(OfficialAccount.objects.filter(slug__in=[a["slug"] for a in corpus["accounts"]]).order_by("pk"))
    exported = faq_export(accounts=accounts)
    for original, out in zip(corpus["accounts"], exported["accounts"], strict=True):
        assert (out["slug"], out["language"]) == (original["slug"], original["language"])
        assert [f["key"] for f in out["faqs"]] == [f["key"] for f in original["faqs"]]
        for f_in, f_out in zip(original["faqs"], out["faqs"], strict=True):
            assert {k: f_out[k] for k in ("question", "variants", "answer", "tags")} == {
                k: f_in.get(k, []) for k in ("question", "variants", "answer", "tags")
            }
    again = faq_import(document=json.loads(json.dumps(exported)))
    assert (again.created, again.updated) == (0, 0)


def test_optional_fields_round_trip(tenant_a, faqs_a):
    faq_entry_update(
        entry=faqs_a[0],
        category="Căn cước",
        valid_from="2025-01-01",
        valid_until="2025-12-31",
        legal_basis="Luật Căn cước 2023",
        last_reviewed="2025-03-01",
        is_active=False,
    )
    doc = faq_export(accounts=[tenant_a.account])
    item = doc["accounts"][0]["faqs"][0]
    assert (item["valid_from"], item["is_active"], item["category"]) == ("2025-01-01", False, "Căn cước")
    FaqEntry.objects.filter(pk=faqs_a[0].pk).update(category="", legal_basis="", is_active=True, valid_from=None)
    report = faq_import(document=doc)
    assert report.updated == 1
    entry = FaqEntry.objects.get(pk=faqs_a[0].pk)
    assert (entry.category, entry.legal_basis, entry.is_active, str(entry.valid_from)) == (
        "Căn cước",
        "Luật Căn cước 2023",
        False,
        "2025-01-01",
    )


# --- CSV ----------------------------------------------------------------------------------------------------------
def test_csv_round_trip_with_line_breaks_commas_and_formulas(tenant_a, faqs_a):
    faq_entry_update(entry=faqs_a[1], answer='=HYPERLINK("x")\n- bước 1, bước 2', tags=["gplx", "giao thông"])
    text = faq_export_csv(account=tenant_a.account)
    assert text.splitlines()[0].startswith("key,question,variants,answer,tags")
    assert "'=HYPERLINK" in text  # a spreadsheet shows it as text, not a formula
    before = {e.key: (e.answer, e.tags, list(e.variants.values_list("text", flat=True))) for e in faqs_a}
    before["gplx-mat"] = ('=HYPERLINK("x")\n- bước 1, bước 2', ["gplx", "giao thông"], before["gplx-mat"][2])
    FaqEntry.objects.filter(account=tenant_a.account).update(answer="tạm")
    report = faq_import_csv(account=tenant_a.account, data=text.encode("utf-8-sig"))
    assert report.updated == 3
    after = {
        e.key: (e.answer, e.tags, list(e.variants.values_list("text", flat=True)))
        for e in FaqEntry.objects.filter(account=tenant_a.account)
    }
    assert after == before
    assert faq_import_csv(account=tenant_a.account, data=text).unchanged == 3


def test_csv_minimal_columns_creates_entries(tenant_a):
    data = 'key,question,answer,variants\nho-chieu,Làm hộ chiếu ở đâu?,Phòng XNC,"làm passport\nxin hộ chiếu"\n\n'
    report = faq_import_csv(account=tenant_a.account, data=data)
    assert report.created == 1
    entry = FaqEntry.objects.get(account=tenant_a.account, key="ho-chieu")
    assert list(entry.variants.values_list("text", flat=True)) == ["làm passport", "xin hộ chiếu"]


@pytest.mark.parametrize(
    "data, where",
    [
        ("key,question\nx,y\n", "account 'agency-a'"),
        ("key,question,answer\nok-key,Q?,A\nBad Key,Q2?,A2\n", "account 'agency-a', faq 'Bad Key'"),
        ("key,question,answer,is_active\nk1,Q?,A,maybe\n", "faq 'k1'"),
        ("key,question,answer\nk1,Q?,A,extra\n", "faq 'k1'"),
    ],
)
def test_bad_csv_rejected_whole(tenant_a, data, where):
    with pytest.raises(InterchangeError) as exc:
        faq_import_csv(account=tenant_a.account, data=data)
    assert where in exc.value.message
    assert not FaqEntry.objects.exists()


def test_csv_parse_targets_only_the_given_account(tenant_a):
    doc = parse_csv("key,question,answer\nk1,Q?,A\n", account=tenant_a.account)
    assert [a["slug"] for a in doc["accounts"]] == [tenant_a.account.slug]
