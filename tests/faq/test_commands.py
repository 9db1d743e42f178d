from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from faq.models import FaqEntry, UnansweredQuestion
from oa_platform.models import Message, OfficialAccount

pytestmark = pytest.mark.django_db

CORPUS = Path(settings.BASE_DIR) / "oa_platform" / "fixtures" / "faq_corpus.json"


def run(*args, stdin: str | None = None, **kwargs) -> str:
    out = io.StringIO()
    if stdin is not None:
        kwargs["stdin"] = io.StringIO(stdin)
    call_command(*args, stdout=out, **kwargs)
    return out.getvalue()


def test_import_faqs_prints_counts_and_is_idempotent(db):
    first = run("import_faqs", str(CORPUS))
    assert "congan-hcm: 40 created, 0 updated, 0 unchanged" in first
    assert "total: 5 accounts (5 new), 142 created" in first
    second = run("import_faqs", str(CORPUS))
    assert "total: 5 accounts (0 new), 0 created, 0 updated, 142 unchanged" in second
    assert FaqEntry.objects.count() == 142


def test_import_faqs_rejects_malformed_file_whole(db, tmp_path):
    doc = json.loads(CORPUS.read_text(encoding="utf-8"))
    doc["accounts"][3]["faqs"][5]["answer"] = None
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    key = doc["accounts"][3]["faqs"][5]["key"]
    with pytest.raises(CommandError) as exc:
        run("import_faqs", str(bad))
    assert f"account 'gaj-sz', faq '{key}'" in str(exc.value)
    assert not OfficialAccount.objects.exists()
    assert not FaqEntry.objects.exists()


def test_import_faqs_missing_file(db):
    with pytest.raises(CommandError):
        run("import_faqs", "/nonexistent/x.json")


def test_export_json_and_csv_then_import_csv(db, tmp_path):
    run("import_faqs", str(CORPUS))
    doc = json.loads(run("export_faqs", "soyte-dn"))
    assert [a["slug"] for a in doc["accounts"]] == ["soyte-dn"]
    assert len(doc["accounts"][0]["faqs"]) == 25
    target = tmp_path / "soyte.csv"
    run("export_faqs", "soyte-dn", "--format", "csv", "-o", str(target))
    rows = list(csv.DictReader(target.open(encoding="utf-8", newline="")))
    assert len(rows) == 25
    assert rows[0]["key"] == doc["accounts"][0]["faqs"][0]["key"]
    FaqEntry.objects.filter(account__slug="soyte-dn", key=rows[0]["key"]).update(answer="x")
    out = run("import_faqs", str(target), "--account", "soyte-dn")
    assert "soyte-dn: 0 created, 1 updated, 24 unchanged" in out
    with pytest.raises(CommandError):
        run("import_faqs", str(target))  # a CSV needs --account
    with pytest.raises(CommandError):
        run("export_faqs", "no-such-account")


def test_ask_prints_one_json_object_per_line(db):
    run("import_faqs", str(CORPUS))
    lines = ["đổi cccd hết bn tiền ad", "lam cccd o dau", "giá vàng hôm nay thế nào", "xin chào", "", "😀😀"]
    out = run("ask", "congan-hcm", stdin="\n".join(lines) + "\n")
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["text"] for r in results] == [t for t in lines if t]
    for r in results:
        assert set(r) >= {"text", "decision", "faq", "score", "suggestions"}
        assert r["decision"] in ("answer", "suggest", "fallback")
        assert isinstance(r["score"], int | float)
        assert all(isinstance(k, str) for k in r["suggestions"])
        if r["decision"] == "answer":
            assert r["faq"] and r["suggestions"] == []
        elif r["decision"] == "suggest":
            assert r["faq"] == r["suggestions"][0]
        else:
            assert r["faq"] is None
    assert (results[0]["decision"], results[0]["faq"]) == ("answer", "cccd-le-phi")
    assert results[2]["decision"] != "answer"
    assert (results[3]["decision"], results[3]["faq"], results[3]["intent"]) == ("fallback", None, "greeting")
    # an operator's tool: nothing is stored
    assert not UnansweredQuestion.objects.exists()
    assert not Message.objects.exists()


def test_ask_unknown_account(db):
    with pytest.raises(CommandError):
        run("ask", "nope", stdin="x\n")


def test_bench_faq_runs_through_the_database(db, tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        "\n".join(
            json.dumps(q, ensure_ascii=False)
            for q in [
                {
                    "account": "congan-hcm",
                    "text": "đổi cccd hết bn tiền ad",
                    "expect": "cccd-le-phi",
                    "style": "teencode",
                },
                {"account": "congan-hcm", "text": "giá vàng hôm nay", "expect": None, "style": "out_of_scope"},
                {"account": "gaj-sz", "text": "你好", "expect": None, "style": "smalltalk"},
            ]
        ),
        encoding="utf-8",
    )
    out = run("bench_faq", "--queries", str(queries), "--no-speed", "--no-fit")
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["matcher"]["correct"] == 1.0
    assert summary["matcher"]["wrong"] == 0.0
    assert "baseline_wratio" in summary
    assert summary["same_as_library"] is True
    assert FaqEntry.objects.count() == 142  # the corpus went through import_faqs
