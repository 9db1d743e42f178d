"""Small talk and broadcast commands, recognised BEFORE FAQ matching (pure Python, no Django).

Conservative by design: a message is an intent only when, after dropping greetings, politeness and
addressee words ("ad", "sở", "ạ"), NOTHING else is left but the intent's own words. "đăng ký thường trú
như thế nào" keeps "thường trú như thế nào", which is not a topic, so it stays a question for the FAQ
matcher; "huỷ đăng ký thường trú" is not an unsubscribe either.

Works on vi (with or without diacritics), en and zh (simplified or traditional) whatever the account's
language, because citizens mix them ("xin chào, how do I...").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from faq.normalize import clean, fold, has_cjk, to_simplified

KINDS = ("greeting", "thanks", "help", "human", "subscribe", "unsubscribe", "stop", "start")
TOPICS = ("storm-flood", "health", "vaccination", "traffic", "general")

# Messages longer than this (in words) are never small talk or commands.
_MAX_WORDS = 12


@dataclass(frozen=True)
class Intent:
    kind: str  # one of KINDS
    topic: str | None = None  # topic key for subscribe/unsubscribe


class Phrases:
    """Folded phrases (word tuples) grouped by their first word, longest first within a group: finding the
    phrase at a position looks at the few phrases that start with that word, not at the whole list."""

    __slots__ = ("by_first",)

    def __init__(self, phrases):
        self.by_first: dict[str, list[tuple[str, ...]]] = {}
        for phrase in sorted({p for p in phrases if p}, key=len, reverse=True):
            self.by_first.setdefault(phrase[0], []).append(phrase)

    def __iter__(self):
        for group in self.by_first.values():
            yield from group

    def __add__(self, other: Phrases) -> Phrases:
        return Phrases([*self, *other])

    def length_at(self, words: list[str], i: int) -> int:
        """The number of words of the longest phrase found at ``words[i]``, 0 when none is."""
        for phrase in self.by_first.get(words[i], ()):
            if tuple(words[i : i + len(phrase)]) == phrase:
                return len(phrase)
        return 0


def _phrases(*items: str) -> Phrases:
    return Phrases(tuple(fold(clean(p)).split()) for p in items)


# Words addressed to the agency or added for politeness; they never change what the message asks.
_FILLER = _phrases(
    "ạ",
    "à",
    "a",
    "ơi",
    "oi",
    "nha",
    "nhé",
    "nhe",
    "nhen",
    "ha",
    "hen",
    "nhiều",
    "lắm",
    "rất",
    "luôn",
    "với",
    "vs",
    "ad",
    "admin",
    "add",
    "sở",
    "sở y tế",
    "sở giao thông",
    "công an",
    "phường",
    "anh",
    "chị",
    "em",
    "anh chị",
    "các anh chị",
    "bạn",
    "mọi người",
    "mn",
    "cả nhà",
    "bác",
    "cô",
    "chú",
    "dạ",
    "vâng",
    "thưa",
    "đã trả lời",
    "đã giúp",
    "đã hỗ trợ",
    "hỗ trợ",
    "giúp đỡ",
    "buổi sáng",
    "buổi chiều",
    "buổi tối",
    "ngày mới",
    "there",
    "team",
    "everyone",
    "all",
    "so much",
    "very much",
    "a lot",
    "lot",
    "you",
    "guys",
    "again",
    "sir",
    "madam",
    "morning",
    "afternoon",
    "evening",
    "for your help",
    "for the help",
    "for help",
    "for the info",
    "tôi",
    "mình",
    "t",
    "e",
    "muốn",
    "xin",
    "cho",
    "em muốn",
    "tôi muốn",
    "i want to",
    "i would like to",
    "i'd like to",
    "please",
    "pls",
    "plz",
    "me",
    "to",
    "i",
    "want",
    "would",
    "like",
)
_GREETING = _phrases(
    "xin chào",
    "chào",
    "chao",
    "alo",
    "a lô",
    "hello",
    "helo",
    "hi",
    "hey",
    "hiya",
    "good morning",
    "good afternoon",
    "good evening",
    "good",  # "good morning": "morning" is a filler word
    "yo",
    "chào buổi sáng",
    "kính chào",
)
_THANKS = _phrases(
    "cảm ơn",
    "cám ơn",
    "cảm ơn nhiều",
    "camon",
    "cmon",
    "tks",
    "thks",
    "thanks",
    "thank you",
    "thank",
    "thx",
    "ty",
    "many thanks",
    "cheers",
    "ok cảm ơn",
    "ok thanks",
)
_GREETING_OR_THANKS = _GREETING + _THANKS
_HELP = _phrases("help", "menu", "trợ giúp", "giúp đỡ", "hướng dẫn", "hướng dẫn sử dụng", "danh mục", "?", "h")
# Hand-off phrases per language; the first one of each is the phrase the bot's hints tell the citizen to type
# (``handoff_phrase``), so a hint never names a phrase of another language. Every language's phrases are
# understood on every account: citizens mix languages.
HANDOFF_PHRASES = {
    "vi": (
        "gặp nhân viên",
        "gặp người thật",
        "nói chuyện với nhân viên",
        "nói chuyện với người thật",
        "chat với nhân viên",
        "nhân viên tư vấn",
        "tư vấn viên",
        "gặp tư vấn viên",
        "gặp cán bộ",
        "gặp người",
        "kết nối nhân viên",
        "người thật",
        "nhân viên",
        "cán bộ",
        "tổng đài viên",
        "người trực",
    ),
    "en": (
        "talk to staff",
        "human",
        "agent",
        "real person",
        "a human",
        "a real person",
        "talk to a human",
        "talk to a person",
        "speak to a human",
        "speak to a person",
        "talk to someone",
        "speak to someone",
        "talk to an agent",
        "speak to an agent",
        "live agent",
        "live chat",
        "operator",
        "customer service",
        "customer support",
        "person",
        "real human",
        "someone",
        "somebody",
        "staff",
        "officer",
        "representative",
    ),
    "zh": ("人工客服", "转人工", "人工服务", "人工", "真人", "客服", "真人客服", "人工坐席", "客服人员", "工作人员"),
}
_HUMAN = _phrases(*HANDOFF_PHRASES["vi"], *HANDOFF_PHRASES["en"])
# Request words around a hand-off ("can I talk to", "connect me to", "cho tôi nói chuyện với"); everything else
# in the message must be a `_HUMAN` phrase, so "can I talk to someone about my ID card" stays a question.
_HUMAN_VERBS = _phrases(
    "talk", "speak", "chat", "connect", "connect me", "transfer me", "put me through", "get", "need", "can",
    "could", "let", "with", "an", "the", "gặp", "nói chuyện", "nói chuyện với", "chat với", "kết nối", "liên hệ",
    "cần", "được",
)  # fmt: skip
_SUBSCRIBE = _phrases(
    "đăng ký",
    "dk",
    "đk",
    "đăng kí",
    "đăng ký nhận",
    "đăng ký nhận tin",
    "đăng ký theo dõi",
    "theo dõi",
    "nhận tin",
    "subscribe",
    "subscribe to",
    "sub",
    "sign up for",
    "sign me up for",
    "follow",
)
_UNSUBSCRIBE = _phrases(
    "hủy",
    "huỷ",
    "hủy đăng ký",
    "huỷ đăng ký",
    "hủy dk",
    "hủy đk",
    "hủy nhận",
    "hủy nhận tin",
    "bỏ theo dõi",
    "ngừng nhận",
    "ngưng nhận",
    "ngừng nhận tin",
    "thôi nhận",
    "tắt",
    "tắt thông báo",
    "unsubscribe",
    "unsubscribe from",
    "unsub",
    "stop sending",
    "cancel",
)
_STOP = _phrases(
    "stop",
    "stop all",
    "unsubscribe all",
    "unsubscribe from all",
    "cancel all",
    "hủy tất cả",
    "huỷ tất cả",
    "hủy hết",
    "huỷ hết",
    "hủy tất cả thông báo",
    "ngừng nhận tất cả",
    "ngừng tất cả",
    "dừng",
    "dừng lại",
    "ngừng",
    "ngưng",
    "tắt hết",
    "hủy tất cả đăng ký",
    "không nhận nữa",
    "đừng gửi nữa",
    "end",
    "quit",
)
_START = _phrases("start", "bắt đầu", "resume", "unstop", "subscribe all", "đăng ký tất cả", "nhận lại tin", "bật lại")
# Topic words; bare words that are also everyday words ("bao", "lu") are only accepted in phrases.
_TOPIC_WORDS: dict[str, list[tuple[str, ...]]] = {
    "storm-flood": _phrases(
        "bão lũ",
        "bão",
        "lũ",
        "lũ lụt",
        "mưa lũ",
        "bão lụt",
        "thiên tai",
        "ngập lụt",
        "storm",
        "storms",
        "flood",
        "floods",
        "storm and flood",
        "flood and storm",
        "typhoon",
        "storm flood",
    ),
    "health": _phrases("sức khỏe", "sức khoẻ", "y tế", "health", "dịch bệnh", "public health"),
    "vaccination": _phrases(
        "tiêm chủng",
        "tiêm phòng",
        "vắc xin",
        "vacxin",
        "vaccine",
        "vaccines",
        "vaccination",
        "vaccinations",
        "tiêm",
        "immunisation",
        "immunization",
        "chích ngừa",
    ),
    "traffic": _phrases("giao thông", "traffic", "tình hình giao thông", "road", "roads", "kẹt xe", "ùn tắc"),
    "general": _phrases("chung", "tin chung", "tổng hợp", "tin tức", "general", "news", "general news"),
}
# Words that may wrap a topic in a command: "đăng ký nhận TIN bão lũ", "subscribe to flood ALERTS".
_TOPIC_FILLER = _phrases(
    "tin",
    "tin tức về",
    "thông báo",
    "cảnh báo",
    "bản tin",
    "chủ đề",
    "về",
    "mục",
    "nhận",
    "tin về",
    "alerts",
    "alert",
    "warnings",
    "updates",
    "messages",
    "notifications",
    "topic",
    "the",
    "for",
    "about",
    "on",
    "to",
)
_STOP_LIKE_REMAINDER = _phrases("tất cả", "hết", "all", "everything", "mọi thứ", "toàn bộ", "nhận tin", "thông báo")

_ZH_FILLER = (
    "你好",
    "您好",
    "请问",
    "请",
    "麻烦",
    "帮我",
    "我要",
    "我想",
    "一下",
    "吧",
    "啊",
    "呀",
    "了",
    "的",
    "哈",
    "嗯",
)
_ZH_GREETING = ("你好", "您好", "大家好", "早上好", "晚上好", "下午好", "在吗", "哈喽", "嗨")
_ZH_THANKS = ("谢谢", "多谢", "感谢", "谢了", "谢谢你", "谢谢您", "非常感谢")
_ZH_HELP = ("帮助", "菜单", "功能", "使用说明")
_ZH_HUMAN = HANDOFF_PHRASES["zh"]
# "我要人工客服", "找真人", "帮我转人工": request words before a hand-off
_ZH_HUMAN_REQUEST = ("我要", "我想", "我需要", "帮我", "给我", "请", "找", "转接", "转", "要", "接")
_ZH_STOP = ("全部退订", "退订全部", "取消全部订阅", "取消所有订阅", "退订所有", "退订", "取消订阅", "停止推送", "停止")
_ZH_START = ("开始", "恢复推送", "重新订阅")
_ZH_SUBSCRIBE = ("订阅", "关注")
_ZH_UNSUBSCRIBE = ("取消订阅", "退订", "取消关注", "取消")
_ZH_TOPICS = {
    "storm-flood": ("台风暴雨", "台风", "暴雨", "洪水", "洪涝", "防汛", "汛情", "灾害天气", "风暴"),
    "health": ("健康", "卫生", "医疗"),
    "vaccination": ("疫苗接种", "疫苗", "接种", "预防接种"),
    "traffic": ("交通", "路况"),
    "general": ("综合", "通用", "新闻", "资讯", "全部新闻"),
}
_ZH_TOPIC_FILLER = ("信息", "通知", "提醒", "消息", "预警", "推送", "新闻")

_PUNCT_RE = re.compile(r"[^\w\s?]+")
_QUESTION_MARK_RE = re.compile(r"[?？]")


def _words(text: str) -> list[str]:
    text = _PUNCT_RE.sub(" ", fold(text))
    text = text.replace("?", " ? ")
    return text.split()


def _strip(words: list[str], phrases: Phrases) -> list[str]:
    """Remove every occurrence of the phrases (longest first) wherever they are."""
    out: list[str] = []
    i = 0
    while i < len(words):
        length = phrases.length_at(words, i)
        if length:
            i += length
        else:
            out.append(words[i])
            i += 1
    return out


def _starts_with(words: list[str], phrases: Phrases) -> list[str] | None:
    length = phrases.length_at(words, 0) if words else 0
    return words[length:] if length else None


def _only(words: list[str], phrases: Phrases) -> bool:
    """True when the words are made only of these phrases (at least one)."""
    i = 0
    while i < len(words):
        length = phrases.length_at(words, i)
        if not length:
            return False
        i += length
    return bool(words)


def _topic(words: list[str], *, accented_text: str) -> str | None:
    words = _strip(words, _TOPIC_FILLER)
    if not words:
        return None
    for topic, phrases in _TOPIC_WORDS.items():
        if _only(words, phrases):
            # folded "bao" is also "báo" (report) / "bao" (how much): with accents typed, insist on "bão"
            if (
                topic == "storm-flood"
                and words == ["bao"]
                and "bão" not in accented_text
                and fold(accented_text) != accented_text
            ):
                return None
            return topic
    return None


def _detect_latin(text: str) -> Intent | None:
    words = _words(text)
    if not words or len(words) > _MAX_WORDS:
        return None
    asks = "?" in words
    core = [w for w in words if w != "?"]

    # broadcast commands first: the whole message is "<verb> <topic>" or a bare stop/start word
    if _only(core, _STOP):
        return Intent("stop")
    if _only(core, _START):
        return Intent("start")
    without_filler = _strip(core, _FILLER)
    if not asks:
        rest = _starts_with(without_filler, _UNSUBSCRIBE)
        if rest is not None:
            if not rest or _only(rest, _STOP_LIKE_REMAINDER):
                return Intent("stop")
            topic = _topic(rest, accented_text=text)
            if topic:
                return Intent("unsubscribe", topic)
        rest = _starts_with(without_filler, _SUBSCRIBE)
        if rest is not None and rest:
            if _only(rest, _STOP_LIKE_REMAINDER) and rest != ["thong", "bao"]:
                return Intent("start")
            topic = _topic(rest, accented_text=text)
            if topic:
                return Intent("subscribe", topic)

    if _only(_strip(without_filler, _HUMAN_VERBS), _HUMAN) or _only(without_filler, _HUMAN):
        return Intent("human")
    if not asks and _only(without_filler, _THANKS):
        return Intent("thanks")
    if _only(without_filler, _GREETING_OR_THANKS) and any(_THANKS.length_at(core, i) for i in range(len(core))):
        return Intent("thanks")
    if _only(without_filler, _GREETING):
        return Intent("greeting")
    if _only(without_filler, _HELP) or (asks and not without_filler):
        return Intent("help")
    return None


def _detect_chinese(text: str) -> Intent | None:
    s = re.sub(r"[\s\W_]+", "", to_simplified(text))
    if not s or len(s) > 20:
        return None
    bare = s
    for f in _ZH_FILLER:
        if f not in _ZH_GREETING:
            bare = bare.replace(f, "")
    for stop in _ZH_STOP:
        if bare == stop:
            return Intent("stop")
    if bare in _ZH_START:
        return Intent("start")
    for verbs, kind in ((_ZH_UNSUBSCRIBE, "unsubscribe"), (_ZH_SUBSCRIBE, "subscribe")):
        for verb in verbs:
            if bare.startswith(verb):
                rest = bare[len(verb) :]
                for f in _ZH_TOPIC_FILLER:
                    rest = rest.replace(f, "")
                for topic, names in _ZH_TOPICS.items():
                    if rest in names:
                        return Intent(kind, topic)
                if not rest and kind == "unsubscribe":
                    return Intent("stop")
                if rest in ("全部", "所有"):
                    return Intent("stop" if kind == "unsubscribe" else "start")
                break
    request = bare
    for prefix in _ZH_HUMAN_REQUEST:
        if request.startswith(prefix) and request[len(prefix) :]:
            request = request[len(prefix) :]
    if bare in _ZH_HUMAN or request in _ZH_HUMAN or request == "人工客服":
        return Intent("human")
    no_greet = bare
    for g in _ZH_GREETING:
        no_greet = no_greet.replace(g, "")
    if not no_greet and bare:
        return Intent("greeting")
    for t in sorted(_ZH_THANKS, key=len, reverse=True):
        no_greet = no_greet.replace(t, "")
    if not no_greet or (no_greet in ("你", "您", "你们", "大家") and no_greet != bare):
        return Intent("thanks")
    if bare in _ZH_HELP:
        return Intent("help")
    return None


def handoff_phrase(language: str | None) -> str:
    """The hand-off phrase a hint in ``language`` (vi, en, zh, zh-hans; else Vietnamese) tells the citizen to type."""
    family = "zh" if (language or "").startswith("zh") else language
    return HANDOFF_PHRASES.get(family, HANDOFF_PHRASES["vi"])[0]


def detect_intent(text: str, *, language: str | None = None) -> Intent | None:
    """The small-talk/command intent of a whole message, or None when it should go to the FAQ matcher.

    `language` is only a hint (citizens mix languages); never raises.
    """
    try:
        cleaned = clean(text)
        if not cleaned:
            return None
        if has_cjk(cleaned):
            latin = re.sub(f"[{chr(0x3400)}-{chr(0x9FFF)}{chr(0xF900)}-{chr(0xFAFF)}]", " ", cleaned).strip()
            if latin and _QUESTION_MARK_RE.sub("", latin).strip(" ,.!?，。！") and not _detect_chinese(cleaned):
                return None
            zh = _detect_chinese(cleaned)
            if zh is not None:
                return zh
            return None
        return _detect_latin(cleaned)
    except Exception:  # noqa: BLE001 - intents must never break the chat
        return None
