"""Staff pages (the admin and the staff inbox) in Vietnamese by default and in Chinese with the language cookie,
from the shipped compiled catalogues; and the catalogues themselves: complete, without fuzzy entries, and the
.mo files compiled from the current .po files."""

from __future__ import annotations

import ast
import gettext
import html
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.utils import translation
from django.utils.functional import Promise

from tests import factories
from tests.oa_platform.admin_builders import BUILDERS

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
CATALOGUES = ("vi", "en", "zh_Hans")
# Letters only Vietnamese uses: a msgid with one of them is Vietnamese source text.
VIETNAMESE = re.compile("[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]", re.IGNORECASE)
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w+\}")
OUR_APPS = ("oa_platform", "faq", "broadcasts")


def admin_page(client: Client, url: str, language: str | None) -> str:
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200, url
    return html.unescape(response.content.decode())


def logged_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password="pw-Staff-123")
    return client


# --- admin pages  ---
@pytest.mark.django_db
@pytest.mark.parametrize(
    "language, expected",
    [
        (None, ["Câu hỏi thường gặp", "Câu hỏi chưa được trả lời", "Thông báo", "Từ đồng nghĩa", "Phát thông báo"]),
        ("zh-hans", ["常见问题条目", "未解答问题", "通知", "同义词", "通知发布"]),
    ],
)
def test_admin_index_names_models_in_the_staff_language(tenant_a, language, expected):
    page = admin_page(logged_in(tenant_a.manager), "/admin/", language)
    for name in expected:
        assert name in page
    for source in ("FAQ entries", "Unanswered questions", "Notices", "Synonyms", "Broadcasts"):
        assert source not in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "language, labels",
    [
        (None, ["Mã", "Danh mục", "Hiệu lực đến", "Ngày rà soát gần nhất", "Thử câu hỏi · nhập · xuất"]),
        ("zh-hans", ["标识", "类别", "有效期至", "最近审核日期", "测试提问 · 导入 · 导出"]),
    ],
)
def test_faq_changelist_columns_in_the_staff_language(tenant_a, language, labels):
    # given an editor (a fresh staff member) and one FAQ entry of the account
    editor = factories.make_staff(tenant_a.account, role="editor")
    BUILDERS["faq.faqentry"](tenant_a.account)
    # when they open the list
    page = admin_page(logged_in(editor), "/admin/faq/faqentry/", language)
    # then the column headers and the tools link are translated
    for label in labels:
        assert label in page
    for source in ("Valid until", "Last reviewed", "Try a question", "Export selected entries (JSON)"):
        assert source not in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "language, labels",
    [
        (None, ["Mức độ nghiêm trọng", "Trạng thái", "nháp", "cập nhật", "Chế độ", "chính thức"]),
        ("zh-hans", ["严重程度", "状态", "草稿", "更新", "模式", "正式"]),
    ],
)
def test_notice_changelist_columns_and_choices_in_the_staff_language(tenant_a, language, labels):
    BUILDERS["broadcasts.notice"](tenant_a.account)  # a draft update of a draft alert
    page = admin_page(logged_in(tenant_a.manager), "/admin/broadcasts/notice/", language)
    for label in labels:
        assert label in page
    for source in ("Severity", "Pending approval", "Draft"):
        assert source not in page


@pytest.mark.django_db
def test_unanswered_changelist_choices_in_vietnamese(tenant_a):
    BUILDERS["faq.unansweredquestion"](tenant_a.account)
    page = admin_page(logged_in(tenant_a.manager), "/admin/faq/unansweredquestion/", None)
    assert "Trả lời dự phòng" in page or "trả lời dự phòng" in page
    assert "Thêm làm biến thể của một câu hỏi thường gặp…" in page
    assert "Add as a variant of an FAQ" not in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "language, title, empty",
    [
        (None, "Hộp thư", "Không có cuộc trò chuyện nào ở đây."),
        ("zh-hans", "收件箱", "这里没有对话。"),
    ],
)
def test_staff_inbox_in_the_staff_language(tenant_a, language, title, empty):
    page = admin_page(logged_in(tenant_a.editor), f"/staff/{tenant_a.account.slug}/inbox/", language)
    assert title in page and empty in page


