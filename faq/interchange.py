"""Import and export of FAQ content: the JSON interchange format (shared/faq/FORMAT.md) and CSV.

JSON: ``{"accounts": [{"slug", "name", "language": "vi"|"zh"|"en", "faqs": [{"key", "question", "variants",
"answer", "tags"}]}]}``. Entries may also carry the optional fields category, language, is_active,
valid_from, valid_until, legal_basis, last_reviewed (dates as YYYY-MM-DD); export writes them, import reads
them when present and leaves them unchanged when absent.

CSV (one account per file, one row per entry, UTF-8, header row): the columns of ``CSV_COLUMNS``. ``variants``
holds one variant per line inside the cell (a line break separates variants; spreadsheet apps keep line
breaks in quoted cells); ``tags`` is comma-separated; ``is_active`` is 1/0 (also true/false, yes/no).
A cell that a spreadsheet would run as a formula (starting with = + - @) is written with a leading
apostrophe, which import removes again.

Import rules (both formats): the whole file is validated first and rejected whole (nothing stored) with an
error naming the account and the key; entries are matched by key and updated in place; entries missing from
the file are left as they are (nothing is deactivated or deleted silently); a file imported twice changes
nothing the second time. An entry's variants become exactly the file's variants.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.text import slugify

from faq import services
from faq.models import FaqEntry, FaqVariant
from faq.selectors import entries_for_account
from oa_platform.errors import Forbidden, ValidationFailed
from oa_platform.models import OfficialAccount
from oa_platform.services import account_get_or_create, audit_record

# Upper bounds that keep one import inside one reasonable transaction (the benchmark's 10,000 entries fit).
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ENTRIES = 50_000
MAX_VARIANTS = 200
CSV_COLUMNS = [
    "key",
    "question",
    "variants",
    "answer",
    "tags",
    "category",
    "language",
    "is_active",
    "valid_from",
    "valid_until",
    "legal_basis",
    "last_reviewed",
]
CSV_REQUIRED = {"key", "question", "answer"}
VARIANT_SEPARATOR = "\n"
TAG_SEPARATOR = ","
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FILE_LANGUAGES = {"vi": "vi", "en": "en", "zh": "zh-hans", "zh-hans": "zh-hans"}
_OPTIONAL = ("category", "language", "is_active", "valid_from", "valid_until", "legal_basis", "last_reviewed")


class InterchangeError(ValidationFailed):
    """A file that cannot be imported; the message names the account and key (or row)."""

    code = "invalid_file"


@dataclass
class _AccountData:
    slug: str
    name: str
    language: str
    faqs: list[dict]  # cleaned values: key, question, answer, variants, tags + optional fields present


@dataclass
class ImportReport:
    accounts_created: list[str] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    per_account: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_text(self) -> str:
        lines = [
            f"{slug}: {c['created']} created, {c['updated']} updated, {c['unchanged']} unchanged"
            for slug, c in self.per_account.items()
        ]
        lines.append(
            f"total: {len(self.per_account)} accounts ({len(self.accounts_created)} new), {self.created} created, "
            f"{self.updated} updated, {self.unchanged} unchanged"
        )
        return "\n".join(lines)


# --- parsing and validation ---------------------------------------------------------------------------------
def _upload_text(data: bytes | str) -> str:
    """An uploaded file as text: at most MAX_FILE_BYTES of UTF-8 (a byte-order mark is dropped)."""
    if isinstance(data, str):
        return data
    if len(data) > MAX_FILE_BYTES:
        raise InterchangeError(f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InterchangeError("The file is not UTF-8 text.") from exc


def parse_json(data: bytes | str) -> dict:
    data = _upload_text(data)
    try:
        document = json.loads(data)
    except json.JSONDecodeError as exc:
        raise InterchangeError(f"The file is not valid JSON (line {exc.lineno}, column {exc.colno}).") from exc
    except RecursionError as exc:  # "[[[[…" thousands deep: valid JSON no FAQ file needs
        raise InterchangeError("The file is not valid JSON (nested too deeply).") from exc
    return document


def _where(slug, key=None) -> str:
    where = f"account {slug!r}"
    return f"{where}, faq {key!r}" if key is not None else where


def _fail(where: str, message: str) -> InterchangeError:
    return InterchangeError(f"{where}: {message}")


def _clean_faq(raw, *, slug: str, position: int, language: str) -> dict:
    if not isinstance(raw, dict):
        raise _fail(_where(slug, f"#{position}"), "each FAQ must be an object.")
    key = raw.get("key")
    where = _where(slug, key if isinstance(key, str) and key else f"#{position}")
    try:
        key = services._clean_key(key)
        variants = raw.get("variants", [])
        if variants is None:
            variants = []
        if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
            raise ValidationFailed("variants must be a list of text.")
        if len(variants) > MAX_VARIANTS:
            raise ValidationFailed(f"more than {MAX_VARIANTS} variants.")
        optional = {name: raw[name] for name in _OPTIONAL if name in raw}
        if "language" in optional:
            lang = optional["language"]
            if lang not in _FILE_LANGUAGES:
                raise ValidationFailed(f"unknown language {lang!r} (vi, zh or en).")
            optional["language"] = _FILE_LANGUAGES[lang]
        if "is_active" in optional and not isinstance(optional["is_active"], bool):
            raise ValidationFailed("is_active must be true or false.")
        values = {"question": raw.get("question"), "answer": raw.get("answer"), "tags": raw.get("tags"), **optional}
        # the services' own validation, with the account's language standing in for a missing one
        cleaned = _clean_fields(values, language)
        cleaned["key"] = key
        cleaned["variants"] = services._clean_variants(variants)
    except ValidationFailed as exc:
        raise _fail(where, exc.message) from exc
    return cleaned


def _clean_fields(values: dict, language: str) -> dict:
    stand_in = OfficialAccount(default_language=language)
    return services._clean_entry_fields(stand_in, values)


def validate_document(document) -> list[_AccountData]:
    """The cleaned content of a JSON interchange document, or InterchangeError on the first problem."""
    if not isinstance(document, dict) or not isinstance(document.get("accounts"), list):
        raise InterchangeError('The file must be a JSON object with an "accounts" list.')
    accounts: list[_AccountData] = []
    seen_slugs: set[str] = set()
    total = 0
    for position, raw in enumerate(document["accounts"], 1):
        if not isinstance(raw, dict):
            raise _fail(_where(f"#{position}"), "each account must be an object.")
        slug = raw.get("slug")
        if not isinstance(slug, str) or not slug or slugify(slug) != slug or len(slug) > 60:
            raise _fail(_where(slug if isinstance(slug, str) else f"#{position}"), "slug must be kebab-case.")
        if slug in seen_slugs:
            raise _fail(_where(slug), "the account appears twice in the file.")
        seen_slugs.add(slug)
        name = raw.get("name", slug)
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise _fail(_where(slug), "name must be text of at most 200 characters.")
        language = raw.get("language", "vi")
        if language not in _FILE_LANGUAGES:
            raise _fail(_where(slug), f"unknown language {language!r} (vi, zh or en).")
        faqs_raw = raw.get("faqs", [])
        if not isinstance(faqs_raw, list):
            raise _fail(_where(slug), '"faqs" must be a list.')
        total += len(faqs_raw)
        if total > MAX_ENTRIES:
            raise InterchangeError(f"The file holds more than {MAX_ENTRIES} FAQ entries.")
        faqs: list[dict] = []
        keys: set[str] = set()
        for i, item in enumerate(faqs_raw, 1):
            cleaned = _clean_faq(item, slug=slug, position=i, language=_FILE_LANGUAGES[language])
            if cleaned["key"] in keys:
                raise _fail(_where(slug, cleaned["key"]), "the key appears twice in this account.")
            keys.add(cleaned["key"])
            faqs.append(cleaned)
        accounts.append(_AccountData(slug, name.strip(), _FILE_LANGUAGES[language], faqs))
    return accounts


# --- import ---------------------------------------------------------------------------------------------------
@transaction.atomic
def faq_import(
    *,
    document: dict,
    actor: AbstractBaseUser | None = None,
    allowed_accounts: list[OfficialAccount] | None = None,
) -> ImportReport:
    """Import a JSON interchange document in one transaction.

    ``allowed_accounts`` (staff imports): every account in the file must be one of them, and no account is
    created. Without it (the operator's command), missing accounts are created."""
    data = validate_document(document)
    if allowed_accounts is not None:
        allowed = {a.slug for a in allowed_accounts}
        for item in data:
            if item.slug not in allowed:
                raise Forbidden(f"{_where(item.slug)}: you cannot import into this account.")
    report = ImportReport()
    with services.index_changes():
        for item in data:
            account, created = account_get_or_create(
                slug=item.slug, name=item.name[:200], default_language=item.language
            )
            if created:
                report.accounts_created.append(item.slug)
            _import_account(account, item.faqs, report, actor=actor)
    return report


def _import_account(account: OfficialAccount, faqs: list[dict], report: ImportReport, *, actor) -> None:
    counts = report.per_account.setdefault(account.slug, {"created": 0, "updated": 0, "unchanged": 0})
    existing = {e.key: e for e in FaqEntry.objects.filter(account=account, key__in=[f["key"] for f in faqs])}
    variants_of: dict[int, list[str]] = {}
    for entry_id, text in (
        FaqVariant.objects.filter(entry__in=list(existing.values())).order_by("pk").values_list("entry_id", "text")
    ):
        variants_of.setdefault(entry_id, []).append(text)
    new_variants: list[FaqVariant] = []
    for values in faqs:
        values = dict(values)
        key = values.pop("key")
        variants = values.pop("variants")
        entry = existing.get(key)
        if entry is None:
            values.setdefault("language", account.default_language)
            entry = FaqEntry.objects.create(account=account, key=key, **values)
            new_variants += [FaqVariant(entry=entry, text=v) for v in variants]
            counts["created"] += 1
            continue
        changed = [name for name, value in values.items() if getattr(entry, name) != value]
        if changed:
            for name in changed:
                setattr(entry, name, values[name])
            entry.save()
        if variants_of.get(entry.pk, []) != variants:
            entry.variants.all().delete()
            new_variants += [FaqVariant(entry=entry, text=v) for v in variants]
            changed.append("variants")
        counts["updated" if changed else "unchanged"] += 1
    FaqVariant.objects.bulk_create(new_variants)
    if counts["created"] or counts["updated"]:
        services.index_version_bump(account_id=account.pk)
        audit_record(action="faq_import", account=account, actor=actor, object_type="faq.faqentry", changes=counts)
    report.created += counts["created"]
    report.updated += counts["updated"]
    report.unchanged += counts["unchanged"]


def _uncell(value: str) -> str:
    if len(value) > 1 and value[0] == "'" and value[1] in _FORMULA_START:
        return value[1:]
    return value


def parse_csv(data: bytes | str, *, account: OfficialAccount) -> dict:
    """A CSV file of one account as a JSON interchange document (validated later by ``faq_import``)."""
    data = _upload_text(data)
    reader = csv.DictReader(io.StringIO(data, newline=""))
    header = set(reader.fieldnames or [])
    missing = CSV_REQUIRED - header
    if missing:
        raise InterchangeError(f"{_where(account.slug)}: the CSV lacks the columns {', '.join(sorted(missing))}.")
    faqs = []
    try:
        for row_number, row in enumerate(reader, 2):
            if None in row:
                raise _fail(_where(account.slug, row.get("key") or f"row {row_number}"), "too many cells in the row.")
            row = {k: _uncell(v or "") for k, v in row.items() if k in CSV_COLUMNS}
            if not any(v.strip() for v in row.values()):
                continue  # blank line
            item = {
                "key": row["key"].strip(),
                "question": row["question"],
                "answer": row["answer"],
                "variants": [v.strip() for v in row.get("variants", "").split(VARIANT_SEPARATOR) if v.strip()],
                "tags": [t.strip() for t in row.get("tags", "").split(TAG_SEPARATOR) if t.strip()],
            }
            for name in ("category", "legal_basis", "valid_from", "valid_until", "last_reviewed"):
                if name in row:
                    item[name] = row[name].strip()
            if row.get("language", "").strip():
                item["language"] = row["language"].strip()
            if row.get("is_active", "").strip():
                flag = row["is_active"].strip().lower()
                if flag not in ("1", "0", "true", "false", "yes", "no"):
                    raise _fail(_where(account.slug, item["key"]), "is_active must be 1 or 0.")
                item["is_active"] = flag in ("1", "true", "yes")
            faqs.append(item)
    except csv.Error as exc:
        raise InterchangeError(f"{_where(account.slug)}: the CSV cannot be read ({exc}).") from exc
    language = "zh" if account.default_language.startswith("zh") else account.default_language
    return {"accounts": [{"slug": account.slug, "name": account.name, "language": language, "faqs": faqs}]}


def faq_import_csv(
    *, account: OfficialAccount, data: bytes | str, actor: AbstractBaseUser | None = None
) -> ImportReport:
    return faq_import(document=parse_csv(data, account=account), actor=actor, allowed_accounts=[account])


# --- export ---------------------------------------------------------------------------------------------------
def _entry_dict(entry: FaqEntry) -> dict:
    def day(value: datetime.date | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "key": entry.key,
        "question": entry.question,
        "variants": [v.text for v in entry.variants.all()],
        "answer": entry.answer,
        "tags": list(entry.tags or []),
        "category": entry.category,
        "language": "zh" if entry.language.startswith("zh") else entry.language,
        "is_active": entry.is_active,
        "valid_from": day(entry.valid_from),
        "valid_until": day(entry.valid_until),
        "legal_basis": entry.legal_basis,
        "last_reviewed": day(entry.last_reviewed),
    }


def faq_export(*, accounts: list[OfficialAccount], entry_ids: list[int] | None = None) -> dict:
    """The accounts' entries (inactive ones flagged; only ``entry_ids`` if given) as a JSON interchange document."""

    def entries(account):
        qs = entries_for_account(account=account).order_by("pk")
        return qs.filter(pk__in=entry_ids) if entry_ids is not None else qs

    return {
        "accounts": [
            {
                "slug": account.slug,
                "name": account.name,
                "language": account.language,
                "faqs": [_entry_dict(e) for e in entries(account)],
            }
            for account in accounts
        ]
    }


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def faq_export_csv(*, account: OfficialAccount, entry_ids: list[int] | None = None) -> str:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for item in faq_export(accounts=[account], entry_ids=entry_ids)["accounts"][0]["faqs"]:
        row = dict(item)
        row["variants"] = VARIANT_SEPARATOR.join(item["variants"])
        row["tags"] = TAG_SEPARATOR.join(item["tags"])
        row["is_active"] = "1" if item["is_active"] else "0"
        writer.writerow({k: _cell("" if v is None else str(v)) for k, v in row.items()})
    return out.getvalue()
