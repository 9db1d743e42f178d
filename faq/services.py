"""Writes of the FAQ app: entries, variants, synonyms, the index version stamp, matching, unanswered questions.

Every change to an account's entries, variants or synonyms bumps its ``FaqIndexVersion`` in the same
transaction (the services do it, and ``faq.signals`` does it for writes that bypass them, e.g. the admin),
so every process rebuilds that account's cached matcher on its next question (see ``faq.index``).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connections, router, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from faq.matcher import Candidate
from faq.models import (
    MAX_KEY,
    MAX_QUESTION,
    FaqEntry,
    FaqIndexVersion,
    FaqVariant,
    Synonym,
    UnansweredQuestion,
)
from faq.normalize import clean, fold, normalize
from oa_platform.errors import NotFound, ValidationFailed
from oa_platform.models import LANGUAGE_CHOICES, Message, OfficialAccount
from oa_platform.services import audit_record

LANGUAGES = {code for code, _ in LANGUAGE_CHOICES}
# The latest raw text kept on an unanswered question; enough to read it, bounded so a flood cannot bloat rows.
MAX_SAMPLE = 2000
ENTRY_FIELDS = (
    "question",
    "answer",
    "language",
    "category",
    "tags",
    "is_active",
    "valid_from",
    "valid_until",
    "legal_basis",
    "last_reviewed",
)


# --- index version stamp ----------------------------------------------------------------------------------
# Inside ``index_changes()`` bumps are collected and done once per account when the block ends (bulk import).
_pending: contextvars.ContextVar[set[int] | None] = contextvars.ContextVar("faq_pending_bumps", default=None)


def index_version_bump(*, account_id: int, create: bool = True) -> None:
    """Mark the account's index stale in every process. Runs in the caller's transaction.

    ``create=False`` (deletes) never inserts a row: during an account's cascade delete the row is gone or
    going, and without a row no process can hold an index of the old content (a save always creates it)."""
    pending = _pending.get()
    if pending is not None:
        pending.add(account_id)
        return
    now = timezone.now()
    updated = FaqIndexVersion.objects.filter(account_id=account_id).update(version=F("version") + 1, changed_at=now)
    if updated or not create:
        return
    try:
        with transaction.atomic():
            FaqIndexVersion.objects.create(account_id=account_id, version=1, changed_at=now)
    except IntegrityError:  # created concurrently: bump that row
        FaqIndexVersion.objects.filter(account_id=account_id).update(version=F("version") + 1, changed_at=now)


@contextlib.contextmanager
def index_changes() -> Iterator[None]:
    """Collect version bumps of the block and do one per account at its end (use inside a transaction)."""
    if _pending.get() is not None:  # nested: the outer block bumps
        yield
        return
    accounts: set[int] = set()
    token = _pending.set(accounts)
    try:
        yield
    finally:
        _pending.reset(token)
    for account_id in sorted(accounts):
        index_version_bump(account_id=account_id)


# --- entries ------------------------------------------------------------------------------------------------
def _clean_text(value, *, name: str, max_length: int, required: bool = True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(f"{name} must be text.", fields={name: "not_text"})
    value = value.strip()
    if required and not value:
        raise ValidationFailed(f"{name} is required.", fields={name: "required"})
    if max_length and len(value) > max_length:
        raise ValidationFailed(f"{name} is longer than {max_length} characters.", fields={name: "too_long"})
    return value


def _clean_key(key) -> str:
    key = _clean_text(key, name="key", max_length=MAX_KEY)
    if slugify(key) != key:
        raise ValidationFailed(f"key {key!r} must be kebab-case (a-z, 0-9, -).", fields={"key": "invalid"})
    return key


def _clean_variants(variants: Iterable[str] | None) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for v in variants or ():
        v = _clean_text(v, name="variants", max_length=MAX_QUESTION, required=False)
        if v and v.casefold() not in seen:
            seen.add(v.casefold())
            out.append(v)
    return out


def _clean_tags(tags) -> list[str]:
    if tags is None:
        return []
    if isinstance(tags, str):
        tags = tags.split(",")
    if not isinstance(tags, list | tuple):
        raise ValidationFailed("tags must be a list of text.", fields={"tags": "invalid"})
    out = []
    for t in tags:
        if not isinstance(t, str):
            raise ValidationFailed("tags must be a list of text.", fields={"tags": "invalid"})
        t = t.strip()[:60]
        if t and t not in out:
            out.append(t)
    return out


def _clean_language(language: str | None, account: OfficialAccount) -> str:
    if not language:
        return account.default_language
    language = language.lower()
    if language.startswith("zh"):
        return "zh-hans"
    if language not in LANGUAGES:
        raise ValidationFailed(f"Unknown language {language!r}.", fields={"language": "invalid"})
    return language


def _clean_entry_fields(account: OfficialAccount, values: dict) -> dict:
    out = dict(values)
    if "question" in out:
        out["question"] = _clean_text(out["question"], name="question", max_length=MAX_QUESTION)
    if "answer" in out:
        out["answer"] = _clean_text(out["answer"], name="answer", max_length=20_000)
    if "language" in out:
        out["language"] = _clean_language(out["language"], account)
    if "category" in out:
        out["category"] = _clean_text(out["category"], name="category", max_length=100, required=False)
    if "legal_basis" in out:
        out["legal_basis"] = _clean_text(out["legal_basis"], name="legal_basis", max_length=2000, required=False)
    if "tags" in out:
        out["tags"] = _clean_tags(out["tags"])
    if "is_active" in out:
        out["is_active"] = bool(out["is_active"])
    for name in ("valid_from", "valid_until", "last_reviewed"):
        if name in out:
            out[name] = _clean_date(out[name], name=name)
    vf, vu = out.get("valid_from"), out.get("valid_until")
    if vf and vu and vu < vf:
        raise ValidationFailed("valid_until is before valid_from.", fields={"valid_until": "before_valid_from"})
    return out


def _clean_date(value, *, name: str) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        raise ValidationFailed(f"{name} must be a date.", fields={name: "invalid"})
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValidationFailed(f"{name} must be a date YYYY-MM-DD.", fields={name: "invalid"})


def _variants_set(entry: FaqEntry, variants: list[str]) -> bool:
    """Replace the entry's variants by ``variants``; True when anything changed."""
    current = list(entry.variants.order_by("id").values_list("text", flat=True))
    if current == variants:
        return False
    entry.variants.all().delete()
    FaqVariant.objects.bulk_create([FaqVariant(entry=entry, text=v) for v in variants])
    return True


