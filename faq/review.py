"""The unanswered-question review queue, grouped by similar text so an editor handles one question once.

Items are already deduplicated by the matcher's normalised, diacritic-folded text (``unanswered_key``); the
groups here join items whose folded words mostly agree ("doi cccd o dau" and "doi cccd o dau vay"), and keep
apart what the bot referred to different agencies. Greedy single pass over the most frequent items first."""

from __future__ import annotations

from dataclasses import dataclass, field

from faq.models import UnansweredQuestion
from faq.normalize import has_cjk, has_diacritics
from faq.selectors import unanswered_for_account
from oa_platform.models import OfficialAccount

# Open items read per page view, most frequent first: a busy account's queue; the long tail waits for the next.
MAX_ITEMS = 400
# Items listed (and handled by one click) per group: a group is one question asked in few ways.
MAX_GROUP = 50
# Two items are one question when their folded word sets share this much (Jaccard), or when every word of a
# question of two words or more appears in the other ("doi cccd" in "doi cccd o dau").
SIMILARITY = 0.6
# Common English words: a question without Vietnamese diacritics that holds one of them is read as English.
ENGLISH_WORDS = frozenset(
    "what how where when why who which is are do does can i my the a an to for of please need get".split()
)


def guess_language(text: str) -> str:
    """The language a question was written in, as a language code (zh-hans, vi or en); a hint for the page,
    Vietnamese typed without diacritics counts as Vietnamese unless it holds common English words."""
    if has_cjk(text):
        return "zh-hans"
    if has_diacritics(text):
        return "vi"
    words = set(text.casefold().split())
    return "en" if words & ENGLISH_WORDS else "vi"


@dataclass
class ReviewGroup:
    items: list[UnansweredQuestion] = field(default_factory=list)
    words: frozenset[str] = frozenset()  # the seed item's folded words
    referred_to_id: int | None = None

    @property
    def count(self) -> int:
        return sum(item.count for item in self.items)

    @property
    def newest(self) -> UnansweredQuestion:
        return max(self.items, key=lambda item: (item.last_seen, item.pk))

    @property
    def item_ids(self) -> list[int]:
        return [item.pk for item in self.items]

    @property
    def languages(self) -> list[str]:
        return sorted({guess_language(item.sample_text) for item in self.items})

    @property
    def referred_to(self) -> OfficialAccount | None:
        return self.newest.referred_to if self.referred_to_id else None


def _words(item: UnansweredQuestion) -> frozenset[str]:
    return frozenset(item.normalized.split())


def similar(a: frozenset[str], b: frozenset[str]) -> bool:
    if not a or not b:
        return a == b
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    if len(small) >= 2 and small <= large:
        return True
    return len(a & b) / len(a | b) >= SIMILARITY


def group_items(items) -> list[ReviewGroup]:
    """Group ``items`` (any order): most asked groups first, then the most recently asked."""
    groups: list[ReviewGroup] = []
    for item in sorted(items, key=lambda i: (-i.count, -i.last_seen.timestamp(), i.pk)):
        words = _words(item)
        referred = item.referred_to_id if item.decision == UnansweredQuestion.DECISION_OTHER_AGENCY else None
        for group in groups:
            if group.referred_to_id == referred and len(group.items) < MAX_GROUP and similar(group.words, words):
                group.items.append(item)
                break
        else:
            groups.append(ReviewGroup(items=[item], words=words, referred_to_id=referred))
    return sorted(groups, key=lambda g: (-g.count, -g.newest.last_seen.timestamp()))


def unanswered_groups(*, account: OfficialAccount) -> list[ReviewGroup]:
    """The account's open unanswered questions (at most ``MAX_ITEMS``), grouped by similar text."""
    items = unanswered_for_account(account=account).select_related("referred_to")[:MAX_ITEMS]
    return group_items(items)