# --- catalogues  ---
def _unquote(line: str) -> str:
    return ast.literal_eval(line)


def read_po(path: Path) -> list[dict]:
    """The entries of a .po file (without the header and obsolete entries): msgctxt, msgid, msgid_plural,
    msgstr (a list: one item, or one per plural form) and flags."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry: dict = {"flags": set(), "msgstr": {}}
        field = None
        for line in block.splitlines():
            if line.startswith("#~"):
                entry = {}
                break
            if line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#") or not line.strip():
                continue
            elif line.startswith('"'):
                if isinstance(field, int):
                    entry["msgstr"][field] += _unquote(line)
                else:
                    entry[field] += _unquote(line)
            else:
                keyword, value = line.split(" ", 1)
                match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
                field = int(match[1]) if match else (0 if keyword == "msgstr" else keyword)
                if isinstance(field, int):
                    entry["msgstr"][field] = _unquote(value)
                else:
                    entry[field] = _unquote(value)
        if entry.get("msgid"):
            entries.append(entry)
    return entries


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "django.po"


def is_vietnamese(msgid: str) -> bool:
    # the one English help text quoting a Vietnamese example is English source
    return bool(VIETNAMESE.search(msgid)) and not msgid.startswith("What it means")


@pytest.mark.parametrize("language", CATALOGUES)
def test_catalogue_has_no_fuzzy_entries_and_keeps_placeholders(language):
    entries = read_po(po_path(language))
    assert len(entries) > 300
    assert [e["msgid"] for e in entries if "fuzzy" in e["flags"]] == []
    for entry in entries:
        for text in entry["msgstr"].values():
            if text:
                assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(entry["msgid"])), entry
    if language in ("vi", "zh_Hans"):  # nplurals=1
        assert all(len(e["msgstr"]) == 1 for e in entries if "msgid_plural" in e)


def test_catalogues_are_complete():
    """Vietnamese: every English source string translated; Chinese: everything; English: every Vietnamese
    source string. A translation is never the source copied into another language."""
    for language, needs_translation in (
        ("vi", lambda msgid: not is_vietnamese(msgid)),
        ("zh_Hans", lambda msgid: True),
        ("en", is_vietnamese),
    ):
        missing = [
            e["msgid"]
            for e in read_po(po_path(language))
            if needs_translation(e["msgid"]) and not all(e["msgstr"].values())
        ]
        assert missing == [], (language, missing)
        copied = [
            e["msgid"]
            for e in read_po(po_path(language))
            if needs_translation(e["msgid"])
            and e["msgstr"][0] == e["msgid"]
            and PLACEHOLDER.sub("", e["msgid"]).strip()
        ]
        assert copied == [], (language, copied)


@pytest.mark.parametrize("language", CATALOGUES)
def test_compiled_catalogue_matches_the_po_file(language):
    with (LOCALE_DIR / language / "LC_MESSAGES" / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in read_po(po_path(language)):
        if not entry["msgstr"][0]:
            continue
        key = entry["msgid"] if "msgctxt" not in entry else f"{entry['msgctxt']}\x04{entry['msgid']}"
        if "msgid_plural" in entry:
            assert compiled._catalog.get((key, 0)) == entry["msgstr"][0], entry["msgid"]
        else:
            assert compiled._catalog.get(key) == entry["msgstr"][0], entry["msgid"]


def model_labels():
    """Every lazily translated label of our models: verbose names, field names, help texts, choices (labels
    given as plain strings, such as Django's automatic field names, are not gettext strings: not checked)."""
    for model in apps.get_models():
        if model._meta.app_label not in OUR_APPS:
            continue
        declared = model._meta.original_attrs  # the automatic names ("chunks") are not gettext strings
        if "verbose_name" in declared:
            yield model._meta.verbose_name
        if "verbose_name_plural" in declared:
            yield model._meta.verbose_name_plural
        for field in model._meta.get_fields():
            yield getattr(field, "verbose_name", None)
            yield getattr(field, "help_text", None)
            for _value, label in getattr(field, "flatchoices", None) or ():
                yield label


@pytest.mark.parametrize("language", ["vi", "zh-hans"])
def test_every_model_label_is_translated(language):
    labels = {label for label in model_labels() if isinstance(label, Promise)}
    assert len(labels) > 150
    with translation.override(None):  # no catalogue: the source text
        sources = {label: str(label) for label in labels}
    with translation.override(language):
        untranslated = sorted(
            source
            for label, source in sources.items()
            if str(label) == source and not (language == "vi" and is_vietnamese(source))
        )
    assert untranslated == []


@pytest.mark.parametrize(
    "language, expected",
    [
        ("vi", {"FAQ entries": "Câu hỏi thường gặp", "unanswered questions": "câu hỏi chưa được trả lời", "key": "mã"}),
        ("zh-hans", {"FAQ entries": "常见问题条目", "unanswered questions": "未解答问题", "key": "标识"}),
    ],
)
def test_sample_verbose_names(language, expected):
    from faq.models import FaqEntry, UnansweredQuestion

    with translation.override(language):
        assert str(FaqEntry._meta.verbose_name_plural) == expected["FAQ entries"]
        assert str(UnansweredQuestion._meta.verbose_name_plural) == expected["unanswered questions"]
        assert str(FaqEntry._meta.get_field("key").verbose_name) == expected["key"]


# --- labels of everything the admin shows  ---
def admin_models():
    from django.contrib import admin  # AdminConfig.ready() has autodiscovered every app's admin.py

    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def admin_field_labels():
    """(model label, field name, verbose name) of every concrete and many-to-many field of every model in
    the admin, except automatic primary keys (the admin never shows them as a labelled field)."""
    for model, _model_admin in admin_models():
        for field in [*model._meta.concrete_fields, *model._meta.many_to_many]:
            if field.primary_key and field.auto_created:
                continue
            yield model._meta.label, field.name, field.verbose_name


def test_every_admin_model_field_has_a_vietnamese_label():
    """A field added later without verbose_name (Django then shows its English name, "created at") or
    without a Vietnamese translation fails here."""
    labels = list(admin_field_labels())
    assert len(labels) > 150
    with translation.override(None):  # no catalogue: the source text
        sources = {(model, name): str(label) for model, name, label in labels}
    with translation.override("vi"):
        untranslated = sorted(
            f"{model}.{name}: {sources[model, name]!r}"
            for model, name, label in labels
            if not isinstance(label, Promise) or str(label) == sources[model, name]
        )
    assert untranslated == []


@pytest.mark.parametrize("language", ["vi", "zh-hans"])
def test_every_admin_model_name_and_column_header_is_translated(language):
    """Model names in the admin index and the headers of every change list column (fields, __str__ and
    @admin.display callables) are translated: a plain-string description would show in English."""
    from django.contrib.admin.utils import label_for_field

    headers = []
    for model, model_admin in admin_models():
        headers += [
            (model._meta.label, "verbose_name", lambda model=model: model._meta.verbose_name),
            (model._meta.label, "verbose_name_plural", lambda model=model: model._meta.verbose_name_plural),
        ]
        for name in model_admin.list_display:
            if name == "action_checkbox":
                continue
            headers.append(
                (
                    model._meta.label,
                    name,
                    lambda model=model, admin=model_admin, name=name: label_for_field(name, model, admin),
                )
            )
    with translation.override(None):
        sources = {(model, name): str(label()) for model, name, label in headers}
    with translation.override(language):
        untranslated = sorted(
            f"{model}.{name}: {sources[model, name]!r}"
            for model, name, label in headers
            if str(label()) == sources[model, name] and not (language == "vi" and is_vietnamese(sources[model, name]))
        )
    assert untranslated == []