@transaction.atomic
def faq_entry_create(
    *,
    account: OfficialAccount,
    key: str,
    question: str,
    answer: str,
    variants: Iterable[str] = (),
    actor: AbstractBaseUser | None = None,
    **fields,
) -> FaqEntry:
    """Create an entry with its variants. ``fields``: any of language, category, tags, is_active, valid_from,
    valid_until, legal_basis, last_reviewed."""
    unknown = set(fields) - set(ENTRY_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields {sorted(unknown)}")
    key = _clean_key(key)
    values = _clean_entry_fields(account, {"question": question, "answer": answer, **fields})
    values.setdefault("language", account.default_language)
    variants = _clean_variants(variants)
    if FaqEntry.objects.filter(account=account, key=key).exists():
        raise ValidationFailed(f"An FAQ with key {key!r} exists already.", fields={"key": "taken"})
    with index_changes():
        entry = FaqEntry.objects.create(account=account, key=key, **values)
        FaqVariant.objects.bulk_create([FaqVariant(entry=entry, text=v) for v in variants])
        index_version_bump(account_id=account.pk)
    audit_record(action="faq_create", obj=entry, account=account, actor=actor, changes={"key": key})
    return entry


@transaction.atomic
def faq_entry_update(
    *,
    entry: FaqEntry,
    variants: Iterable[str] | None = None,
    actor: AbstractBaseUser | None = None,
    **fields,
) -> FaqEntry:
    """Change the given fields (see ``faq_entry_create``); ``variants`` (if given) replaces all variants."""
    unknown = set(fields) - set(ENTRY_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields {sorted(unknown)}")
    values = _clean_entry_fields(entry.account, fields)
    changed = {name: str(value) for name, value in values.items() if getattr(entry, name) != value}
    with index_changes():
        if changed:
            for name in changed:
                setattr(entry, name, values[name])
            entry.full_clean(exclude=["account"], validate_unique=False)
            entry.save()
        if variants is not None and _variants_set(entry, _clean_variants(variants)):
            changed["variants"] = "replaced"
            index_version_bump(account_id=entry.account_id)
    if changed:
        audit_record(action="faq_update", obj=entry, account=entry.account, actor=actor, changes=changed)
    return entry


@transaction.atomic
def faq_entry_delete(*, entry: FaqEntry, actor: AbstractBaseUser | None = None) -> None:
    account = entry.account
    audit_record(action="faq_delete", obj=entry, account=account, actor=actor, changes={"key": entry.key})
    entry.delete()  # the post_delete signal bumps the version
    index_version_bump(account_id=account.pk)


@transaction.atomic
def faq_variant_add(*, entry: FaqEntry, text: str, actor: AbstractBaseUser | None = None) -> FaqVariant | None:
    """Add a phrasing to an entry; None when the entry already has it (same text, case-insensitive)."""
    text = _clean_text(text, name="text", max_length=MAX_QUESTION)
    existing = {v.casefold() for v in entry.variants.values_list("text", flat=True)} | {entry.question.casefold()}
    if text.casefold() in existing:
        return None
    variant = FaqVariant.objects.create(entry=entry, text=text)
    index_version_bump(account_id=entry.account_id)
    audit_record(action="faq_variant_add", obj=entry, account=entry.account, actor=actor, changes={"variant": text})
    return variant


# --- synonyms -----------------------------------------------------------------------------------------------
@transaction.atomic
def synonym_create(
    *, account: OfficialAccount, term: str, expansion: str, language: str = "", actor: AbstractBaseUser | None = None
) -> Synonym:
    term = _clean_text(term, name="term", max_length=100).casefold()
    expansion = _clean_text(expansion, name="expansion", max_length=200)
    language = _clean_language(language, account) if language else ""
    if Synonym.objects.filter(account=account, term=term, language=language).exists():
        raise ValidationFailed(f"The synonym {term!r} exists already.", fields={"term": "taken"})
    synonym = Synonym.objects.create(account=account, term=term, expansion=expansion, language=language)
    index_version_bump(account_id=account.pk)
    audit_record(action="faq_synonym_create", obj=synonym, account=account, actor=actor)
    return synonym


@transaction.atomic
def synonym_update(*, synonym: Synonym, expansion: str, actor: AbstractBaseUser | None = None) -> Synonym:
    synonym.expansion = _clean_text(expansion, name="expansion", max_length=200)
    synonym.save(update_fields=["expansion"])
    index_version_bump(account_id=synonym.account_id)
    audit_record(action="faq_synonym_update", obj=synonym, account=synonym.account, actor=actor)
    return synonym


@transaction.atomic
def synonym_delete(*, synonym: Synonym, actor: AbstractBaseUser | None = None) -> None:
    account = synonym.account
    audit_record(action="faq_synonym_delete", obj=synonym, account=account, actor=actor)
    synonym.delete()
    index_version_bump(account_id=account.pk)


# --- matching -----------------------------------------------------------------------------------------------
@dataclass
class FaqMatch:
    decision: str  # "answer" | "suggest" | "fallback"
    faq: str | None  # answered key, top suggestion, or None
    score: float
    suggestions: list[Candidate] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    answer: str = ""  # the answer text when decision == "answer", else ""
    categories: tuple[str, ...] = ()  # the account's topics from the same index (faq.selectors.faq_categories)


def faq_match(*, account: OfficialAccount, text) -> FaqMatch:
    """Match a citizen's message against the account's active, currently valid FAQ. Never raises on any text;
    reads one small row (the version stamp) per call and rebuilds the cached index only when it changed."""
    from faq.index import index_for

    index = index_for(account)
    result = index.matcher.match(text if isinstance(text, str) else "")
    answer = index.answers.get(result.faq, "") if result.decision == Message.DECISION_ANSWER else ""
    return FaqMatch(
        decision=result.decision,
        faq=result.faq,
        score=result.score,
        suggestions=list(result.suggestions),
        candidates=list(result.candidates),
        answer=answer,
        categories=index.categories,
    )


# --- unanswered questions ---------------------------------------------------------------------------------
def unanswered_key(*, account: OfficialAccount, text) -> str:
    """The dedup key of a message: the matcher's normalised, diacritic-folded text (so "đổi cccd", "Doi CCCD"
    and "ad ơi đổi cccd" are one item); the cleaned raw text when nothing survives normalisation (emoji)."""
    folded = normalize(text, account.language).folded_text
    return folded or clean(text)


def unanswered_record(
    *, account: OfficialAccount, text, decision: str, faq_key: str | None = None
) -> UnansweredQuestion | None:
    """Count one more occurrence of a question the bot did not answer outright (race-safe upsert).

    Returns None for text that is empty after cleaning. A resolved item that comes back is reopened;
    an ignored one keeps its status and only counts. One statement (INSERT ... ON CONFLICT DO UPDATE ...
    RETURNING, PostgreSQL and SQLite >= 3.35): no read first, no savepoint, and two processes counting the
    same question at once both land on the one row."""
    statement = unanswered_statement(account=account, text=text, decision=decision, faq_key=faq_key)
    if statement is None:
        return None
    return next(iter(UnansweredQuestion.objects.raw(*statement)))


def unanswered_statement(
    *,
    account: OfficialAccount,
    text,
    decision: str,
    faq_key: str | None = None,
    referred_to: OfficialAccount | None = None,
) -> tuple[str, list] | None:
    """The upsert of ``unanswered_record`` as (sql, params), for a caller that runs it inside a larger
    statement (the chat stores an exchange in one); None when there is nothing to record.
    ``referred_to``: the other account the bot pointed the citizen to (decision ``other_agency``)."""
    if decision not in dict(UnansweredQuestion.DECISION_CHOICES):
        raise ValidationFailed(f"Unknown decision {decision!r}.", fields={"decision": "invalid"})
    # NUL cannot be stored in a PostgreSQL text column: drop it (a 500 otherwise); the rest is kept as typed
    sample = clean(text) if not isinstance(text, str) else text.replace("\x00", "").strip()
    normalized = unanswered_key(account=account, text=text)
    if not normalized or not sample:
        return None
    now = timezone.now()
    values = {
        "account": account.pk,
        "normalized": normalized,
        "normalized_hash": hashlib.sha256(normalized.encode()).hexdigest(),
        "sample_text": sample[:MAX_SAMPLE],
        "decision": decision,
        "faq_key": (faq_key or "")[:MAX_KEY],
        "referred_to": referred_to.pk if referred_to is not None else None,
        "count": 1,
        "first_seen": now,
        "last_seen": now,
        "status": UnansweredQuestion.STATUS_OPEN,
    }
    return _unanswered_upsert_sql(values)


def _unanswered_upsert_sql(values: dict) -> tuple[str, list]:
    connection = connections[router.db_for_write(UnansweredQuestion)]
    meta = UnansweredQuestion._meta
    qn = connection.ops.quote_name
    table = qn(meta.db_table)
    fields = [meta.get_field(name) for name in values]
    params = [field.get_db_prep_save(values[field.name], connection) for field in fields]

    def col(name: str) -> str:
        return qn(meta.get_field(name).column)

    # On a repeat: count it, keep first_seen, take the latest text/decision, reopen a resolved item.
    updates = [f"{col('count')} = {table}.{col('count')} + 1"]
    updates += [
        f"{col(name)} = excluded.{col(name)}"
        for name in ("last_seen", "sample_text", "decision", "faq_key", "referred_to")
    ]
    updates.append(f"{col('status')} = CASE WHEN {table}.{col('status')} = %s THEN %s ELSE {table}.{col('status')} END")
    params += [UnansweredQuestion.STATUS_RESOLVED, UnansweredQuestion.STATUS_OPEN]
    sql = (
        f"INSERT INTO {table} ({', '.join(qn(f.column) for f in fields)}) VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({col('account')}, {col('normalized_hash')}) DO UPDATE SET {', '.join(updates)} "
        f"RETURNING {', '.join(qn(f.column) for f in meta.concrete_fields)}"
    )
    return sql, params


def unanswered_erase_texts(*, account: OfficialAccount, texts: Iterable[str]) -> list[int]:
    """Take one citizen's questions (``texts``, right to erasure) out of ``account``'s unanswered items: an
    item only they asked goes; an item others asked too counts one less and, if its latest sample is theirs,
    shows the normalised form everyone's shares instead. Returns the ids of the items touched."""
    texts = {t.strip() for t in texts if t and t.strip()}
    hashes = {
        hashlib.sha256(key.encode()).hexdigest() for t in texts if (key := unanswered_key(account=account, text=t))
    }
    touched = []
    for item in UnansweredQuestion.objects.select_for_update().filter(account=account, normalized_hash__in=hashes):
        touched.append(item.pk)
        if item.count <= 1:
            item.delete()
            continue
        item.count -= 1
        if item.sample_text in {t[:MAX_SAMPLE] for t in texts}:
            item.sample_text = item.normalized
        item.save(update_fields=["count", "sample_text"])
    return touched


@transaction.atomic
def answer_feedback(*, account: OfficialAccount, message: Message, helpful: bool) -> Message:
    """A citizen rates a bot reply. "Not helpful" is logged as an unanswered question (once per message)."""
    if message.conversation.account_id != account.pk:
        raise NotFound("No such message.")
    if message.sender != Message.SENDER_BOT:
        raise ValidationFailed("Only the bot's replies can be rated.", fields={"message": "not_a_reply"})
    if not isinstance(helpful, bool):
        raise ValidationFailed("helpful must be true or false.", fields={"helpful": "invalid"})
    previous = message.helpful
    if previous == helpful:
        return message
    message.helpful = helpful
    message.save(update_fields=["helpful"])
    question = message.in_reply_to
    if not helpful and previous is not False and question is not None:
        unanswered_record(
            account=account,
            text=question.text,
            decision=UnansweredQuestion.DECISION_NOT_HELPFUL,
            faq_key=message.faq_key or None,
        )
    return message


def _guard_item(item: UnansweredQuestion, entry: FaqEntry | None = None) -> None:
    if entry is not None and entry.account_id != item.account_id:
        raise NotFound("No such FAQ in this account.")


@transaction.atomic
def unanswered_add_as_variant(
    *, item: UnansweredQuestion, entry: FaqEntry, actor: AbstractBaseUser | None = None, text: str | None = None
) -> UnansweredQuestion:
    """Teach an entry this phrasing (``text`` or the latest sample) and mark the item resolved."""
    _guard_item(item, entry)
    phrase = (text if text is not None else item.sample_text).strip()
    if len(phrase) > MAX_QUESTION:
        raise ValidationFailed(
            f"The question is longer than {MAX_QUESTION} characters; shorten it to add it as a variant.",
            fields={"text": "too_long"},
        )
    faq_variant_add(entry=entry, text=phrase, actor=actor)
    return _resolve(item, entry, actor, "unanswered_variant")


@transaction.atomic
def unanswered_create_faq(
    *,
    item: UnansweredQuestion,
    key: str,
    question: str,
    answer: str,
    actor: AbstractBaseUser | None = None,
    **fields,
) -> FaqEntry:
    """Create an entry answering this question; the citizen's wording becomes a variant when it differs."""
    variants = [] if item.sample_text.strip().casefold() == (question or "").strip().casefold() else [item.sample_text]
    variants = [v for v in variants if len(v.strip()) <= MAX_QUESTION]
    entry = faq_entry_create(
        account=item.account, key=key, question=question, answer=answer, variants=variants, actor=actor, **fields
    )
    _resolve(item, entry, actor, "unanswered_create_faq")
    return entry


def _resolve(item: UnansweredQuestion, entry: FaqEntry, actor, action: str) -> UnansweredQuestion:
    item.status = UnansweredQuestion.STATUS_RESOLVED
    item.resolved_entry = entry
    item.save(update_fields=["status", "resolved_entry"])
    audit_record(action=action, obj=item, account=item.account, actor=actor, changes={"faq": entry.key})
    return item


@transaction.atomic
def unanswered_ignore(*, item: UnansweredQuestion, actor: AbstractBaseUser | None = None) -> UnansweredQuestion:
    if item.status != UnansweredQuestion.STATUS_IGNORED:
        item.status = UnansweredQuestion.STATUS_IGNORED
        item.save(update_fields=["status"])
        audit_record(action="unanswered_ignore", obj=item, account=item.account, actor=actor)
    return item


# --- the console's review queue: a group of similar unanswered questions handled at once ------------------
# A group on the review page lists at most this many items (faq.review.MAX_GROUP); one click handles them all.
MAX_GROUP_IDS = 200


def _group_items(*, account: OfficialAccount, item_ids: Iterable) -> list[UnansweredQuestion]:
    """The account's items ``item_ids``, newest first, locked; NotFound when any id is not one of the account's
    (another agency's item does not exist here) and ValidationFailed for no or malformed ids."""
    try:
        ids = {int(i) for i in item_ids}
    except (TypeError, ValueError):
        raise ValidationFailed("items must be ids.", fields={"items": "invalid"}) from None
    if not ids or len(ids) > MAX_GROUP_IDS:
        raise ValidationFailed("Choose the questions to handle.", fields={"items": "required"})
    items = list(
        UnansweredQuestion.objects.select_for_update().filter(account=account, pk__in=ids).order_by("-last_seen", "-pk")
    )
    if len(items) != len(ids):
        raise NotFound("No such question in this account.")
    return items


@transaction.atomic
def unanswered_group_add_as_variant(
    *, account: OfficialAccount, item_ids: Iterable, entry: FaqEntry, actor: AbstractBaseUser | None = None
) -> list[UnansweredQuestion]:
    """Teach ``entry`` every phrasing of the group and mark its items resolved. A text too long for a
    variant is resolved without being added; when no text of the group fits, nothing changes (ValidationFailed)."""
    if entry.account_id != account.pk:
        raise NotFound("No such FAQ in this account.")
    items = _group_items(account=account, item_ids=item_ids)
    fitting = [item for item in items if len(item.sample_text.strip()) <= MAX_QUESTION]
    if not fitting:
        raise ValidationFailed(
            f"The question is longer than {MAX_QUESTION} characters; shorten it to add it as a variant.",
            fields={"text": "too_long"},
        )
    for item in items:
        if item in fitting:
            unanswered_add_as_variant(item=item, entry=entry, actor=actor)
        else:
            _resolve(item, entry, actor, "unanswered_variant")
    return items


@transaction.atomic
def unanswered_group_create_faq(
    *,
    account: OfficialAccount,
    item_ids: Iterable,
    key: str,
    question: str,
    answer: str,
    variants: Iterable[str] = (),
    actor: AbstractBaseUser | None = None,
    **fields,
) -> FaqEntry:
    """Create an entry answering the group (``variants``: more phrasings typed by the editor); every citizen
    wording of the group that differs from the question becomes a variant, and the items are resolved."""
    items = _group_items(account=account, item_ids=item_ids)
    wordings = [item.sample_text.strip() for item in items if len(item.sample_text.strip()) <= MAX_QUESTION]
    entry = faq_entry_create(
        account=account,
        key=key,
        question=question,
        answer=answer,
        variants=[*variants, *(w for w in wordings if w.casefold() != (question or "").strip().casefold())],
        actor=actor,
        **fields,
    )
    for item in items:
        _resolve(item, entry, actor, "unanswered_create_faq")
    return entry


@transaction.atomic
def unanswered_group_ignore(
    *, account: OfficialAccount, item_ids: Iterable, actor: AbstractBaseUser | None = None
) -> list[UnansweredQuestion]:
    """Dismiss the group: its items need no FAQ (later repeats only count)."""
    items = _group_items(account=account, item_ids=item_ids)
    for item in items:
        unanswered_ignore(item=item, actor=actor)
    return items


def faq_key_suggest(*, account: OfficialAccount, question: str) -> str:
    """A free key for a new entry of ``account`` from its question: folded, kebab-case, numbered when taken."""
    base = slugify(fold(question or ""))[:60].strip("-") or "faq"
    taken = set(FaqEntry.objects.filter(account=account, key__startswith=base).values_list("key", flat=True))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
